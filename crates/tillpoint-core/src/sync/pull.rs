//! Pulling the organisation's master data: `GET /api/v1/sync/pull` page after page, each
//! page stored with the cursor after it in one transaction (see the module above).
//!
//! While one page is being stored the next is already being fetched, so a large first pull
//! costs about the larger of the network time and the store time, not their sum.

use chrono::{SecondsFormat, Utc};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior};
use serde::Serialize;
use tillpoint_protocol::sync::{
    Changes, KeyStatus, PullPage, SettingsRecord, DEFAULT_PULL_LIMIT, PULL_PATH,
};
use tillpoint_protocol::OrgId;

use super::{read_answer, SyncError};
use crate::till::Till;

/// The name the pull's cursor is stored under in `sync_cursors`.
pub const PULL_STREAM: &str = "pull";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PullOptions {
    /// Changed records per page, 1 to 5,000.
    pub page_limit: u32,
}

impl Default for PullOptions {
    fn default() -> Self {
        Self {
            page_limit: DEFAULT_PULL_LIMIT,
        }
    }
}

/// Reported after each stored page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "contract", derive(specta::Type))]
pub struct PullProgress {
    /// Pages stored so far in this pull.
    pub pages: u32,
    /// Records (changed and removed) stored so far in this pull.
    pub records: u64,
    /// Whether more pages follow.
    pub more: bool,
    /// Records still to come after this page, as the server counted them (`None` from a
    /// server that does not count): with `records`, what a progress bar needs.
    pub remaining: Option<u64>,
}

/// What a finished pull did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "contract", derive(specta::Type))]
pub struct PullSummary {
    pub pages: u32,
    pub records: u64,
    /// Products the till can now sell (active ones).
    pub products: u64,
}

/// When the till last stored a page, and last reached the end of what the server had.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PullStatus {
    pub last_page_at: Option<String>,
    pub completed_at: Option<String>,
}

impl Till {
    /// Brings the organisation's master data up to date from the server, with the signed-in
    /// person's online session, reporting after each stored page. Stopped at any point, the
    /// next call carries on from the last page stored.
    pub async fn pull_catalog(
        &self,
        progress: impl FnMut(PullProgress),
    ) -> Result<PullSummary, SyncError> {
        self.pull_catalog_with(PullOptions::default(), progress)
            .await
    }

    /// [`Till::pull_catalog`] with explicit options.
    pub async fn pull_catalog_with(
        &self,
        options: PullOptions,
        mut progress: impl FnMut(PullProgress),
    ) -> Result<PullSummary, SyncError> {
        let (token, org) = self.online_credentials()?;
        let mut since = self.pull_cursor()?;
        let client = self.connection().client().clone();
        let url = self.config().server_url.endpoint(PULL_PATH);
        let fetch = |token: String, since: Option<String>| {
            Fetch::spawn(
                client.clone(),
                url.clone(),
                token,
                since,
                options.page_limit,
            )
        };
        let mut next = fetch(token, since.clone());
        let (mut pages, mut records) = (0_u32, 0_u64);
        loop {
            let page = next.join().await?;
            // Fetch the next page while this one is stored.
            let following = if page.more {
                let (token, _) = self.online_credentials()?;
                Some(fetch(token, Some(page.next_cursor.clone())))
            } else {
                None
            };
            self.store_page(&page, since.as_deref(), org)?;
            pages += 1;
            records += page.changes.len() as u64;
            progress(PullProgress {
                pages,
                records,
                more: page.more,
                remaining: page.remaining,
            });
            match following {
                Some(following) => {
                    next = following;
                    since = Some(page.next_cursor);
                }
                None => break,
            }
        }
        tracing::info!(pages, records, "catalog pulled");
        Ok(PullSummary {
            pages,
            records,
            products: self.store().product_count()?,
        })
    }

    /// When the catalog was last updated from the server.
    pub fn pull_status(&self) -> Result<PullStatus, SyncError> {
        let conn = self.store().conn()?;
        let status = conn
            .query_row(
                "SELECT updated_at, completed_at FROM sync_cursors WHERE stream = ?1",
                [PULL_STREAM],
                |row| {
                    Ok(PullStatus {
                        last_page_at: row.get(0)?,
                        completed_at: row.get(1)?,
                    })
                },
            )
            .optional()?;
        Ok(status.unwrap_or(PullStatus {
            last_page_at: None,
            completed_at: None,
        }))
    }

    /// The organisation's settings as last pulled (informational: each grant carries the
    /// permissions and limits that were in force when it was issued).
    pub fn pulled_settings(&self) -> Result<Option<SettingsRecord>, SyncError> {
        let conn = self.store().conn()?;
        let row = conn
            .query_row(
                "SELECT access_token_ttl_secs, offline_grant_ttl_secs, offline_permissions,
                        offline_limits
                 FROM organisation_settings",
                [],
                |r| {
                    Ok((
                        r.get::<_, u32>(0)?,
                        r.get::<_, u32>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                    ))
                },
            )
            .optional()?;
        let Some((access, grant, permissions, limits)) = row else {
            return Ok(None);
        };
        let bad = |e: serde_json::Error| SyncError::Server(format!("stored settings: {e}"));
        Ok(Some(SettingsRecord {
            access_token_ttl_secs: access,
            offline_grant_ttl_secs: grant,
            offline_permissions: serde_json::from_str(&permissions).map_err(bad)?,
            offline_limits: serde_json::from_str(&limits).map_err(bad)?,
        }))
    }

    /// The access token and organisation of the person signed in online.
    pub(super) fn online_credentials(&self) -> Result<(String, OrgId), SyncError> {
        let session = self.active_session();
        let session = session.as_ref().ok_or(SyncError::NotSignedIn)?;
        let token = session.access_token().ok_or(SyncError::NotOnline)?;
        Ok((token.to_owned(), session.grant().org))
    }

    fn pull_cursor(&self) -> Result<Option<String>, SyncError> {
        let conn = self.store().conn()?;
        Ok(stored_cursor(&conn)?)
    }

    fn store_page(
        &self,
        page: &PullPage,
        since: Option<&str>,
        org: OrgId,
    ) -> Result<(), SyncError> {
        if page
            .changes
            .organisation
            .as_ref()
            .is_some_and(|o| o.id != org)
        {
            return Err(SyncError::OtherOrganisation);
        }
        let now = Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true);
        let mut conn = self.store().conn()?;
        run_blocking(|| store_page(&mut conn, page, since, &now))
    }
}

/// Runs store work without stalling the async runtime: on a multi-threaded runtime (the
/// desktop's) other tasks move to other workers meanwhile.
pub(super) fn run_blocking<T>(work: impl FnOnce() -> T) -> T {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(work)
        }
        _ => work(),
    }
}

fn stored_cursor(conn: &Connection) -> rusqlite::Result<Option<String>> {
    conn.query_row(
        "SELECT cursor FROM sync_cursors WHERE stream = ?1",
        [PULL_STREAM],
        |row| row.get(0),
    )
    .optional()
}

/// A page being fetched by its own task; dropping it stops the fetch.
struct Fetch(tokio::task::JoinHandle<Result<PullPage, SyncError>>);

impl Fetch {
    fn spawn(
        client: reqwest::Client,
        url: url::Url,
        token: String,
        since: Option<String>,
        limit: u32,
    ) -> Self {
        Self(tokio::spawn(fetch_page(client, url, token, since, limit)))
    }

    async fn join(mut self) -> Result<PullPage, SyncError> {
        (&mut self.0)
            .await
            .map_err(|e| SyncError::Server(format!("the page fetch stopped: {e}")))?
    }
}

impl Drop for Fetch {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn fetch_page(
    client: reqwest::Client,
    url: url::Url,
    token: String,
    since: Option<String>,
    limit: u32,
) -> Result<PullPage, SyncError> {
    let mut request = client
        .get(url)
        .bearer_auth(token)
        .timeout(super::transfer_timeout(
            super::PULL_PAGE_TIMEOUT_BYTES,
            super::SYNC_TIMEOUT_FLOOR,
        ))
        .query(&[("limit", limit)]);
    if let Some(since) = &since {
        request = request.query(&[("since", since)]);
    }
    read_answer(
        request.send().await,
        "page",
        |status, message| match status {
            400 => SyncError::CursorRefused(message),
            _ => SyncError::Server(message),
        },
    )
    .await
}

/// Stores `page` and the cursor after it in one transaction, if the stored cursor is still
/// `since` (otherwise another pull got there first and this one stops).
fn store_page(
    conn: &mut Connection,
    page: &PullPage,
    since: Option<&str>,
    now: &str,
) -> Result<(), SyncError> {
    // Enough for every statement below to stay prepared between pages.
    conn.set_prepared_statement_cache_capacity(64);
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    if stored_cursor(&tx)?.as_deref() != since {
        return Err(SyncError::PullInProgress);
    }
    apply_changes(&tx, &page.changes, now)?;
    tx.prepare_cached(
        "INSERT INTO sync_cursors (stream, cursor, updated_at, completed_at)
         VALUES (?1, ?2, ?3, CASE WHEN ?4 THEN NULL ELSE ?3 END)
         ON CONFLICT (stream) DO UPDATE SET cursor = excluded.cursor,
             updated_at = excluded.updated_at,
             completed_at = COALESCE(excluded.completed_at, completed_at)",
    )?
    .execute((PULL_STREAM, &page.next_cursor, now, page.more))?;
    tx.commit()?;
    Ok(())
}

/// Removals, then upserts in the order records refer to each other.
fn apply_changes(tx: &Connection, changes: &Changes, now: &str) -> rusqlite::Result<()> {
    let removed = &changes.removed;

    // Removals first, so a record that takes a removed one's SKU or code finds it gone.
    let mut delete = tx.prepare_cached("DELETE FROM barcodes WHERE barcode = ?1")?;
    for barcode in &removed.barcodes {
        delete.execute([barcode.as_str()])?;
    }
    // A product's barcodes go with it (ON DELETE CASCADE).
    let mut delete = tx.prepare_cached("DELETE FROM products WHERE id = ?1")?;
    for id in &removed.products {
        delete.execute([id.to_string()])?;
    }
    let mut delete = tx.prepare_cached("DELETE FROM exchange_rates WHERE id = ?1")?;
    for id in &removed.exchange_rates {
        delete.execute([id.to_string()])?;
    }
    let mut delete = tx.prepare_cached("DELETE FROM locations WHERE id = ?1")?;
    for id in &removed.locations {
        delete.execute([id.to_string()])?;
    }
    let mut delete = tx.prepare_cached("DELETE FROM currencies WHERE code = ?1")?;
    for code in &removed.currencies {
        delete.execute([code.as_str()])?;
    }

    if let Some(org) = &changes.organisation {
        tx.prepare_cached(
            "INSERT INTO organisation (singleton, org_id, name, tax_number, base_currency, updated_at)
             VALUES (1, ?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (singleton) DO UPDATE SET org_id = excluded.org_id, name = excluded.name,
                 tax_number = excluded.tax_number, base_currency = excluded.base_currency,
                 updated_at = excluded.updated_at",
        )?
        .execute((
            org.id.to_string(),
            &org.name,
            &org.tax_number,
            org.base_currency.as_str(),
            now,
        ))?;
    }
    let mut upsert = tx.prepare_cached(
        "INSERT INTO currencies (code, name, minor_units) VALUES (?1, ?2, ?3)
         ON CONFLICT (code) DO UPDATE SET name = excluded.name, minor_units = excluded.minor_units",
    )?;
    for c in &changes.currencies {
        upsert.execute((c.code.as_str(), &c.name, c.minor_units))?;
    }
    let mut upsert = tx.prepare_cached(
        "INSERT INTO tax_classes (id, code, name, rate_bp) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (id) DO UPDATE SET code = excluded.code, name = excluded.name,
             rate_bp = excluded.rate_bp",
    )?;
    for t in &changes.tax_classes {
        upsert.execute((t.id.to_string(), t.code.as_str(), &t.name, t.rate_bp))?;
    }
    let mut upsert = tx.prepare_cached(
        "INSERT INTO locations (id, name, kind) VALUES (?1, ?2, ?3)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, kind = excluded.kind",
    )?;
    for l in &changes.locations {
        upsert.execute((l.id.to_string(), &l.name, l.kind.as_str()))?;
    }
    let mut upsert = tx.prepare_cached(
        "INSERT INTO exchange_rates (id, base, quote, rate, effective_at) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (id) DO UPDATE SET base = excluded.base, quote = excluded.quote,
             rate = excluded.rate, effective_at = excluded.effective_at",
    )?;
    for r in &changes.exchange_rates {
        upsert.execute((
            r.id.to_string(),
            r.base.as_str(),
            r.quote.as_str(),
            r.rate.to_string(),
            &r.effective_at,
        ))?;
    }
    let mut upsert = tx.prepare_cached(
        "INSERT INTO products (id, sku, name, unit, tax_class_id, price_minor, currency, active,
                               updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT (id) DO UPDATE SET sku = excluded.sku, name = excluded.name,
             unit = excluded.unit, tax_class_id = excluded.tax_class_id,
             price_minor = excluded.price_minor, currency = excluded.currency,
             active = excluded.active, updated_at = excluded.updated_at",
    )?;
    let mut park_sku =
        tx.prepare_cached("UPDATE products SET sku = '~' || id WHERE sku = ?1 AND id <> ?2")?;
    for p in &changes.products {
        let id = p.id.to_string();
        let row = (
            &id,
            &p.sku,
            &p.name,
            p.unit.as_str(),
            p.tax_class_id.to_string(),
            p.price_minor,
            p.currency.as_str(),
            p.active,
            &p.updated_at,
        );
        match upsert.execute(row.clone()) {
            // Another product still holds this SKU here: the server moved it, and that
            // product's own change comes later in this pull. Park it until then.
            Err(e) if is_unique_violation(&e) => {
                park_sku.execute((&p.sku, &id))?;
                upsert.execute(row)?;
            }
            other => {
                other?;
            }
        }
    }
    let mut upsert = tx.prepare_cached(
        "INSERT INTO barcodes (barcode, product_id) VALUES (?1, ?2)
         ON CONFLICT (barcode) DO UPDATE SET product_id = excluded.product_id",
    )?;
    for b in &changes.barcodes {
        upsert.execute((b.barcode.as_str(), b.product_id.to_string()))?;
    }
    // Last: a tax class goes once no product here uses it any more.
    let mut delete = tx.prepare_cached(
        "DELETE FROM tax_classes WHERE id = ?1
         AND NOT EXISTS (SELECT 1 FROM products WHERE tax_class_id = ?1)",
    )?;
    for id in &removed.tax_classes {
        delete.execute([id.to_string()])?;
    }
    apply_the_rest(tx, changes, now)
}

/// People, revocations, settings, keys and stock levels (0006_pull_more.sql).
fn apply_the_rest(tx: &Connection, changes: &Changes, now: &str) -> rusqlite::Result<()> {
    let removed = &changes.removed;
    let mut delete = tx.prepare_cached("DELETE FROM pulled_users WHERE user_id = ?1")?;
    for id in &removed.users {
        delete.execute([id.to_string()])?;
    }
    let mut upsert = tx.prepare_cached(
        "INSERT INTO pulled_users (user_id, username, name, role, permissions, disabled, pulled_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (user_id) DO UPDATE SET username = excluded.username,
             name = excluded.name, role = excluded.role, permissions = excluded.permissions,
             disabled = excluded.disabled, pulled_at = excluded.pulled_at",
    )?;
    for u in &changes.users {
        let permissions = serde_json::to_string(&u.permissions)
            .map_err(|e| rusqlite::Error::ToSqlConversionFailure(e.into()))?;
        upsert.execute((
            u.id.to_string(),
            &u.username,
            &u.name,
            &u.role,
            permissions,
            u.disabled,
            now,
        ))?;
    }

    let mut delete = tx.prepare_cached("DELETE FROM revoked_devices WHERE device_id = ?1")?;
    for id in &removed.revoked_devices {
        delete.execute([id.to_string()])?;
    }
    let mut upsert = tx.prepare_cached(
        "INSERT INTO revoked_devices (device_id, revoked_at) VALUES (?1, ?2)
         ON CONFLICT (device_id) DO UPDATE SET revoked_at = excluded.revoked_at",
    )?;
    for d in &changes.revoked_devices {
        upsert.execute((d.id.to_string(), &d.revoked_at))?;
    }

    let mut delete = tx.prepare_cached("DELETE FROM revoked_grants WHERE jti = ?1")?;
    for jti in &removed.revoked_grants {
        delete.execute([jti])?;
    }
    // Only this device's grants can be held here.
    let device: Option<String> = tx
        .prepare_cached("SELECT device_id FROM till_identity")?
        .query_row([], |r| r.get(0))
        .optional()?;
    let mut upsert = tx.prepare_cached(
        "INSERT INTO revoked_grants (jti, user_id, revoked_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (jti) DO UPDATE SET revoked_at = excluded.revoked_at",
    )?;
    for g in &changes.revoked_grants {
        if device.as_deref() == Some(g.device_id.to_string().as_str()) {
            upsert.execute((&g.jti, g.user_id.to_string(), &g.revoked_at))?;
        }
    }

    if let Some(settings) = &changes.settings {
        let json = |value: serde_json::Result<String>| {
            value.map_err(|e| rusqlite::Error::ToSqlConversionFailure(e.into()))
        };
        tx.prepare_cached(
            "INSERT INTO organisation_settings (singleton, access_token_ttl_secs,
                 offline_grant_ttl_secs, offline_permissions, offline_limits, pulled_at)
             VALUES (1, ?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (singleton) DO UPDATE SET
                 access_token_ttl_secs = excluded.access_token_ttl_secs,
                 offline_grant_ttl_secs = excluded.offline_grant_ttl_secs,
                 offline_permissions = excluded.offline_permissions,
                 offline_limits = excluded.offline_limits, pulled_at = excluded.pulled_at",
        )?
        .execute((
            settings.access_token_ttl_secs,
            settings.offline_grant_ttl_secs,
            json(serde_json::to_string(&settings.offline_permissions))?,
            json(serde_json::to_string(&settings.offline_limits))?,
            now,
        ))?;
    }

    // The cached JWKS the grants are checked against offline.
    let mut delete = tx.prepare_cached("DELETE FROM server_keys WHERE kid = ?1")?;
    for kid in &removed.signing_keys {
        delete.execute([kid])?;
    }
    let mut upsert = tx.prepare_cached(
        "INSERT INTO server_keys (kid, public_key, fetched_at, status, verify_until, seal)
         VALUES (?1, ?2, ?3, ?4, ?5, till_seal('server_keys', ?1, ?2))
         ON CONFLICT (kid) DO UPDATE SET public_key = excluded.public_key,
             fetched_at = excluded.fetched_at, status = excluded.status,
             verify_until = excluded.verify_until, seal = excluded.seal",
    )?;
    let now_time = chrono::DateTime::parse_from_rfc3339(now).ok();
    for key in &changes.signing_keys {
        let expired = key
            .verify_until
            .as_deref()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .zip(now_time)
            .is_some_and(|(until, now)| until <= now);
        let bytes = crate::sign_in::grant::jwk_x_bytes(&key.x);
        match bytes {
            // A key that no longer verifies, or that is not an Ed25519 key, is not cached.
            Some(bytes) if !expired => {
                let status = match key.status {
                    KeyStatus::Current => "current",
                    KeyStatus::Retired => "retired",
                };
                upsert.execute((&key.kid, bytes.as_slice(), now, status, &key.verify_until))?;
            }
            _ => {
                delete.execute([&key.kid])?;
            }
        }
    }

    let mut delete =
        tx.prepare_cached("DELETE FROM stock_levels WHERE product_id = ?1 AND location_id = ?2")?;
    for level in &removed.stock_levels {
        delete.execute((
            level.product_id.to_string(),
            level.location_id.map(|l| l.to_string()).unwrap_or_default(),
        ))?;
    }
    let mut upsert = tx.prepare_cached(
        "INSERT INTO stock_levels (product_id, location_id, on_hand_milli, pulled_at)
         VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (product_id, location_id) DO UPDATE SET
             on_hand_milli = excluded.on_hand_milli, pulled_at = excluded.pulled_at",
    )?;
    for level in &changes.stock_levels {
        upsert.execute((
            level.product_id.to_string(),
            level.location_id.map(|l| l.to_string()).unwrap_or_default(),
            level.on_hand_milli,
            now,
        ))?;
    }
    Ok(())
}

fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _)
        if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE)
}

#[cfg(test)]
mod tests {
    use tillpoint_protocol::sync::{BarcodeRecord, ProductRecord, TaxClassRecord};
    use tillpoint_protocol::tax::TaxCode;
    use tillpoint_protocol::{Barcode, CurrencyCode, ProductId};
    use uuid::Uuid;

    use super::*;
    use crate::store::LocalStore;

    fn tax_class(id: Uuid) -> TaxClassRecord {
        TaxClassRecord {
            id,
            code: TaxCode::Standard,
            name: "VAT 15%".into(),
            rate_bp: 1500,
        }
    }

    fn product(id: ProductId, sku: &str, class: Uuid) -> ProductRecord {
        ProductRecord {
            id,
            sku: sku.into(),
            name: format!("Product {sku}"),
            unit: tillpoint_protocol::money::Unit::Each,
            tax_class_id: class,
            price_minor: 100,
            currency: CurrencyCode::parse("USD").unwrap(),
            active: true,
            updated_at: "2026-11-27T00:00:00.000Z".into(),
        }
    }

    fn page(changes: Changes, cursor: &str, more: bool) -> PullPage {
        PullPage {
            changes,
            next_cursor: cursor.into(),
            more,
            remaining: None,
        }
    }

    fn skus(conn: &Connection) -> Vec<(String, String)> {
        let mut stmt = conn
            .prepare("SELECT name, sku FROM products ORDER BY name")
            .unwrap();
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        rows
    }

    #[test]
    fn swapped_skus_arriving_in_separate_pages_are_parked_not_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::open(dir.path()).unwrap();
        let mut conn = store.conn().unwrap();
        let class = Uuid::now_v7();
        let (a, b) = (
            ProductId::from_uuid(Uuid::now_v7()),
            ProductId::from_uuid(Uuid::now_v7()),
        );
        let first = Changes {
            tax_classes: vec![tax_class(class)],
            products: vec![product(a, "A", class), product(b, "B", class)],
            ..Changes::default()
        };
        store_page(&mut conn, &page(first, "c1", false), None, "t").unwrap();
        // The server swapped the two SKUs; each product's change comes in its own page.
        let mut a_now = product(a, "B", class);
        a_now.name = "Product A".into();
        let second = Changes {
            products: vec![a_now],
            ..Changes::default()
        };
        store_page(&mut conn, &page(second, "c2", true), Some("c1"), "t").unwrap();
        let mut b_now = product(b, "A", class);
        b_now.name = "Product B".into();
        let third = Changes {
            products: vec![b_now],
            ..Changes::default()
        };
        store_page(&mut conn, &page(third, "c3", false), Some("c2"), "t").unwrap();
        assert_eq!(
            skus(&conn),
            [
                ("Product A".to_owned(), "B".to_owned()),
                ("Product B".to_owned(), "A".to_owned())
            ]
        );
    }

    #[test]
    fn removals_apply_and_a_page_is_stored_only_where_its_pull_began() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::open(dir.path()).unwrap();
        let mut conn = store.conn().unwrap();
        let class = Uuid::now_v7();
        let id = ProductId::from_uuid(Uuid::now_v7());
        let code = Barcode::parse("4006381333931").unwrap();
        let first = Changes {
            tax_classes: vec![tax_class(class)],
            products: vec![product(id, "A", class)],
            barcodes: vec![BarcodeRecord {
                barcode: code.clone(),
                product_id: id,
            }],
            ..Changes::default()
        };
        store_page(&mut conn, &page(first, "c1", false), None, "t").unwrap();

        // Another pull already moved on from `None`: this page is not stored.
        let err = store_page(&mut conn, &page(Changes::default(), "c9", false), None, "t");
        assert!(matches!(err, Err(SyncError::PullInProgress)));

        let mut gone = Changes::default();
        gone.removed.barcodes.push(code);
        // A tax class still in use stays; the product goes, then the class can go too.
        gone.removed.tax_classes.push(class);
        store_page(&mut conn, &page(gone, "c2", false), Some("c1"), "t").unwrap();
        let count = |conn: &Connection, sql: &str| -> i64 {
            conn.query_row(sql, [], |r| r.get(0)).unwrap()
        };
        assert_eq!(count(&conn, "SELECT COUNT(*) FROM barcodes"), 0);
        assert_eq!(count(&conn, "SELECT COUNT(*) FROM tax_classes"), 1);
        let mut gone = Changes::default();
        gone.removed.products.push(id);
        gone.removed.tax_classes.push(class);
        store_page(&mut conn, &page(gone, "c3", false), Some("c2"), "t").unwrap();
        assert_eq!(count(&conn, "SELECT COUNT(*) FROM products"), 0);
        assert_eq!(count(&conn, "SELECT COUNT(*) FROM tax_classes"), 0);
        assert_eq!(stored_cursor(&conn).unwrap().as_deref(), Some("c3"));
    }
}

//! Sync pull: what changed in an organisation's master data since a till's cursor
//! (ARCHITECTURE.md §4, docs/decisions/sync-pull.md).
//!
//! The invariant this module rests on is kept by the database (migration 0005): every change
//! to a synced record takes the next number of its organisation's counter, and
//! `sync_changes` holds, per record, the number of its latest change. Numbers are unique
//! within an organisation and handed out in commit order, so "everything above V" read in
//! one snapshot is exactly what a till at V has not seen. A record listed there that no
//! longer exists was removed, and is sent as a removal.
//!
//! A page holds the next `limit` changed records in number order. Each number names one
//! record, so a page never splits a change; the cursor after a page is its last number. A
//! record a page refers to whose own change comes in a later page (a barcode's product, a
//! product's tax class) is sent with the page too, so a till that applies pages one by one
//! never holds a barcode without its product.
//!
//! Every query filters by the caller's organisation; a cursor names its organisation and is
//! refused for any other.

use std::collections::{BTreeSet, HashMap, HashSet};

use crate::store::Connection;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rusqlite::OptionalExtension;
use tillpoint_protocol::money::{ExchangeRate, Unit};
use tillpoint_protocol::sync::{
    BarcodeRecord, Changes, CurrencyRecord, ExchangeRateRecord, KeyStatus, LocationKind,
    LocationRecord, OrganisationRecord, ProductRecord, PullPage, RevokedDeviceRecord,
    RevokedGrantRecord, SettingsRecord, SigningKeyRecord, StockLevelKey, StockLevelRecord,
    TaxClassRecord, UserRecord,
};
use tillpoint_protocol::tax::TaxCode;
use tillpoint_protocol::{Barcode, CurrencyCode, DeviceId, OrgId, Permission, ProductId, UserId};
use uuid::Uuid;

use crate::store::DbError;
use crate::tenancy::Tenant;

/// What a cursor says: changes up to `version` of `org` have been received.
const CURSOR_PREFIX: &str = "v1";

#[derive(Debug, thiserror::Error)]
pub enum PullError {
    #[error("the cursor is not one this server issued; pull again from the start")]
    BadCursor,
    #[error("the cursor is ahead of this server (was it restored from a backup?); pull again from the start")]
    CursorAhead,
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<rusqlite::Error> for PullError {
    fn from(e: rusqlite::Error) -> Self {
        Self::Db(e.into())
    }
}

/// The cursor a till stores after receiving every change of `org` up to `version`.
pub fn encode_cursor(org: OrgId, version: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("{CURSOR_PREFIX}:{org}:{version}"))
}

/// The version a cursor stands for, if it was issued for `org`. No cursor (or an empty
/// one) is the start.
pub fn decode_cursor(cursor: Option<&str>, org: OrgId) -> Result<i64, PullError> {
    let Some(cursor) = cursor.filter(|c| !c.is_empty()) else {
        return Ok(0);
    };
    if cursor.len() > 200 {
        return Err(PullError::BadCursor);
    }
    let text = URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or(PullError::BadCursor)?;
    let mut parts = text.split(':');
    let (Some(CURSOR_PREFIX), Some(cursor_org), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(PullError::BadCursor);
    };
    if cursor_org.parse::<OrgId>().ok() != Some(org) {
        return Err(PullError::BadCursor);
    }
    // Digits only: `+5` or `05` would parse but is not what this server writes.
    if version.is_empty() || !version.bytes().all(|b| b.is_ascii_digit()) {
        return Err(PullError::BadCursor);
    }
    version.parse().map_err(|_| PullError::BadCursor)
}

/// Which of the organisation's people a pull carries. A till needs only those who may work
/// on it: each is checked offline against what was pulled (disabled, role changed), and
/// nobody can unlock a till they never signed in on. Everyone's name and role go only to
/// those who manage users (docs/decisions/sync-pull.md, "Users").
#[derive(Debug, Clone, Copy)]
pub enum UserAudience {
    Everyone,
    /// The caller, and whoever has signed in on this device (an offline grant was issued
    /// for them there).
    SignedInOn {
        caller: UserId,
        device: DeviceId,
    },
}

/// One page of the tenant's changes after `since`: at most `limit` changed records, plus
/// the records they refer to that would otherwise arrive only in a later page.
pub fn pull(
    conn: &mut Connection,
    tenant: &Tenant,
    audience: UserAudience,
    since: i64,
    limit: u32,
) -> Result<PullPage, PullError> {
    let org = tenant.org();
    let org_text = org.to_string();
    // One read transaction: the counter, the list and the records are one snapshot. Numbers
    // are handed out in commit order, so every number up to the counter it shows is there.
    let tx = conn.read_snapshot()?;
    let current: i64 = tx
        .query_row(
            "SELECT version FROM sync_counters WHERE org_id = ?1",
            [&org_text],
            |row| row.get(0),
        )
        .optional()?
        .unwrap_or(0);
    if since > current {
        return Err(PullError::CursorAhead);
    }
    // The catalog's changes (0005) and the rest (0007) share the counter: read the next
    // `limit + 1` of each in number order and merge them.
    let mut entries = Vec::new();
    for table in ["sync_changes", "sync_changes_more"] {
        let mut stmt = tx.prepare_cached(&format!(
            "SELECT kind, key, version FROM {table}
             WHERE org_id = ?1 AND version > ?2 ORDER BY version LIMIT ?3"
        ))?;
        let rows = stmt.query_map((&org_text, since, i64::from(limit) + 1), |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, i64>(2)?,
            ))
        })?;
        for row in rows {
            entries.push(row?);
        }
    }
    entries.sort_unstable_by_key(|(_, _, version)| *version);
    let more = entries.len() > limit as usize;
    entries.truncate(limit as usize);
    let page_end = entries.last().map_or(since, |(_, _, version)| *version);

    let mut page = PageBuilder {
        conn: &tx,
        org: &org_text,
        audience,
        changes: Changes::default(),
        products: HashSet::new(),
        tax_classes: HashSet::new(),
    };
    // The kinds a catalog holds thousands of are read a page's worth per query; the rest
    // one by one, as they come.
    let mut together: Vec<(&str, Vec<String>)> = READ_TOGETHER
        .iter()
        .map(|kind| (*kind, Vec::new()))
        .collect();
    for (kind, key, _) in &entries {
        match together.iter_mut().find(|(k, _)| k == kind) {
            Some((_, keys)) => keys.push(key.clone()),
            None => page.add(kind, key)?,
        }
    }
    for (kind, keys) in &together {
        page.add_all(kind, keys)?;
    }
    page.add_references(page_end)?;
    let remaining = if more {
        remaining_after(&tx, &org_text, page_end, current)?
    } else {
        0
    };
    Ok(PullPage {
        changes: page.changes,
        next_cursor: encode_cursor(org, page_end),
        more,
        remaining: Some(remaining),
    })
}

/// Counting costs a step per change counted; beyond this many the answer is the upper bound.
const REMAINING_EXACT_UP_TO: i64 = 25_000;

/// How many changes of `org` come after `page_end`: exact up to [`REMAINING_EXACT_UP_TO`],
/// above that `current - page_end` (every number not yet superseded by a later change of the
/// same record), which is exact for a catalog created and not edited since and otherwise a
/// little high. A progress bar on a million-record first pull thus costs each page a
/// bounded count, not a scan of everything left.
fn remaining_after(
    conn: &Connection,
    org: &str,
    page_end: i64,
    current: i64,
) -> rusqlite::Result<u64> {
    let mut counted = 0_i64;
    for table in ["sync_changes", "sync_changes_more"] {
        counted += conn
            .prepare_cached(&format!(
                "SELECT COUNT(*) FROM (SELECT 1 FROM {table}
                 WHERE org_id = ?1 AND version > ?2 LIMIT ?3) AS remaining"
            ))?
            .query_row((org, page_end, REMAINING_EXACT_UP_TO + 1), |row| {
                row.get::<_, i64>(0)
            })?;
        if counted > REMAINING_EXACT_UP_TO {
            return Ok((current - page_end).max(0) as u64);
        }
    }
    Ok(counted as u64)
}

/// The kinds [`PageBuilder::add_all`] reads together.
const READ_TOGETHER: [&str; 3] = ["products", "barcodes", "stock_levels"];

struct PageBuilder<'a> {
    conn: &'a Connection<'a>,
    org: &'a str,
    audience: UserAudience,
    changes: Changes,
    /// Ids of the products and tax classes the page holds.
    products: HashSet<String>,
    tax_classes: HashSet<String>,
}

/// Whether the user `key` is one `audience` receives. A user they do not is left out, not
/// reported removed: the till never had them.
fn carries_user(
    conn: &Connection,
    org: &str,
    audience: UserAudience,
    key: &str,
) -> rusqlite::Result<bool> {
    let UserAudience::SignedInOn { caller, device } = audience else {
        return Ok(true);
    };
    if key == caller.to_string() {
        return Ok(true);
    }
    conn.prepare_cached(
        "SELECT 1 FROM offline_grants WHERE org_id = ?1 AND device_id = ?2 AND user_id = ?3",
    )?
    .exists((org, device.to_string(), key))
}

fn corrupt(what: String) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, what.into())
}

fn parse<T, E: std::fmt::Display>(
    kind: &str,
    text: &str,
    parsed: Result<T, E>,
) -> rusqlite::Result<T> {
    parsed.map_err(|e| corrupt(format!("stored {kind} {text:?} is invalid: {e}")))
}

fn uuid(kind: &str, text: &str) -> rusqlite::Result<Uuid> {
    parse(kind, text, Uuid::parse_str(text))
}

fn product_id(text: &str) -> rusqlite::Result<ProductId> {
    parse("product id", text, text.parse::<ProductId>())
}

fn currency(text: &str) -> rusqlite::Result<CurrencyCode> {
    parse("currency", text, CurrencyCode::parse(text))
}

impl PageBuilder<'_> {
    /// Adds the current state of record `key` of `kind`, or its removal.
    fn add(&mut self, kind: &str, key: &str) -> rusqlite::Result<()> {
        let (conn, org) = (self.conn, self.org);
        let changes = &mut self.changes;
        match kind {
            "organisations" => {
                changes.organisation = conn
                    .prepare_cached(
                        "SELECT name, tax_number, base_currency FROM organisations WHERE id = ?1",
                    )?
                    .query_row([org], |row| {
                        Ok(OrganisationRecord {
                            id: parse("organisation id", org, org.parse::<OrgId>())?,
                            name: row.get(0)?,
                            tax_number: row.get(1)?,
                            base_currency: currency(&row.get::<_, String>(2)?)?,
                        })
                    })
                    .optional()?;
            }
            "locations" => {
                let record = conn
                    .prepare_cached(
                        "SELECT name, kind FROM locations WHERE org_id = ?1 AND id = ?2",
                    )?
                    .query_row([org, key], |row| {
                        let kind: String = row.get(1)?;
                        Ok(LocationRecord {
                            id: uuid("location id", key)?,
                            name: row.get(0)?,
                            kind: LocationKind::parse(&kind)
                                .ok_or_else(|| corrupt(format!("unknown location kind {kind}")))?,
                        })
                    })
                    .optional()?;
                match record {
                    Some(record) => changes.locations.push(record),
                    None => changes.removed.locations.push(uuid("location id", key)?),
                }
            }
            "currencies" => {
                let record = conn
                    .prepare_cached(
                        "SELECT name, minor_units FROM currencies WHERE org_id = ?1 AND code = ?2",
                    )?
                    .query_row([org, key], |row| {
                        Ok(CurrencyRecord {
                            code: currency(key)?,
                            name: row.get(0)?,
                            minor_units: row.get(1)?,
                        })
                    })
                    .optional()?;
                match record {
                    Some(record) => changes.currencies.push(record),
                    None => changes.removed.currencies.push(currency(key)?),
                }
            }
            "exchange_rates" => {
                let record = conn
                    .prepare_cached(
                        "SELECT base, quote, rate, effective_at FROM exchange_rates
                         WHERE org_id = ?1 AND id = ?2",
                    )?
                    .query_row([org, key], |row| {
                        let rate: String = row.get(2)?;
                        Ok(ExchangeRateRecord {
                            id: uuid("exchange rate id", key)?,
                            base: currency(&row.get::<_, String>(0)?)?,
                            quote: currency(&row.get::<_, String>(1)?)?,
                            rate: parse("exchange rate", &rate, ExchangeRate::parse(&rate))?,
                            effective_at: row.get(3)?,
                        })
                    })
                    .optional()?;
                match record {
                    Some(record) => changes.exchange_rates.push(record),
                    None => changes
                        .removed
                        .exchange_rates
                        .push(uuid("exchange rate id", key)?),
                }
            }
            "tax_classes" => {
                if !self.tax_classes.insert(key.to_owned()) {
                    return Ok(());
                }
                let record = conn
                    .prepare_cached(
                        "SELECT code, name, rate_bp FROM tax_classes WHERE org_id = ?1 AND id = ?2",
                    )?
                    .query_row([org, key], |row| {
                        let code: String = row.get(0)?;
                        Ok(TaxClassRecord {
                            id: uuid("tax class id", key)?,
                            code: TaxCode::parse(&code)
                                .ok_or_else(|| corrupt(format!("unknown tax code {code}")))?,
                            name: row.get(1)?,
                            rate_bp: row.get(2)?,
                        })
                    })
                    .optional()?;
                match record {
                    Some(record) => changes.tax_classes.push(record),
                    None => changes.removed.tax_classes.push(uuid("tax class id", key)?),
                }
            }
            "products" | "barcodes" | "stock_levels" => {
                return self.add_all(kind, &[key.to_owned()]);
            }
            "users" if !carries_user(self.conn, self.org, self.audience, key)? => {}
            "users" => {
                let record = conn
                    .prepare_cached(
                        "SELECT u.username, u.name, u.disabled, r.name, u.role_id
                         FROM users u JOIN roles r ON r.id = u.role_id
                         WHERE u.org_id = ?1 AND u.id = ?2",
                    )?
                    .query_row([org, key], |row| {
                        Ok((
                            row.get::<_, String>(0)?,
                            row.get::<_, String>(1)?,
                            row.get::<_, bool>(2)?,
                            row.get::<_, String>(3)?,
                            row.get::<_, String>(4)?,
                        ))
                    })
                    .optional()?;
                let id = parse("user id", key, key.parse::<UserId>())?;
                match record {
                    Some((username, name, disabled, role, role_id)) => {
                        let permissions = conn
                            .prepare_cached(
                                "SELECT permission FROM role_permissions WHERE role_id = ?1
                                 ORDER BY permission",
                            )?
                            .query_map([&role_id], |row| {
                                let text: String = row.get(0)?;
                                parse("permission", &text, Permission::parse(&text))
                            })?
                            .collect::<rusqlite::Result<Vec<_>>>()?;
                        changes.users.push(UserRecord {
                            id,
                            username,
                            name,
                            role,
                            permissions,
                            disabled,
                        });
                    }
                    None => changes.removed.users.push(id),
                }
            }
            "revoked_devices" => {
                let revoked_at: Option<String> = conn
                    .prepare_cached(
                        "SELECT revoked_at FROM devices
                         WHERE org_id = ?1 AND id = ?2 AND revoked_at IS NOT NULL",
                    )?
                    .query_row([org, key], |row| row.get(0))
                    .optional()?;
                let id = parse("device id", key, key.parse::<DeviceId>())?;
                match revoked_at {
                    Some(revoked_at) => changes
                        .revoked_devices
                        .push(RevokedDeviceRecord { id, revoked_at }),
                    None => changes.removed.revoked_devices.push(id),
                }
            }
            "revoked_grants" => {
                let record = conn
                    .prepare_cached(
                        "SELECT user_id, device_id, revoked_at FROM offline_grants
                         WHERE org_id = ?1 AND jti = ?2 AND revoked_at IS NOT NULL",
                    )?
                    .query_row([org, key], |row| {
                        let (user, device): (String, String) = (row.get(0)?, row.get(1)?);
                        Ok(RevokedGrantRecord {
                            jti: key.to_owned(),
                            user_id: parse("user id", &user, user.parse::<UserId>())?,
                            device_id: parse("device id", &device, device.parse::<DeviceId>())?,
                            revoked_at: row.get(2)?,
                        })
                    })
                    .optional()?;
                match record {
                    Some(record) => changes.revoked_grants.push(record),
                    None => changes.removed.revoked_grants.push(key.to_owned()),
                }
            }
            "settings" => {
                changes.settings = conn
                    .prepare_cached(
                        "SELECT access_token_ttl_secs, offline_grant_ttl_secs,
                                offline_permissions, offline_limits
                         FROM organisation_settings WHERE org_id = ?1",
                    )?
                    .query_row([org], |row| {
                        let (permissions, limits): (String, String) = (row.get(2)?, row.get(3)?);
                        Ok(SettingsRecord {
                            access_token_ttl_secs: row.get(0)?,
                            offline_grant_ttl_secs: row.get(1)?,
                            offline_permissions: parse(
                                "offline permissions",
                                &permissions,
                                serde_json::from_str(&permissions),
                            )?,
                            offline_limits: parse(
                                "offline limits",
                                &limits,
                                serde_json::from_str(&limits),
                            )?,
                        })
                    })
                    .optional()?;
            }
            "signing_keys" => {
                // The server's keys, not the organisation's: no org filter to apply.
                let record = conn
                    .prepare_cached(
                        "SELECT public_key, retired_at, verify_until FROM signing_keys
                         WHERE kid = ?1",
                    )?
                    .query_row([key], |row| {
                        let public_key: Vec<u8> = row.get(0)?;
                        let retired_at: Option<String> = row.get(1)?;
                        Ok(SigningKeyRecord {
                            kid: key.to_owned(),
                            x: URL_SAFE_NO_PAD.encode(public_key),
                            status: match retired_at {
                                None => KeyStatus::Current,
                                Some(_) => KeyStatus::Retired,
                            },
                            verify_until: row.get(2)?,
                        })
                    })
                    .optional()?;
                match record {
                    Some(record) => changes.signing_keys.push(record),
                    None => changes.removed.signing_keys.push(key.to_owned()),
                }
            }
            other => return Err(corrupt(format!("unknown change kind {other}"))),
        }
        Ok(())
    }

    /// Adds the current state, or the removal, of each record `keys` of `kind` names, one
    /// of [`READ_TOGETHER`], in the order given: a query per few hundred records, not one
    /// each (a first pull of a large catalog is hundreds of thousands of them).
    fn add_all(&mut self, kind: &str, keys: &[String]) -> rusqlite::Result<()> {
        let (conn, org) = (self.conn, self.org);
        match kind {
            "products" => {
                let keys: Vec<String> = keys
                    .iter()
                    .filter(|key| self.products.insert((*key).clone()))
                    .cloned()
                    .collect();
                let mut found = HashMap::new();
                conn.query_in(
                    "SELECT id, sku, name, unit, tax_class_id, price_minor, currency, active,
                            updated_at
                     FROM products WHERE org_id = ?1 AND id IN",
                    org,
                    &keys,
                    |row| {
                        let id: String = row.get(0)?;
                        let unit: String = row.get(3)?;
                        let record = ProductRecord {
                            id: product_id(&id)?,
                            sku: row.get(1)?,
                            name: row.get(2)?,
                            unit: Unit::parse(&unit)
                                .ok_or_else(|| corrupt(format!("unknown unit {unit}")))?,
                            tax_class_id: uuid("tax class id", &row.get::<_, String>(4)?)?,
                            price_minor: row.get(5)?,
                            currency: currency(&row.get::<_, String>(6)?)?,
                            active: row.get(7)?,
                            updated_at: row.get(8)?,
                        };
                        found.insert(id, record);
                        Ok(())
                    },
                )?;
                for key in &keys {
                    match found.remove(key) {
                        Some(record) => self.changes.products.push(record),
                        None => self.changes.removed.products.push(product_id(key)?),
                    }
                }
            }
            "barcodes" => {
                let mut found = HashMap::new();
                conn.query_in(
                    "SELECT barcode, product_id FROM barcodes WHERE org_id = ?1 AND barcode IN",
                    org,
                    keys,
                    |row| {
                        let product: String = row.get(1)?;
                        found.insert(row.get::<_, String>(0)?, product_id(&product)?);
                        Ok(())
                    },
                )?;
                for key in keys {
                    let barcode = parse("barcode", key, Barcode::parse(key))?;
                    match found.remove(key) {
                        Some(product_id) => self.changes.barcodes.push(BarcodeRecord {
                            barcode,
                            product_id,
                        }),
                        None => self.changes.removed.barcodes.push(barcode),
                    }
                }
            }
            "stock_levels" => {
                let mut levels = Vec::with_capacity(keys.len());
                let mut products = BTreeSet::new();
                for key in keys {
                    let (product, location) = key.split_once('/').ok_or_else(|| {
                        corrupt(format!("stored stock level key {key:?} is invalid"))
                    })?;
                    products.insert(product.to_owned());
                    levels.push((product, location));
                }
                let products: Vec<String> = products.into_iter().collect();
                let mut on_hand = HashMap::new();
                conn.query_in(
                    "SELECT product_id, location_id, on_hand_milli FROM stock_levels
                     WHERE org_id = ?1 AND product_id IN",
                    org,
                    &products,
                    |row| {
                        let key: (String, String) = (row.get(0)?, row.get(1)?);
                        on_hand.insert(key, row.get::<_, i64>(2)?);
                        Ok(())
                    },
                )?;
                for (product, location) in levels {
                    let level = StockLevelKey {
                        product_id: product_id(product)?,
                        location_id: match location {
                            "" => None,
                            text => Some(uuid("location id", text)?),
                        },
                    };
                    match on_hand.get(&(product.to_owned(), location.to_owned())) {
                        Some(&on_hand_milli) => self.changes.stock_levels.push(StockLevelRecord {
                            product_id: level.product_id,
                            location_id: level.location_id,
                            on_hand_milli,
                        }),
                        None => self.changes.removed.stock_levels.push(level),
                    }
                }
            }
            other => {
                for key in keys {
                    self.add(other, key)?;
                }
            }
        }
        Ok(())
    }

    /// Adds the products the page's barcodes scan as, and the tax classes its products
    /// charge, when their own change comes after `page_end` (so the till does not have them
    /// yet, or has an older state that may lack what this page needs).
    fn add_references(&mut self, page_end: i64) -> rusqlite::Result<()> {
        let products: BTreeSet<String> = self
            .changes
            .barcodes
            .iter()
            .map(|b| b.product_id.to_string())
            .filter(|id| !self.products.contains(id))
            .collect();
        let later = self.changed_after("products", products, page_end)?;
        self.add_all("products", &later)?;
        let classes: BTreeSet<String> = self
            .changes
            .products
            .iter()
            .map(|p| p.tax_class_id.to_string())
            .filter(|id| !self.tax_classes.contains(id))
            .collect();
        for id in self.changed_after("tax_classes", classes, page_end)? {
            self.add("tax_classes", &id)?;
        }
        Ok(())
    }

    /// Those of `keys` of `kind` whose latest change comes after `page_end`.
    fn changed_after(
        &self,
        kind: &'static str,
        keys: BTreeSet<String>,
        page_end: i64,
    ) -> rusqlite::Result<Vec<String>> {
        let keys: Vec<String> = keys.into_iter().collect();
        let mut later = HashSet::new();
        self.conn.query_in(
            &format!("SELECT key, version FROM sync_changes WHERE org_id = ?1 AND kind = '{kind}' AND key IN"),
            self.org,
            &keys,
            |row| {
                if row.get::<_, i64>(1)? > page_end {
                    later.insert(row.get::<_, String>(0)?);
                }
                Ok(())
            },
        )?;
        Ok(keys.into_iter().filter(|key| later.contains(key)).collect())
    }
}

#[cfg(test)]
mod tests;

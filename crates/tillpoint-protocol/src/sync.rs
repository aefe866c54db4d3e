//! Sync pull (ARCHITECTURE.md §4): what `GET /api/v1/sync/pull?since=<cursor>&limit=<n>`
//! answers. A till asks for everything of its organisation that changed after its cursor
//! and gets a page of records in their current state, the records removed since, the cursor
//! to ask with next, and whether more pages follow.
//!
//! The cursor is opaque to the till: it stores it and sends it back, nothing more.
//!
//! Growing the format: [`Changes`] holds one optional list per kind of record, each absent
//! when empty, and a till ignores kinds it does not know. New kinds (users and permissions,
//! revoked grants, settings, keys, stock levels) are new optional fields; nothing that is
//! here changes meaning.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::money::{ExchangeRate, Unit};
use crate::tax::TaxCode;
use crate::{Barcode, CurrencyCode, OrgId, ProductId};

/// The path of the pull endpoint.
pub const PULL_PATH: &str = "api/v1/sync/pull";
/// Rows per page when the till names no limit, and the most a page may hold.
pub const DEFAULT_PULL_LIMIT: u32 = 5_000;
pub const MAX_PULL_LIMIT: u32 = 5_000;

/// One page of a pull.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PullPage {
    pub changes: Changes,
    /// Send as `since` for the next page (or the next pull, when `more` is false). Store it
    /// only together with the changes of this page.
    pub next_cursor: String,
    /// Whether more changes wait beyond this page.
    pub more: bool,
    /// How many changed records wait after this page (0 when `more` is false), for a
    /// progress bar; absent from a server that does not count them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remaining: Option<u64>,
}

/// Records changed in a page, in their current state, by kind. A record may appear in a
/// page before its own turn when a record of the page refers to it (a barcode's product, a
/// product's tax class), so that each page leaves the till's catalog consistent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct Changes {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organisation: Option<OrganisationRecord>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub currencies: Vec<CurrencyRecord>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub exchange_rates: Vec<ExchangeRateRecord>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tax_classes: Vec<TaxClassRecord>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub locations: Vec<LocationRecord>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub products: Vec<ProductRecord>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub barcodes: Vec<BarcodeRecord>,
    /// The organisation's people, with the permissions their role gives them now.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<UserRecord>,
    /// Devices an administrator revoked.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub revoked_devices: Vec<RevokedDeviceRecord>,
    /// Offline grants revoked (with their family, user or device).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub revoked_grants: Vec<RevokedGrantRecord>,
    /// The organisation's settings a till works under.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub settings: Option<SettingsRecord>,
    /// The server's public signing keys (the JWKS a till checks grants against).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub signing_keys: Vec<SigningKeyRecord>,
    /// On-hand quantities per product and location, from the server's stock ledger.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub stock_levels: Vec<StockLevelRecord>,
    /// Records that no longer exist on the server.
    #[serde(skip_serializing_if = "Removed::is_empty")]
    pub removed: Removed,
}

impl Changes {
    /// How many records (changed and removed) this holds.
    pub fn len(&self) -> usize {
        usize::from(self.organisation.is_some())
            + self.currencies.len()
            + self.exchange_rates.len()
            + self.tax_classes.len()
            + self.locations.len()
            + self.products.len()
            + self.barcodes.len()
            + self.users.len()
            + self.revoked_devices.len()
            + self.revoked_grants.len()
            + usize::from(self.settings.is_some())
            + self.signing_keys.len()
            + self.stock_levels.len()
            + self.removed.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Keys of removed records, by kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct Removed {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub currencies: Vec<CurrencyCode>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub exchange_rates: Vec<Uuid>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tax_classes: Vec<Uuid>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub locations: Vec<Uuid>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub products: Vec<ProductId>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub barcodes: Vec<Barcode>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<crate::UserId>,
    /// Devices whose revocation was lifted (or that were deleted).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub revoked_devices: Vec<crate::DeviceId>,
    /// Grants no longer revoked (or deleted): their jti.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub revoked_grants: Vec<String>,
    /// Signing keys the server no longer holds: their kid.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub signing_keys: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub stock_levels: Vec<StockLevelKey>,
}

impl Removed {
    pub fn len(&self) -> usize {
        self.currencies.len()
            + self.exchange_rates.len()
            + self.tax_classes.len()
            + self.locations.len()
            + self.products.len()
            + self.barcodes.len()
            + self.users.len()
            + self.revoked_devices.len()
            + self.revoked_grants.len()
            + self.signing_keys.len()
            + self.stock_levels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The organisation a till sells for: what its receipts print.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrganisationRecord {
    pub id: OrgId,
    pub name: String,
    pub tax_number: Option<String>,
    pub base_currency: CurrencyCode,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum LocationKind {
    Shop,
    Warehouse,
}

impl LocationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Shop => "shop",
            Self::Warehouse => "warehouse",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Shop, Self::Warehouse]
            .into_iter()
            .find(|kind| kind.as_str() == text)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LocationRecord {
    pub id: Uuid,
    pub name: String,
    pub kind: LocationKind,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CurrencyRecord {
    pub code: CurrencyCode,
    pub name: String,
    /// Digits after the decimal point (2 for USD and ZWG).
    pub minor_units: u8,
}

/// One `base` buys `rate` of `quote` from `effective_at` on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExchangeRateRecord {
    pub id: Uuid,
    pub base: CurrencyCode,
    pub quote: CurrencyCode,
    /// An exact decimal such as `26.80`.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "26.80"))]
    pub rate: ExchangeRate,
    /// RFC 3339 UTC.
    pub effective_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TaxClassRecord {
    pub id: Uuid,
    /// `standard`, `zero_rated` or `exempt`.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub code: TaxCode,
    pub name: String,
    /// Basis points: 1500 = 15 %.
    pub rate_bp: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProductRecord {
    pub id: ProductId,
    pub sku: String,
    pub name: String,
    /// `each` or `kg`.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub unit: Unit,
    pub tax_class_id: Uuid,
    /// Tax-inclusive price per unit, in minor units of `currency`.
    pub price_minor: i64,
    pub currency: CurrencyCode,
    pub active: bool,
    /// RFC 3339 UTC.
    pub updated_at: String,
}

/// A barcode and the product it scans as.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BarcodeRecord {
    pub barcode: Barcode,
    pub product_id: ProductId,
}

/// A person of the organisation as a till needs them: who they are, what their role lets
/// them do now, and whether they may work at all. A till narrows what a grant allows offline
/// to these permissions, and refuses a disabled person offline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserRecord {
    pub id: crate::UserId,
    pub username: String,
    pub name: String,
    /// The role's name.
    pub role: String,
    /// What the role gives, `module:resource:action` (`*` matches one segment).
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<String>))]
    pub permissions: Vec<crate::Permission>,
    pub disabled: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RevokedDeviceRecord {
    pub id: crate::DeviceId,
    /// RFC 3339 UTC.
    pub revoked_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RevokedGrantRecord {
    pub jti: String,
    pub user_id: crate::UserId,
    pub device_id: crate::DeviceId,
    /// RFC 3339 UTC.
    pub revoked_at: String,
}

/// The organisation's settings that concern a till (informational on the till: grants carry
/// what was in force when they were issued).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SettingsRecord {
    pub access_token_ttl_secs: u32,
    pub offline_grant_ttl_secs: u32,
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<String>))]
    pub offline_permissions: Vec<crate::Permission>,
    #[cfg_attr(feature = "openapi", schema(value_type = std::collections::BTreeMap<String, crate::auth::CurrencyLimits>))]
    pub offline_limits: crate::auth::GrantLimits,
}

/// Whether a signing key signs now or only verifies what it signed before.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum KeyStatus {
    Current,
    Retired,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SigningKeyRecord {
    pub kid: String,
    /// The Ed25519 public key, base64url without padding (as `x` in a JWK).
    pub x: String,
    pub status: KeyStatus,
    /// A retired key verifies until then (RFC 3339 UTC); afterwards it is dropped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify_until: Option<String>,
}

/// Where a stock level is kept: a product at a location (`None`: sold with no location).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StockLevelKey {
    pub product_id: ProductId,
    #[serde(default)]
    pub location_id: Option<Uuid>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StockLevelRecord {
    pub product_id: ProductId,
    #[serde(default)]
    pub location_id: Option<Uuid>,
    /// The sum of the server's ledger, in thousandths of the unit.
    pub on_hand_milli: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_kinds_are_left_out_and_unknown_kinds_are_ignored() {
        let page = PullPage {
            changes: Changes::default(),
            next_cursor: "abc".into(),
            more: false,
            remaining: None,
        };
        assert_eq!(
            serde_json::to_value(&page).unwrap(),
            serde_json::json!({"changes": {}, "next_cursor": "abc", "more": false})
        );
        // A newer server may send kinds this build does not know.
        let newer = serde_json::json!({
            "changes": {"gift_cards": [{"id": "x"}], "removed": {"gift_cards": ["x"]},
                        "barcodes": [{"barcode": "4006381333931",
                                      "product_id": "0190f0c4-7a37-7000-8000-000000000001"}]},
            "next_cursor": "def", "more": true
        });
        let page: PullPage = serde_json::from_value(newer).unwrap();
        assert_eq!(page.changes.barcodes.len(), 1);
        assert_eq!(page.changes.len(), 1);
        assert!(page.more);
    }

    #[test]
    fn records_validate_what_they_carry() {
        let bad_barcode = serde_json::json!({"barcode": "4006381333932",
            "product_id": "0190f0c4-7a37-7000-8000-000000000001"});
        assert!(serde_json::from_value::<BarcodeRecord>(bad_barcode).is_err());
        let rate = serde_json::json!({"id": "0190f0c4-7a37-7000-8000-000000000001",
            "base": "USD", "quote": "ZWG", "rate": "26.80",
            "effective_at": "2026-11-27T20:41:23.845Z"});
        let rate: ExchangeRateRecord = serde_json::from_value(rate).unwrap();
        assert_eq!(serde_json::to_value(&rate).unwrap()["rate"], "26.80");
    }
}

// ---------------------------------------------------------------------------------------
// Push (ARCHITECTURE.md §4): a till sends its journal, oldest first, and the server answers
// for every record. Nothing a till sends is ever dropped: a record that fails a check is
// quarantined (kept, shown to managers), only a malformed one is rejected.

/// The path of the push endpoint.
pub const PUSH_PATH: &str = "api/v1/sync/push";
/// The most records one push may carry.
pub const MAX_PUSH_RECORDS: usize = 500;

/// One batch of a device's journal, in `seq` order, continuing where the server's copy of
/// that device's chain ends. Its records must form one intact chain (each hashing to its own
/// `hash`, each linking to the one before, `seq`s consecutive): the server refuses the whole
/// batch otherwise (docs/decisions/sync-push.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PushRequest {
    pub device_id: crate::DeviceId,
    pub records: Vec<crate::journal::JournalRecord>,
    /// Standard base64 of the device's Ed25519 signature over
    /// [`PushRequest::signing_bytes`]`(organisation)`.
    pub signature: String,
}

impl PushRequest {
    /// What the device signs for this batch in `org` ([`push_signing_bytes`] of its first and
    /// last records); `None` for an empty batch, which nobody signs.
    pub fn signing_bytes(&self, org: crate::OrgId) -> Option<Vec<u8>> {
        let (first, last) = (self.records.first()?, self.records.last()?);
        Some(push_signing_bytes(
            org,
            self.device_id,
            first.seq,
            last.seq,
            &last.hash,
        ))
    }
}

/// What the device signs for a batch: a context string, the organisation, the device, the
/// first and last `seq` the batch carries and its last record's hash. The hash chain makes
/// that hash cover every record of the batch, *provided the batch is one intact chain*, which
/// the server checks before it believes the signature; the organisation, device and seq range
/// are bound as well so a signature cannot be presented for a batch of another organisation,
/// device or stretch of the chain, whatever the records carry.
pub fn push_signing_bytes(
    org: crate::OrgId,
    device_id: crate::DeviceId,
    first_seq: u64,
    last_seq: u64,
    last_hash: &str,
) -> Vec<u8> {
    format!("{PUSH_SIGNING_CONTEXT}\n{org}\n{device_id}\n{first_seq}\n{last_seq}\n{last_hash}")
        .into_bytes()
}

/// The context string of [`push_signing_bytes`].
pub const PUSH_SIGNING_CONTEXT: &str = "tillpoint-push-v2";

/// What tills before `tillpoint-push-v2` signed: the device and the last hash only. Kept so
/// the server can read files an older till exported (an import checks the batch's chain
/// first, which is what makes that signature cover every record); a push signed this way is
/// refused, telling the till to update.
pub fn push_signing_bytes_v1(device_id: crate::DeviceId, last_hash: &str) -> Vec<u8> {
    format!("tillpoint-push-v1\n{device_id}\n{last_hash}").into_bytes()
}

/// The server's answer: one result per record sent, in the same order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushResponse {
    pub results: Vec<RecordResult>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecordResult {
    pub id: Uuid,
    pub seq: u64,
    pub outcome: Outcome,
    /// Why, for `quarantined` and `rejected` (and a `duplicate` of a quarantined record).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// What became of a pushed record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Stored and counted.
    Accepted,
    /// Stored before with the same id and hash; its earlier outcome stands (`reason` says
    /// it was quarantined, if it was).
    Duplicate,
    /// Stored but held for a manager: it failed a check (another organisation's creator, a
    /// grant that did not cover it, a broken chain…). Counted in reports as under review.
    Quarantined,
    /// Not stored: the record could not be read at all.
    Rejected,
}

//! Per-organisation security settings: token lifetimes and what a till may do offline.

use crate::store::Connection;
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, TransactionBehavior};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tillpoint_protocol::auth::{CurrencyLimits, GrantLimits};
use tillpoint_protocol::permission::names;
use tillpoint_protocol::{CurrencyCode, OrgId, Permission};

use super::admin::{AdminError, Administrator};
use super::audit::AuditEvent;
use super::time_text;
use crate::tenancy::Tenant;

pub const DEFAULT_ACCESS_TOKEN_TTL_SECS: u32 = 3600;
pub const MAX_ACCESS_TOKEN_TTL_SECS: u32 = 24 * 3600;
pub const MIN_ACCESS_TOKEN_TTL_SECS: u32 = 60;
pub const DEFAULT_OFFLINE_GRANT_TTL_SECS: u32 = 72 * 3600;
/// The server's cap on offline grants; an organisation may choose less, never more.
pub const MAX_OFFLINE_GRANT_TTL_SECS: u32 = 7 * 24 * 3600;

/// What a new organisation lets tills do offline: sell, look up stock, and run the till.
pub const DEFAULT_OFFLINE_PERMISSIONS: &[&str] = &[
    names::POS_SALES_CREATE,
    names::POS_SALES_VIEW,
    names::POS_SALES_REFUND,
    names::POS_DISCOUNTS_APPLY,
    names::POS_SESSIONS_MANAGE,
    names::STOCK_INVENTORY_VIEW,
];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrgSettings {
    /// Access-token lifetime, 60 s to 24 h.
    #[schema(minimum = 60, maximum = 86400)]
    pub access_token_ttl_secs: u32,
    /// Offline-grant lifetime, at most 7 days (the server's cap).
    #[schema(maximum = 604800)]
    pub offline_grant_ttl_secs: u32,
    /// What a till may do offline: each user's permissions are narrowed to these.
    pub offline_permissions: Vec<Permission>,
    /// Offline limits per currency of the organisation, in minor units. A currency without
    /// limits cannot be sold in offline.
    #[schema(value_type = std::collections::BTreeMap<String, CurrencyLimits>)]
    pub offline_limits: GrantLimits,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SettingsError {
    #[error("access_token_ttl_secs must be between {MIN_ACCESS_TOKEN_TTL_SECS} and {MAX_ACCESS_TOKEN_TTL_SECS}")]
    AccessTtl,
    #[error("offline_grant_ttl_secs must be at most {MAX_OFFLINE_GRANT_TTL_SECS} (7 days)")]
    GrantTtl,
    #[error(
        "offline limits for {0} must be zero or more, and a sale limit no higher than the total"
    )]
    Limits(CurrencyCode),
}

impl OrgSettings {
    /// Defaults for a new organisation selling in `base`: 60-minute tokens, 72-hour grants,
    /// and modest offline limits in the base currency.
    pub fn defaults(base: CurrencyCode) -> Self {
        let mut limits = GrantLimits::new();
        limits.insert(
            base,
            CurrencyLimits {
                max_sale: 50_000,           // 500.00
                max_offline_total: 500_000, // 5,000.00
                max_discount: 5_000,        // 50.00
            },
        );
        Self {
            access_token_ttl_secs: DEFAULT_ACCESS_TOKEN_TTL_SECS,
            offline_grant_ttl_secs: DEFAULT_OFFLINE_GRANT_TTL_SECS,
            offline_permissions: DEFAULT_OFFLINE_PERMISSIONS
                .iter()
                .map(|p| Permission::parse(p).expect("valid default"))
                .collect(),
            offline_limits: limits,
        }
    }

    pub fn validate(&self) -> Result<(), SettingsError> {
        if !(MIN_ACCESS_TOKEN_TTL_SECS..=MAX_ACCESS_TOKEN_TTL_SECS)
            .contains(&self.access_token_ttl_secs)
        {
            return Err(SettingsError::AccessTtl);
        }
        if self.offline_grant_ttl_secs > MAX_OFFLINE_GRANT_TTL_SECS {
            return Err(SettingsError::GrantTtl);
        }
        for (currency, l) in &self.offline_limits {
            if l.max_sale < 0
                || l.max_offline_total < 0
                || l.max_discount < 0
                || l.max_sale > l.max_offline_total
            {
                return Err(SettingsError::Limits(*currency));
            }
        }
        Ok(())
    }
}

pub fn insert(
    conn: &Connection,
    org: OrgId,
    settings: &OrgSettings,
    now: DateTime<Utc>,
) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO organisation_settings
           (org_id, access_token_ttl_secs, offline_grant_ttl_secs, offline_permissions, offline_limits, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        (
            org.to_string(),
            settings.access_token_ttl_secs,
            settings.offline_grant_ttl_secs,
            serde_json::to_string(&settings.offline_permissions).expect("serialisable"),
            serde_json::to_string(&settings.offline_limits).expect("serialisable"),
            time_text(now),
        ),
    )?;
    Ok(())
}

pub fn update(
    conn: &Connection,
    org: OrgId,
    settings: &OrgSettings,
    now: DateTime<Utc>,
) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE organisation_settings
            SET access_token_ttl_secs = ?2, offline_grant_ttl_secs = ?3, offline_permissions = ?4,
                offline_limits = ?5, updated_at = ?6
          WHERE org_id = ?1",
        (
            org.to_string(),
            settings.access_token_ttl_secs,
            settings.offline_grant_ttl_secs,
            serde_json::to_string(&settings.offline_permissions).expect("serialisable"),
            serde_json::to_string(&settings.offline_limits).expect("serialisable"),
            time_text(now),
        ),
    )?;
    Ok(())
}

pub fn load(conn: &Connection, org: OrgId) -> rusqlite::Result<Option<OrgSettings>> {
    conn.query_row(
        "SELECT access_token_ttl_secs, offline_grant_ttl_secs, offline_permissions, offline_limits
           FROM organisation_settings WHERE org_id = ?1",
        [org.to_string()],
        |r| {
            let perms: String = r.get(2)?;
            let limits: String = r.get(3)?;
            let json_err = |i, e: serde_json::Error| {
                rusqlite::Error::FromSqlConversionFailure(
                    i,
                    rusqlite::types::Type::Text,
                    Box::new(e),
                )
            };
            Ok(OrgSettings {
                access_token_ttl_secs: r.get(0)?,
                offline_grant_ttl_secs: r.get(1)?,
                offline_permissions: serde_json::from_str(&perms).map_err(|e| json_err(2, e))?,
                offline_limits: serde_json::from_str(&limits).map_err(|e| json_err(3, e))?,
            })
        },
    )
    .optional()
}

/// The settings of the tenant's organisation.
pub fn of(conn: &Connection, tenant: &Tenant) -> rusqlite::Result<OrgSettings> {
    // Every organisation has its row (made with it, or by migration 0002).
    load(conn, tenant.org())?.ok_or(rusqlite::Error::QueryReturnedNoRows)
}

/// Replaces the settings of the administrator's organisation, once they are valid and every
/// currency limited is one the organisation uses.
pub fn replace(
    conn: &mut Connection,
    admin: &Administrator,
    mut settings: OrgSettings,
) -> Result<OrgSettings, AdminError> {
    settings
        .validate()
        .map_err(|e| AdminError::Invalid(e.to_string()))?;
    settings.offline_permissions.sort();
    settings.offline_permissions.dedup();
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let tenant = admin.tenant();
    let mut known = tx.prepare("SELECT 1 FROM currencies WHERE org_id = ?1 AND code = ?2")?;
    for currency in settings.offline_limits.keys() {
        if !known.exists((tenant.org().to_string(), currency.as_str()))? {
            return Err(AdminError::Invalid(format!(
                "offline_limits names {currency}, which is not a currency of this organisation"
            )));
        }
    }
    drop(known);
    let before = of(&tx, tenant)?;
    let mut unchanged = before.clone();
    unchanged.offline_permissions.sort();
    unchanged.offline_permissions.dedup();
    if unchanged != settings {
        update(&tx, tenant.org(), &settings, admin.now())?;
        admin.audit(
            &tx,
            AuditEvent::SettingsChanged,
            None,
            json!({"before": before, "after": settings}),
        )?;
    }
    tx.commit()?;
    Ok(settings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_bounds_are_enforced() {
        let usd = CurrencyCode::parse("USD").unwrap();
        let mut s = OrgSettings::defaults(usd);
        assert_eq!(s.validate(), Ok(()));
        s.access_token_ttl_secs = 59;
        assert_eq!(s.validate(), Err(SettingsError::AccessTtl));
        s.access_token_ttl_secs = 3600;
        s.offline_grant_ttl_secs = MAX_OFFLINE_GRANT_TTL_SECS + 1;
        assert_eq!(s.validate(), Err(SettingsError::GrantTtl));
        s.offline_grant_ttl_secs = 3600;
        s.offline_limits.get_mut(&usd).unwrap().max_sale = -1;
        assert_eq!(s.validate(), Err(SettingsError::Limits(usd)));
    }
}

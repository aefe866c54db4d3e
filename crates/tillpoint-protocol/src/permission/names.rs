//! The name of every permission Tillpoint's code asks for or grants, written once.
//!
//! A permission is checked by comparing text, so a misspelt literal is a permission nobody
//! holds: the check fails closed, silently, on one side only. Every part of the code names
//! permissions through these constants instead; the till's operations map to them in one
//! place, [`super::Operation::required_permission`]. The grammar is [`super::Permission`]'s;
//! the tests below hold every name to it.
//!
//! Organisations may write any other well-formed permission into their own roles; this list
//! is what the code itself knows.

// Point of sale.
pub const POS_SALES_CREATE: &str = "pos:sales:create";
pub const POS_SALES_VIEW: &str = "pos:sales:view";
pub const POS_SALES_REFUND: &str = "pos:sales:refund";
pub const POS_DISCOUNTS_APPLY: &str = "pos:discounts:apply";
/// Opening and closing a till.
pub const POS_SESSIONS_MANAGE: &str = "pos:sessions:manage";

// Stock.
pub const STOCK_INVENTORY_VIEW: &str = "stock:inventory:view";
pub const STOCK_PRODUCTS_VIEW: &str = "stock:products:view";

// Reports.
pub const REPORTS_STOCK_VIEW: &str = "reports:stock:view";
pub const REPORTS_STOCK_EXPORT: &str = "reports:stock:export";

// Sync.
/// Listing, releasing and voiding quarantined records; importing a dead till's records.
pub const SYNC_QUARANTINE_MANAGE: &str = "sync:quarantine:manage";

// Administration.
pub const ADMIN_USERS_MANAGE: &str = "admin:users:manage";
pub const ADMIN_ROLES_MANAGE: &str = "admin:roles:manage";
pub const ADMIN_SETTINGS_MANAGE: &str = "admin:settings:manage";
pub const ADMIN_DEVICES_MANAGE: &str = "admin:devices:manage";

// Grants with a wildcard: held by roles, never required.
/// Everything (the Super Administrator).
pub const ALL: &str = "*:*:*";
/// Everything at the point of sale.
pub const POS_ALL: &str = "pos:*:*";
/// Everything in stock.
pub const STOCK_ALL: &str = "stock:*:*";
/// Viewing every report.
pub const REPORTS_VIEW_ALL: &str = "reports:*:view";
/// Exporting every report.
pub const REPORTS_EXPORT_ALL: &str = "reports:*:export";

#[cfg(test)]
mod tests {
    use super::super::Permission;
    use super::*;

    const REQUIRED: [&str; 14] = [
        POS_SALES_CREATE,
        POS_SALES_VIEW,
        POS_SALES_REFUND,
        POS_DISCOUNTS_APPLY,
        POS_SESSIONS_MANAGE,
        STOCK_INVENTORY_VIEW,
        STOCK_PRODUCTS_VIEW,
        REPORTS_STOCK_VIEW,
        REPORTS_STOCK_EXPORT,
        SYNC_QUARANTINE_MANAGE,
        ADMIN_USERS_MANAGE,
        ADMIN_ROLES_MANAGE,
        ADMIN_SETTINGS_MANAGE,
        ADMIN_DEVICES_MANAGE,
    ];
    const WILDCARDS: [&str; 5] = [
        ALL,
        POS_ALL,
        STOCK_ALL,
        REPORTS_VIEW_ALL,
        REPORTS_EXPORT_ALL,
    ];

    fn p(name: &str) -> Permission {
        Permission::parse(name).unwrap_or_else(|e| panic!("{name}: {e}"))
    }

    #[test]
    fn every_name_is_a_well_formed_permission_and_none_is_listed_twice() {
        let mut all: Vec<&str> = REQUIRED.iter().chain(&WILDCARDS).copied().collect();
        for name in &all {
            assert_eq!(p(name).as_str(), *name);
        }
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), REQUIRED.len() + WILDCARDS.len());
    }

    #[test]
    fn a_name_that_is_required_has_no_wildcard_and_a_grant_that_has_one_covers_its_family() {
        for name in REQUIRED {
            assert!(!name.contains('*'), "{name}");
            assert!(p(ALL).covers(&p(name)), "{name}");
        }
        let covered = |grant: &str| -> Vec<&str> {
            REQUIRED
                .into_iter()
                .filter(|name| p(grant).covers(&p(name)))
                .collect()
        };
        assert_eq!(
            covered(POS_ALL),
            [
                POS_SALES_CREATE,
                POS_SALES_VIEW,
                POS_SALES_REFUND,
                POS_DISCOUNTS_APPLY,
                POS_SESSIONS_MANAGE
            ]
        );
        assert_eq!(
            covered(STOCK_ALL),
            [STOCK_INVENTORY_VIEW, STOCK_PRODUCTS_VIEW]
        );
        assert_eq!(covered(REPORTS_VIEW_ALL), [REPORTS_STOCK_VIEW]);
        assert_eq!(covered(REPORTS_EXPORT_ALL), [REPORTS_STOCK_EXPORT]);
    }
}

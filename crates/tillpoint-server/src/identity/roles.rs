//! The five roles every organisation starts with, and their permissions. An organisation may
//! edit them or add its own; these are only where each one begins.

use tillpoint_protocol::Permission;

pub struct StandardRole {
    pub name: &'static str,
    pub permissions: &'static [&'static str],
}

pub const SUPER_ADMINISTRATOR: &str = "Super Administrator";
pub const ADMINISTRATOR: &str = "Administrator";
pub const STOCK_MANAGER: &str = "Stock Manager";
pub const ACCOUNTANT: &str = "Accountant";
pub const CASHIER: &str = "Cashier";

pub const STANDARD_ROLES: &[StandardRole] = &[
    StandardRole {
        name: SUPER_ADMINISTRATOR,
        permissions: &["*:*:*"],
    },
    StandardRole {
        name: ADMINISTRATOR,
        permissions: &[
            "admin:users:manage",
            "admin:roles:manage",
            "admin:settings:manage",
            "admin:devices:manage",
            "pos:*:*",
            "stock:*:*",
            "reports:*:view",
            "reports:*:export",
            "sync:quarantine:manage",
        ],
    },
    StandardRole {
        name: STOCK_MANAGER,
        permissions: &[
            "stock:*:*",
            "pos:sales:view",
            "reports:stock:view",
            "reports:stock:export",
        ],
    },
    StandardRole {
        name: ACCOUNTANT,
        permissions: &[
            "reports:*:view",
            "reports:*:export",
            "pos:sales:view",
            "stock:inventory:view",
            "sync:quarantine:manage",
        ],
    },
    StandardRole {
        name: CASHIER,
        permissions: &[
            "pos:sales:create",
            "pos:sales:view",
            "pos:sessions:manage",
            "stock:inventory:view",
        ],
    },
];

impl StandardRole {
    pub fn parsed_permissions(&self) -> Vec<Permission> {
        self.permissions
            .iter()
            .map(|p| Permission::parse(p).expect("standard permissions are well-formed"))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_standard_permission_is_well_formed() {
        for role in STANDARD_ROLES {
            assert_eq!(role.parsed_permissions().len(), role.permissions.len());
        }
    }

    #[test]
    fn a_cashier_sells_but_cannot_refund_discount_or_administer() {
        let cashier = STANDARD_ROLES.iter().find(|r| r.name == CASHIER).unwrap();
        let held = cashier.parsed_permissions();
        let can = |p: &str| {
            tillpoint_protocol::permission::any_covers(&held, &Permission::parse(p).unwrap())
        };
        assert!(can("pos:sales:create"));
        assert!(!can("pos:sales:refund"));
        assert!(!can("pos:discounts:apply"));
        assert!(!can("admin:users:manage"));
    }
}

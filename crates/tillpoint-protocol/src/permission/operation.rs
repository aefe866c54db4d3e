//! What a till does that a permission governs, and the one mapping from it to the
//! permission it needs.
//!
//! The till checks an operation before doing it (against the token online, against the
//! offline grant otherwise); the server checks it again when the record arrives (against
//! what the creator holds now, or the grant the record was made under). Both ask
//! [`Operation::required_permission`], so they cannot disagree on what a sale, a refund or
//! opening a till needs. A journal record names its operation by its kind
//! ([`crate::journal::RecordKind::operation`]).

use super::{names, Permission};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    /// Ringing up a sale, and everything done to its cart on the way.
    Sell,
    /// Refunding a sale, or approving a refund someone else rings up.
    Refund,
    /// Taking money off a line or a whole cart.
    ApplyDiscount,
    /// Opening or closing a till.
    ManageTillSession,
    /// Seeing stock levels, and looking products up for them.
    ViewStock,
}

impl Operation {
    pub const ALL: [Operation; 5] = [
        Self::Sell,
        Self::Refund,
        Self::ApplyDiscount,
        Self::ManageTillSession,
        Self::ViewStock,
    ];

    /// The permission this operation requires.
    pub fn required_permission(self) -> Permission {
        Permission(self.permission_name().to_owned())
    }

    /// The name of [`Self::required_permission`], for where a name is needed at compile
    /// time (a constant). This match is the mapping itself.
    pub const fn permission_name(self) -> &'static str {
        match self {
            Self::Sell => names::POS_SALES_CREATE,
            Self::Refund => names::POS_SALES_REFUND,
            Self::ApplyDiscount => names::POS_DISCOUNTS_APPLY,
            Self::ManageTillSession => names::POS_SESSIONS_MANAGE,
            Self::ViewStock => names::STOCK_INVENTORY_VIEW,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::RecordKind;

    #[test]
    fn each_operation_requires_its_own_well_formed_permission() {
        let required: Vec<Permission> = Operation::ALL
            .into_iter()
            .map(Operation::required_permission)
            .collect();
        assert_eq!(
            required.iter().map(Permission::as_str).collect::<Vec<_>>(),
            [
                "pos:sales:create",
                "pos:sales:refund",
                "pos:discounts:apply",
                "pos:sessions:manage",
                "stock:inventory:view",
            ]
        );
        for permission in &required {
            assert_eq!(
                Permission::parse(permission.as_str()).as_ref(),
                Ok(permission)
            );
        }
    }

    #[test]
    fn a_record_needs_what_its_operation_needs() {
        let needs = |kind: RecordKind| kind.operation().required_permission();
        assert_eq!(needs(RecordKind::Sale).as_str(), names::POS_SALES_CREATE);
        assert_eq!(needs(RecordKind::Refund).as_str(), names::POS_SALES_REFUND);
        assert_eq!(
            needs(RecordKind::TillOpened).as_str(),
            names::POS_SESSIONS_MANAGE
        );
        assert_eq!(needs(RecordKind::TillClosed), needs(RecordKind::TillOpened));
    }

    #[test]
    fn a_refund_needs_more_than_a_sale_and_a_cashiers_grant_covers_only_what_it_names() {
        let cashier = [
            Permission::parse(names::POS_SALES_CREATE).unwrap(),
            Permission::parse(names::POS_SESSIONS_MANAGE).unwrap(),
            Permission::parse(names::STOCK_INVENTORY_VIEW).unwrap(),
        ];
        let allowed: Vec<Operation> = Operation::ALL
            .into_iter()
            .filter(|op| super::super::any_covers(&cashier, &op.required_permission()))
            .collect();
        assert_eq!(
            allowed,
            [
                Operation::Sell,
                Operation::ManageTillSession,
                Operation::ViewStock
            ]
        );
    }
}

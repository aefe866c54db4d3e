//! Roles: named sets of permissions within one organisation. Every organisation starts with
//! the five standard roles below; its administrators may edit them or add their own (never
//! granting more than they hold themselves). A change shows in a user's tokens at their next
//! refresh, which re-reads the role.

use crate::store::Connection;
use rusqlite::{OptionalExtension, TransactionBehavior};
use serde::Serialize;
use serde_json::json;
use tillpoint_protocol::permission::names;
use tillpoint_protocol::{Permission, RoleId};

use super::admin::{AdminError, Administrator};
use super::audit::AuditEvent;
use super::new_id;
use crate::tenancy::Tenant;

pub const MAX_ROLE_NAME_LEN: usize = 64;
/// More than any real role needs; bounds the work one request can ask for.
pub const MAX_ROLE_PERMISSIONS: usize = 100;

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
        permissions: &[names::ALL],
    },
    StandardRole {
        name: ADMINISTRATOR,
        permissions: &[
            names::ADMIN_USERS_MANAGE,
            names::ADMIN_ROLES_MANAGE,
            names::ADMIN_SETTINGS_MANAGE,
            names::ADMIN_DEVICES_MANAGE,
            names::POS_ALL,
            names::STOCK_ALL,
            names::REPORTS_VIEW_ALL,
            names::REPORTS_EXPORT_ALL,
            names::SYNC_QUARANTINE_MANAGE,
        ],
    },
    StandardRole {
        name: STOCK_MANAGER,
        permissions: &[
            names::STOCK_ALL,
            names::POS_SALES_VIEW,
            names::REPORTS_STOCK_VIEW,
            names::REPORTS_STOCK_EXPORT,
        ],
    },
    StandardRole {
        name: ACCOUNTANT,
        permissions: &[
            names::REPORTS_VIEW_ALL,
            names::REPORTS_EXPORT_ALL,
            names::POS_SALES_VIEW,
            names::STOCK_INVENTORY_VIEW,
            names::SYNC_QUARANTINE_MANAGE,
        ],
    },
    StandardRole {
        name: CASHIER,
        permissions: &[
            names::POS_SALES_CREATE,
            names::POS_SALES_VIEW,
            names::POS_SESSIONS_MANAGE,
            names::STOCK_INVENTORY_VIEW,
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

/// A role as an administrator sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RoleSummary {
    pub id: RoleId,
    pub name: String,
    /// One of the five roles every organisation starts with.
    pub standard: bool,
    /// Sorted.
    pub permissions: Vec<Permission>,
}

fn read_role(conn: &Connection, row: &crate::store::Row<'_, '_>) -> rusqlite::Result<RoleSummary> {
    let id: String = row.get(0)?;
    let id: RoleId = id.parse().map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
    })?;
    Ok(RoleSummary {
        id,
        name: row.get(1)?,
        standard: row.get(2)?,
        permissions: permissions_of(conn, id)?,
    })
}

fn permissions_of(conn: &Connection, role: RoleId) -> rusqlite::Result<Vec<Permission>> {
    let mut stmt = conn.prepare_cached(
        "SELECT permission FROM role_permissions WHERE role_id = ?1 ORDER BY permission",
    )?;

    stmt.query_map([role.to_string()], |r| r.get::<_, String>(0))?
        .map(|text| {
            let text = text?;
            Permission::parse(&text).map_err(|e| {
                rusqlite::Error::FromSqlConversionFailure(
                    0,
                    rusqlite::types::Type::Text,
                    Box::new(e),
                )
            })
        })
        .collect()
}

/// The roles of the tenant's organisation, standard ones first, then by name.
pub fn list(conn: &Connection, tenant: &Tenant) -> rusqlite::Result<Vec<RoleSummary>> {
    let mut stmt = conn.prepare(
        "SELECT id, name, standard FROM roles WHERE org_id = ?1 ORDER BY standard DESC, name",
    )?;

    stmt.query_map([tenant.org().to_string()], |row| read_role(conn, row))?
        .collect()
}

/// The role `id` of the tenant's organisation.
pub fn find(
    conn: &Connection,
    tenant: &Tenant,
    id: RoleId,
) -> rusqlite::Result<Option<RoleSummary>> {
    conn.query_row(
        "SELECT id, name, standard FROM roles WHERE org_id = ?1 AND id = ?2",
        (tenant.org().to_string(), id.to_string()),
        |row| read_role(conn, row),
    )
    .optional()
}

/// A role's permissions as stored: sorted, without duplicates, bounded.
fn normalised(mut permissions: Vec<Permission>) -> Result<Vec<Permission>, AdminError> {
    permissions.sort();
    permissions.dedup();
    if permissions.len() > MAX_ROLE_PERMISSIONS {
        return Err(AdminError::Invalid(format!(
            "a role holds at most {MAX_ROLE_PERMISSIONS} permissions"
        )));
    }
    Ok(permissions)
}

fn store_permissions(
    conn: &Connection,
    role: RoleId,
    permissions: &[Permission],
) -> rusqlite::Result<()> {
    conn.execute(
        "DELETE FROM role_permissions WHERE role_id = ?1",
        [role.to_string()],
    )?;
    let mut insert =
        conn.prepare_cached("INSERT INTO role_permissions (role_id, permission) VALUES (?1, ?2)")?;
    for permission in permissions {
        insert.execute((role.to_string(), permission.as_str()))?;
    }
    Ok(())
}

/// Adds a role to the administrator's organisation. Names are unique within it, whatever
/// their case.
pub fn create(
    conn: &mut Connection,
    admin: &Administrator,
    name: &str,
    permissions: Vec<Permission>,
) -> Result<RoleSummary, AdminError> {
    let name = name.trim();
    if name.is_empty()
        || name.chars().count() > MAX_ROLE_NAME_LEN
        || name.chars().any(char::is_control)
    {
        return Err(AdminError::Invalid(format!(
            "name must be 1 to {MAX_ROLE_NAME_LEN} characters, without control characters"
        )));
    }
    let permissions = normalised(permissions)?;
    admin.may_grant(&permissions)?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let org = admin.tenant().org().to_string();
    let taken: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM roles WHERE org_id = ?1 AND lower(name) = lower(?2))",
        (&org, name),
        |r| r.get(0),
    )?;
    if taken {
        return Err(AdminError::Conflict(format!(
            "this organisation already has a role named {name}"
        )));
    }
    let id = RoleId::from_uuid(new_id());
    tx.execute(
        "INSERT INTO roles (id, org_id, name, standard) VALUES (?1, ?2, ?3, 0)",
        (id.to_string(), &org, name),
    )?;
    store_permissions(&tx, id, &permissions)?;
    admin.audit(
        &tx,
        AuditEvent::RoleCreated,
        None,
        json!({"role": id, "name": name, "permissions": permissions}),
    )?;
    tx.commit()?;
    Ok(RoleSummary {
        id,
        name: name.to_owned(),
        standard: false,
        permissions,
    })
}

/// Replaces a role's permissions. The administrator must hold both what the role had (or
/// they could strip a more powerful role) and what it gets.
pub fn set_permissions(
    conn: &mut Connection,
    admin: &Administrator,
    id: RoleId,
    permissions: Vec<Permission>,
) -> Result<RoleSummary, AdminError> {
    let permissions = normalised(permissions)?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut role = find(&tx, admin.tenant(), id)?.ok_or(AdminError::NotFound("role"))?;
    admin.may_grant(&role.permissions)?;
    admin.may_grant(&permissions)?;
    if role.permissions != permissions {
        store_permissions(&tx, id, &permissions)?;
        // Its holders' tokens carry the old set: they end, the next refresh has the new.
        super::token_cutoffs::cut_role(&tx, id, admin.now())?;
        admin.audit(
            &tx,
            AuditEvent::RolePermissionsChanged,
            None,
            json!({"role": id, "before": role.permissions, "after": permissions}),
        )?;
        role.permissions = permissions;
    }
    tx.commit()?;
    Ok(role)
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
        assert!(can(names::POS_SALES_CREATE));
        assert!(!can(names::POS_SALES_REFUND));
        assert!(!can(names::POS_DISCOUNTS_APPLY));
        assert!(!can(names::ADMIN_USERS_MANAGE));
    }
}

//! Creating an organisation: the tenant row, its base currency and its standard roles, in
//! the caller's transaction so an organisation is never half made.

use crate::store::Transaction;
use tillpoint_protocol::{CurrencyCode, OrgId, RoleId};

use super::roles::STANDARD_ROLES;
use super::{new_id, now_text};

pub struct NewOrganisation<'a> {
    pub name: &'a str,
    pub tax_number: Option<&'a str>,
    pub base_currency: CurrencyCode,
    pub base_currency_name: &'a str,
}

pub struct CreatedOrganisation {
    pub id: OrgId,
    /// The standard roles, by name.
    pub roles: Vec<(&'static str, RoleId)>,
}

impl CreatedOrganisation {
    pub fn role(&self, name: &str) -> RoleId {
        self.roles
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, id)| *id)
            .unwrap_or_else(|| panic!("{name} is not a standard role"))
    }
}

pub fn create_organisation(
    tx: &Transaction<'_>,
    org: &NewOrganisation<'_>,
) -> rusqlite::Result<CreatedOrganisation> {
    let id = OrgId::from_uuid(new_id());
    tx.execute(
        "INSERT INTO organisations (id, name, tax_number, base_currency, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        (
            id.to_string(),
            org.name,
            org.tax_number,
            org.base_currency.as_str(),
            now_text(),
        ),
    )?;
    tx.execute(
        "INSERT INTO currencies (org_id, code, name, minor_units) VALUES (?1, ?2, ?3, 2)",
        (
            id.to_string(),
            org.base_currency.as_str(),
            org.base_currency_name,
        ),
    )?;
    super::settings::insert(
        tx,
        id,
        &super::settings::OrgSettings::defaults(org.base_currency),
        chrono::Utc::now(),
    )?;
    let mut roles = Vec::with_capacity(STANDARD_ROLES.len());
    for role in STANDARD_ROLES {
        let role_id = RoleId::from_uuid(new_id());
        tx.execute(
            "INSERT INTO roles (id, org_id, name, standard) VALUES (?1, ?2, ?3, 1)",
            (role_id.to_string(), id.to_string(), role.name),
        )?;
        let mut insert = tx
            .prepare_cached("INSERT INTO role_permissions (role_id, permission) VALUES (?1, ?2)")?;
        for permission in role.parsed_permissions() {
            insert.execute((role_id.to_string(), permission.as_str()))?;
        }
        roles.push((role.name, role_id));
    }
    Ok(CreatedOrganisation { id, roles })
}

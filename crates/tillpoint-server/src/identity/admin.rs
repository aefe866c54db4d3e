//! Administrative changes: who makes them, what limits them, and how they fail.
//!
//! An [`Administrator`] is the person behind a change, built from their verified token: the
//! organisation they act in (a [`Tenant`]), the permissions they hold, their address and the
//! time. Every change function in `identity` takes one, filters every query by its
//! organisation, and writes its audit entry in the same transaction as the change.
//!
//! Two rules hold for every change:
//! - anything of another organisation is [`AdminError::NotFound`], exactly like a missing id;
//! - nobody grants, or takes over an account holding, a permission they do not hold
//!   themselves ([`Administrator::may_grant`]): an administrator cannot make a role with
//!   `*:*:*`, give a user one, or reset the password of a Super Administrator.

use crate::store::Connection;
use chrono::{DateTime, Utc};
use serde_json::Value;
use tillpoint_protocol::permission::any_covers;
use tillpoint_protocol::{DeviceId, Permission};

use super::audit::{self, AuditContext, AuditEvent};
use crate::store::DbError;
use crate::tenancy::Tenant;

/// The person making an administrative change.
#[derive(Debug, Clone)]
pub struct Administrator {
    tenant: Tenant,
    held: Vec<Permission>,
    client_ip: Option<String>,
    now: DateTime<Utc>,
}

impl Administrator {
    /// `held` are the permissions of the caller's verified token.
    pub fn new(
        tenant: Tenant,
        held: Vec<Permission>,
        client_ip: Option<String>,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            tenant,
            held,
            client_ip,
            now,
        }
    }

    pub fn tenant(&self) -> &Tenant {
        &self.tenant
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.now
    }

    /// Refuses unless every one of `permissions` is covered by one this administrator holds.
    pub fn may_grant(&self, permissions: &[Permission]) -> Result<(), AdminError> {
        match permissions
            .iter()
            .find(|wanted| !any_covers(&self.held, wanted))
        {
            None => Ok(()),
            Some(missing) => Err(AdminError::BeyondOwnPermissions(missing.clone())),
        }
    }

    /// Writes `event` to the audit log as done by this administrator in their organisation.
    pub(crate) fn audit(
        &self,
        conn: &Connection,
        event: AuditEvent,
        device: Option<DeviceId>,
        detail: Value,
    ) -> rusqlite::Result<()> {
        let context = AuditContext {
            org: Some(self.tenant.org()),
            actor: Some(self.tenant.actor()),
            device,
            client_ip: self.client_ip.clone(),
        };
        audit::record(conn, &context, event, detail, self.now)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// No such thing in the administrator's organisation (whether or not it exists in
    /// another). Carries only the kind of thing, never the id, so every miss reads the same.
    #[error("no such {0}")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Invalid(String),
    #[error("you can grant, or manage someone holding, only permissions you hold yourself; you do not hold {0}")]
    BeyondOwnPermissions(Permission),
    /// A change that needs a second person (four eyes): the caller is the one it is about.
    #[error("{0}")]
    NeedsAnotherPerson(&'static str),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<rusqlite::Error> for AdminError {
    fn from(e: rusqlite::Error) -> Self {
        Self::Db(e.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tillpoint_protocol::auth::AccessClaims;

    fn administrator(held: &[&str]) -> Administrator {
        let claims = AccessClaims {
            iss: String::new(),
            aud: String::new(),
            sub: tillpoint_protocol::UserId::from_uuid(uuid::Uuid::now_v7()),
            name: String::new(),
            email: String::new(),
            role: String::new(),
            perms: Vec::new(),
            org: tillpoint_protocol::OrgId::from_uuid(uuid::Uuid::now_v7()),
            dev: DeviceId::from_uuid(uuid::Uuid::now_v7()),
            iat: 0,
            iat_ms: 0,
            nbf: 0,
            exp: 0,
            jti: String::new(),
        };
        Administrator::new(
            Tenant::from_verified_claims(&claims),
            held.iter().map(|p| Permission::parse(p).unwrap()).collect(),
            None,
            Utc::now(),
        )
    }

    fn perms(list: &[&str]) -> Vec<Permission> {
        list.iter().map(|p| Permission::parse(p).unwrap()).collect()
    }

    #[test]
    fn an_administrator_grants_only_what_their_own_permissions_cover() {
        let admin = administrator(&["pos:*:*", "admin:users:manage"]);
        assert!(admin
            .may_grant(&perms(&["pos:sales:create", "pos:sales:*"]))
            .is_ok());
        assert!(admin.may_grant(&[]).is_ok());
        match admin.may_grant(&perms(&["pos:sales:create", "*:*:*"])) {
            Err(AdminError::BeyondOwnPermissions(p)) => assert_eq!(p.as_str(), "*:*:*"),
            other => panic!("{other:?}"),
        }
        assert!(admin.may_grant(&perms(&["stock:*:view"])).is_err());
        assert!(administrator(&["*:*:*"])
            .may_grant(&perms(&["*:*:*"]))
            .is_ok());
    }
}

//! The organisation scope. A [`Tenant`] can only be made from a verified access token, and
//! every function that reads or changes an organisation's data takes one: so no handler can
//! name an organisation from a request body, and no query can forget to filter by it.
//!
//! Anything of another organisation is answered exactly as if it did not exist (404), so a
//! caller cannot even learn that it exists.

use tillpoint_protocol::auth::AccessClaims;
use tillpoint_protocol::{OrgId, UserId};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tenant {
    org: OrgId,
    actor: UserId,
}

impl Tenant {
    pub(crate) fn from_verified_claims(claims: &AccessClaims) -> Self {
        Self {
            org: claims.org,
            actor: claims.sub,
        }
    }

    pub fn org(&self) -> OrgId {
        self.org
    }

    /// The person acting, for the audit log.
    pub fn actor(&self) -> UserId {
        self.actor
    }
}

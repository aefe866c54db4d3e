//! What the admin API's handlers share: the [`Administrator`] a verified caller acts as,
//! and how an administrative change's failure answers over HTTP.

use tillpoint_protocol::ErrorCode;

use super::extract::Require;
use super::ApiError;
use crate::identity::admin::{AdminError, Administrator};
use crate::startup::AppState;

/// The caller of an admin endpoint as the domain sees them: the organisation of their token,
/// the permissions it holds, their address and the server's time.
pub fn administrator<P>(
    require: &Require<P>,
    client_ip: Option<String>,
    state: &AppState,
) -> Administrator {
    Administrator::new(
        require.tenant(),
        require.caller.claims.perms.clone(),
        client_ip,
        state.identity.clock.now(),
    )
}

impl From<AdminError> for ApiError {
    fn from(err: AdminError) -> Self {
        match err {
            AdminError::NotFound(what) => Self::not_found(what),
            AdminError::Conflict(message) => Self::new(ErrorCode::Conflict, message),
            AdminError::Invalid(message) => Self::unprocessable(message),
            AdminError::BeyondOwnPermissions(_) => Self::new(ErrorCode::Forbidden, err.to_string()),
            AdminError::Db(db) => db.into(),
        }
    }
}

//! What the admin API's handlers share: the [`Administrator`] a verified caller acts as.

use super::extract::Require;
use crate::identity::admin::Administrator;
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
        require.caller.claims().perms.clone(),
        client_ip,
        state.identity.clock.now(),
    )
}

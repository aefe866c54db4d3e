//! Signing in on the till (ARCHITECTURE.md §3): online with the server, and offline with a
//! server-signed grant when the network is gone.
//!
//! The invariants kept here, enforced in the core and not only in the UI:
//! - the access token lives only in memory, the refresh token and the device's private key
//!   only in the OS keyring ([`secrets`]); the webview never sees any of them;
//! - offline, a person may do exactly what their grant allows, while it is valid, on this
//!   device, for this organisation — checked against the server keys cached at the last
//!   online sign-in, never against anything the grant itself names ([`grant`]);
//! - time offline never runs backwards: winding the clock back does not extend a grant, and a
//!   jump back beyond the tolerance locks offline selling until the till is online ([`clock`]);
//! - wrong offline passwords back off exponentially and every attempt is recorded.

pub mod clock;
pub mod grant;
pub mod identity;
pub mod keeper;
pub mod limits;
pub mod offline_users;
pub(crate) mod refresh_vault;
pub mod secrets;
pub mod session;

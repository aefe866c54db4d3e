//! `GET /.well-known/jwks.json`: the public keys that verify this server's tokens — the
//! current one and every retired one whose tokens may still be alive. Tills cache it to
//! verify offline grants with no secret on the device.

use axum::extract::State;
use axum::Json;
use tillpoint_protocol::token::Jwks;

use crate::startup::AppState;

#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "auth",
    responses((status = 200, body = Jwks)))]
pub async fn jwks(State(state): State<AppState>) -> Json<Jwks> {
    // Refresh first if stale, so a rotation by another process shows up here too.
    state.identity.keys.public_keys_for(None).await;
    Json(state.identity.keys.jwks())
}

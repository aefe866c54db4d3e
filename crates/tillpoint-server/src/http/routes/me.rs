//! `GET /api/v1/me`: who the access token says the caller is.

use axum::Json;
use tillpoint_protocol::auth::UserInfo;
use tillpoint_protocol::ErrorBody;

use crate::http::extract::Caller;
use crate::http::ApiError;

#[utoipa::path(get, path = "/api/v1/me", tag = "auth",
    security(("bearer" = [])),
    responses((status = 200, body = UserInfo), (status = 401, body = ErrorBody)))]
pub async fn me(caller: Caller) -> Result<Json<UserInfo>, ApiError> {
    let c = caller.into_claims();
    Ok(Json(UserInfo {
        id: c.sub,
        name: c.name,
        email: c.email,
        role: c.role,
        permissions: c.perms,
        organisation_id: c.org,
    }))
}

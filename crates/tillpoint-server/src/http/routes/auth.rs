//! `/api/v1/auth/*`: sign in, refresh, sign out. The flows themselves live in
//! `identity::sessions`; these handlers only speak HTTP.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use tillpoint_protocol::auth::{LoginRequest, LogoutRequest, RefreshRequest, TokenResponse};
use tillpoint_protocol::ErrorBody;

use crate::http::extract::{ApiJson, ClientIp};
use crate::http::ApiError;
use crate::startup::AppState;

/// Sign in with a username and password on a device: tokens and an offline grant.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, body = TokenResponse),
        (status = 401, description = "wrong username or password", body = ErrorBody),
        (status = 403, description = "the device is revoked", body = ErrorBody),
        (status = 422, body = ErrorBody),
        (status = 429, description = "too many failures; see Retry-After", body = ErrorBody),
    ))]
pub async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<LoginRequest>,
) -> Result<Json<TokenResponse>, ApiError> {
    Ok(Json(state.identity.login(req, ip).await?))
}

/// Exchange a refresh token for new tokens (the refresh token rotates).
#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "auth",
    request_body = RefreshRequest,
    responses((status = 200, body = TokenResponse), (status = 401, body = ErrorBody)))]
pub async fn refresh(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<RefreshRequest>,
) -> Result<Json<TokenResponse>, ApiError> {
    Ok(Json(state.identity.refresh(req, ip).await?))
}

/// Sign out: revokes the refresh-token family. Always 204, known token or not.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth",
    request_body = LogoutRequest,
    responses((status = 204, description = "signed out")))]
pub async fn logout(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<LogoutRequest>,
) -> Result<StatusCode, ApiError> {
    state.identity.logout(req, ip).await?;
    Ok(StatusCode::NO_CONTENT)
}

//! `/api/v1/admin/users`: an organisation's people — list, create, read, disable, enable,
//! reset a password, change a role. The rules live in `identity::users`; these handlers
//! speak HTTP. Another organisation's user answers exactly like a missing one (404).

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::Json;
use serde::{Deserialize, Serialize};
use tillpoint_protocol::{ErrorBody, RoleId, UserId};
use utoipa::ToSchema;

use crate::http::admin::administrator;
use crate::http::extract::permissions::ManageUsers;
use crate::http::extract::{ApiJson, ClientIp, Require};
use crate::http::path::PathId;
use crate::http::ApiError;
use crate::identity::users::{self, NewAccount, UserSummary};
use crate::startup::AppState;
use crate::store::DbError;

#[derive(Debug, Serialize, ToSchema)]
pub struct UserList {
    /// By username.
    pub users: Vec<UserSummary>,
}

/// Not `Debug`, nor [`PasswordResetRequest`]: they hold a password.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUserRequest {
    /// 1 to 64 of `A-Z a-z 0-9 . _ -`; unique across the server, whatever the case.
    #[schema(pattern = "^[A-Za-z0-9._-]{1,64}$")]
    pub username: String,
    /// 1 to 128 characters, without control characters (surrounding spaces are trimmed).
    #[schema(min_length = 1, max_length = 128)]
    pub name: String,
    /// An address such as name@example.com, at most 254 characters.
    #[schema(pattern = "^[^@\\s]+@[^@\\s]+$", max_length = 254)]
    pub email: String,
    /// A role of the caller's organisation.
    pub role_id: RoleId,
    /// At least 8 characters.
    #[schema(min_length = 8, max_length = 1024)]
    pub password: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordResetRequest {
    /// At least 8 characters.
    #[schema(min_length = 8, max_length = 1024)]
    pub password: String,
    /// The CALLER's own current password, whoever's password is being set: whoever holds
    /// only the caller's access token cannot take over accounts with it.
    pub current_password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleAssignmentRequest {
    /// A role of the caller's organisation.
    pub role_id: RoleId,
}

/// The users of the caller's organisation.
#[utoipa::path(get, path = "/api/v1/admin/users", tag = "admin",
    security(("bearer" = [])),
    responses(
        (status = 200, body = UserList),
        (status = 401, body = ErrorBody),
        (status = 403, description = "needs admin:users:manage", body = ErrorBody),
    ))]
pub async fn list_users(
    require: Require<ManageUsers>,
    State(state): State<AppState>,
) -> Result<Json<UserList>, ApiError> {
    let tenant = require.tenant();
    let users = state
        .db
        .call_in(&tenant, move |conn| -> Result<_, DbError> {
            Ok(users::list(conn, &tenant)?)
        })
        .await?;
    Ok(Json(UserList { users }))
}

/// Adds a user to the caller's organisation.
#[utoipa::path(post, path = "/api/v1/admin/users", tag = "admin",
    security(("bearer" = [])),
    request_body = CreateUserRequest,
    responses(
        (status = 201, body = UserSummary, headers(("location" = String, description = "the new user"))),
        (status = 401, body = ErrorBody),
        (status = 403, description = "needs admin:users:manage, and every permission of the role", body = ErrorBody),
        (status = 409, description = "the username is taken", body = ErrorBody),
        (status = 422, body = ErrorBody),
    ))]
pub async fn create_user(
    require: Require<ManageUsers>,
    ClientIp(ip): ClientIp,
    State(state): State<AppState>,
    ApiJson(req): ApiJson<CreateUserRequest>,
) -> Result<
    (
        StatusCode,
        [(header::HeaderName, String); 1],
        Json<UserSummary>,
    ),
    ApiError,
> {
    let account = NewAccount::parse(
        &req.username,
        &req.name,
        &req.email,
        req.role_id,
        &req.password,
    )?;
    let admin = administrator(&require, ip, &state);
    let _permit = state.identity.hashing_permit().await?;
    let user = state
        .db
        .call_in(&require.tenant(), move |conn| {
            users::create(conn, &admin, &account)
        })
        .await?;
    let location = format!("/api/v1/admin/users/{}", user.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(user),
    ))
}

/// One user of the caller's organisation.
#[utoipa::path(get, path = "/api/v1/admin/users/{id}", tag = "admin",
    security(("bearer" = [])),
    params(("id" = UserId, Path, description = "the user")),
    responses(
        (status = 200, body = UserSummary),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, description = "no such user in this organisation", body = ErrorBody),
    ))]
pub async fn get_user(
    require: Require<ManageUsers>,
    State(state): State<AppState>,
    PathId(id): PathId<UserId>,
) -> Result<Json<UserSummary>, ApiError> {
    let tenant = require.tenant();
    let user = state
        .db
        .call_in(&tenant, move |conn| users::get(conn, &tenant, id))
        .await?;
    Ok(Json(user))
}

/// Disables a user: no more sign-ins, and every refresh token they hold is revoked.
#[utoipa::path(post, path = "/api/v1/admin/users/{id}/disable", tag = "admin",
    security(("bearer" = [])),
    params(("id" = UserId, Path, description = "the user")),
    responses(
        (status = 200, body = UserSummary),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, description = "the caller's own account", body = ErrorBody),
    ))]
pub async fn disable_user(
    require: Require<ManageUsers>,
    ClientIp(ip): ClientIp,
    State(state): State<AppState>,
    PathId(id): PathId<UserId>,
) -> Result<Json<UserSummary>, ApiError> {
    let admin = administrator(&require, ip, &state);
    let user = state
        .db
        .call_in(&require.tenant(), move |conn| {
            users::disable(conn, &admin, id)
        })
        .await?;
    state.identity.cutoffs_changed().await?;
    Ok(Json(user))
}

/// Lets a disabled user sign in again.
#[utoipa::path(post, path = "/api/v1/admin/users/{id}/enable", tag = "admin",
    security(("bearer" = [])),
    params(("id" = UserId, Path, description = "the user")),
    responses(
        (status = 200, body = UserSummary),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, description = "the caller's own account", body = ErrorBody),
    ))]
pub async fn enable_user(
    require: Require<ManageUsers>,
    ClientIp(ip): ClientIp,
    State(state): State<AppState>,
    PathId(id): PathId<UserId>,
) -> Result<Json<UserSummary>, ApiError> {
    let admin = administrator(&require, ip, &state);
    let user = state
        .db
        .call_in(&require.tenant(), move |conn| {
            users::enable(conn, &admin, id)
        })
        .await?;
    state.identity.cutoffs_changed().await?;
    Ok(Json(user))
}

/// Sets a user's password; every refresh token they hold is revoked.
#[utoipa::path(post, path = "/api/v1/admin/users/{id}/password", tag = "admin",
    security(("bearer" = [])),
    params(("id" = UserId, Path, description = "the user")),
    request_body = PasswordResetRequest,
    responses(
        (status = 204, description = "the password is set"),
        (status = 401, body = ErrorBody),
        (status = 403, description = "the caller's own current password is wrong, or the user holds more than the caller", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody),
        (status = 429, description = "too many wrong current passwords", body = ErrorBody),
    ))]
pub async fn reset_password(
    require: Require<ManageUsers>,
    ClientIp(ip): ClientIp,
    State(state): State<AppState>,
    PathId(id): PathId<UserId>,
    ApiJson(req): ApiJson<PasswordResetRequest>,
) -> Result<StatusCode, ApiError> {
    users::check_password(&req.password)?;
    let PasswordResetRequest {
        password,
        current_password,
    } = req;
    state
        .identity
        .confirm_own_password(&require.tenant(), current_password, ip.as_deref())
        .await?;
    let admin = administrator(&require, ip, &state);
    let _permit = state.identity.hashing_permit().await?;
    state
        .db
        .call_in(&require.tenant(), move |conn| {
            users::reset_password(conn, &admin, id, &password)
        })
        .await?;
    state.identity.cutoffs_changed().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Gives a user another role of the organisation; their tokens show it from their next
/// refresh.
#[utoipa::path(put, path = "/api/v1/admin/users/{id}/role", tag = "admin",
    security(("bearer" = [])),
    params(("id" = UserId, Path, description = "the user")),
    request_body = RoleAssignmentRequest,
    responses(
        (status = 200, body = UserSummary),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, description = "no such role in this organisation, or the caller's own account", body = ErrorBody),
    ))]
pub async fn assign_role(
    require: Require<ManageUsers>,
    ClientIp(ip): ClientIp,
    State(state): State<AppState>,
    PathId(id): PathId<UserId>,
    ApiJson(req): ApiJson<RoleAssignmentRequest>,
) -> Result<Json<UserSummary>, ApiError> {
    let admin = administrator(&require, ip, &state);
    let user = state
        .db
        .call_in(&require.tenant(), move |conn| {
            users::assign_role(conn, &admin, id, req.role_id)
        })
        .await?;
    state.identity.cutoffs_changed().await?;
    Ok(Json(user))
}

//! `/api/v1/admin/roles`: an organisation's roles and their permissions. A change shows in
//! a user's tokens at their next refresh. The rules live in `identity::roles`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use tillpoint_protocol::{ErrorBody, Permission, RoleId};
use utoipa::ToSchema;

use crate::http::admin::administrator;
use crate::http::extract::permissions::ManageRoles;
use crate::http::extract::{ApiJson, ClientIp, Require};
use crate::http::path::PathId;
use crate::http::ApiError;
use crate::identity::roles::{self, RoleSummary};
use crate::startup::AppState;
use crate::store::DbError;

#[derive(Debug, Serialize, ToSchema)]
pub struct RoleList {
    /// The standard roles first, then by name.
    pub roles: Vec<RoleSummary>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRoleRequest {
    /// Unique within the organisation, whatever the case; 1 to 64 characters.
    #[schema(min_length = 1, max_length = 64)]
    pub name: String,
    /// `module:resource:action`, `*` for a whole segment.
    pub permissions: Vec<Permission>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RolePermissionsRequest {
    /// The role's whole new set.
    pub permissions: Vec<Permission>,
}

/// The roles of the caller's organisation.
#[utoipa::path(get, path = "/api/v1/admin/roles", tag = "admin",
    security(("bearer" = [])),
    responses(
        (status = 200, body = RoleList),
        (status = 401, body = ErrorBody),
        (status = 403, description = "needs admin:roles:manage", body = ErrorBody),
    ))]
pub async fn list_roles(
    require: Require<ManageRoles>,
    State(state): State<AppState>,
) -> Result<Json<RoleList>, ApiError> {
    let tenant = require.tenant();
    let roles = state
        .db
        .call_in(&tenant, move |conn| -> Result<_, DbError> {
            Ok(roles::list(conn, &tenant)?)
        })
        .await?;
    Ok(Json(RoleList { roles }))
}

/// Adds a role to the caller's organisation.
#[utoipa::path(post, path = "/api/v1/admin/roles", tag = "admin",
    security(("bearer" = [])),
    request_body = CreateRoleRequest,
    responses(
        (status = 201, body = RoleSummary),
        (status = 401, body = ErrorBody),
        (status = 403, description = "needs admin:roles:manage, and every permission granted", body = ErrorBody),
        (status = 409, description = "the organisation has a role of that name", body = ErrorBody),
        (status = 422, body = ErrorBody),
    ))]
pub async fn create_role(
    require: Require<ManageRoles>,
    ClientIp(ip): ClientIp,
    State(state): State<AppState>,
    ApiJson(req): ApiJson<CreateRoleRequest>,
) -> Result<(StatusCode, Json<RoleSummary>), ApiError> {
    let admin = administrator(&require, ip, &state);
    let role = state
        .db
        .call_in(&require.tenant(), move |conn| {
            roles::create(conn, &admin, &req.name, req.permissions.clone())
        })
        .await?;
    Ok((StatusCode::CREATED, Json(role)))
}

/// Replaces a role's permissions.
#[utoipa::path(put, path = "/api/v1/admin/roles/{id}/permissions", tag = "admin",
    security(("bearer" = [])),
    params(("id" = RoleId, Path, description = "the role")),
    request_body = RolePermissionsRequest,
    responses(
        (status = 200, body = RoleSummary),
        (status = 401, body = ErrorBody),
        (status = 403, description = "needs admin:roles:manage, and every permission the role has or gets", body = ErrorBody),
        (status = 404, description = "no such role in this organisation", body = ErrorBody),
        (status = 422, body = ErrorBody),
    ))]
pub async fn set_role_permissions(
    require: Require<ManageRoles>,
    ClientIp(ip): ClientIp,
    State(state): State<AppState>,
    PathId(id): PathId<RoleId>,
    ApiJson(req): ApiJson<RolePermissionsRequest>,
) -> Result<Json<RoleSummary>, ApiError> {
    let admin = administrator(&require, ip, &state);
    let role = state
        .db
        .call_in(&require.tenant(), move |conn| {
            roles::set_permissions(conn, &admin, id, req.permissions.clone())
        })
        .await?;
    state.identity.cutoffs_changed().await?;
    Ok(Json(role))
}

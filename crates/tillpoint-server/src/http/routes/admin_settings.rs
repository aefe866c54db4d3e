//! `/api/v1/admin/settings`: the caller's organisation's security settings — token and
//! offline-grant lifetimes, what a till may do offline and its offline limits. Tokens and
//! grants issued from then on follow them.

use axum::extract::State;
use axum::Json;
use tillpoint_protocol::ErrorBody;

use crate::http::admin::administrator;
use crate::http::extract::permissions::ManageSettings;
use crate::http::extract::{ApiJson, ClientIp, Require};
use crate::http::ApiError;
use crate::identity::settings::{self, OrgSettings};
use crate::startup::AppState;
use crate::store::DbError;

/// The settings of the caller's organisation.
#[utoipa::path(get, path = "/api/v1/admin/settings", tag = "admin",
    security(("bearer" = [])),
    responses(
        (status = 200, body = OrgSettings),
        (status = 401, body = ErrorBody),
        (status = 403, description = "needs admin:settings:manage", body = ErrorBody),
    ))]
pub async fn get_settings(
    require: Require<ManageSettings>,
    State(state): State<AppState>,
) -> Result<Json<OrgSettings>, ApiError> {
    let tenant = require.tenant();
    let settings = state
        .db
        .call_in(&tenant, move |conn| -> Result<_, DbError> {
            Ok(settings::of(conn, &tenant)?)
        })
        .await?;
    Ok(Json(settings))
}

/// Replaces the settings of the caller's organisation (every field).
#[utoipa::path(put, path = "/api/v1/admin/settings", tag = "admin",
    security(("bearer" = [])),
    request_body = OrgSettings,
    responses(
        (status = 200, body = OrgSettings),
        (status = 401, body = ErrorBody),
        (status = 403, description = "needs admin:settings:manage", body = ErrorBody),
        (status = 422, description = "a value out of bounds, or limits for a currency the organisation does not use", body = ErrorBody),
    ))]
pub async fn put_settings(
    require: Require<ManageSettings>,
    ClientIp(ip): ClientIp,
    State(state): State<AppState>,
    ApiJson(new): ApiJson<OrgSettings>,
) -> Result<Json<OrgSettings>, ApiError> {
    let admin = administrator(&require, ip, &state);
    let settings = state
        .db
        .call_in(&require.tenant(), move |conn| {
            settings::replace(conn, &admin, new.clone())
        })
        .await?;
    Ok(Json(settings))
}

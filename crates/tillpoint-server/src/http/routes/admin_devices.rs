//! `/api/v1/admin/devices`: the tills and laptops that signed in to the caller's
//! organisation, revoking one (no more sign-ins or refreshes from it; its offline grants
//! are marked revoked), and re-basing a device's damaged chain (`crate::sync::chain_rebase`).

use axum::extract::State;
use axum::Json;
use serde::Serialize;
use tillpoint_protocol::{DeviceId, ErrorBody};
use utoipa::ToSchema;

use crate::http::admin::administrator;
use crate::http::extract::permissions::ManageDevices;
use crate::http::extract::{ApiJson, ClientIp, Require};
use crate::http::path::PathId;
use crate::http::ApiError;
use crate::identity::devices::{self, DeviceSummary};
use crate::startup::AppState;
use crate::store::DbError;
use crate::sync::chain_rebase::{self, ChainEnd, RebaseChain, Rebaser};

#[derive(Debug, Serialize, ToSchema)]
pub struct DeviceList {
    /// Most recently seen first.
    pub devices: Vec<DeviceSummary>,
}

/// The devices of the caller's organisation.
#[utoipa::path(get, path = "/api/v1/admin/devices", tag = "admin",
    security(("bearer" = [])),
    responses(
        (status = 200, body = DeviceList),
        (status = 401, body = ErrorBody),
        (status = 403, description = "needs admin:devices:manage", body = ErrorBody),
    ))]
pub async fn list_devices(
    require: Require<ManageDevices>,
    State(state): State<AppState>,
) -> Result<Json<DeviceList>, ApiError> {
    let tenant = require.tenant();
    let devices = state
        .db
        .call_in(&tenant, move |conn| -> Result<_, DbError> {
            Ok(devices::list(conn, &tenant)?)
        })
        .await?;
    Ok(Json(DeviceList { devices }))
}

/// Revokes a device of the caller's organisation.
#[utoipa::path(post, path = "/api/v1/admin/devices/{id}/revoke", tag = "admin",
    security(("bearer" = [])),
    params(("id" = DeviceId, Path, description = "the device")),
    responses(
        (status = 200, body = DeviceSummary),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, description = "no such device in this organisation", body = ErrorBody),
    ))]
pub async fn revoke_device(
    require: Require<ManageDevices>,
    ClientIp(ip): ClientIp,
    State(state): State<AppState>,
    PathId(id): PathId<DeviceId>,
) -> Result<Json<DeviceSummary>, ApiError> {
    let admin = administrator(&require, ip, &state);
    let device = state
        .db
        .call_in(&require.tenant(), move |conn| {
            devices::revoke(conn, &admin, id)
        })
        .await?;
    state.identity.cutoffs_changed().await?;
    Ok(Json(device))
}

/// Moves the end of the server's copy of a device's chain onto a stored record of that
/// device, after review: for a till whose later records the server quarantines as forks or
/// gaps because its copy of the chain ends in the wrong place (docs/decisions/sync-push.md,
/// "Recovering a damaged chain"). Applies nothing; audited with the note.
#[utoipa::path(post, path = "/api/v1/admin/devices/{id}/chain/rebase", tag = "admin",
    security(("bearer" = [])),
    params(("id" = DeviceId, Path, description = "the device")),
    request_body = RebaseChain,
    responses(
        (status = 200, description = "the chain's new end", body = ChainEnd),
        (status = 401, body = ErrorBody),
        (status = 403, description = "needs admin:devices:manage", body = ErrorBody),
        (status = 404, description = "no such device, or no such record of it, in this organisation", body = ErrorBody),
        (status = 409, description = "the record's hash is not its own", body = ErrorBody),
        (status = 422, description = "no note, or one too long", body = ErrorBody),
    ))]
pub async fn rebase_chain(
    require: Require<ManageDevices>,
    ClientIp(ip): ClientIp,
    State(state): State<AppState>,
    PathId(id): PathId<DeviceId>,
    ApiJson(to): ApiJson<RebaseChain>,
) -> Result<Json<ChainEnd>, ApiError> {
    let admin = administrator(&require, ip, &state);
    let end = state
        .db
        .call_in(&require.tenant(), move |conn| {
            chain_rebase::rebase(conn, Rebaser::Administrator(&admin), id, &to)
        })
        .await?;
    Ok(Json(end))
}

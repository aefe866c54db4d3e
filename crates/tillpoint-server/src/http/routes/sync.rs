//! `/api/v1/sync/pull`: what changed in the caller's organisation's master data since the
//! till's cursor, a page at a time (see `crate::sync::pull`); `/api/v1/sync/push`: a till's
//! journal arriving (see `crate::sync::push`); `/api/v1/sync/import`: a dead till's exported
//! records handed in by a manager (see `crate::sync::import`); `/api/v1/sync/quarantine`:
//! what push held for a manager.

use std::str::FromStr;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use tillpoint_protocol::permission::names;
use tillpoint_protocol::sync::{
    PullPage, PushRequest, PushResponse, DEFAULT_PULL_LIMIT, MAX_PULL_LIMIT, MAX_PUSH_RECORDS,
};
use tillpoint_protocol::{ErrorBody, ErrorCode, Permission};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::http::admin::administrator;
use crate::http::extract::permissions::{CreateSales, ManageQuarantine};
use crate::http::extract::{ApiJson, Caller, ClientIp, Require};
use crate::http::path::{PathId, ResourceId};
use crate::http::ApiError;
use crate::startup::AppState;
use crate::store::DbError;
use crate::sync::import::{self, MAX_IMPORT_RECORDS};
use crate::sync::pull::{self, PullError};
use crate::sync::push::{self, PushError, Pusher};
use crate::sync::quarantine::{self, Decision, QuarantinedRecord, SettledRecord};

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PullQuery {
    /// The `next_cursor` of the last page received; absent (or empty) to pull from the start.
    pub since: Option<String>,
    /// How many changed records, 1 to 5,000 (default 5,000). A page may also carry records
    /// they refer to.
    pub limit: Option<u32>,
}

impl From<PullError> for ApiError {
    fn from(err: PullError) -> Self {
        match err {
            PullError::BadCursor | PullError::CursorAhead => {
                Self::new(ErrorCode::BadRequest, err.to_string())
            }
            PullError::Db(db) => db.into(),
        }
    }
}

/// A page of what changed in the caller's organisation after `since`. Any signed-in person
/// may pull: a till needs the catalog whoever is at it.
#[utoipa::path(get, path = "/api/v1/sync/pull", tag = "sync",
    security(("bearer" = [])),
    params(PullQuery),
    responses(
        (status = 200, body = PullPage),
        (status = 400, description = "a cursor this server did not issue to this organisation", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 422, description = "a bad limit or an unknown parameter", body = ErrorBody),
    ))]
pub async fn pull(
    caller: Caller,
    State(state): State<AppState>,
    query: Result<Query<PullQuery>, QueryRejection>,
) -> Result<Json<PullPage>, ApiError> {
    let Query(query) = query.map_err(|rejection| ApiError::unprocessable(rejection.body_text()))?;
    let limit = query.limit.unwrap_or(DEFAULT_PULL_LIMIT);
    if !(1..=MAX_PULL_LIMIT).contains(&limit) {
        return Err(ApiError::unprocessable(format!(
            "limit must be between 1 and {MAX_PULL_LIMIT}"
        )));
    }
    let tenant = caller.tenant();
    let since = pull::decode_cursor(query.since.as_deref(), tenant.org())?;
    let manages_users = caller.holds(&Permission::parse(names::ADMIN_USERS_MANAGE).expect("valid"));
    let audience = if manages_users {
        pull::UserAudience::Everyone
    } else {
        let claims = caller.claims();
        pull::UserAudience::SignedInOn {
            caller: claims.sub,
            device: claims.dev,
        }
    };
    let page = state
        .db
        .call_in(&tenant, move |conn| {
            pull::pull(conn, &tenant, audience, since, limit)
        })
        .await?;
    Ok(Json(page))
}

// ---------------------------------------------------------------------------------------
// Push, and the records it quarantined.

/// The largest push body: `MAX_PUSH_RECORDS` sales of about 30 KiB each.
pub const PUSH_MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

impl From<PushError> for ApiError {
    fn from(err: PushError) -> Self {
        match err {
            PushError::TooLarge { .. } => Self::new(ErrorCode::PayloadTooLarge, err.to_string()),
            PushError::Empty => Self::unprocessable(err.to_string()),
            PushError::Refused(reason) => Self::new(ErrorCode::Forbidden, reason),
            PushError::Db(db) => db.into(),
        }
    }
}

/// Receives a batch of a device's journal and answers for every record (docs/decisions/
/// sync-push.md). Anyone of the organisation holding `pos:sales:create` may push their
/// till's journal; the batch must be signed with the key bound to the device at sign-in.
#[utoipa::path(post, path = "/api/v1/sync/push", tag = "sync",
    security(("bearer" = [])),
    request_body = PushRequest,
    responses(
        (status = 200, description = "one result per record, in order", body = PushResponse),
        (status = 401, body = ErrorBody),
        (status = 403, description = "needs pos:sales:create; or the batch names another organisation or device, the device is revoked or has no key, or the signature does not verify (nothing stored)", body = ErrorBody),
        (status = 413, description = "more than MAX_PUSH_RECORDS records or too large a body", body = ErrorBody),
        (status = 422, body = ErrorBody),
    ))]
pub async fn push(
    require: Require<CreateSales>,
    ClientIp(client_ip): ClientIp,
    State(state): State<AppState>,
    ApiJson(request): ApiJson<PushRequest>,
) -> Result<Json<PushResponse>, ApiError> {
    if request.records.len() > MAX_PUSH_RECORDS {
        return Err(PushError::TooLarge {
            max: MAX_PUSH_RECORDS,
        }
        .into());
    }
    let pusher = Pusher {
        tenant: require.tenant(),
        client_ip,
        now: state.identity.clock.now(),
    };
    let response = state
        .db
        .call_in(&require.tenant(), move |conn| {
            push::push(conn, &pusher, &request)
        })
        .await?;
    Ok(Json(response))
}

/// The largest import body: an exported file of up to `MAX_IMPORT_RECORDS` records.
pub const IMPORT_MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

/// Imports the file a manager exported from a till that died with records on it
/// (`Till::export_pending`; docs/decisions/sync-push.md "Import"). The body is the file as
/// written: a push batch of the till's device, signed with its key. The records go through
/// the push checks and are answered the same way; records already pushed are `duplicate`, so
/// importing a file twice changes nothing. Needs `sync:quarantine:manage`, from any device:
/// the device's signature proves where the records came from. A revoked device's records
/// made before its revocation are taken; those made after it are quarantined.
#[utoipa::path(post, path = "/api/v1/sync/import", tag = "sync",
    security(("bearer" = [])),
    request_body(content = PushRequest, description = "the exported file"),
    responses(
        (status = 200, description = "one result per record, in order", body = PushResponse),
        (status = 401, body = ErrorBody),
        (status = 403, description = "needs sync:quarantine:manage; or a record names another organisation or device, the device is not the organisation's or has no key, or the signature does not verify (nothing stored)", body = ErrorBody),
        (status = 413, description = "more than MAX_IMPORT_RECORDS records or too large a body", body = ErrorBody),
        (status = 422, body = ErrorBody),
    ))]
pub async fn import(
    require: Require<ManageQuarantine>,
    ClientIp(client_ip): ClientIp,
    State(state): State<AppState>,
    ApiJson(request): ApiJson<PushRequest>,
) -> Result<Json<PushResponse>, ApiError> {
    if request.records.len() > MAX_IMPORT_RECORDS {
        return Err(PushError::TooLarge {
            max: MAX_IMPORT_RECORDS,
        }
        .into());
    }
    let importer = Pusher {
        tenant: require.tenant(),
        client_ip,
        now: state.identity.clock.now(),
    };
    let response = state
        .db
        .call_in(&require.tenant(), move |conn| {
            import::import(conn, &importer, &request)
        })
        .await?;
    Ok(Json(response))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QuarantineList {
    /// Oldest first.
    pub records: Vec<QuarantinedRecord>,
}

/// The id of a stored copy of a record, in a path.
pub struct StoredRecordId(pub Uuid);

impl FromStr for StoredRecordId {
    type Err = uuid::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s).map(Self)
    }
}

impl ResourceId for StoredRecordId {
    const RESOURCE: &'static str = "quarantined record";
}

/// The records of the caller's organisation that sync holds for review.
#[utoipa::path(get, path = "/api/v1/sync/quarantine", tag = "sync",
    security(("bearer" = [])),
    responses(
        (status = 200, body = QuarantineList),
        (status = 401, body = ErrorBody),
        (status = 403, description = "needs sync:quarantine:manage", body = ErrorBody),
    ))]
pub async fn list_quarantine(
    require: Require<ManageQuarantine>,
    State(state): State<AppState>,
) -> Result<Json<QuarantineList>, ApiError> {
    let tenant = require.tenant();
    let records = state
        .db
        .call_in(&tenant, move |conn| -> Result<_, DbError> {
            Ok(quarantine::list(conn, &tenant)?)
        })
        .await?;
    Ok(Json(QuarantineList { records }))
}

/// Applies a quarantined record as if it had been accepted. Four-eyes: not by the record's
/// creator nor by whoever handed it in. The checks that can be re-run are, and what still
/// fails is in the answer and the audit entry.
#[utoipa::path(post, path = "/api/v1/sync/quarantine/{id}/release", tag = "sync",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "the stored record")),
    responses(
        (status = 200, description = "released; `still_failing` lists what the re-run checks still find", body = SettledRecord),
        (status = 401, body = ErrorBody),
        (status = 403, description = "needs sync:quarantine:manage, and someone other than the record's creator and the person who handed it in", body = ErrorBody),
        (status = 404, description = "no such record in this organisation", body = ErrorBody),
        (status = 409, description = "already released or voided, its sale is already recorded, or the books cannot hold what it says", body = ErrorBody),
    ))]
pub async fn release_quarantined(
    require: Require<ManageQuarantine>,
    ClientIp(ip): ClientIp,
    State(state): State<AppState>,
    PathId(StoredRecordId(id)): PathId<StoredRecordId>,
) -> Result<Json<SettledRecord>, ApiError> {
    settle(require, ip, state, id, Decision::Release).await
}

/// Keeps a quarantined record but marks it void: it is never applied.
#[utoipa::path(post, path = "/api/v1/sync/quarantine/{id}/void", tag = "sync",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "the stored record")),
    responses(
        (status = 200, body = SettledRecord),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, description = "no such record in this organisation", body = ErrorBody),
        (status = 409, description = "already released or voided", body = ErrorBody),
    ))]
pub async fn void_quarantined(
    require: Require<ManageQuarantine>,
    ClientIp(ip): ClientIp,
    State(state): State<AppState>,
    PathId(StoredRecordId(id)): PathId<StoredRecordId>,
) -> Result<Json<SettledRecord>, ApiError> {
    settle(require, ip, state, id, Decision::Void).await
}

async fn settle(
    require: Require<ManageQuarantine>,
    ip: Option<String>,
    state: AppState,
    id: Uuid,
    decision: Decision,
) -> Result<Json<SettledRecord>, ApiError> {
    let admin = administrator(&require, ip, &state);
    let record = state
        .db
        .call_in(&require.tenant(), move |conn| {
            quarantine::settle(conn, &admin, id, decision)
        })
        .await?;
    Ok(Json(record))
}

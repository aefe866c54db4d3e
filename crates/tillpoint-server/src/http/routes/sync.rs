//! `/api/v1/sync/pull`: what changed in the caller's organisation's master data since the
//! till's cursor, a page at a time (see `crate::sync`).

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::Json;
use serde::Deserialize;
use tillpoint_protocol::sync::{PullPage, DEFAULT_PULL_LIMIT, MAX_PULL_LIMIT};
use tillpoint_protocol::{ErrorBody, ErrorCode};
use utoipa::IntoParams;

use crate::http::extract::Caller;
use crate::http::ApiError;
use crate::startup::AppState;
use crate::sync::{self, PullError};

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
    let since = sync::decode_cursor(query.since.as_deref(), tenant.org())?;
    let page = state
        .db
        .call(move |conn| sync::pull(conn, &tenant, since, limit))
        .await?;
    Ok(Json(page))
}

//! `GET /healthz`: 200 with the server's version and schema when its database answers,
//! 503 in the error shape when it does not.

use axum::extract::State;
use axum::Json;
use tillpoint_protocol::Health;

use crate::http::ApiError;
use crate::startup::AppState;
use crate::store::DbError;

#[utoipa::path(get, path = "/healthz", tag = "health",
    responses((status = 200, body = Health), (status = 503, body = tillpoint_protocol::ErrorBody)))]
pub async fn healthz(State(state): State<AppState>) -> Result<Json<Health>, ApiError> {
    let schema_version = state
        .db
        .call(|conn| conn.schema_version().map_err(DbError::from))
        .await?;
    Ok(Json(Health {
        status: "ok".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        schema_version,
    }))
}

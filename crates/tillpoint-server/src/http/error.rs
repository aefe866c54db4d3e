//! Every failed request is answered with `{"error":{"code","message"}}` and the status its
//! code always maps to; internal details go to the log, never to the client. A 401 carries
//! `WWW-Authenticate` (RFC 6750) and a 429 carries `Retry-After`.

use axum::extract::rejection::JsonRejection;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use tillpoint_protocol::{ErrorBody, ErrorCode};

use crate::identity::admin::AdminError;
use crate::identity::sessions::SessionError;
use crate::store::DbError;

#[derive(Debug)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    retry_after_secs: Option<u64>,
    /// For a 401: whether a token was presented and refused (`error="invalid_token"`).
    invalid_token: bool,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            retry_after_secs: None,
            invalid_token: false,
        }
    }

    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unauthenticated, message)
    }

    pub fn invalid_token() -> Self {
        Self {
            invalid_token: true,
            ..Self::unauthenticated(
                "the access token is missing, invalid or expired; sign in again",
            )
        }
    }

    pub fn forbidden(permission: &str) -> Self {
        Self::new(
            ErrorCode::Forbidden,
            format!("this needs the permission {permission}"),
        )
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(ErrorCode::NotFound, format!("no such {what}"))
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Conflict, message)
    }

    pub fn unprocessable(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unprocessable, message)
    }

    pub fn rate_limited(message: impl Into<String>, retry_after_secs: u64) -> Self {
        Self {
            retry_after_secs: Some(retry_after_secs),
            ..Self::new(ErrorCode::RateLimited, message)
        }
    }
}

impl From<DbError> for ApiError {
    fn from(err: DbError) -> Self {
        tracing::error!(error = %err, "database failure");
        Self::new(
            ErrorCode::Unavailable,
            "the server cannot reach its database right now; try again shortly",
        )
    }
}

impl From<rusqlite::Error> for ApiError {
    fn from(err: rusqlite::Error) -> Self {
        DbError::from(err).into()
    }
}

impl From<SessionError> for ApiError {
    fn from(err: SessionError) -> Self {
        match err {
            SessionError::Invalid(message) => Self::unprocessable(message),
            SessionError::InvalidCredentials | SessionError::RefreshRefused => {
                Self::unauthenticated(err.to_string())
            }
            SessionError::LockedOut { retry_after_secs } => {
                Self::rate_limited(err.to_string(), retry_after_secs)
            }
            SessionError::DeviceRevoked
            | SessionError::DeviceKeyMismatch
            | SessionError::OwnPasswordIncorrect => {
                Self::new(ErrorCode::Forbidden, err.to_string())
            }
            SessionError::Busy => Self {
                retry_after_secs: Some(1),
                ..Self::new(ErrorCode::Unavailable, err.to_string())
            },
            SessionError::Db(db) => db.into(),
        }
    }
}

/// Malformed JSON is 400, a body that is not JSON 415, JSON of the wrong shape 422, too large
/// 413 — always in the error shape, never axum's plain-text rejections.
impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        let code = match &rejection {
            JsonRejection::JsonSyntaxError(_) => ErrorCode::BadRequest,
            JsonRejection::JsonDataError(_) => ErrorCode::Unprocessable,
            JsonRejection::MissingJsonContentType(_) => ErrorCode::UnsupportedMediaType,
            JsonRejection::BytesRejection(_)
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE =>
            {
                ErrorCode::PayloadTooLarge
            }
            _ => ErrorCode::BadRequest,
        };
        Self::new(code, rejection.body_text())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.code.http_status())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, Json(ErrorBody::new(self.code, self.message))).into_response();
        let headers = response.headers_mut();
        if self.code == ErrorCode::Unauthenticated {
            let challenge = if self.invalid_token {
                r#"Bearer realm="tillpoint", error="invalid_token""#
            } else {
                r#"Bearer realm="tillpoint""#
            };
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(challenge),
            );
        }
        if let Some(secs) = self.retry_after_secs {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

impl From<AdminError> for ApiError {
    fn from(err: AdminError) -> Self {
        match err {
            AdminError::NotFound(what) => Self::not_found(what),
            AdminError::Conflict(message) => Self::conflict(message),
            AdminError::Invalid(message) => Self::unprocessable(message),
            AdminError::BeyondOwnPermissions(_) | AdminError::NeedsAnotherPerson(_) => {
                Self::new(ErrorCode::Forbidden, err.to_string())
            }
            AdminError::Db(db) => db.into(),
        }
    }
}

/// The answer for a known path called with a method it does not serve.
pub async fn method_not_allowed() -> ApiError {
    ApiError::new(
        ErrorCode::MethodNotAllowed,
        "this endpoint does not take that method",
    )
}

/// The answer for a path no route serves.
pub async fn not_found() -> ApiError {
    ApiError::new(ErrorCode::NotFound, "no such endpoint")
}

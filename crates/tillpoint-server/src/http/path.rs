//! Ids in request paths. An id that does not parse names nothing, so it is answered exactly
//! as an id that names nothing in the caller's organisation: 404 `not_found`, "no such …".
//! (Axum's own `Path` would answer 400 in plain text, and a different answer for a
//! malformed id than for another organisation's would be one more thing to keep equal.)

use std::str::FromStr;

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use tillpoint_protocol::{DeviceId, ProductId, RoleId, UserId};

use super::ApiError;

/// A typed id that names one kind of resource.
pub trait ResourceId: FromStr + Send {
    /// The resource, as in "no such user".
    const RESOURCE: &'static str;
}

impl ResourceId for UserId {
    const RESOURCE: &'static str = "user";
}

impl ResourceId for RoleId {
    const RESOURCE: &'static str = "role";
}

impl ResourceId for DeviceId {
    const RESOURCE: &'static str = "device";
}

impl ResourceId for ProductId {
    const RESOURCE: &'static str = "product";
}

/// The one `{id}` of a route's path.
pub struct PathId<T>(pub T);

impl<T: ResourceId, S: Send + Sync> FromRequestParts<S> for PathId<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(text) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::not_found(T::RESOURCE))?;
        text.parse()
            .map(Self)
            .map_err(|_| ApiError::not_found(T::RESOURCE))
    }
}

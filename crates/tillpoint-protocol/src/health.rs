//! `GET /healthz`: how a till (and a load balancer) tells the server is up and can reach its
//! database.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Health {
    /// `"ok"` when the server answered and its database responded.
    pub status: String,
    /// The server's release, e.g. `0.1.0`.
    pub version: String,
    /// The highest server migration applied to its database.
    pub schema_version: u32,
}

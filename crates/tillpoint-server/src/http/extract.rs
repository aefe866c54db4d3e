//! Extractors that carry policy, so a handler cannot forget it:
//! - [`ApiJson`] parses a body with the API's error shape for every kind of bad input;
//! - [`Caller`] is a verified access token issued after every cutoff that applies to it
//!   (`identity::token_cutoffs`; 401 otherwise);
//! - [`Require<P>`] is a caller holding permission `P` (403 otherwise);
//! - [`ClientIp`] is the peer address, for rate limits and the audit log.
//!
//! The organisation a handler works in comes only from the verified token
//! ([`Caller::tenant`]); request bodies never name it.

use std::marker::PhantomData;
use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use tillpoint_protocol::auth::AccessClaims;
use tillpoint_protocol::permission::any_covers;
use tillpoint_protocol::token::{verify_access_token, TokenError};
use tillpoint_protocol::Permission;

use super::ApiError;
use crate::startup::AppState;
use crate::tenancy::Tenant;

pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let axum::Json(value) = axum::Json::<T>::from_request(req, state).await?;
        Ok(Self(value))
    }
}

/// The client's address: the peer's, or — when the peer is a configured trusted proxy —
/// the nearest address in `X-Forwarded-For` that is not itself a trusted proxy. Without a
/// trusted proxy configured, a client cannot choose the address it is limited under.
pub struct ClientIp(pub Option<String>);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip());
        let trusted = &state.trusted_proxies;
        let client = match peer {
            Some(peer) if trusted.contains(&peer) => {
                let forwarded = parts
                    .headers
                    .get_all("x-forwarded-for")
                    .iter()
                    .filter_map(|v| v.to_str().ok())
                    .flat_map(|v| v.split(','))
                    .filter_map(|hop| hop.trim().parse::<IpAddr>().ok())
                    .collect::<Vec<_>>();
                forwarded
                    .into_iter()
                    .rev()
                    .find(|hop| !trusted.contains(hop))
                    .or(Some(peer))
            }
            other => other,
        };
        Ok(Self(client.map(|ip| ip.to_string())))
    }
}

/// A request carrying a valid access token.
pub struct Caller {
    // Private: a Caller (and so a Tenant) can only come from a verified token.
    claims: AccessClaims,
}

impl Caller {
    pub fn claims(&self) -> &AccessClaims {
        &self.claims
    }

    pub fn into_claims(self) -> AccessClaims {
        self.claims
    }

    /// The organisation this caller acts in: the only way handlers obtain one.
    pub fn tenant(&self) -> Tenant {
        Tenant::from_verified_claims(&self.claims)
    }

    pub fn holds(&self, required: &Permission) -> bool {
        any_covers(&self.claims.perms, required)
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let header = parts.headers.get(AUTHORIZATION).ok_or_else(|| {
            ApiError::unauthenticated("sign in first: this needs a Bearer access token")
        })?;
        // The scheme name is case-insensitive (RFC 7235 §2.1).
        let token = header
            .to_str()
            .ok()
            .and_then(|h| h.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim())
            .filter(|t| !t.is_empty() && t.len() < 8192)
            .ok_or_else(ApiError::invalid_token)?;
        let identity = &state.identity;
        let now = identity.clock.now().timestamp();
        let keys = identity.keys.public_keys_for(None).await;
        let verified = match verify_access_token(token, &keys, now) {
            // Perhaps another instance rotated the keys: look again before refusing.
            Err(TokenError::UnknownKid) => {
                let keys = identity.keys.public_keys_after_unknown_kid().await;
                verify_access_token(token, &keys, now)
            }
            other => other,
        };
        let claims = verified.map_err(|err| {
            tracing::info!(error = %err, "refused an access token");
            ApiError::invalid_token()
        })?;
        // A token its holder's rights have outlived (disabled, demoted, signed out, device
        // revoked) is refused like an expired one.
        identity
            .cutoffs
            .refresh_if_stale(&identity.db, identity.clock.now())
            .await?;
        if !identity.cutoffs.allows(&claims) {
            tracing::info!(user = %claims.sub, device = %claims.dev, "refused an access token issued before a cutoff");
            return Err(ApiError::invalid_token());
        }
        Ok(Self { claims })
    }
}

/// A permission an endpoint requires, named by a marker type (see [`permissions`]).
pub trait RequiredPermission {
    const PERMISSION: &'static str;
}

/// A caller holding `P`.
pub struct Require<P> {
    pub caller: Caller,
    _permission: PhantomData<P>,
}

impl<P> Require<P> {
    pub fn tenant(&self) -> Tenant {
        self.caller.tenant()
    }
}

impl<P: RequiredPermission + Send> FromRequestParts<AppState> for Require<P> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let caller = Caller::from_request_parts(parts, state).await?;
        let required = Permission::parse(P::PERMISSION).expect("endpoint permissions are valid");
        if !caller.holds(&required) {
            return Err(ApiError::forbidden(P::PERMISSION));
        }
        Ok(Self {
            caller,
            _permission: PhantomData,
        })
    }
}

/// The permissions endpoints require, one marker type each.
pub mod permissions {
    use tillpoint_protocol::permission::names;

    use super::RequiredPermission;

    macro_rules! permission {
        ($name:ident, $text:expr) => {
            pub struct $name;
            impl RequiredPermission for $name {
                const PERMISSION: &'static str = $text;
            }
        };
    }

    permission!(ManageUsers, names::ADMIN_USERS_MANAGE);
    permission!(ManageRoles, names::ADMIN_ROLES_MANAGE);
    permission!(ManageSettings, names::ADMIN_SETTINGS_MANAGE);
    permission!(ManageDevices, names::ADMIN_DEVICES_MANAGE);
    permission!(ViewProducts, names::STOCK_PRODUCTS_VIEW);
    permission!(CreateSales, names::POS_SALES_CREATE);
    permission!(ManageQuarantine, names::SYNC_QUARANTINE_MANAGE);
}

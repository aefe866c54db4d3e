//! The sign-in flows of a till: online sign-in, refresh, offline unlock, lock, and the
//! permission check every action goes through.
//!
//! A signed-in person is either *online* (an access token in memory, refreshed before it
//! expires) or *offline* (their grant governs). The grant is checked on every
//! [`Till::require`], not only at unlock: it expires, and the clock may be tampered with
//! while a person is signed in.

use chrono::Utc;
use serde::Serialize;
use tillpoint_protocol::auth::{
    sign_in_proof_message, LoginRequest, OfflineGrantClaims, RefreshRequest, TokenResponse,
    UserInfo,
};
use tillpoint_protocol::permission::any_covers;
use tillpoint_protocol::token::Jwks;
use tillpoint_protocol::{ErrorBody, Permission, UserId};

use super::clock;
use super::grant::{self, GrantError};
use super::identity::{self, IdentityError, TillIdentity};
use super::offline_users;
use super::refresh_vault::{self, RefreshKey};
use super::secrets::SecretError;
use crate::till::Till;

use crate::error_code::ErrorCode;

/// How much of an access token's life passes before it is refreshed.
pub const REFRESH_AT_FRACTION: f64 = 0.8;
/// A grant with less than this left is shown with a warning.
pub const GRANT_WARNING_SECS: i64 = 4 * 3600;

#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    #[error("cannot reach the server; if you signed in on this till before, unlock it offline with your password")]
    ServerUnreachable,
    #[error("the username or password is incorrect")]
    WrongCredentials,
    #[error("too many attempts; try again in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    /// 503: busy signing others in, or its database is down for a moment.
    #[error("the server cannot sign anyone in just now; try again in {retry_after_secs} s")]
    Unavailable { retry_after_secs: u64 },
    #[error("this till has been revoked by an administrator; it cannot sign anyone in")]
    DeviceRevoked,
    #[error("this till belongs to another organisation; it must be set up again to change")]
    OtherOrganisation,
    #[error("the server answered unexpectedly: {0}")]
    Server(String),
    #[error("{0}")]
    Grant(#[from] GrantError),
    #[error(transparent)]
    Identity(#[from] IdentityError),
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error("nobody is signed in on this till")]
    NotSignedIn,
    #[error("{0} has not signed in online on this till, so cannot unlock it offline")]
    NotKnownOffline(String),
    #[error("{0} has no offline access on this till (none was granted, or it expired or was revoked); sign in online")]
    NoOfflineAccess(String),
    #[error("wait {retry_after_secs} s before trying the password again")]
    BackingOff { retry_after_secs: i64 },
    #[error("your offline access has expired; sign in online to continue")]
    GrantExpired,
    #[error(
        "the computer's clock was set back; set it right — work on this till is locked until the server has been reached with the clock right"
    )]
    ClockLocked,
    #[error("this needs the permission {0}, which you do not hold{1}")]
    Forbidden(Permission, &'static str),
    #[error("your session ended: {0}; sign in again")]
    SignedOut(&'static str),
    #[error("the till's own store failed: {0}")]
    Store(String),
    #[error(transparent)]
    Limit(#[from] super::limits::LimitError),
    #[error("{0} record(s) made on this till have not reached the server yet; sync first (or have a manager export them) before signing out")]
    RecordsPending(u64),
    #[error("this till has been revoked by an administrator; it cannot work offline")]
    TillRevokedOffline,
    #[error("your offline access was revoked by an administrator; sign in online to continue")]
    GrantRevoked,
    #[error("your account has been disabled by an administrator; you cannot work on this till")]
    UserDisabled,
}

impl From<rusqlite::Error> for SignInError {
    fn from(e: rusqlite::Error) -> Self {
        Self::Store(e.to_string())
    }
}

impl SignInError {
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::ServerUnreachable => ErrorCode::ServerUnreachable,
            Self::WrongCredentials => ErrorCode::WrongCredentials,
            // Both mean "wait and try again".
            Self::RateLimited { .. } | Self::Unavailable { .. } => ErrorCode::RateLimited,
            Self::DeviceRevoked => ErrorCode::DeviceRevoked,
            Self::OtherOrganisation => ErrorCode::OtherOrganisation,
            Self::Server(_) => ErrorCode::ServerError,
            Self::Grant(_) => ErrorCode::GrantInvalid,
            Self::Secret(SecretError::Unavailable(_))
            | Self::Identity(IdentityError::Secret(SecretError::Unavailable(_))) => {
                ErrorCode::KeyringUnavailable
            }
            Self::Identity(_) => ErrorCode::IdentityUnavailable,
            Self::Secret(_) => ErrorCode::KeyringFailed,
            Self::NotSignedIn => ErrorCode::NotSignedIn,
            Self::NotKnownOffline(_) | Self::NoOfflineAccess(_) => ErrorCode::NotKnownOffline,
            Self::BackingOff { .. } => ErrorCode::BackingOff,
            Self::GrantExpired => ErrorCode::GrantExpired,
            Self::ClockLocked => ErrorCode::ClockLocked,
            Self::Forbidden(..) => ErrorCode::Forbidden,
            Self::SignedOut(_) => ErrorCode::SignedOut,
            Self::Store(_) => ErrorCode::StoreUnavailable,
            Self::Limit(_) => ErrorCode::OfflineLimit,
            Self::RecordsPending(_) => ErrorCode::RecordsPending,
            Self::TillRevokedOffline => ErrorCode::DeviceRevoked,
            Self::GrantRevoked => ErrorCode::GrantRevoked,
            Self::UserDisabled => ErrorCode::UserDisabled,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "contract", derive(specta::Type))]
pub enum SessionMode {
    Online,
    Offline,
}

/// The person signed in on this till right now.
#[derive(Clone)]
pub(crate) struct ActiveSession {
    user: UserInfo,
    mode: SessionMode,
    /// Online only: the access token, kept in memory and never handed to the window.
    access: Option<AccessToken>,
    grant: OfflineGrantClaims,
    /// Their refresh token, opened from the keyring with their password; gone when they lock.
    refresh: Option<HeldRefresh>,
}

/// A signed-in person's refresh token and the key their password gave, to seal the token a
/// refresh brings ([`refresh_vault`]). Only in memory, only while they are signed in.
#[derive(Clone)]
struct HeldRefresh {
    token: String,
    key: RefreshKey,
}

impl ActiveSession {
    pub(crate) fn grant(&self) -> &OfflineGrantClaims {
        &self.grant
    }

    /// The access token, while online: for the till's own API calls (sync), never the window.
    pub(crate) fn access_token(&self) -> Option<&str> {
        self.access.as_ref().map(|a| a.token.as_str())
    }

    pub(crate) fn user(&self) -> &UserInfo {
        &self.user
    }

    /// Whether the server's word (the access token) still governs at `now`: signed in
    /// online with a token that has not expired. Otherwise the grant does, whatever the
    /// mode says — a till whose network went quietly must not sell without limits.
    pub(crate) fn token_valid_at(&self, now: i64) -> bool {
        self.mode == SessionMode::Online && self.access.as_ref().is_some_and(|a| a.expires_at > now)
    }
}

#[derive(Clone)]
struct AccessToken {
    /// For the till's own API calls (sync); never handed to the window.
    token: String,
    refresh_at: i64,
    expires_at: i64,
}

/// Who acts, as [`Till::check`] judged it.
pub(crate) struct Acting {
    pub(crate) session: ActiveSession,
    /// The access token governed; otherwise the grant did, and the record carries its `jti`.
    pub(crate) online: bool,
}

impl Acting {
    /// The grant a record made now carries: the one that was checked, when it governed.
    pub(crate) fn grant_jti(&self) -> Option<String> {
        (!self.online).then(|| self.session.grant.jti.clone())
    }
}

/// What the shell shows about who is signed in (no secrets).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "contract", derive(specta::Type))]
pub struct SessionStatus {
    pub user_name: String,
    pub role: String,
    pub mode: SessionMode,
    pub grant_expires_at: i64,
    pub grant_remaining_secs: i64,
    /// Set in the grant's last hours.
    pub grant_warning: Option<String>,
}

/// What a refresh led to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshOutcome {
    Refreshed,
    /// The server could not be reached: the person carries on offline under their grant.
    WentOffline,
}

impl Till {
    fn conn(&self) -> Result<std::sync::MutexGuard<'_, rusqlite::Connection>, SignInError> {
        self.store()
            .conn()
            .map_err(|e| SignInError::Store(e.to_string()))
    }

    fn identity(&self) -> Result<TillIdentity, SignInError> {
        let conn = self.conn()?;
        let identity = identity::load_or_create(&conn, self.secrets().as_ref())?;
        let seal_key = self.store().seal_key();
        if !seal_key.is_loaded() {
            seal_key.load(&identity, self.secrets().as_ref())?;
        }
        Ok(identity)
    }

    /// Signs `username` in with the server. On success the refresh token is in the keyring,
    /// sealed under the password ([`refresh_vault`]); the grant — and, when it allows offline
    /// work, an argon2id verifier of the password — are in the store (for offline unlock); the
    /// server's keys are cached, the till's clock is set by the server's, and the person is
    /// signed in online.
    pub async fn sign_in(
        &self,
        username: &str,
        password: &str,
    ) -> Result<SessionStatus, SignInError> {
        let identity = self.identity()?;
        let client = self.connection().client();
        let url = self.config().server_url.clone();
        // The same clock the till's records are dated by, for the server to measure its offset.
        let device_time = {
            let conn = self.conn()?;
            clock::observe(&conn, Utc::now().timestamp())?.now
        };
        // Proof that this till holds the key it presents (issue 17).
        let device_proof = {
            use base64::Engine as _;
            use ed25519_dalek::Signer as _;
            let message = sign_in_proof_message(username, identity.device_id, Some(device_time));
            let key = identity.signing_key(self.secrets().as_ref())?;
            base64::engine::general_purpose::STANDARD.encode(key.sign(&message).to_bytes())
        };
        let response = client
            .post(url.endpoint("api/v1/auth/login"))
            .json(&LoginRequest {
                username: username.trim().to_owned(),
                password: password.to_owned(),
                device_id: identity.device_id,
                device_key: Some({
                    use base64::Engine as _;
                    base64::engine::general_purpose::STANDARD.encode(identity.public_key)
                }),
                device_time: Some(device_time),
                device_proof: Some(device_proof),
            })
            .send()
            .await
            .map_err(|_| SignInError::ServerUnreachable)?;
        let server_time = server_time(&response);
        let tokens: TokenResponse = read_answer(response).await?;
        let jwks: Jwks = client
            .get(url.endpoint(".well-known/jwks.json"))
            .send()
            .await
            .map_err(|_| SignInError::ServerUnreachable)?
            .json()
            .await
            .map_err(|e| SignInError::Server(e.to_string()))?;
        if identity
            .org
            .is_some_and(|org| org != tokens.user.organisation_id)
        {
            return Err(SignInError::OtherOrganisation);
        }
        let keys = jwks
            .public_keys()
            .map_err(|e| SignInError::Server(e.to_string()))?;
        // The server's time, which the till's is set to below (a clock row set far ahead must
        // not make the grant it just issued look expired).
        let now = server_time.map_or_else(|| Ok(self.till_clock()?.now), Ok::<_, SignInError>)?;
        // The grant must verify with the keys it will be checked against offline.
        let claims = grant::verify(
            &tokens.offline_grant,
            &keys,
            tokens.user.organisation_id,
            identity.device_id,
            now,
        )?;
        // A verifier only for someone who may work offline; the refresh token sealed under
        // their password (docs/decisions/till-sign-in.md, "Secrets at rest").
        let may_work_offline = !claims.perms.is_empty();
        let (verifier, key) = {
            let password = password.to_owned();
            tokio::task::spawn_blocking(move || {
                let verifier =
                    may_work_offline.then(|| tillpoint_password::hash_password(&password));
                (verifier, RefreshKey::derive(&password))
            })
            .await
            .map_err(|e| SignInError::Server(e.to_string()))?
        };
        self.secrets().set(
            &identity.secret_name(&refresh_secret(tokens.user.id)),
            &key.wrap(tokens.user.id, &tokens.refresh_token),
        )?;
        {
            let conn = self.conn()?;
            identity::bind_organisation(&conn, tokens.user.organisation_id)?;
            grant::cache_keys(&conn, &jwks).map_err(|e| SignInError::Server(e.to_string()))?;
            offline_users::remember(
                &conn,
                &tokens.user,
                username.trim(),
                &tokens.offline_grant,
                claims.exp,
                verifier.as_deref(),
            )?;
            clock::trust_online(&conn, now)?;
        }
        let session = ActiveSession {
            access: Some(access_token(&tokens, now)),
            refresh: Some(HeldRefresh {
                token: tokens.refresh_token.clone(),
                key,
            }),
            user: tokens.user,
            mode: SessionMode::Online,
            grant: claims,
        };
        let status = status_of(&session, now);
        *self.active_session() = Some(session);
        Ok(status)
    }

    /// When the current access token should be refreshed (Unix seconds), if online.
    pub fn refresh_due_at(&self) -> Option<i64> {
        self.active_session()
            .as_ref()
            .and_then(|s| s.access.as_ref())
            .map(|a| a.refresh_at)
    }

    /// Refreshes the signed-in person's tokens. Unreachable server: carry on offline under
    /// the grant. Refused (revoked, disabled, reused): sign out and forget them offline.
    pub async fn refresh_session(&self) -> Result<RefreshOutcome, SignInError> {
        let identity = self.identity()?;
        let (user, held) = self
            .active_session()
            .as_ref()
            .map(|s| (s.user.clone(), s.refresh.clone()))
            .ok_or(SignInError::NotSignedIn)?;
        let secret = identity.secret_name(&refresh_secret(user.id));
        let held = held.ok_or(SignInError::SignedOut(
            "no refresh token is kept for you on this till",
        ))?;
        let response = self
            .connection()
            .client()
            .post(self.config().server_url.endpoint("api/v1/auth/refresh"))
            .json(&RefreshRequest {
                refresh_token: held.token.clone(),
                device_id: identity.device_id,
            })
            .send()
            .await;
        let Ok(response) = response else {
            if let Some(session) = self.active_session().as_mut() {
                session.mode = SessionMode::Offline;
                session.access = None;
            }
            return Ok(RefreshOutcome::WentOffline);
        };
        if response.status() == reqwest::StatusCode::UNAUTHORIZED {
            self.forget_person(&identity, user.id)?;
            return Err(SignInError::SignedOut(
                "the server no longer accepts your sign-in",
            ));
        }
        let server_time = server_time(&response);
        let tokens: TokenResponse = read_answer(response).await?;
        let now = server_time.map_or_else(|| Ok(self.till_clock()?.now), Ok::<_, SignInError>)?;
        let keys = {
            let conn = self.conn()?;
            grant::cached_keys(&conn)?
        };
        let claims = grant::verify(
            &tokens.offline_grant,
            &keys,
            tokens.user.organisation_id,
            identity.device_id,
            now,
        )?;
        self.secrets()
            .set(&secret, &held.key.wrap(user.id, &tokens.refresh_token))?;
        {
            let conn = self.conn()?;
            offline_users::update_grant(&conn, user.id, &tokens.offline_grant, claims.exp)?;
            // The server answered this device's own sign-in: its time can be trusted.
            clock::trust_online(&conn, now)?;
        }
        let mut active = self.active_session();
        // Locked (or someone else signed in) while the request was out: that stands.
        if active.as_ref().map(|s| s.user.id) == Some(user.id) {
            *active = Some(ActiveSession {
                access: Some(access_token(&tokens, now)),
                refresh: Some(HeldRefresh {
                    token: tokens.refresh_token.clone(),
                    key: held.key,
                }),
                user: tokens.user,
                mode: SessionMode::Online,
                grant: claims,
            });
        }
        Ok(RefreshOutcome::Refreshed)
    }

    /// Unlocks the till offline for someone who signed in online on it before, with the
    /// password they used then. Wrong passwords back off exponentially; every attempt is
    /// recorded.
    pub async fn unlock_offline(
        &self,
        username: &str,
        password: &str,
    ) -> Result<SessionStatus, SignInError> {
        let identity = self.identity()?;
        let org = identity
            .org
            .ok_or_else(|| SignInError::NotKnownOffline(username.trim().to_owned()))?;
        let (reading, person) = {
            let conn = self.conn()?;
            let reading = clock::observe(&conn, Utc::now().timestamp())?;
            (reading, offline_users::find(&conn, username)?)
        };
        let now = reading.now;
        let Some(person) = person else {
            return Err(SignInError::NotKnownOffline(username.trim().to_owned()));
        };
        if !person.may_unlock() {
            return Err(SignInError::NoOfflineAccess(person.username));
        }
        if let Some(until) = person.locked_until.filter(|until| *until > now) {
            return Err(SignInError::BackingOff {
                retry_after_secs: until - now,
            });
        }
        // Counted as a failure until it succeeds, before the slow check, so attempts made at
        // the same time cannot all slip in before the back-off.
        let until = {
            let conn = self.conn()?;
            offline_users::record_failure(&conn, person.user_id, now)?
        };
        let matches = {
            let (password, verifier) = (password.to_owned(), person.password_verifier.clone());
            tokio::task::spawn_blocking(move || {
                tillpoint_password::verify_password(&password, &verifier)
            })
            .await
            .map_err(|e| SignInError::Server(e.to_string()))?
        };
        let claims = {
            let conn = self.conn()?;
            offline_users::record_attempt(&conn, username, now, matches)?;
            if !matches {
                tracing::warn!(username = %person.username, "wrong offline password");
                return Err(if until > now + 1 {
                    SignInError::BackingOff {
                        retry_after_secs: until - now,
                    }
                } else {
                    SignInError::WrongCredentials
                });
            }
            offline_users::record_success(&conn, person.user_id)?;
            if reading.locked {
                return Err(SignInError::ClockLocked);
            }
            let keys = grant::cached_keys(&conn)?;
            let claims =
                match grant::verify(&person.grant_token, &keys, org, identity.device_id, now) {
                    Err(GrantError::Token(tillpoint_protocol::token::TokenError::Expired)) => {
                        // The verifier served that grant only.
                        offline_users::drop_verifier(&conn, person.user_id)?;
                        return Err(SignInError::GrantExpired);
                    }
                    other => other?,
                };
            // What the server said since the grant was issued narrows it.
            if let Some(standing) =
                offline_users::standing(&conn, claims.sub, &claims.jti, identity.device_id, None)?
            {
                offline_users::drop_verifier(&conn, person.user_id)?;
                return Err(refusal(standing, None));
            }
            claims
        };
        let refresh = self.open_refresh(&identity, person.user_id, password).await;
        let session = ActiveSession {
            user: UserInfo {
                id: claims.sub,
                name: claims.name.clone(),
                email: String::new(),
                role: claims.role.clone(),
                permissions: claims.perms.clone(),
                organisation_id: claims.org,
            },
            mode: SessionMode::Offline,
            access: None,
            grant: claims,
            refresh,
        };
        let status = status_of(&session, now);
        *self.active_session() = Some(session);
        Ok(status)
    }

    /// Opens `user`'s wrapped refresh token with `password`, so that the keeper can take them
    /// back online when the server answers. Nothing usable (a keyring that does not answer, a
    /// token kept in the clear by an older Tillpoint — deleted here) leaves them offline until
    /// they sign in online.
    async fn open_refresh(
        &self,
        identity: &TillIdentity,
        user: UserId,
        password: &str,
    ) -> Option<HeldRefresh> {
        let name = identity.secret_name(&refresh_secret(user));
        let stored = match self.secrets().get(&name) {
            Ok(stored) => stored?,
            Err(err) => {
                tracing::warn!(error = %err, "cannot read the refresh token; staying offline");
                return None;
            }
        };
        if !refresh_vault::is_wrapped(&stored) {
            if let Err(err) = self.secrets().delete(&name) {
                tracing::warn!(error = %err, "cannot delete a refresh token kept in the clear");
            }
            return None;
        }
        let password = password.to_owned();
        let opened =
            tokio::task::spawn_blocking(move || refresh_vault::unwrap(&password, user, &stored))
                .await
                .ok()
                .flatten();
        opened.map(|(key, token)| HeldRefresh { token, key })
    }

    /// The id this till signs in as, once it has one (made at the first sign-in).
    pub fn device_id(&self) -> Result<Option<tillpoint_protocol::DeviceId>, SignInError> {
        let conn = self.conn()?;
        Ok(identity::load(&conn)?.map(|i| i.device_id))
    }

    /// The lock screen: nobody is signed in until someone signs in or unlocks again. Nothing
    /// is forgotten, so it is allowed whatever is waiting to sync.
    pub fn lock(&self) {
        *self.active_session() = None;
    }

    /// Signs the person out of this till for good: their refresh token and offline access
    /// are forgotten (they sign in online again next time). Refused while records are
    /// waiting to sync (`records_pending`), so a till is never left holding sales nobody
    /// can push; a refusal by the server (see [`Till::refresh_session`]) is not held — the
    /// records stay in the outbox and go up under the next online sign-in.
    pub fn sign_out(&self) -> Result<(), SignInError> {
        let pending = self
            .unsynced_count()
            .map_err(|e| SignInError::Store(e.to_string()))?;
        if pending > 0 {
            return Err(SignInError::RecordsPending(pending));
        }
        let user = self
            .active_session()
            .as_ref()
            .map(|s| s.user.id)
            .ok_or(SignInError::NotSignedIn)?;
        let identity = self.identity()?;
        self.forget_person(&identity, user)
    }

    /// Signs `user` in online with `access_token` (and a refresh token, for the refresh
    /// endpoint of a fake server) without a server (unit tests of sync and selling).
    #[cfg(test)]
    pub(crate) fn sign_in_for_tests(&self, user: UserInfo, access_token: &str) {
        let identity = self.identity().expect("an identity");
        let key = RefreshKey::derive("test-password");
        self.secrets()
            .set(
                &identity.secret_name(&refresh_secret(user.id)),
                &key.wrap(user.id, "refresh-token"),
            )
            .expect("a stored refresh token");
        let now = Utc::now().timestamp();
        let grant = OfflineGrantClaims {
            iss: "test".into(),
            aud: "tillpoint-till".into(),
            sub: user.id,
            name: user.name.clone(),
            role: user.role.clone(),
            org: user.organisation_id,
            device: identity.device_id,
            perms: user.permissions.clone(),
            limits: Default::default(),
            iat: now,
            nbf: now,
            exp: now + 3600,
            jti: "test-grant".into(),
        };
        *self.active_session() = Some(ActiveSession {
            user,
            mode: SessionMode::Online,
            access: Some(AccessToken {
                token: access_token.to_owned(),
                refresh_at: now + 3600,
                expires_at: now + 3600,
            }),
            grant,
            refresh: Some(HeldRefresh {
                token: "refresh-token".into(),
                key,
            }),
        });
    }

    /// Carries the signed-in person on offline under their grant, as a refresh that cannot
    /// reach the server does, with the grant ending at `grant_exp` (unit tests of selling).
    #[cfg(test)]
    pub(crate) fn work_offline_for_tests(&self, grant_exp: i64) {
        if let Some(session) = self.active_session().as_mut() {
            session.mode = SessionMode::Offline;
            session.access = None;
            session.grant.exp = grant_exp;
        }
    }

    /// Ends the signed-in person's grant at `grant_exp`, their access token untouched (unit
    /// tests of what governs when).
    #[cfg(test)]
    pub(crate) fn end_grant_for_tests(&self, grant_exp: i64) {
        if let Some(session) = self.active_session().as_mut() {
            session.grant.exp = grant_exp;
        }
    }

    pub fn session_status(&self) -> Option<SessionStatus> {
        let now = self
            .till_clock()
            .map_or_else(|_| Utc::now().timestamp(), |r| r.now);
        self.active_session().as_ref().map(|s| status_of(s, now))
    }

    /// The till's time ([`clock`]): the one clock every sign-in decision is judged by.
    pub(crate) fn till_clock(&self) -> Result<clock::ClockReading, SignInError> {
        Ok(clock::observe(&*self.conn()?, Utc::now().timestamp())?)
    }

    /// Whether what `session` does at till time `now` is done online: while its access token
    /// is valid and the server has not been seen to go away. Otherwise the grant governs,
    /// whatever the session's mode says: a till whose network went quietly must not sell
    /// without limits. The one decision behind [`Till::require`], the grant a record carries
    /// and the offline limits.
    pub(crate) fn works_online(&self, session: &ActiveSession, now: i64) -> bool {
        session.token_valid_at(now)
            && self.connection().status().state != crate::connection::ConnectionState::Offline
    }

    /// Whether the signed-in person may do what needs `permission`, now. Online, their
    /// access token's permissions decide; offline, their grant's — while it is valid, narrowed
    /// by the last pull (this till or the grant revoked, the person disabled, the permission
    /// gone from their role). Either way a clock set back refuses. The UI hides what is not
    /// allowed; this is what refuses it.
    pub fn require(&self, permission: &Permission) -> Result<(), SignInError> {
        self.check(permission).map(drop)
    }

    /// [`Till::require`], saying who acts and whether online — so that what is stamped on a
    /// record (the grant's `jti`, offline) is exactly what was checked.
    pub(crate) fn check(&self, permission: &Permission) -> Result<Acting, SignInError> {
        let session = self
            .active_session()
            .clone()
            .ok_or(SignInError::NotSignedIn)?;
        let conn = self.conn()?;
        let reading = clock::observe(&conn, Utc::now().timestamp())?;
        // Online too: a clock set back would date records in the past (cleared by the next
        // sign-in or refresh that reaches the server with the clock right).
        if reading.locked {
            return Err(SignInError::ClockLocked);
        }
        let online = self.works_online(&session, reading.now);
        if online {
            if !any_covers(&session.user.permissions, permission) {
                return Err(SignInError::Forbidden(permission.clone(), ""));
            }
        } else {
            if reading.now > session.grant.exp {
                return Err(SignInError::GrantExpired);
            }
            if !any_covers(&session.grant.perms, permission) {
                return Err(SignInError::Forbidden(permission.clone(), " offline"));
            }
            // The grant, narrowed by what the last pull says now.
            if let Some(standing) = offline_users::standing(
                &conn,
                session.grant.sub,
                &session.grant.jti,
                session.grant.device,
                Some(permission),
            )? {
                return Err(refusal(standing, Some(permission)));
            }
        }
        Ok(Acting { session, online })
    }

    /// [`Till::require`] for an action any one of `permissions` allows; refused with the
    /// first one's refusal.
    pub(crate) fn require_any(&self, permissions: &[&str]) -> Result<(), SignInError> {
        let mut first_refusal = None;
        for text in permissions {
            let permission = Permission::parse(text).expect("a valid permission");
            match self.require(&permission) {
                Ok(()) => return Ok(()),
                Err(err) => {
                    first_refusal.get_or_insert(err);
                }
            }
        }
        Err(first_refusal.expect("at least one permission"))
    }

    fn forget_person(&self, identity: &TillIdentity, user: UserId) -> Result<(), SignInError> {
        self.secrets()
            .delete(&identity.secret_name(&refresh_secret(user)))?;
        let conn = self.conn()?;
        offline_users::forget(&conn, user)?;
        drop(conn);
        *self.active_session() = None;
        Ok(())
    }
}

/// The error for what the last pull says against working offline.
pub(crate) fn refusal(
    standing: offline_users::Standing,
    permission: Option<&Permission>,
) -> SignInError {
    use offline_users::Standing;
    match standing {
        Standing::DeviceRevoked => SignInError::TillRevokedOffline,
        Standing::GrantRevoked => SignInError::GrantRevoked,
        Standing::Disabled => SignInError::UserDisabled,
        Standing::PermissionRemoved => match permission {
            Some(permission) => SignInError::Forbidden(
                permission.clone(),
                " any more (your role changed since you signed in online)",
            ),
            None => SignInError::UserDisabled,
        },
    }
}

/// The keyring name of `user`'s wrapped refresh token (also read by
/// [`refresh_vault::purge_plain_tokens`]).
pub(crate) fn refresh_secret(user: UserId) -> String {
    format!("refresh/{user}")
}

fn access_token(tokens: &TokenResponse, now: i64) -> AccessToken {
    let life = tokens.expires_in as i64;
    AccessToken {
        token: tokens.access_token.clone(),
        refresh_at: now + (life as f64 * REFRESH_AT_FRACTION) as i64,
        expires_at: now + life,
    }
}

fn status_of(session: &ActiveSession, now: i64) -> SessionStatus {
    let remaining = session.grant.exp - now;
    SessionStatus {
        user_name: session.user.name.clone(),
        role: session.user.role.clone(),
        mode: session.mode,
        grant_expires_at: session.grant.exp,
        grant_remaining_secs: remaining.max(0),
        grant_warning: (remaining < GRANT_WARNING_SECS).then(|| {
            format!(
                "offline access ends in {} h {} min; sign in online before then",
                remaining.max(0) / 3600,
                remaining.max(0) % 3600 / 60
            )
        }),
    }
}

/// The server's time from its `Date` header, to set the till's clock by after an answer to
/// this device's own sign-in or refresh.
fn server_time(response: &reqwest::Response) -> Option<i64> {
    let date = response
        .headers()
        .get(reqwest::header::DATE)?
        .to_str()
        .ok()?;
    Some(chrono::DateTime::parse_from_rfc2822(date).ok()?.timestamp())
}

async fn read_answer<T: serde::de::DeserializeOwned>(
    response: reqwest::Response,
) -> Result<T, SignInError> {
    let status = response.status();
    if status.is_success() {
        return response
            .json()
            .await
            .map_err(|e| SignInError::Server(e.to_string()));
    }
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let message = response
        .json::<ErrorBody>()
        .await
        .map(|b| b.error.message)
        .unwrap_or_else(|_| status.to_string());
    Err(match status.as_u16() {
        401 => SignInError::WrongCredentials,
        429 => SignInError::RateLimited {
            retry_after_secs: retry_after,
        },
        403 => SignInError::DeviceRevoked,
        503 => SignInError::Unavailable {
            retry_after_secs: retry_after,
        },
        _ => SignInError::Server(message),
    })
}

#[cfg(test)]
mod tests {
    use axum::http::{header, StatusCode};
    use axum::routing::get;

    use super::{read_answer, SignInError};

    /// What `read_answer` makes of the server answering `status` with `Retry-After: 7`.
    async fn answered(status: StatusCode) -> SignInError {
        let app = axum::Router::new().route(
            "/",
            get(move || async move {
                (
                    status,
                    [(header::RETRY_AFTER, "7")],
                    r#"{"error":{"code":"internal","message":"the server says no"}}"#,
                )
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        let response = reqwest::get(format!("http://{addr}/")).await.unwrap();
        read_answer::<serde_json::Value>(response)
            .await
            .expect_err("not a success")
    }

    #[tokio::test]
    async fn a_busy_server_says_wait_as_a_locked_account_does_and_each_says_how_long() {
        assert!(matches!(
            answered(StatusCode::SERVICE_UNAVAILABLE).await,
            SignInError::Unavailable {
                retry_after_secs: 7
            }
        ));
        assert!(matches!(
            answered(StatusCode::TOO_MANY_REQUESTS).await,
            SignInError::RateLimited {
                retry_after_secs: 7
            }
        ));
        assert!(matches!(
            answered(StatusCode::INTERNAL_SERVER_ERROR).await,
            SignInError::Server(message) if message == "the server says no"
        ));
    }
}

//! Sign-in, refresh and sign-out: the flows that tie passwords, devices, keys, refresh-token
//! families, offline grants, rate limits and the audit log together.
//!
//! Invariants: an unknown username and a wrong password take the same time and get the same
//! answer; every refresh re-reads the user's role and the organisation's settings (so a
//! change shows at the next refresh); a disabled user or a revoked device gets no new tokens;
//! each step that changes state commits together with its audit entry.

use std::time::Instant;

use crate::store::Connection;
use chrono::{DateTime, Utc};
use rusqlite::TransactionBehavior;
use serde_json::json;
use tillpoint_protocol::auth::{
    sign_in_proof_message, LoginRequest, LogoutRequest, RefreshRequest, TokenResponse, UserInfo,
};
use tillpoint_protocol::{DeviceId, OrgId};
use tokio::sync::Semaphore;

use super::audit::{self, AuditContext, AuditEvent};
use super::devices::{self, DeviceStatus, KeyBinding};
use super::grants;
use super::keys::{KeyRing, SigningKey};
use super::login_failures::{self, Ended};
use super::password::{hash_password, needs_rehash, verify_dummy, verify_password};
use super::refresh::{self, Rotation};
use super::settings::{self, OrgSettings};
use super::throttle::{Throttle, PER_ACCOUNT, PER_ADDRESS};
use super::token_cutoffs::TokenCutoffs;
use super::tokens::{issue_access_token, issue_offline_grant};
use super::users::{self, UserRecord};
use crate::clock::Clock;
use crate::store::{Database, DbError};
use crate::tenancy::Tenant;

/// Password hashes computed at once, at most (each holds 19 MiB for ~10 ms).
pub const CONCURRENT_HASHES: usize = 4;
pub const MAX_USERNAME_LEN: usize = 128;
pub const MAX_PASSWORD_LEN: usize = 1024;
pub const MAX_REFRESH_TOKEN_LEN: usize = 256;
/// How long a sign-in waits for a hashing slot before the server says it is busy: well
/// inside the till's 5 s request timeout, so a till hears "busy, try again" rather than
/// giving the server up as unreachable.
pub const HASH_QUEUE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("{0}")]
    Invalid(&'static str),
    #[error("the username or password is incorrect")]
    InvalidCredentials,
    #[error("too many failed sign-ins; try again in {retry_after_secs} s")]
    LockedOut { retry_after_secs: u64 },
    #[error("this device has been revoked; ask an administrator")]
    DeviceRevoked,
    #[error("this device is registered with another device key; ask an administrator")]
    DeviceKeyMismatch,
    #[error("the refresh token is not valid; sign in again")]
    RefreshRefused,
    #[error("your own current password is incorrect; enter it again to confirm this change")]
    OwnPasswordIncorrect,
    #[error("the server is busy signing other people in; try again in a moment")]
    Busy,
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<rusqlite::Error> for SessionError {
    fn from(e: rusqlite::Error) -> Self {
        Self::Db(e.into())
    }
}

/// Everything sign-in needs that outlives a request.
pub struct Identity {
    pub db: Database,
    pub keys: KeyRing,
    pub clock: Clock,
    /// Access tokens ended before they expire, checked on every request.
    pub cutoffs: TokenCutoffs,
    accounts: Throttle,
    addresses: Throttle,
    hashing: Semaphore,
}

impl Identity {
    pub fn new(db: Database, keys: KeyRing, clock: Clock) -> Self {
        // Made now, so the first sign-in with an unknown name is not slower than the rest.
        super::password::warm_dummy_hash();
        Self {
            db,
            keys: keys.with_clock(clock.clone()),
            clock,
            cutoffs: TokenCutoffs::default(),
            accounts: Throttle::new(PER_ACCOUNT),
            addresses: Throttle::new(PER_ADDRESS),
            hashing: Semaphore::new(CONCURRENT_HASHES),
        }
    }

    /// How many keys the sign-in throttles remember: (accounts, addresses).
    pub fn throttled_keys(&self) -> (usize, usize) {
        (self.accounts.len(), self.addresses.len())
    }

    /// A slot to hash a password in (sign-in and the admin API share the limit), or
    /// `Busy` when the server has been full for [`HASH_QUEUE_TIMEOUT`].
    /// Applies on this instance at once the token cutoffs a change just made (other
    /// instances see them within [`super::token_cutoffs::REREAD_EVERY`]).
    pub async fn cutoffs_changed(&self) -> Result<(), DbError> {
        self.cutoffs.refresh(&self.db, self.clock.now()).await
    }

    /// Begins an attempt under both keys in the database, which every instance shares (the
    /// address first, as in memory), or the wait while either may not guess now.
    async fn begin_shared(
        &self,
        account: &str,
        address: &str,
    ) -> Result<Result<SharedAttempt, std::time::Duration>, DbError> {
        let (account, address, now) = (account.to_owned(), address.to_owned(), self.clock.now());
        let keys = (account.clone(), address.clone());
        let begun = self
            .db
            .call(move |conn| -> Result<_, DbError> {
                let tx = conn.transaction()?;
                let begun = login_failures::begin(
                    &tx,
                    &[(&keys.1, PER_ADDRESS), (&keys.0, PER_ACCOUNT)],
                    now,
                )?;
                if begun.is_ok() {
                    tx.commit()?;
                }
                Ok(begun)
            })
            .await?;
        Ok(begun.map(|()| SharedAttempt {
            db: self.db.clone(),
            clock: self.clock.clone(),
            account,
            address,
            ended: false,
        }))
    }

    pub async fn hashing_permit(&self) -> Result<tokio::sync::SemaphorePermit<'_>, SessionError> {
        tokio::time::timeout(HASH_QUEUE_TIMEOUT, self.hashing.acquire())
            .await
            .map_err(|_| SessionError::Busy)
            .map(|permit| permit.expect("the semaphore is never closed"))
    }

    /// Asks the caller to prove again who they are before a change that hands over an
    /// account (setting a password): a stolen access token alone is not enough. Wrong
    /// answers count against the caller's account and address like failed sign-ins.
    pub async fn confirm_own_password(
        &self,
        tenant: &Tenant,
        password: String,
        client_ip: Option<&str>,
    ) -> Result<(), SessionError> {
        if password.is_empty() || password.len() > MAX_PASSWORD_LEN {
            return Err(SessionError::OwnPasswordIncorrect);
        }
        let (org, actor) = (tenant.org(), tenant.actor());
        let user = self
            .db
            .call_in(tenant, move |conn| -> Result<_, DbError> {
                Ok(users::find_in_org(conn, org, actor)?)
            })
            .await?
            .filter(|u| !u.disabled)
            .ok_or(SessionError::OwnPasswordIncorrect)?;
        let started = Instant::now();
        let locked = |wait: std::time::Duration| SessionError::LockedOut {
            retry_after_secs: wait.as_secs().max(1),
        };
        let account_key = format!("user:{}", user.username.to_lowercase());
        let address_key = super::throttle::address_key(client_ip);
        let address = self
            .addresses
            .begin(&address_key, started)
            .map_err(locked)?;
        let account = self.accounts.begin(&account_key, started).map_err(locked)?;
        let shared = self
            .begin_shared(&account_key, &address_key)
            .await?
            .map_err(locked)?;
        let _permit = self.hashing_permit().await?;
        let hash = user.password_hash;
        let verified = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
            .await
            .map_err(DbError::from)?;
        let ended = Instant::now();
        if verified {
            account.succeeded(ended);
            drop(address);
            shared.end(Ended::Succeeded { clears: true }).await?;
            Ok(())
        } else {
            account.failed(ended);
            address.failed(ended);
            shared.end(Ended::Failed).await?;
            Err(SessionError::OwnPasswordIncorrect)
        }
    }

    pub async fn login(
        &self,
        req: LoginRequest,
        client_ip: Option<String>,
    ) -> Result<TokenResponse, SessionError> {
        if req.username.trim().is_empty() || req.username.len() > MAX_USERNAME_LEN {
            return Err(SessionError::Invalid(
                "username must be 1 to 128 characters",
            ));
        }
        if req.password.is_empty() || req.password.len() > MAX_PASSWORD_LEN {
            return Err(SessionError::Invalid(
                "password must be 1 to 1024 characters",
            ));
        }
        // Checked before any password work: a malformed key is the client's mistake.
        device_key_bytes(req.device_key.as_deref())?;
        // The account as the lookup below finds it (trimmed, case-insensitive), so padding or
        // re-casing a name cannot buy fresh guesses against the same account.
        let account_key = format!("user:{}", req.username.trim().to_lowercase());
        let address_key = super::throttle::address_key(client_ip.as_deref());
        let started = Instant::now();
        // Each attempt holds its place in both counts until it ends, so guesses sent in
        // parallel cannot outrun the limits. The address first: one that is locked out adds
        // nothing to the accounts' table, so it cannot fill it with made-up names.
        let locked = |wait: std::time::Duration| SessionError::LockedOut {
            retry_after_secs: wait.as_secs().max(1),
        };
        let address = self
            .addresses
            .begin(&address_key, started)
            .map_err(locked)?;
        let account = self.accounts.begin(&account_key, started).map_err(locked)?;
        // And in the count every instance shares (and this one kept across a restart).
        let shared = self
            .begin_shared(&account_key, &address_key)
            .await?
            .map_err(locked)?;

        let _permit = self.hashing_permit().await?;
        let signer = self.keys.current_fresh().await;
        let now = self.clock.now();
        let ip = client_ip.clone();
        let outcome = self
            .db
            .call(move |conn| login_blocking(conn, &signer, &req, ip.clone(), now))
            .await?;
        let ended = Instant::now();
        match outcome {
            Ok(response) => {
                account.succeeded(ended);
                drop(address);
                shared.end(Ended::Succeeded { clears: true }).await?;
                Ok(response)
            }
            Err((err, org)) => {
                if !matches!(err, SessionError::InvalidCredentials) {
                    return Err(err);
                }
                let locks = [
                    account.failed(ended),
                    address.failed(ended),
                    shared.end(Ended::Failed).await?,
                ];
                if let Some(lockout) = locks.into_iter().flatten().max() {
                    let context = AuditContext {
                        org,
                        client_ip,
                        ..Default::default()
                    };
                    let detail = json!({"lockout_secs": lockout.as_secs(), "account": account_key});
                    let at = self.clock.now();
                    self.db
                        .call(move |conn| -> Result<(), DbError> {
                            Ok(audit::record(
                                conn,
                                &context,
                                AuditEvent::LoginLockedOut,
                                detail.clone(),
                                at,
                            )?)
                        })
                        .await?;
                }
                Err(err)
            }
        }
    }

    pub async fn refresh(
        &self,
        req: RefreshRequest,
        client_ip: Option<String>,
    ) -> Result<TokenResponse, SessionError> {
        if req.refresh_token.is_empty() || req.refresh_token.len() > MAX_REFRESH_TOKEN_LEN {
            return Err(SessionError::RefreshRefused);
        }
        let signer = self.keys.current_fresh().await;
        let now = self.clock.now();
        let refreshed = self
            .db
            .call(move |conn| refresh_blocking(conn, &signer, &req, client_ip.clone(), now))
            .await;
        if refreshed.is_err() {
            // A reused token or a revoked holder ended the family, and its access tokens.
            self.cutoffs_changed().await?;
        }
        refreshed
    }

    pub async fn logout(
        &self,
        req: LogoutRequest,
        client_ip: Option<String>,
    ) -> Result<(), SessionError> {
        if req.refresh_token.len() > MAX_REFRESH_TOKEN_LEN {
            return Ok(());
        }
        let now = self.clock.now();
        self.db
            .call(move |conn| -> Result<(), SessionError> {
                let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
                if let Some((org, user, family)) =
                    refresh::revoke_family_of(&tx, &req.refresh_token, now)?
                {
                    let context = AuditContext {
                        org: Some(org),
                        actor: Some(user),
                        device: None,
                        client_ip: client_ip.clone(),
                    };
                    audit::record(
                        &tx,
                        &context,
                        AuditEvent::LoggedOut,
                        json!({"family": family}),
                        now,
                    )?;
                }
                tx.commit()?;
                Ok(())
            })
            .await?;
        self.cutoffs_changed().await?;
        Ok(())
    }
}

type LoginOutcome = Result<TokenResponse, (SessionError, Option<OrgId>)>;

fn login_blocking(
    conn: &mut Connection,
    signer: &SigningKey,
    req: &LoginRequest,
    client_ip: Option<String>,
    now: DateTime<Utc>,
) -> Result<LoginOutcome, SessionError> {
    let user = users::find_by_username(conn, req.username.trim())?;
    let verified = match &user {
        Some(user) => verify_password(&req.password, &user.password_hash),
        None => {
            verify_dummy(&req.password);
            false
        }
    };
    let mut context = AuditContext {
        org: user.as_ref().map(|u| u.org_id),
        actor: user.as_ref().map(|u| u.id),
        device: Some(req.device_id),
        client_ip,
    };
    // Costly work before the write lock is taken.
    let upgraded_hash = match &user {
        Some(u) if verified && needs_rehash(&u.password_hash) => Some(hash_password(&req.password)),
        _ => None,
    };
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    // Read the user again under the lock: a password reset or a disable that committed while
    // this password was being checked must win, or a sign-in racing it would get tokens.
    let current = match &user {
        Some(seen) if verified && !seen.disabled => users::find_in_org(&tx, seen.org_id, seen.id)?
            .filter(|now| !now.disabled && now.password_hash == seen.password_hash),
        _ => None,
    };
    let user = match (current, user) {
        (Some(user), _) => user,
        (None, other) => {
            let reason = match other {
                None => "unknown user",
                Some(u) if u.disabled => "user disabled",
                Some(_) if verified => "password changed during sign-in",
                Some(_) => "wrong password",
            };
            // An unknown name is logged without an organisation: it belongs to none.
            audit::record(
                &tx,
                &context,
                AuditEvent::LoginFailed,
                json!({"reason": reason, "username": req.username}),
                now,
            )?;
            tx.commit()?;
            return Ok(Err((SessionError::InvalidCredentials, context.org)));
        }
    };
    if let Some(hash) = upgraded_hash {
        users::store_upgraded_hash(&tx, user.id, &hash)?;
    }
    if devices::touch(&tx, user.org_id, req.device_id, user.id, now)? == DeviceStatus::Revoked {
        audit::record(
            &tx,
            &context,
            AuditEvent::LoginFailed,
            json!({"reason": "device revoked"}),
            now,
        )?;
        tx.commit()?;
        return Ok(Err((SessionError::DeviceRevoked, Some(user.org_id))));
    }
    let key = device_key_bytes(req.device_key.as_deref())?;
    let binding = devices::bind_key(&tx, user.org_id, req.device_id, key.as_ref(), now)?;
    if binding == KeyBinding::Mismatch {
        // A stolen device id cannot be re-keyed: the key it was first seen with stays.
        audit::record(
            &tx,
            &context,
            AuditEvent::DeviceKeyMismatch,
            json!({"device": req.device_id, "presented_key": req.device_key}),
            now,
        )?;
        tx.commit()?;
        return Ok(Err((SessionError::DeviceKeyMismatch, Some(user.org_id))));
    }
    // Only a sign-in PROVING it holds the device's key measures its clock: a device id and
    // its public key are no secret, so anyone in the organisation could present them.
    let proven = matches!(binding, KeyBinding::Bound | KeyBinding::Same)
        && key.is_some_and(|key| proves_device_key(req, &key));
    if proven {
        devices::record_clock_offset(&tx, user.org_id, req.device_id, req.device_time, now)?;
    }
    let settings = org_settings(&tx, user.org_id)?;
    let family = refresh::start_family(&tx, user.org_id, user.id, req.device_id, now)?;
    let response = tokens_for(&tx, signer, &user, req.device_id, &settings, &family, now)?;
    context.org = Some(user.org_id);
    audit::record(&tx, &context, AuditEvent::LoginSucceeded, json!({}), now)?;
    tx.commit()?;
    Ok(Ok(response))
}

/// Whether `req.device_proof` is `key`'s signature over the sign-in's proof message. `key`
/// is the device's bound key (a presented key that differs was refused before this).
fn proves_device_key(req: &LoginRequest, key: &[u8; 32]) -> bool {
    use base64::Engine as _;
    let Some(proof) = req.device_proof.as_deref() else {
        return false;
    };
    let Some(signature) = base64::engine::general_purpose::STANDARD
        .decode(proof)
        .ok()
        .and_then(|bytes| <[u8; 64]>::try_from(bytes).ok())
    else {
        return false;
    };
    let Ok(verifying) = ed25519_dalek::VerifyingKey::from_bytes(key) else {
        return false;
    };
    let message = sign_in_proof_message(&req.username, req.device_id, req.device_time);
    verifying
        .verify_strict(&message, &ed25519_dalek::Signature::from_bytes(&signature))
        .is_ok()
}

/// The 32 bytes of a device key sent as standard base64, or `None` when none was sent.
fn device_key_bytes(key: Option<&str>) -> Result<Option<[u8; 32]>, SessionError> {
    use base64::Engine as _;
    let Some(key) = key else { return Ok(None) };
    base64::engine::general_purpose::STANDARD
        .decode(key)
        .ok()
        .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
        .map(Some)
        .ok_or(SessionError::Invalid(
            "device_key must be a 32-byte Ed25519 public key in standard base64",
        ))
}

fn refresh_blocking(
    conn: &mut Connection,
    signer: &SigningKey,
    req: &RefreshRequest,
    client_ip: Option<String>,
    now: DateTime<Utc>,
) -> Result<TokenResponse, SessionError> {
    // Junk is refused without the write lock and without a write: a flood of made-up tokens
    // must not starve real work or grow the audit log.
    if !refresh::is_known(conn, &req.refresh_token)? {
        tracing::debug!("refused an unknown refresh token");
        return Err(SessionError::RefreshRefused);
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut context = AuditContext {
        device: Some(req.device_id),
        client_ip,
        ..Default::default()
    };
    let outcome = refresh::rotate(&tx, &req.refresh_token, req.device_id, now)?;
    let (token, org, user_id, family) = match outcome {
        Rotation::Rotated {
            token,
            org,
            user,
            family,
        } => (token, org, user, family),
        Rotation::ReuseDetected { org, user, family } => {
            context.org = Some(org);
            context.actor = Some(user);
            let detail = json!({"family": family});
            return refuse(tx, &context, AuditEvent::RefreshReuseDetected, detail, now);
        }
        Rotation::Refused { reason, owner } => {
            context.org = owner.map(|(org, _)| org);
            context.actor = owner.map(|(_, user)| user);
            let detail = json!({"reason": reason});
            return refuse(tx, &context, AuditEvent::RefreshRefused, detail, now);
        }
    };
    context.org = Some(org);
    context.actor = Some(user_id);
    let user = users::find_in_org(&tx, org, user_id)?.filter(|u| !u.disabled);
    let device_ok = devices::status(&tx, org, req.device_id)? == Some(DeviceStatus::Active);
    let Some(user) = user.filter(|_| device_ok) else {
        refresh::revoke_family(&tx, &family, now)?;
        let reason = if device_ok {
            "user disabled"
        } else {
            "device revoked"
        };
        let detail = json!({"reason": reason});
        return refuse(tx, &context, AuditEvent::RefreshRefused, detail, now);
    };
    devices::touch(&tx, org, req.device_id, user.id, now)?;
    let settings = org_settings(&tx, org)?;
    let family = refresh::NewFamily { token, family };
    let response = tokens_for(&tx, signer, &user, req.device_id, &settings, &family, now)?;
    audit::record(
        &tx,
        &context,
        AuditEvent::TokenRefreshed,
        json!({"family": family.family}),
        now,
    )?;
    tx.commit()?;
    Ok(response)
}

/// Commits a refused refresh with its audit entry (and whatever revocation came before it).
fn refuse(
    tx: crate::store::Transaction<'_>,
    context: &AuditContext,
    event: AuditEvent,
    detail: serde_json::Value,
    now: DateTime<Utc>,
) -> Result<TokenResponse, SessionError> {
    audit::record(&tx, context, event, detail, now)?;
    tx.commit()?;
    Err(SessionError::RefreshRefused)
}

fn org_settings(conn: &Connection, org: OrgId) -> Result<OrgSettings, SessionError> {
    settings::load(conn, org)?.ok_or(SessionError::Db(DbError::Sqlite(
        rusqlite::Error::QueryReturnedNoRows,
    )))
}

/// Signs the access token and the offline grant, records the grant, and builds the answer.
fn tokens_for(
    conn: &Connection,
    signer: &SigningKey,
    user: &UserRecord,
    device: DeviceId,
    settings: &OrgSettings,
    family: &refresh::NewFamily,
    now: DateTime<Utc>,
) -> Result<TokenResponse, SessionError> {
    let access = issue_access_token(signer, user, device, settings, now);
    let (grant, claims) = issue_offline_grant(signer, user, device, settings, now);
    grants::record(conn, &claims, &family.family, now)?;
    Ok(TokenResponse {
        access_token: access.token,
        token_type: "Bearer".into(),
        expires_in: access.expires_in,
        refresh_token: family.token.clone(),
        offline_grant: grant,
        user: UserInfo {
            id: user.id,
            name: user.name.clone(),
            email: user.email.clone(),
            role: user.role.clone(),
            permissions: user.permissions.clone(),
            organisation_id: user.org_id,
        },
    })
}

/// An attempt begun in the shared count ([`login_failures`]): ended with
/// [`SharedAttempt::end`], or, dropped on an error path, abandoned in the background so it
/// stops holding its place.
struct SharedAttempt {
    db: Database,
    clock: Clock,
    account: String,
    address: String,
    ended: bool,
}

impl SharedAttempt {
    /// Ends the attempt under both keys (an account's success clears it; an address's does
    /// not); the longest lockout a failure starts.
    async fn end(mut self, ended: Ended) -> Result<Option<std::time::Duration>, DbError> {
        self.ended = true;
        end_shared(
            &self.db,
            &self.account,
            &self.address,
            ended,
            self.clock.now(),
        )
        .await
    }
}

impl Drop for SharedAttempt {
    fn drop(&mut self) {
        if self.ended {
            return;
        }
        let (db, account, address, now) = (
            self.db.clone(),
            std::mem::take(&mut self.account),
            std::mem::take(&mut self.address),
            self.clock.now(),
        );
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if let Err(err) = end_shared(&db, &account, &address, Ended::Abandoned, now).await {
                    tracing::warn!(error = %err, "a sign-in attempt stays counted until it expires");
                }
            });
        }
    }
}

async fn end_shared(
    db: &Database,
    account: &str,
    address: &str,
    ended: Ended,
    now: DateTime<Utc>,
) -> Result<Option<std::time::Duration>, DbError> {
    let (account, address) = (account.to_owned(), address.to_owned());
    let address_ended = match ended {
        Ended::Succeeded { .. } => Ended::Succeeded { clears: false },
        other => other,
    };
    db.call(move |conn| -> Result<_, DbError> {
        let tx = conn.transaction()?;
        let locks = [
            login_failures::end(&tx, &account, PER_ACCOUNT, ended, now)?,
            login_failures::end(&tx, &address, PER_ADDRESS, address_ended, now)?,
        ];
        tx.commit()?;
        Ok(locks.into_iter().flatten().max())
    })
    .await
}

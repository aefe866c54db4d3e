//! Sign-in, refresh and sign-out: the flows that tie passwords, devices, keys, refresh-token
//! families, offline grants, rate limits and the audit log together.
//!
//! Invariants: an unknown username and a wrong password take the same time and get the same
//! answer; every refresh re-reads the user's role and the organisation's settings (so a
//! change shows at the next refresh); a disabled user or a revoked device gets no new tokens;
//! each step that changes state commits together with its audit entry.

use std::time::Instant;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, TransactionBehavior};
use serde_json::json;
use tillpoint_protocol::auth::{
    LoginRequest, LogoutRequest, RefreshRequest, TokenResponse, UserInfo,
};
use tillpoint_protocol::{DeviceId, OrgId};
use tokio::sync::Semaphore;

use super::audit::{self, AuditContext, AuditEvent};
use super::devices::{self, DeviceStatus};
use super::keys::{KeyRing, SigningKey};
use super::password::{hash_password, needs_rehash, verify_dummy, verify_password};
use super::refresh::{self, Rotation};
use super::settings::{self, OrgSettings};
use super::throttle::{Throttle, PER_ACCOUNT, PER_ADDRESS};
use super::time_text;
use super::tokens::{issue_access_token, issue_offline_grant};
use super::users::{self, UserRecord};
use crate::clock::Clock;
use crate::store::{Database, DbError};

/// Password hashes computed at once, at most (each holds 19 MiB for ~10 ms).
pub const CONCURRENT_HASHES: usize = 4;
pub const MAX_USERNAME_LEN: usize = 128;
pub const MAX_PASSWORD_LEN: usize = 1024;
pub const MAX_REFRESH_TOKEN_LEN: usize = 256;

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
    #[error("the refresh token is not valid; sign in again")]
    RefreshRefused,
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
    accounts: Throttle,
    addresses: Throttle,
    hashing: Semaphore,
}

impl Identity {
    pub fn new(db: Database, keys: KeyRing, clock: Clock) -> Self {
        Self {
            db,
            keys: keys.with_clock(clock.clone()),
            clock,
            accounts: Throttle::new(PER_ACCOUNT),
            addresses: Throttle::new(PER_ADDRESS),
            hashing: Semaphore::new(CONCURRENT_HASHES),
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
        // The account as the lookup below finds it (trimmed, case-insensitive), so padding or
        // re-casing a name cannot buy fresh guesses against the same account.
        let account_key = format!("user:{}", req.username.trim().to_lowercase());
        let address_key = format!("ip:{}", client_ip.as_deref().unwrap_or("unknown"));
        let started = Instant::now();
        for (throttle, key) in [
            (&self.accounts, &account_key),
            (&self.addresses, &address_key),
        ] {
            if let Err(wait) = throttle.check(key, started) {
                return Err(SessionError::LockedOut {
                    retry_after_secs: wait.as_secs().max(1),
                });
            }
        }

        let _permit = self
            .hashing
            .acquire()
            .await
            .expect("the semaphore is never closed");
        let signer = self.keys.current();
        let now = self.clock.now();
        let ip = client_ip.clone();
        let outcome = self
            .db
            .call(move |conn| login_blocking(conn, &signer, &req, ip, now))
            .await?;
        match outcome {
            Ok(response) => {
                self.accounts.succeed(&account_key);
                Ok(response)
            }
            Err((err, org)) => {
                if matches!(err, SessionError::InvalidCredentials) {
                    let now_i = Instant::now();
                    let locks = [
                        self.accounts.fail(&account_key, now_i),
                        self.addresses.fail(&address_key, now_i),
                    ];
                    if let Some(lockout) = locks.into_iter().flatten().max() {
                        let context = AuditContext {
                            org,
                            client_ip,
                            ..Default::default()
                        };
                        let detail =
                            json!({"lockout_secs": lockout.as_secs(), "account": account_key});
                        let at = self.clock.now();
                        self.db
                            .call(move |conn| -> Result<(), DbError> {
                                Ok(audit::record(
                                    conn,
                                    &context,
                                    AuditEvent::LoginLockedOut,
                                    detail,
                                    at,
                                )?)
                            })
                            .await?;
                    }
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
        let signer = self.keys.current();
        let now = self.clock.now();
        self.db
            .call(move |conn| refresh_blocking(conn, &signer, &req, client_ip, now))
            .await
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
                        client_ip,
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
            .await
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
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let user = match user {
        Some(user) if verified && !user.disabled => user,
        other => {
            let reason = match other {
                None => "unknown user",
                Some(u) if u.disabled => "user disabled",
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
    if needs_rehash(&user.password_hash) {
        users::store_upgraded_hash(&tx, user.id, &hash_password(&req.password))?;
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
    let settings = org_settings(&tx, user.org_id)?;
    let refresh_token = refresh::start_family(&tx, user.org_id, user.id, req.device_id, now)?;
    let response = tokens_for(
        &tx,
        signer,
        &user,
        req.device_id,
        &settings,
        refresh_token,
        now,
    )?;
    context.org = Some(user.org_id);
    audit::record(&tx, &context, AuditEvent::LoginSucceeded, json!({}), now)?;
    tx.commit()?;
    Ok(Ok(response))
}

fn refresh_blocking(
    conn: &mut Connection,
    signer: &SigningKey,
    req: &RefreshRequest,
    client_ip: Option<String>,
    now: DateTime<Utc>,
) -> Result<TokenResponse, SessionError> {
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
            audit::record(
                &tx,
                &context,
                AuditEvent::RefreshReuseDetected,
                json!({"family": family}),
                now,
            )?;
            tx.commit()?;
            return Err(SessionError::RefreshRefused);
        }
        Rotation::Refused { reason } => {
            audit::record(
                &tx,
                &context,
                AuditEvent::RefreshRefused,
                json!({"reason": reason}),
                now,
            )?;
            tx.commit()?;
            return Err(SessionError::RefreshRefused);
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
        audit::record(
            &tx,
            &context,
            AuditEvent::RefreshRefused,
            json!({"reason": reason}),
            now,
        )?;
        tx.commit()?;
        return Err(SessionError::RefreshRefused);
    };
    devices::touch(&tx, org, req.device_id, user.id, now)?;
    let settings = org_settings(&tx, org)?;
    let response = tokens_for(&tx, signer, &user, req.device_id, &settings, token, now)?;
    audit::record(
        &tx,
        &context,
        AuditEvent::TokenRefreshed,
        json!({"family": family}),
        now,
    )?;
    tx.commit()?;
    Ok(response)
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
    refresh_token: String,
    now: DateTime<Utc>,
) -> Result<TokenResponse, SessionError> {
    let access = issue_access_token(signer, user, settings, now);
    let (grant, claims) = issue_offline_grant(signer, user, device, settings, now);
    conn.execute(
        "INSERT INTO offline_grants (jti, org_id, user_id, device_id, issued_at, expires_at, claims)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        (
            &claims.jti,
            user.org_id.to_string(),
            user.id.to_string(),
            device.to_string(),
            time_text(now),
            time_text(DateTime::from_timestamp(claims.exp, 0).unwrap_or(now)),
            serde_json::to_string(&claims).expect("serialisable"),
        ),
    )?;
    Ok(TokenResponse {
        access_token: access.token,
        token_type: "Bearer".into(),
        expires_in: access.expires_in,
        refresh_token,
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

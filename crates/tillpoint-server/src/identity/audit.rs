//! The security audit log: who did what, from which device and address, when. Written in the
//! same transaction as the change it records where there is one, so the log never claims a
//! change that did not happen (and never misses one that did).

use crate::store::Connection;
use chrono::{DateTime, Utc};
use serde_json::Value;
use tillpoint_protocol::{DeviceId, OrgId, UserId};

use super::{new_id, time_text};

/// The kinds of event recorded. Stable strings: reports and alerts filter on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditEvent {
    LoginSucceeded,
    LoginFailed,
    LoginLockedOut,
    TokenRefreshed,
    RefreshReuseDetected,
    RefreshRefused,
    LoggedOut,
    UserCreated,
    UserDisabled,
    UserEnabled,
    PasswordReset,
    RoleAssigned,
    RoleCreated,
    RolePermissionsChanged,
    SettingsChanged,
    DeviceRevoked,
    KeyRotated,
    KeyRevoked,
    DeviceKeyMismatch,
    PushRefused,
    SyncConflictingCopy,
    QuarantineReleased,
    QuarantineVoided,
    RecordsImported,
    DeviceChainRebased,
}

impl AuditEvent {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::LoginSucceeded => "login_succeeded",
            Self::LoginFailed => "login_failed",
            Self::LoginLockedOut => "login_locked_out",
            Self::TokenRefreshed => "token_refreshed",
            Self::RefreshReuseDetected => "refresh_reuse_detected",
            Self::RefreshRefused => "refresh_refused",
            Self::LoggedOut => "logged_out",
            Self::UserCreated => "user_created",
            Self::UserDisabled => "user_disabled",
            Self::UserEnabled => "user_enabled",
            Self::PasswordReset => "password_reset",
            Self::RoleAssigned => "role_assigned",
            Self::RoleCreated => "role_created",
            Self::RolePermissionsChanged => "role_permissions_changed",
            Self::SettingsChanged => "settings_changed",
            Self::DeviceRevoked => "device_revoked",
            Self::KeyRotated => "key_rotated",
            Self::KeyRevoked => "key_revoked",
            Self::DeviceKeyMismatch => "device_key_mismatch",
            Self::PushRefused => "push_refused",
            Self::SyncConflictingCopy => "sync_conflicting_copy",
            Self::QuarantineReleased => "quarantine_released",
            Self::QuarantineVoided => "quarantine_voided",
            Self::RecordsImported => "records_imported",
            Self::DeviceChainRebased => "device_chain_rebased",
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct AuditContext {
    pub org: Option<OrgId>,
    pub actor: Option<UserId>,
    pub device: Option<DeviceId>,
    pub client_ip: Option<String>,
}

pub fn record(
    conn: &Connection,
    context: &AuditContext,
    event: AuditEvent,
    detail: Value,
    at: DateTime<Utc>,
) -> rusqlite::Result<()> {
    if matches!(
        event,
        AuditEvent::RefreshReuseDetected
            | AuditEvent::LoginLockedOut
            | AuditEvent::DeviceKeyMismatch
            | AuditEvent::PushRefused
            | AuditEvent::SyncConflictingCopy
    ) {
        tracing::warn!(event = event.as_str(), org = ?context.org, actor = ?context.actor, device = ?context.device, ip = ?context.client_ip, %detail, "security event");
    }
    conn.execute(
        "INSERT INTO audit_log (id, at, org_id, actor_id, device_id, client_ip, event, detail)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        (
            new_id().to_string(),
            time_text(at),
            context.org.map(|o| o.to_string()),
            context.actor.map(|u| u.to_string()),
            context.device.map(|d| d.to_string()),
            context.client_ip.as_deref(),
            event.as_str(),
            detail.to_string(),
        ),
    )?;
    Ok(())
}

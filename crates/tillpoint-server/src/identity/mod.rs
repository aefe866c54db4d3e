//! Who may do what: organisations, users, roles and permissions; password hashes; the keys,
//! access tokens, refresh tokens and offline grants of a sign-in; devices; the rate limits
//! on guessing; and the audit log of security events.

pub mod admin;
pub mod audit;
pub mod devices;
pub mod grants;
pub mod keys;
pub mod login_failures;
pub mod master_key;
pub mod organisations;
pub mod password;
pub mod refresh;
pub mod roles;
pub mod sessions;
pub mod settings;
pub mod throttle;
pub mod token_cutoffs;
pub mod tokens;
pub mod users;

use chrono::{DateTime, SecondsFormat, Utc};

/// A fresh time-ordered id.
pub(crate) fn new_id() -> uuid::Uuid {
    uuid::Uuid::now_v7()
}

/// A time as the RFC 3339 UTC text every table stores (sortable as text).
pub fn time_text(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Now, as stored text.
pub(crate) fn now_text() -> String {
    time_text(Utc::now())
}

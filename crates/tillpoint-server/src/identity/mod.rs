//! Who may do what: organisations, users, roles and their permissions, and password hashes.
//! (Tokens, refresh tokens, offline grants and the audit log join this module.)

pub mod organisations;
pub mod password;
pub mod roles;
pub mod users;

/// A fresh time-ordered id, as text for the database.
pub(crate) fn new_id() -> uuid::Uuid {
    uuid::Uuid::now_v7()
}

/// Now, as the RFC 3339 UTC text every table stores.
pub(crate) fn now_text() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

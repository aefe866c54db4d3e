//! Account passwords: the shared argon2id hashing (`tillpoint-password`).

pub use tillpoint_password::*;

//! Password hashing, one way for both sides: the server hashes account passwords, the till
//! keeps a verifier of the password each person signed in with, to unlock offline. Both use
//! argon2id with at least OWASP's parameters (m = 19 MiB, t = 2, p = 1), stored as PHC strings
//! that carry their parameters so they can be raised later.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

pub const MEMORY_KIB: u32 = 19 * 1024;
pub const ITERATIONS: u32 = 2;
pub const PARALLELISM: u32 = 1;

fn hasher() -> Argon2<'static> {
    let params =
        Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, None).expect("OWASP parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes `password` with a fresh random salt. CPU- and memory-heavy (~10 ms, 19 MiB):
/// call it off the async runtime.
pub fn hash_password(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    hasher()
        .hash_password(password.as_bytes(), &salt)
        .expect("hashing with valid parameters cannot fail")
        .to_string()
}

/// Whether `password` matches the stored PHC `hash`. A malformed hash never matches.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A 32-byte key derived from `password` and `salt` with the same argon2id parameters, for
/// encrypting something only the password's holder may open (the till wraps each person's
/// refresh token under it). CPU- and memory-heavy like [`hash_password`]: call it off the
/// async runtime. `salt` must be at least 8 bytes (the till uses 16 random bytes).
pub fn derive_key(password: &str, salt: &[u8]) -> [u8; 32] {
    let mut key = [0u8; 32];
    hasher()
        .hash_password_into(password.as_bytes(), salt, &mut key)
        .expect("a salt of at least 8 bytes with valid parameters cannot fail");
    key
}

/// Whether `hash` was made with weaker parameters than today's (or another algorithm), so it
/// should be replaced at the user's next successful login.
pub fn needs_rehash(hash: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(hash) else {
        return true;
    };
    let param = |name: &str| parsed.params.get_decimal(name).unwrap_or(0);
    parsed.algorithm.as_str() != "argon2id"
        || param("m") < MEMORY_KIB
        || param("t") < ITERATIONS
        || param("p") < PARALLELISM
}

/// Verifies against a fixed hash of the same cost, for a username that does not exist: the
/// answer then takes as long as a real check, so timing does not reveal which names exist.
pub fn verify_dummy(password: &str) {
    let _ = verify_password(password, dummy_hash());
}

/// Computes the dummy hash ahead of the first sign-in.
pub fn warm_dummy_hash() {
    dummy_hash();
}

fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password("tillpoint-dummy-password"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_keys_depend_on_password_and_salt() {
        let key = derive_key("correct horse", b"0123456789abcdef");
        assert_eq!(key, derive_key("correct horse", b"0123456789abcdef"));
        assert_ne!(key, derive_key("correct horsf", b"0123456789abcdef"));
        assert_ne!(key, derive_key("correct horse", b"0123456789abcdeF"));
    }

    #[test]
    fn hashes_are_argon2id_with_owasp_parameters_and_salted() {
        let a = hash_password("correct horse");
        let b = hash_password("correct horse");
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{a}");
        assert_ne!(a, b, "each hash has its own salt");
        assert!(verify_password("correct horse", &a));
        assert!(verify_password("correct horse", &b));
        assert!(!verify_password("correct horse!", &a));
        assert!(!verify_password("correct horse", "not a hash"));
    }

    #[test]
    fn weaker_hashes_are_marked_for_upgrade() {
        assert!(!needs_rehash(&hash_password("x")));
        let weak = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(4096, 1, 1, None).unwrap(),
        )
        .hash_password(b"x", &SaltString::generate(&mut OsRng))
        .unwrap()
        .to_string();
        assert!(needs_rehash(&weak));
        let argon2i = Argon2::new(
            Algorithm::Argon2i,
            Version::V0x13,
            Params::new(MEMORY_KIB, 2, 1, None).unwrap(),
        )
        .hash_password(b"x", &SaltString::generate(&mut OsRng))
        .unwrap()
        .to_string();
        assert!(needs_rehash(&argon2i));
        assert!(
            verify_password("x", &weak),
            "old hashes still verify until upgraded"
        );
    }
}

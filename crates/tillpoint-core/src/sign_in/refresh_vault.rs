//! Refresh tokens at rest, wrapped under a key only their holder's password gives.
//!
//! A shared till keeps every person's refresh token in the OS keyring so that they can go
//! back online after working offline. Stored as is, any process of the OS user could read a
//! manager's token after the manager locked the till, and use it with the device id from the
//! till's SQLite to act as them. So each token is sealed with XChaCha20-Poly1305 under a key
//! derived by argon2id from the person's password and a salt of their own: while they are
//! signed in the till holds the token (and the key, to seal the next one after a refresh) in
//! memory only; once they lock, or someone else takes the till, only their password opens it
//! again (docs/decisions/till-sign-in.md). The wrapped form is `TPR1 ‖ salt ‖ nonce ‖ ciphertext`, and the
//! person's id is bound in as associated data, so one person's blob never opens as another's.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use rand::RngCore;
use tillpoint_protocol::UserId;

use super::secrets::SecretStore;

const MAGIC: &[u8; 4] = b"TPR1";
const SALT_LEN: usize = 16;
const NONCE_LEN: usize = 24;

/// The key a person's password gives, with the salt it was derived with. Never leaves memory.
#[derive(Clone)]
pub(crate) struct RefreshKey {
    salt: [u8; SALT_LEN],
    key: [u8; 32],
}

impl RefreshKey {
    /// A key for `password` under a fresh salt. Slow (argon2id): call it off the runtime.
    pub(crate) fn derive(password: &str) -> Self {
        let mut salt = [0u8; SALT_LEN];
        rand::rng().fill_bytes(&mut salt);
        Self::with_salt(password, salt)
    }

    fn with_salt(password: &str, salt: [u8; SALT_LEN]) -> Self {
        Self {
            key: tillpoint_password::derive_key(password, &salt),
            salt,
        }
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(Key::from_slice(&self.key))
    }

    /// `token` sealed for `user`, ready for the keyring.
    pub(crate) fn wrap(&self, user: UserId, token: &str) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let aad = user.to_string();
        let sealed = self
            .cipher()
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: token.as_bytes(),
                    aad: aad.as_bytes(),
                },
            )
            .expect("sealing a short token cannot fail");
        [MAGIC.as_slice(), &self.salt, &nonce, &sealed].concat()
    }
}

/// Whether `stored` is in the wrapped form (a till upgraded from before kept plain tokens).
pub(crate) fn is_wrapped(stored: &[u8]) -> bool {
    stored.starts_with(MAGIC)
}

/// Opens `user`'s wrapped token with `password`: the token and the key (to seal the next one
/// with), or `None` for a wrong password, another person's blob or anything damaged. Slow
/// (argon2id): call it off the runtime.
pub(crate) fn unwrap(password: &str, user: UserId, stored: &[u8]) -> Option<(RefreshKey, String)> {
    let rest = stored.strip_prefix(MAGIC)?;
    if rest.len() < SALT_LEN + NONCE_LEN {
        return None;
    }
    let (salt, rest) = rest.split_at(SALT_LEN);
    let (nonce, sealed) = rest.split_at(NONCE_LEN);
    let key = RefreshKey::with_salt(password, salt.try_into().expect("split at SALT_LEN"));
    let aad = user.to_string();
    let token = key
        .cipher()
        .decrypt(
            XNonce::from_slice(nonce),
            Payload {
                msg: sealed,
                aad: aad.as_bytes(),
            },
        )
        .ok()?;
    Some((key, String::from_utf8(token).ok()?))
}

/// Deletes the refresh tokens an older Tillpoint kept in the clear, for everyone this till
/// knows (nobody is signed in when a till opens, so none is needed in the clear). Best effort:
/// a keyring that does not answer now is asked again at the next start.
pub(crate) fn purge_plain_tokens(conn: &rusqlite::Connection, secrets: &dyn SecretStore) {
    let purge = || -> Result<(), String> {
        let Some(identity) = super::identity::load(conn).map_err(|e| e.to_string())? else {
            return Ok(());
        };
        let mut stmt = conn
            .prepare("SELECT user_id FROM offline_users")
            .map_err(|e| e.to_string())?;
        let users = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .and_then(Iterator::collect::<rusqlite::Result<Vec<_>>>)
            .map_err(|e| e.to_string())?;
        for user in users {
            let Ok(user_id) = user.parse() else { continue };
            let name = identity.secret_name(&super::session::refresh_secret(user_id));
            if let Some(stored) = secrets.get(&name).map_err(|e| e.to_string())? {
                if !is_wrapped(&stored) {
                    secrets.delete(&name).map_err(|e| e.to_string())?;
                    tracing::info!(user, "deleted a refresh token kept in the clear");
                }
            }
        }
        Ok(())
    };
    if let Err(err) = purge() {
        tracing::warn!(error = %err, "could not check the keyring for plain refresh tokens");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> UserId {
        "0190a6f0-0000-7000-8000-000000000001".parse().unwrap()
    }

    #[test]
    fn only_the_password_opens_a_wrapped_token() {
        let key = RefreshKey::derive("right password");
        let stored = key.wrap(user(), "refresh-token-secret");
        assert!(is_wrapped(&stored));
        assert!(
            !stored
                .windows(b"refresh-token-secret".len())
                .any(|w| w == b"refresh-token-secret"),
            "the token is not readable in what is stored"
        );
        let (again, token) = unwrap("right password", user(), &stored).expect("opens");
        assert_eq!(token, "refresh-token-secret");
        // The key that opened it seals the next token so the same password opens that too.
        let next = again.wrap(user(), "next-token");
        assert_eq!(
            unwrap("right password", user(), &next).unwrap().1,
            "next-token"
        );
        assert!(unwrap("wrong password", user(), &stored).is_none());
        let other: UserId = "0190a6f0-0000-7000-8000-000000000002".parse().unwrap();
        assert!(
            unwrap("right password", other, &stored).is_none(),
            "bound to its person"
        );
        let mut damaged = stored.clone();
        *damaged.last_mut().unwrap() ^= 1;
        assert!(unwrap("right password", user(), &damaged).is_none());
        assert!(unwrap("right password", user(), b"plain-old-token").is_none());
    }
}

//! The Ed25519 keys that sign access tokens and offline grants.
//!
//! Exactly one key signs at a time (the *current* key). `tillpoint-server keys rotate` adds a
//! new current key and retires the old one, which keeps verifying — and stays in the JWKS
//! tills cache — until `verify_until`: long enough for every token it could have signed to
//! expire ([`MAX_TOKEN_LIFETIME_SECS`]). Private halves are stored encrypted with the master
//! key; a running server reloads the key set every [`RELOAD_EVERY`] and at once when it meets
//! an unknown `kid`, so a rotation by another process (or instance) is picked up quickly.
//!
//! A key that may have leaked is revoked (`tillpoint-server keys revoke <kid>`,
//! [`revoke`]): it is deleted, so it leaves the JWKS and every till's cached keys (pull
//! reports it removed) and nothing it signed verifies any more; if it was current, a new key
//! takes over at once. Everyone holding a token it signed refreshes or signs in again.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use crate::store::Connection;
use chrono::{DateTime, Utc};
use ed25519_dalek::pkcs8::EncodePrivateKey;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rand::Rng;
use rusqlite::OptionalExtension;
use serde::Serialize;
use tillpoint_protocol::token::{Jwk, Jwks, PublicKeys};

use super::master_key::{MasterKey, MasterKeyError};
use super::{new_id, time_text};
use crate::clock::Clock;
use crate::store::{Database, DbError};

/// The longest any token may live: offline grants are capped at 7 days, access tokens at 24 h.
pub const MAX_TOKEN_LIFETIME_SECS: i64 = 7 * 24 * 3600;
pub const RELOAD_EVERY: Duration = Duration::from_secs(30);
/// How long a retired key keeps verifying: the longest token lifetime, plus the time an
/// instance may go on signing with it before it reloads, plus verifiers' leeway, plus a margin.
pub const RETIRED_KEY_VERIFIES_SECS: i64 = MAX_TOKEN_LIFETIME_SECS
    + RELOAD_EVERY.as_secs() as i64
    + tillpoint_protocol::auth::LEEWAY_SECS as i64
    + 60;
const MIN_RELOAD_GAP: Duration = Duration::from_secs(2);

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(transparent)]
    Master(#[from] MasterKeyError),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("the server has no signing key; start it once so it creates one")]
    NoCurrentKey,
    #[error("no signing key has the kid {0}; the kids are in /.well-known/jwks.json")]
    UnknownKid(String),
}

impl From<rusqlite::Error> for KeyError {
    fn from(e: rusqlite::Error) -> Self {
        Self::Db(e.into())
    }
}

/// The key that signs now.
pub struct SigningKey {
    pub kid: String,
    encoding: EncodingKey,
}

impl SigningKey {
    /// Signs `claims` as a JWT of type `typ`.
    pub fn sign<T: Serialize>(&self, typ: &str, claims: &T) -> String {
        let mut header = Header::new(Algorithm::EdDSA);
        header.typ = Some(typ.to_owned());
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding).expect("EdDSA signing cannot fail")
    }
}

struct Snapshot {
    current: Arc<SigningKey>,
    public: PublicKeys,
    jwks: Jwks,
    loaded: Instant,
}

/// Creates the first signing key if the server has none. Idempotent.
pub fn ensure_current_key(
    conn: &mut Connection,
    master: &MasterKey,
    now: DateTime<Utc>,
) -> Result<(), KeyError> {
    // Under the write lock: two instances starting together must not both make a key.
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    ensure_current_key_in(&tx, master, now)?;
    tx.commit()?;
    Ok(())
}

/// [`ensure_current_key`] inside the caller's transaction.
pub fn ensure_current_key_in(
    conn: &Connection,
    master: &MasterKey,
    now: DateTime<Utc>,
) -> Result<(), KeyError> {
    let current: Option<String> = conn
        .query_row(
            "SELECT kid FROM signing_keys WHERE retired_at IS NULL LIMIT 1",
            (),
            |r| r.get(0),
        )
        .optional()?;
    if current.is_none() {
        insert_new_key(conn, master, now)?;
    }
    Ok(())
}

/// Retires the current key and makes a new one current, returning the new `kid`. Call it
/// inside a `BEGIN IMMEDIATE` transaction, with the audit entry that records it.
pub fn rotate(
    conn: &Connection,
    master: &MasterKey,
    now: DateTime<Utc>,
) -> Result<String, KeyError> {
    let verify_until = now + chrono::Duration::seconds(RETIRED_KEY_VERIFIES_SECS);
    conn.execute(
        "UPDATE signing_keys SET retired_at = ?1, verify_until = ?2 WHERE retired_at IS NULL",
        (time_text(now), time_text(verify_until)),
    )?;
    insert_new_key(conn, master, now)
}

/// What an emergency revocation did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Revoked {
    pub kid: String,
    /// The revoked key's public half (standard base64), kept for the audit log.
    pub public_key: String,
    /// The key that became current, when the revoked one was.
    pub new_current: Option<String>,
}

/// Deletes signing key `kid` at once (it may have leaked), making a new key current if it
/// was. Call it inside a `BEGIN IMMEDIATE` transaction, with the audit entry that records
/// it. Other instances drop the key within [`RELOAD_EVERY`].
pub fn revoke(
    conn: &Connection,
    master: &MasterKey,
    kid: &str,
    now: DateTime<Utc>,
) -> Result<Revoked, KeyError> {
    use base64::Engine as _;
    let (public_key, was_current): (Vec<u8>, bool) = conn
        .query_row(
            "SELECT public_key, retired_at IS NULL FROM signing_keys WHERE kid = ?1",
            [kid],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?
        .ok_or_else(|| KeyError::UnknownKid(kid.to_owned()))?;
    conn.execute("DELETE FROM signing_keys WHERE kid = ?1", [kid])?;
    let new_current = if was_current {
        Some(insert_new_key(conn, master, now)?)
    } else {
        None
    };
    Ok(Revoked {
        kid: kid.to_owned(),
        public_key: base64::engine::general_purpose::STANDARD.encode(public_key),
        new_current,
    })
}

fn insert_new_key(
    conn: &Connection,
    master: &MasterKey,
    now: DateTime<Utc>,
) -> Result<String, KeyError> {
    let kid = new_id().to_string();
    let seed: [u8; 32] = rand::rng().random();
    let signing = ed25519_dalek::SigningKey::from_bytes(&seed);
    let (nonce, sealed) = master.encrypt(&seed, kid.as_bytes());
    conn.execute(
        "INSERT INTO signing_keys (kid, public_key, private_nonce, private_enc, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        (
            &kid,
            signing.verifying_key().to_bytes().as_slice(),
            nonce.as_slice(),
            sealed,
            time_text(now),
        ),
    )?;
    Ok(kid)
}

fn load(conn: &Connection, master: &MasterKey, now: DateTime<Utc>) -> Result<Snapshot, KeyError> {
    let mut stmt = conn.prepare(
        "SELECT kid, public_key, private_nonce, private_enc, retired_at IS NULL
           FROM signing_keys
          WHERE retired_at IS NULL OR verify_until > ?1
          ORDER BY created_at",
    )?;
    let rows = stmt.query_map([time_text(now)], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, Vec<u8>>(1)?,
            r.get::<_, Vec<u8>>(2)?,
            r.get::<_, Vec<u8>>(3)?,
            r.get::<_, bool>(4)?,
        ))
    })?;
    let mut public = PublicKeys::default();
    let mut jwks = Jwks { keys: Vec::new() };
    let mut current = None;
    for row in rows {
        let (kid, public_key, nonce, sealed, is_current) = row?;
        let public_key: [u8; 32] = public_key
            .try_into()
            .map_err(|_| KeyError::Master(MasterKeyError::WrongKey))?;
        public.insert(kid.clone(), &public_key);
        jwks.keys.push(Jwk::ed25519(&kid, &public_key));
        if is_current {
            let seed: [u8; 32] = master
                .decrypt(&nonce, &sealed, kid.as_bytes())?
                .try_into()
                .map_err(|_| MasterKeyError::WrongKey)?;
            let der = ed25519_dalek::SigningKey::from_bytes(&seed)
                .to_pkcs8_der()
                .expect("an Ed25519 key encodes as PKCS#8");
            current = Some(Arc::new(SigningKey {
                kid,
                encoding: EncodingKey::from_ed_der(der.as_bytes()),
            }));
        }
    }
    Ok(Snapshot {
        current: current.ok_or(KeyError::NoCurrentKey)?,
        public,
        jwks,
        loaded: Instant::now(),
    })
}

/// The server's view of its keys: the current signer, the verifying set and the JWKS.
#[derive(Clone)]
pub struct KeyRing {
    db: Database,
    master: MasterKey,
    /// Decides when a retired key's `verify_until` has passed: the server's clock.
    clock: Clock,
    snapshot: Arc<RwLock<Arc<Snapshot>>>,
}

impl KeyRing {
    /// Ensures a current key exists and loads the key set. Blocking.
    pub fn open(db: &Database, master: MasterKey) -> Result<Self, KeyError> {
        let now = Utc::now();
        let snapshot = db.call_blocking(|conn| -> Result<Snapshot, KeyError> {
            ensure_current_key(conn, &master, now)?;
            load(conn, &master, now)
        })?;
        Ok(Self {
            db: db.clone(),
            master,
            clock: Clock::default(),
            snapshot: Arc::new(RwLock::new(Arc::new(snapshot))),
        })
    }

    /// This key ring, judging key expiry by `clock` (the server's) from the next reload on.
    pub fn with_clock(self, clock: Clock) -> Self {
        Self { clock, ..self }
    }

    fn snapshot(&self) -> Arc<Snapshot> {
        self.snapshot.read().expect("key ring lock").clone()
    }

    /// The current signer, reloaded first if the cached set is stale, so a rotation made by
    /// another process or instance is used for new tokens within [`RELOAD_EVERY`].
    pub async fn current_fresh(&self) -> Arc<SigningKey> {
        self.public_keys_for(None).await;
        self.current()
    }

    pub fn current(&self) -> Arc<SigningKey> {
        self.snapshot().current.clone()
    }

    pub fn public_keys(&self) -> PublicKeys {
        self.snapshot().public.clone()
    }

    pub fn jwks(&self) -> Jwks {
        self.snapshot().jwks.clone()
    }

    pub fn master(&self) -> &MasterKey {
        &self.master
    }

    /// Reloads from the database (after a rotation, or on a schedule).
    pub async fn reload(&self) -> Result<(), KeyError> {
        let master = self.master.clone();
        let now = self.clock.now();
        let snapshot = self
            .db
            .call(move |conn| -> Result<Snapshot, KeyError> { load(conn, &master, now) })
            .await?;
        *self.snapshot.write().expect("key ring lock") = Arc::new(snapshot);
        Ok(())
    }

    /// The verifying keys after a token named a `kid` not among them: reloaded first (rate
    /// limited), since another instance may have rotated.
    pub async fn public_keys_after_unknown_kid(&self) -> PublicKeys {
        self.public_keys_for(Some("")).await
    }

    /// The verifying keys, reloaded first if `kid` is not among them (another instance may
    /// have rotated) — at most every couple of seconds, so junk kids cannot hammer the store.
    pub async fn public_keys_for(&self, kid: Option<&str>) -> PublicKeys {
        let snapshot = self.snapshot();
        let stale = snapshot.loaded.elapsed() > RELOAD_EVERY;
        let unknown = kid.is_some_and(|k| !snapshot.public.contains(k))
            && snapshot.loaded.elapsed() > MIN_RELOAD_GAP;
        if stale || unknown {
            if let Err(err) = self.reload().await {
                tracing::warn!(error = %err, "could not reload signing keys; using the cached set");
            }
        }
        self.public_keys()
    }
}

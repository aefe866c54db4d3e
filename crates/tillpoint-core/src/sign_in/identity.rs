//! Who this till is: a random installation id (naming its keyring entries), the device id
//! it signs in as, the Ed25519 key pair that will sign its sync batches (the private half in
//! the keyring), and the organisation it belongs to once someone signed in online.
//!
//! Made on the first sign-in rather than at start-up, so the till opens — and can say what is
//! wrong — even on a machine whose keyring is not available yet.

use chrono::Utc;
use rand::Rng;
use rusqlite::{Connection, OptionalExtension};
use tillpoint_protocol::{DeviceId, OrgId};

use super::secrets::{SecretError, SecretStore};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TillIdentity {
    pub install_id: String,
    pub device_id: DeviceId,
    pub public_key: [u8; 32],
    pub org: Option<OrgId>,
}

/// The keyring name (under the installation's prefix) of the device's private key seed.
pub const DEVICE_KEY_SECRET: &str = "device-key";

impl TillIdentity {
    /// The keyring name of this installation's secret `name`.
    pub fn secret_name(&self, name: &str) -> String {
        format!("{}/{name}", self.install_id)
    }

    /// The device's Ed25519 signing key, read from `secrets` (it signs sync batches).
    pub fn signing_key(
        &self,
        secrets: &dyn SecretStore,
    ) -> Result<ed25519_dalek::SigningKey, IdentityError> {
        let seed = secrets
            .get(&self.secret_name(DEVICE_KEY_SECRET))?
            .ok_or(IdentityError::KeyMissing)?;
        let seed: [u8; 32] = seed.try_into().map_err(|_| IdentityError::KeyMissing)?;
        Ok(ed25519_dalek::SigningKey::from_bytes(&seed))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error(transparent)]
    Store(#[from] rusqlite::Error),
    #[error(
        "this till's device key is missing from the keyring; the till must be set up again by IT"
    )]
    KeyMissing,
}

pub fn load(conn: &Connection) -> rusqlite::Result<Option<TillIdentity>> {
    conn.query_row(
        "SELECT install_id, device_id, public_key, org_id FROM till_identity WHERE singleton = 1",
        [],
        |r| {
            let device: String = r.get(1)?;
            let key: Vec<u8> = r.get(2)?;
            let org: Option<String> = r.get(3)?;
            let bad = |i| {
                rusqlite::Error::FromSqlConversionFailure(
                    i,
                    rusqlite::types::Type::Text,
                    "malformed till identity".into(),
                )
            };
            Ok(TillIdentity {
                install_id: r.get(0)?,
                device_id: device.parse().map_err(|_| bad(1))?,
                public_key: key.try_into().map_err(|_| bad(2))?,
                org: org.map(|o| o.parse().map_err(|_| bad(3))).transpose()?,
            })
        },
    )
    .optional()
}

/// This till's identity, made (with its key pair in `secrets`) if it has none yet.
pub fn load_or_create(
    conn: &Connection,
    secrets: &dyn SecretStore,
) -> Result<TillIdentity, IdentityError> {
    if let Some(identity) = load(conn)? {
        if secrets
            .get(&identity.secret_name(DEVICE_KEY_SECRET))?
            .is_none()
        {
            return Err(IdentityError::KeyMissing);
        }
        return Ok(identity);
    }
    let install_id = uuid::Uuid::now_v7().to_string();
    let seed: [u8; 32] = rand::rng().random();
    let public_key = ed25519_dalek::SigningKey::from_bytes(&seed)
        .verifying_key()
        .to_bytes();
    let identity = TillIdentity {
        install_id,
        device_id: DeviceId::from_uuid(uuid::Uuid::now_v7()),
        public_key,
        org: None,
    };
    // The secret first: a row without its key would be an identity that can never sign.
    secrets.set(&identity.secret_name(DEVICE_KEY_SECRET), &seed)?;
    conn.execute(
        "INSERT INTO till_identity (singleton, install_id, device_id, public_key, created_at)
         VALUES (1, ?1, ?2, ?3, ?4)",
        (
            &identity.install_id,
            identity.device_id.to_string(),
            identity.public_key.as_slice(),
            Utc::now().to_rfc3339(),
        ),
    )?;
    Ok(identity)
}

/// Binds the till to `org` at its first online sign-in.
pub fn bind_organisation(conn: &Connection, org: OrgId) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE till_identity SET org_id = ?1 WHERE singleton = 1 AND org_id IS NULL",
        [org.to_string()],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sign_in::secrets::MemorySecrets;

    #[test]
    fn made_once_and_stable_with_its_key_in_the_secret_store() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::LocalStore::open(dir.path()).unwrap();
        let secrets = MemorySecrets::default();
        let conn = store.conn().unwrap();
        assert_eq!(load(&conn).unwrap(), None);
        let first = load_or_create(&conn, &secrets).unwrap();
        let again = load_or_create(&conn, &secrets).unwrap();
        assert_eq!(first, again);
        let seed = secrets
            .get(&first.secret_name("device-key"))
            .unwrap()
            .unwrap();
        let seed: [u8; 32] = seed.try_into().unwrap();
        assert_eq!(
            ed25519_dalek::SigningKey::from_bytes(&seed)
                .verifying_key()
                .to_bytes(),
            first.public_key
        );
        // Nothing secret in the database.
        let row: Vec<u8> = conn
            .query_row("SELECT public_key FROM till_identity", [], |r| r.get(0))
            .unwrap();
        assert_ne!(row, seed.to_vec());
    }

    #[test]
    fn a_lost_device_key_is_reported_not_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::LocalStore::open(dir.path()).unwrap();
        let conn = store.conn().unwrap();
        let secrets = MemorySecrets::default();
        let identity = load_or_create(&conn, &secrets).unwrap();
        secrets.delete(&identity.secret_name("device-key")).unwrap();
        assert!(matches!(
            load_or_create(&conn, &secrets),
            Err(IdentityError::KeyMissing)
        ));
    }

    #[test]
    fn the_organisation_is_bound_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::LocalStore::open(dir.path()).unwrap();
        let conn = store.conn().unwrap();
        load_or_create(&conn, &MemorySecrets::default()).unwrap();
        let a = OrgId::from_uuid(uuid::Uuid::now_v7());
        let b = OrgId::from_uuid(uuid::Uuid::now_v7());
        bind_organisation(&conn, a).unwrap();
        bind_organisation(&conn, b).unwrap();
        assert_eq!(load(&conn).unwrap().unwrap().org, Some(a));
    }
}

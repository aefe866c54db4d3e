//! Seals on the rows a local user could edit to widen offline work: the till's clock (its
//! high-water mark and rollback lock), the server keys grants are checked against, and what
//! has been sold under each grant. Each such row carries an HMAC-SHA256 of its content under a
//! key of this installation kept in the OS keyring, so editing the row in SQLite (a DB browser,
//! another process of the account) breaks its seal; a row whose seal does not verify counts
//! as missing, or as locked, never as valid (issue 17; docs/decisions/till-sign-in.md).
//!
//! The seal is an SQL function, `till_seal(table, columns…)`, registered on the till's own
//! connection only: the queries in `clock.rs`, `grant.rs` and `limits.rs` write and check
//! seals in the same statement as the row. It is `DIRECTONLY`, so a trigger or view planted in
//! the database cannot call it to re-seal an edited row. Without a key (the keyring has not
//! answered yet) it gives NULL, which never verifies: the till fails closed.

use std::sync::{Arc, Mutex};

use hmac::{Hmac, Mac};
use rusqlite::functions::FunctionFlags;
use rusqlite::types::ValueRef;
use rusqlite::Connection;
use sha2::Sha256;

use crate::sign_in::identity::TillIdentity;
use crate::sign_in::secrets::{SecretError, SecretStore};

/// The installation's sealing key, once read from the keyring.
#[derive(Clone, Default)]
pub(crate) struct SealKey(Arc<Mutex<Option<[u8; 32]>>>);

impl SealKey {
    fn get(&self) -> Option<[u8; 32]> {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn is_loaded(&self) -> bool {
        self.get().is_some()
    }

    /// Reads this installation's key from `secrets`, making one the first time.
    pub(crate) fn load(
        &self,
        identity: &TillIdentity,
        secrets: &dyn SecretStore,
    ) -> Result<(), SecretError> {
        let name = identity.secret_name("seal-key");
        let key = match secrets
            .get(&name)?
            .and_then(|k| <[u8; 32]>::try_from(k).ok())
        {
            Some(key) => key,
            None => {
                let mut key = [0u8; 32];
                rand::RngCore::fill_bytes(&mut rand::rng(), &mut key);
                secrets.set(&name, &key)?;
                key
            }
        };
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(key);
        Ok(())
    }

    /// Sets the key directly (unit tests of the sealed tables).
    #[cfg(test)]
    pub(crate) fn set_for_tests(&self, key: [u8; 32]) {
        *self.0.lock().unwrap() = Some(key);
    }
}

/// Registers `till_seal` on `conn`, sealing with `key`.
pub(crate) fn register(conn: &Connection, key: SealKey) -> rusqlite::Result<()> {
    conn.create_scalar_function(
        "till_seal",
        -1,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DIRECTONLY,
        move |ctx| {
            let Some(key) = key.get() else {
                return Ok(None::<Vec<u8>>);
            };
            let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("any key length");
            // Each value tagged by type and, when variable, by length: no two rows share
            // an encoding.
            for i in 0..ctx.len() {
                match ctx.get_raw(i) {
                    ValueRef::Null => mac.update(&[0]),
                    ValueRef::Integer(n) => {
                        mac.update(&[1]);
                        mac.update(&n.to_be_bytes());
                    }
                    ValueRef::Real(x) => {
                        mac.update(&[2]);
                        mac.update(&x.to_bits().to_be_bytes());
                    }
                    ValueRef::Text(bytes) => update_sized(&mut mac, 3, bytes),
                    ValueRef::Blob(bytes) => update_sized(&mut mac, 4, bytes),
                }
            }
            Ok(Some(mac.finalize().into_bytes().to_vec()))
        },
    )
}

fn update_sized(mac: &mut Hmac<Sha256>, tag: u8, bytes: &[u8]) {
    mac.update(&[tag]);
    mac.update(&(bytes.len() as u64).to_be_bytes());
    mac.update(bytes);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sealed(conn: &Connection, sql: &str) -> Option<Vec<u8>> {
        conn.query_row(sql, [], |r| r.get(0)).unwrap()
    }

    #[test]
    fn a_seal_depends_on_the_key_and_every_value_and_its_type() {
        let conn = Connection::open_in_memory().unwrap();
        let key = SealKey::default();
        register(&conn, key.clone()).unwrap();
        assert_eq!(
            sealed(&conn, "SELECT till_seal('t', 1)"),
            None,
            "no key, no seal"
        );
        key.set_for_tests([1; 32]);
        let one = sealed(&conn, "SELECT till_seal('t', 1, NULL)").unwrap();
        assert_eq!(one.len(), 32);
        assert_eq!(
            sealed(&conn, "SELECT till_seal('t', 1, NULL)"),
            Some(one.clone())
        );
        for other in [
            "SELECT till_seal('t', 2, NULL)",
            "SELECT till_seal('t', '1', NULL)",
            "SELECT till_seal('u', 1, NULL)",
            "SELECT till_seal('t', 1, 0)",
            "SELECT till_seal('t1', NULL)",
        ] {
            assert_ne!(sealed(&conn, other), Some(one.clone()), "{other}");
        }
        key.set_for_tests([2; 32]);
        assert_ne!(sealed(&conn, "SELECT till_seal('t', 1, NULL)"), Some(one));
    }

    #[test]
    fn a_trigger_cannot_reseal_an_edited_row() {
        let conn = Connection::open_in_memory().unwrap();
        let key = SealKey::default();
        key.set_for_tests([1; 32]);
        register(&conn, key).unwrap();
        conn.execute_batch(
            "CREATE TABLE t (v INTEGER, seal BLOB);
             INSERT INTO t VALUES (1, NULL);
             CREATE TRIGGER reseal AFTER UPDATE OF v ON t
               BEGIN UPDATE t SET seal = till_seal('t', new.v); END;",
        )
        .unwrap();
        let err = conn.execute("UPDATE t SET v = 2", []).unwrap_err();
        assert!(err.to_string().contains("unsafe use of till_seal"), "{err}");
    }
}

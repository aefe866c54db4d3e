//! The till's notion of time, online and offline: `max(system clock, highest time seen)`, persisted,
//! so setting the clock back cannot make an expired grant valid again. A jump back of more
//! than [`BACKWARD_TOLERANCE_SECS`] (more than clock drift or a time-zone slip) locks the
//! work until the till has reached the server (an online sign-in or refresh), whose time then
//! sets the till's. The lock is checked online as offline: a clock set back would date records
//! in the past either way.

use rusqlite::{Connection, OptionalExtension};

/// Clocks drift, and NTP corrects them in small steps; five minutes back is not an attack.
pub const BACKWARD_TOLERANCE_SECS: i64 = 300;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClockReading {
    /// The time to judge grants by (Unix seconds).
    pub now: i64,
    /// The clock went back beyond the tolerance; offline work is refused until online.
    pub locked: bool,
}

/// Reads the till's time given the system clock's `system_now`, and records it. On a till
/// that has signed in, a clock row whose seal does not verify ([`crate::seal`]), or none at
/// all, is a clock someone edited: it locks, as a clock set back does.
pub fn observe(conn: &Connection, system_now: i64) -> rusqlite::Result<ClockReading> {
    let stored: Option<(i64, Option<i64>, Option<bool>)> = conn
        .query_row(
            "SELECT highest_seen, locked_at, seal = till_seal('till_clock', highest_seen, locked_at)
               FROM till_clock WHERE singleton = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let (highest, mut locked_at, sealed) = match stored {
        // Before its first sign-in a till has no seal key yet (its row's seal is NULL) and
        // nothing a clock could widen: no grant, no cached keys. Only then is an unsealed row
        // taken as it is, so a fresh till does not start out locked.
        Some((highest, locked_at, sealed)) => (
            highest,
            locked_at,
            sealed == Some(true) || !has_signed_in(conn)?,
        ),
        None => (system_now, None, !has_signed_in(conn)?),
    };
    if !sealed && locked_at.is_none() {
        tracing::warn!(
            "the till's clock was changed outside Tillpoint; work is locked until online"
        );
        locked_at = Some(system_now);
    }
    if system_now < highest - BACKWARD_TOLERANCE_SECS && locked_at.is_none() {
        tracing::warn!(
            system_now,
            highest,
            "the system clock went back; work is locked until the server is reached"
        );
        locked_at = Some(system_now);
    }
    let now = highest.max(system_now);
    if stored.is_none_or(|(h, l, _)| !sealed || h != now || l != locked_at) {
        write(conn, now, locked_at)?;
    }
    Ok(ClockReading {
        now,
        locked: locked_at.is_some(),
    })
}

/// Whether this till has signed in (it belongs to an organisation): from then on it always
/// has a clock row.
fn has_signed_in(conn: &Connection) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM till_identity WHERE org_id IS NOT NULL)",
        [],
        |r| r.get(0),
    )
}

fn write(conn: &Connection, highest: i64, locked_at: Option<i64>) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO till_clock (singleton, highest_seen, locked_at, seal)
         VALUES (1, ?1, ?2, till_seal('till_clock', ?1, ?2))
         ON CONFLICT (singleton) DO UPDATE SET highest_seen = ?1, locked_at = ?2,
             seal = till_seal('till_clock', ?1, ?2)",
    )?
    .execute((highest, locked_at))?;
    Ok(())
}

/// After the server answered this device's own sign-in or refresh, at `server_now` (its
/// `Date`): the time is set by the server's and the lock cleared. A system clock still set
/// back locks again at the next reading — work resumes only once the clock is right.
pub fn trust_online(conn: &Connection, server_now: i64) -> rusqlite::Result<()> {
    write(conn, server_now, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, crate::store::LocalStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::LocalStore::open(dir.path()).unwrap();
        store.seal_key().set_for_tests([7; 32]);
        (dir, store)
    }

    #[test]
    fn time_follows_the_system_clock_forward() {
        let (_d, store) = store();
        let conn = store.conn().unwrap();
        assert_eq!(
            observe(&conn, 1_000).unwrap(),
            ClockReading {
                now: 1_000,
                locked: false
            }
        );
        assert_eq!(
            observe(&conn, 5_000).unwrap(),
            ClockReading {
                now: 5_000,
                locked: false
            }
        );
    }

    #[test]
    fn winding_the_clock_back_does_not_turn_time_back() {
        let (_d, store) = store();
        let conn = store.conn().unwrap();
        observe(&conn, 100_000).unwrap();
        // Within the tolerance: no lock, but time still reads the highest seen.
        let small = observe(&conn, 100_000 - BACKWARD_TOLERANCE_SECS).unwrap();
        assert_eq!(
            small,
            ClockReading {
                now: 100_000,
                locked: false
            }
        );
    }

    #[test]
    fn a_jump_back_beyond_the_tolerance_locks_until_online() {
        let (_d, store) = store();
        let conn = store.conn().unwrap();
        observe(&conn, 100_000).unwrap();
        let back = observe(&conn, 100_000 - 3 * 3600).unwrap();
        assert_eq!(
            back,
            ClockReading {
                now: 100_000,
                locked: true
            }
        );
        // Setting it forward again does not lift the lock...
        assert!(observe(&conn, 100_100).unwrap().locked);
        // ...only an online sign-in does.
        trust_online(&conn, 100_200).unwrap();
        assert_eq!(
            observe(&conn, 100_200).unwrap(),
            ClockReading {
                now: 100_200,
                locked: false
            }
        );
    }

    #[test]
    fn an_edited_or_deleted_clock_row_locks_until_online() {
        let (_d, store) = store();
        let conn = store.conn().unwrap();
        // A till that has signed in (it may hold a grant).
        conn.execute(
            "INSERT INTO till_identity VALUES (1, 'i', 'd', zeroblob(32), 'org', 'now')",
            [],
        )
        .unwrap();
        observe(&conn, 100_000).unwrap();
        // Someone winds the high-water mark back in SQLite, to stretch an expired grant.
        conn.execute("UPDATE till_clock SET highest_seen = 50_000", [])
            .unwrap();
        assert!(observe(&conn, 50_100).unwrap().locked);
        trust_online(&conn, 100_100).unwrap();
        assert!(!observe(&conn, 100_100).unwrap().locked);
        // Deleting the row of a till that has signed in is no way round it either.
        conn.execute("DELETE FROM till_clock", []).unwrap();
        assert!(observe(&conn, 100_200).unwrap().locked);
    }

    #[test]
    fn a_fresh_till_without_its_seal_key_yet_is_not_locked() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::LocalStore::open(dir.path()).unwrap();
        let conn = store.conn().unwrap();
        // No key: the row is written with a seal that never verifies...
        observe(&conn, 100_000).unwrap();
        // ...and, nothing signed in yet, the next reading takes it as it is.
        assert_eq!(
            observe(&conn, 100_010).unwrap(),
            ClockReading {
                now: 100_010,
                locked: false
            }
        );
    }

    #[test]
    fn the_server_sets_the_time_and_a_clock_still_set_back_locks_again() {
        let (_d, store) = store();
        let conn = store.conn().unwrap();
        // The high-water mark ran ahead (the clock was set forward, then corrected).
        observe(&conn, 200_000).unwrap();
        assert!(observe(&conn, 100_000).unwrap().locked);
        // The server says it is 100_050: the mark follows it and the lock goes.
        trust_online(&conn, 100_050).unwrap();
        assert_eq!(
            observe(&conn, 100_060).unwrap(),
            ClockReading {
                now: 100_060,
                locked: false
            }
        );
        // A clock an hour behind the server's time locks again at once.
        trust_online(&conn, 100_100).unwrap();
        assert!(observe(&conn, 100_100 - 3600).unwrap().locked);
    }
}

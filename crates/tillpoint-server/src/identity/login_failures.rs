//! Sign-in attempts counted in the database, per account and per client address, under the
//! same rule as the in-memory [`super::throttle`]. Every instance sharing the database reads
//! and adds to the same counts, so a guess sent to another instance is still counted, and so
//! is one made before a restart. An attempt holds its place from [`begin`] until [`end`], so
//! guesses sent at once to several instances cannot outrun the limit either.

use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::OptionalExtension;

use super::throttle::{Policy, IN_FLIGHT_WAIT, WINDOW};
use crate::store::Connection;

/// An attempt an instance began and never ended (it died) stops holding its place after this.
const IN_FLIGHT_EXPIRY_MS: i64 = 60_000;

/// How an attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    Failed,
    /// Clears an account's failures; an address keeps its count (one right password does
    /// not excuse an address's other guesses).
    Succeeded {
        clears: bool,
    },
    /// Neither: the attempt stopped before a password was judged.
    Abandoned,
}

#[derive(Debug, Clone, Copy, Default)]
struct Count {
    failures: i64,
    first_failure_ms: i64,
    locked_until_ms: i64,
    in_flight: i64,
    in_flight_at_ms: i64,
}

fn read(conn: &Connection, key: &str, now_ms: i64) -> rusqlite::Result<Count> {
    let count = conn
        .query_row(
            "SELECT failures, first_failure_ms, locked_until_ms, in_flight, in_flight_at_ms
               FROM login_failures WHERE key = ?1",
            [key],
            |r| {
                Ok(Count {
                    failures: r.get(0)?,
                    first_failure_ms: r.get(1)?,
                    locked_until_ms: r.get(2)?,
                    in_flight: r.get(3)?,
                    in_flight_at_ms: r.get(4)?,
                })
            },
        )
        .optional()?
        .unwrap_or(Count {
            first_failure_ms: now_ms,
            ..Count::default()
        });
    let mut count = count;
    if now_ms - count.in_flight_at_ms > IN_FLIGHT_EXPIRY_MS {
        count.in_flight = 0;
    }
    // A window that ended with no lockout running and nothing in flight starts afresh.
    if count.in_flight == 0
        && count.locked_until_ms <= now_ms
        && now_ms - count.first_failure_ms > WINDOW.as_millis() as i64
    {
        count.failures = 0;
        count.first_failure_ms = now_ms;
    }
    Ok(count)
}

fn write(conn: &Connection, key: &str, count: &Count) -> rusqlite::Result<()> {
    if count.failures == 0 && count.in_flight == 0 {
        conn.execute("DELETE FROM login_failures WHERE key = ?1", [key])?;
        return Ok(());
    }
    conn.execute(
        "INSERT INTO login_failures
           (key, failures, first_failure_ms, locked_until_ms, in_flight, in_flight_at_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (key) DO UPDATE SET failures = excluded.failures,
             first_failure_ms = excluded.first_failure_ms,
             locked_until_ms = excluded.locked_until_ms,
             in_flight = excluded.in_flight, in_flight_at_ms = excluded.in_flight_at_ms",
        (
            key,
            count.failures,
            count.first_failure_ms,
            count.locked_until_ms,
            count.in_flight,
            count.in_flight_at_ms,
        ),
    )?;
    Ok(())
}

/// Starts an attempt under each key (address first, then account), or the wait while one of
/// them is locked out or has every guess it has left in flight. Call in a write transaction
/// and commit only on `Ok(Ok(()))`, so a refused attempt holds no place.
pub fn begin(
    conn: &Connection,
    keys: &[(&str, Policy)],
    now: DateTime<Utc>,
) -> rusqlite::Result<Result<(), Duration>> {
    let now_ms = now.timestamp_millis();
    for (key, policy) in keys {
        let mut count = read(conn, key, now_ms)?;
        if count.locked_until_ms > now_ms {
            return Ok(Err(Duration::from_millis(
                (count.locked_until_ms - now_ms) as u64,
            )));
        }
        // As in memory: the guesses left may run at once; past the limit, one at a time.
        let free = i64::from(policy.free_failures.max(1));
        let may_run = (free - count.failures).max(1);
        if count.in_flight >= may_run {
            return Ok(Err(IN_FLIGHT_WAIT));
        }
        count.in_flight += 1;
        count.in_flight_at_ms = now_ms;
        write(conn, key, &count)?;
    }
    Ok(Ok(()))
}

/// Ends an attempt [`begin`] started under `key`; returns the lockout a failure starts.
/// Call in a write transaction.
pub fn end(
    conn: &Connection,
    key: &str,
    policy: Policy,
    ended: Ended,
    now: DateTime<Utc>,
) -> rusqlite::Result<Option<Duration>> {
    let now_ms = now.timestamp_millis();
    let mut count = read(conn, key, now_ms)?;
    count.in_flight = (count.in_flight - 1).max(0);
    let mut lockout = None;
    match ended {
        Ended::Failed => {
            if count.failures == 0 {
                count.first_failure_ms = now_ms;
            }
            count.failures += 1;
            lockout = policy.lockout_after(u32::try_from(count.failures).unwrap_or(u32::MAX));
            if let Some(l) = lockout {
                count.locked_until_ms = now_ms + l.as_millis() as i64;
            }
        }
        Ended::Succeeded { clears: true } => {
            count.failures = 0;
            count.locked_until_ms = 0;
        }
        Ended::Succeeded { clears: false } | Ended::Abandoned => {}
    }
    write(conn, key, &count)?;
    // Forget what can no longer lock anyone, so a spray of made-up names does not pile up.
    conn.execute(
        "DELETE FROM login_failures
          WHERE first_failure_ms < ?1 AND locked_until_ms <= ?2 AND in_flight_at_ms < ?3",
        (
            now_ms - WINDOW.as_millis() as i64,
            now_ms,
            now_ms - IN_FLIGHT_EXPIRY_MS,
        ),
    )?;
    Ok(lockout)
}

//! Limits on password guessing, per account and per client address.
//!
//! Each key may fail [`Policy::free_failures`] times within [`WINDOW`]; the failure that
//! reaches that count locks the key (the next attempt waits, right password or not) and every
//! failure after it locks it again for a doubling time (30 s, 60 s, 2 min … up to 15 min). A
//! success clears the account's count. State is kept in memory per server instance
//! (documented in docs/decisions/identity.md): with several instances an attacker gets at
//! most that many times the guesses, still bounded.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const WINDOW: Duration = Duration::from_secs(15 * 60);
pub const FIRST_LOCKOUT: Duration = Duration::from_secs(30);
pub const MAX_LOCKOUT: Duration = Duration::from_secs(15 * 60);
/// Entries kept before old ones are swept, so a spray of names cannot exhaust memory.
const MAX_ENTRIES: usize = 100_000;

#[derive(Debug, Clone, Copy)]
pub struct Policy {
    pub free_failures: u32,
}

pub const PER_ACCOUNT: Policy = Policy { free_failures: 5 };
pub const PER_ADDRESS: Policy = Policy { free_failures: 20 };

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    first_failure: Instant,
    locked_until: Option<Instant>,
}

pub struct Throttle {
    policy: Policy,
    entries: Mutex<HashMap<String, Entry>>,
}

impl Throttle {
    pub fn new(policy: Policy) -> Self {
        Self {
            policy,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// `Err(wait)` while `key` is locked out.
    pub fn check(&self, key: &str, now: Instant) -> Result<(), Duration> {
        let entries = self.entries.lock().expect("throttle lock");
        match entries.get(key).and_then(|e| e.locked_until) {
            Some(until) if until > now => Err(until - now),
            _ => Ok(()),
        }
    }

    /// Counts a failure; returns the lockout it starts, if any.
    pub fn fail(&self, key: &str, now: Instant) -> Option<Duration> {
        let mut entries = self.entries.lock().expect("throttle lock");
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, e| now.duration_since(e.first_failure) < WINDOW);
        }
        let entry = entries.entry(key.to_owned()).or_insert(Entry {
            failures: 0,
            first_failure: now,
            locked_until: None,
        });
        if now.duration_since(entry.first_failure) > WINDOW
            && entry.locked_until.is_none_or(|u| u <= now)
        {
            *entry = Entry {
                failures: 0,
                first_failure: now,
                locked_until: None,
            };
        }
        entry.failures += 1;
        let over = entry.failures.checked_sub(self.policy.free_failures)?;
        let lockout = FIRST_LOCKOUT
            .saturating_mul(1 << over.min(10))
            .min(MAX_LOCKOUT);
        entry.locked_until = Some(now + lockout);
        Some(lockout)
    }

    pub fn succeed(&self, key: &str) {
        self.entries.lock().expect("throttle lock").remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_after_the_free_failures_with_doubling_lockouts() {
        let t = Throttle::new(Policy { free_failures: 3 });
        let now = Instant::now();
        for _ in 0..2 {
            assert_eq!(t.fail("alice", now), None);
            assert!(t.check("alice", now).is_ok());
        }
        assert_eq!(t.fail("alice", now), Some(FIRST_LOCKOUT));
        assert_eq!(t.check("alice", now), Err(FIRST_LOCKOUT));
        assert_eq!(t.fail("alice", now), Some(FIRST_LOCKOUT * 2));
        assert_eq!(t.fail("alice", now), Some(FIRST_LOCKOUT * 4));
        for _ in 0..20 {
            t.fail("alice", now);
        }
        assert_eq!(t.check("alice", now), Err(MAX_LOCKOUT));
        assert!(t.check("bob", now).is_ok(), "other keys are untouched");
    }

    #[test]
    fn a_lockout_ends_and_success_clears_the_count() {
        let t = Throttle::new(Policy { free_failures: 2 });
        let now = Instant::now();
        assert_eq!(t.fail("k", now), None);
        let lock = t.fail("k", now).unwrap();
        assert!(t.check("k", now + lock).is_ok());
        t.succeed("k");
        assert_eq!(t.fail("k", now + lock), None);
    }
}

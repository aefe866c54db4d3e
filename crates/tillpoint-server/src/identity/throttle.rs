//! Limits on password guessing, per account and per client address.
//!
//! Each key may fail [`Policy::free_failures`] times within [`WINDOW`]; the failure that
//! reaches that count locks the key (the next attempt waits, right password or not) and every
//! failure after it locks it again for a doubling time (30 s, 60 s, 2 min … up to 15 min). A
//! success clears the account's count. This table, in memory, keeps the attempts in flight on
//! this instance; every failure and lockout is also counted in the database
//! ([`super::login_failures`]), which every instance sharing it reads, so several instances
//! do not multiply an attacker's guesses.
//!
//! Memory is bounded without ever refusing a newcomer: sign-in checks the address before the
//! account, so an address that is locked out adds no account keys (one address cannot spray
//! made-up usernames into the table), and a full table forgets its least recently used keys
//! — unlocked ones first — instead of refusing new ones (which would let a spray lock every
//! genuine user out).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const WINDOW: Duration = Duration::from_secs(15 * 60);
pub const FIRST_LOCKOUT: Duration = Duration::from_secs(30);
pub const MAX_LOCKOUT: Duration = Duration::from_secs(15 * 60);
/// How long to wait when the key's remaining guesses are all in flight.
pub const IN_FLIGHT_WAIT: Duration = Duration::from_secs(1);
/// Keys remembered at most. Past this, idle keys are swept; if the map is still full (a
/// spray of names from many addresses), the least recently used tenth is forgotten.
pub const MAX_ENTRIES: usize = 100_000;

#[derive(Debug, Clone, Copy)]
pub struct Policy {
    pub free_failures: u32,
}

impl Policy {
    /// The lockout the `failures`-th failure in a window starts: none while free; the one
    /// that reaches the limit locks, and each one after doubles the wait.
    pub fn lockout_after(&self, failures: u32) -> Option<Duration> {
        let over = failures.checked_sub(self.free_failures)?;
        Some(
            FIRST_LOCKOUT
                .saturating_mul(1 << over.min(10))
                .min(MAX_LOCKOUT),
        )
    }
}

pub const PER_ACCOUNT: Policy = Policy { free_failures: 5 };
pub const PER_ADDRESS: Policy = Policy { free_failures: 20 };

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    /// Attempts begun and not yet ended: they hold their place in the count, so guesses
    /// sent in parallel cannot outrun the limit.
    in_flight: u32,
    first_failure: Instant,
    locked_until: Option<Instant>,
    /// The last attempt begun: a full table forgets the longest unused first.
    last_used: Instant,
}

impl Entry {
    fn idle(&self, now: Instant) -> bool {
        self.in_flight == 0
            && self.locked_until.is_none_or(|u| u <= now)
            && now.duration_since(self.first_failure) > WINDOW
    }
}

/// The key an address is limited under: IPv4 addresses alone, IPv6 by their /64 (one
/// customer's network), so a single host cannot mint fresh addresses to guess from.
pub fn address_key(ip: Option<&str>) -> String {
    match ip.and_then(|ip| ip.parse::<std::net::IpAddr>().ok()) {
        Some(std::net::IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_none() => {
            let s = v6.segments();
            format!("ip6:{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        Some(std::net::IpAddr::V6(v6)) => format!("ip:{}", v6.to_ipv4_mapped().expect("mapped")),
        Some(ip) => format!("ip:{ip}"),
        None => "ip:unknown".into(),
    }
}

pub struct Throttle {
    policy: Policy,
    capacity: usize,
    entries: Mutex<HashMap<String, Entry>>,
}

/// One attempt under a throttle. Ending it with [`Attempt::failed`] counts a failure;
/// [`Attempt::succeeded`] clears the key; dropping it only releases its place.
pub struct Attempt<'a> {
    throttle: &'a Throttle,
    key: String,
    ended: bool,
}

impl Attempt<'_> {
    /// Counts the failure; returns the lockout it starts, if any.
    pub fn failed(mut self, now: Instant) -> Option<Duration> {
        self.ended = true;
        self.throttle.end(&self.key, Some(true), now)
    }

    /// Clears the key's failures (use for accounts, not addresses).
    pub fn succeeded(mut self, now: Instant) {
        self.ended = true;
        self.throttle.end(&self.key, Some(false), now);
    }
}

impl Drop for Attempt<'_> {
    fn drop(&mut self) {
        if !self.ended {
            self.throttle.end(&self.key, None, Instant::now());
        }
    }
}

impl Throttle {
    pub fn new(policy: Policy) -> Self {
        Self::with_capacity(policy, MAX_ENTRIES)
    }

    /// A throttle remembering at most `capacity` keys.
    pub fn with_capacity(policy: Policy, capacity: usize) -> Self {
        Self {
            policy,
            capacity: capacity.max(1),
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// How many keys are remembered now.
    pub fn len(&self) -> usize {
        self.entries.lock().expect("throttle lock").len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Starts an attempt for `key`, or `Err(wait)` while it is locked out or while every
    /// guess it has left is already in flight.
    pub fn begin(&self, key: &str, now: Instant) -> Result<Attempt<'_>, Duration> {
        let mut entries = self.entries.lock().expect("throttle lock");
        if entries.len() >= self.capacity && !entries.contains_key(key) {
            entries.retain(|_, e| !e.idle(now));
            if entries.len() >= self.capacity {
                forget_least_recently_used(&mut entries, self.capacity.div_ceil(10), now);
            }
        }
        let entry = entries.entry(key.to_owned()).or_insert(Entry {
            failures: 0,
            in_flight: 0,
            first_failure: now,
            locked_until: None,
            last_used: now,
        });
        entry.last_used = entry.last_used.max(now);
        if entry.idle(now) {
            entry.failures = 0;
            entry.first_failure = now;
            entry.locked_until = None;
        }
        if let Some(until) = entry.locked_until.filter(|u| *u > now) {
            return Err(until - now);
        }
        // Guesses left before the limit may run at once; past the limit (a lockout just
        // ended), one at a time, each failure doubling the next wait.
        let free = self.policy.free_failures.max(1);
        let may_run = free.saturating_sub(entry.failures).max(1);
        if entry.in_flight >= may_run {
            return Err(IN_FLIGHT_WAIT);
        }
        entry.in_flight += 1;
        Ok(Attempt {
            throttle: self,
            key: key.to_owned(),
            ended: false,
        })
    }

    /// `failed`: `Some(true)` a failure, `Some(false)` a success, `None` neither. A key
    /// forgotten meanwhile (a full table) is not brought back.
    fn end(&self, key: &str, failed: Option<bool>, now: Instant) -> Option<Duration> {
        let mut entries = self.entries.lock().expect("throttle lock");
        let entry = entries.get_mut(key)?;
        entry.in_flight = entry.in_flight.saturating_sub(1);
        match failed {
            Some(false) => {
                entry.failures = 0;
                entry.locked_until = None;
                if entry.in_flight == 0 {
                    entries.remove(key);
                }
                None
            }
            None => {
                // Nothing to remember about a key that has not failed.
                if entry.failures == 0 && entry.in_flight == 0 {
                    entries.remove(key);
                }
                None
            }
            Some(true) => {
                if entry.failures == 0 {
                    entry.first_failure = now;
                }
                entry.failures += 1;
                let lockout = self.policy.lockout_after(entry.failures)?;
                entry.locked_until = Some(now + lockout);
                Some(lockout)
            }
        }
    }
}

/// Forgets `count` keys with no attempt in flight: unlocked ones before locked ones (a lock
/// forgotten gives its key fresh guesses), each group longest unused first.
fn forget_least_recently_used(entries: &mut HashMap<String, Entry>, count: usize, now: Instant) {
    let mut candidates: Vec<(bool, Instant, String)> = entries
        .iter()
        .filter(|(_, e)| e.in_flight == 0)
        .map(|(k, e)| {
            (
                e.locked_until.is_some_and(|u| u > now),
                e.last_used,
                k.clone(),
            )
        })
        .collect();
    let count = count.min(candidates.len());
    if count == 0 {
        return;
    }
    candidates.select_nth_unstable(count - 1);
    for (_, _, key) in candidates.into_iter().take(count) {
        entries.remove(&key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fail(t: &Throttle, key: &str, now: Instant) -> Option<Duration> {
        t.begin(key, now).expect("not locked").failed(now)
    }

    #[test]
    fn locks_at_the_limit_with_doubling_lockouts() {
        let t = Throttle::new(Policy { free_failures: 3 });
        let now = Instant::now();
        for _ in 0..2 {
            assert_eq!(fail(&t, "alice", now), None);
        }
        assert_eq!(fail(&t, "alice", now), Some(FIRST_LOCKOUT));
        assert_eq!(t.begin("alice", now).err(), Some(FIRST_LOCKOUT));
        let later = now + FIRST_LOCKOUT;
        assert_eq!(fail(&t, "alice", later), Some(FIRST_LOCKOUT * 2));
        let later = later + FIRST_LOCKOUT * 2;
        assert_eq!(fail(&t, "alice", later), Some(FIRST_LOCKOUT * 4));
        assert!(t.begin("bob", now).is_ok(), "other keys are untouched");
    }

    #[test]
    fn parallel_attempts_cannot_outrun_the_limit() {
        let t = Throttle::new(Policy { free_failures: 5 });
        let now = Instant::now();
        let in_flight: Vec<_> = (0..5).map(|_| t.begin("alice", now).unwrap()).collect();
        assert_eq!(
            t.begin("alice", now).err(),
            Some(IN_FLIGHT_WAIT),
            "a sixth guess must wait"
        );
        let lockouts: Vec<_> = in_flight.into_iter().map(|a| a.failed(now)).collect();
        assert_eq!(lockouts.last().copied().flatten(), Some(FIRST_LOCKOUT));
        assert!(t.begin("alice", now).is_err());
    }

    #[test]
    fn ipv6_addresses_share_their_64_and_ipv4_stands_alone() {
        assert_eq!(
            address_key(Some("2001:db8:1:2:aaaa::1")),
            address_key(Some("2001:db8:1:2:bbbb::9"))
        );
        assert_ne!(
            address_key(Some("2001:db8:1:2::1")),
            address_key(Some("2001:db8:1:3::1"))
        );
        assert_eq!(
            address_key(Some("::ffff:192.0.2.7")),
            address_key(Some("192.0.2.7"))
        );
        assert_ne!(
            address_key(Some("192.0.2.7")),
            address_key(Some("192.0.2.8"))
        );
        assert_eq!(address_key(None), "ip:unknown");
    }

    #[test]
    fn an_abandoned_attempt_releases_its_place_without_counting() {
        let t = Throttle::new(Policy { free_failures: 1 });
        let now = Instant::now();
        drop(t.begin("k", now).unwrap());
        assert_eq!(
            fail(&t, "k", now),
            Some(FIRST_LOCKOUT),
            "the dropped one did not count"
        );
    }

    #[test]
    fn a_full_table_forgets_its_least_recently_used_keys_instead_of_refusing_new_ones() {
        let t = Throttle::with_capacity(Policy { free_failures: 2 }, 100);
        let start = Instant::now();
        // A locked-out account, then a spray of made-up names filling the table.
        fail(&t, "user:victim-guessed", start);
        assert!(fail(&t, "user:victim-guessed", start).is_some());
        for i in 0..1_000u32 {
            let at = start + Duration::from_millis(u64::from(i) + 1);
            drop(
                t.begin(&format!("user:made-up-{i}"), at)
                    .expect("never refused for fullness"),
            );
            assert!(t.len() <= 100, "the table stays bounded");
        }
        let later = start + Duration::from_secs(2);
        assert!(t.begin("user:genuine", later).is_ok());
        assert!(
            t.begin("user:victim-guessed", later).is_err(),
            "a lock outlives the unlocked keys the spray added"
        );
    }

    #[test]
    fn a_lockout_ends_and_success_clears_the_count() {
        let t = Throttle::new(Policy { free_failures: 2 });
        let now = Instant::now();
        fail(&t, "k", now);
        let lock = fail(&t, "k", now).unwrap();
        let later = now + lock;
        t.begin("k", later).unwrap().succeeded(later);
        assert_eq!(fail(&t, "k", later), None, "the count started again");
    }
}

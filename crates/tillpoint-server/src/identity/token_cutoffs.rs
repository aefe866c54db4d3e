//! Access tokens that end before they expire.
//!
//! An access token is self-contained: once signed it would work until `exp` (up to 24 h),
//! whatever happened to its holder. So every change that takes rights away moves a cutoff
//! forward, and a token issued at or before a cutoff that applies to it is refused:
//! - a user's ([`Subject::User`]): disabled, password reset, role changed, or their role's
//!   permissions changed — every token of theirs ends; the next refresh shows the new state;
//! - a device's ([`Subject::Device`]): revoked — every token issued to it ends;
//! - one user on one device ([`Subject::Session`]): signed out, or their refresh token was
//!   reused — that till's tokens end, their other tills' do not.
//!
//! The cutoffs live in `token_cutoffs` (the truth, shared by every instance on the database)
//! and in memory ([`TokenCutoffs`]), so the check on every request is three hash lookups,
//! not a query. An instance re-reads what changed at most [`REREAD_EVERY`] after its last
//! look (only rows with a newer `version`), and at once after a change it made itself: a
//! change made on another instance takes effect within that time. Cutoffs older than the
//! longest access-token lifetime can refuse nothing that has not expired, and are dropped
//! from memory.

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use crate::store::Connection;
use chrono::{DateTime, Utc};
use tillpoint_protocol::auth::AccessClaims;
use tillpoint_protocol::{DeviceId, OrgId, RoleId, UserId};

use super::settings::MAX_ACCESS_TOKEN_TTL_SECS;
use crate::store::{Database, DbError};

/// How stale an instance's view of cutoffs made elsewhere may be.
pub const REREAD_EVERY: Duration = Duration::from_secs(1);
const LONGEST_TOKEN_MS: i64 = MAX_ACCESS_TOKEN_TTL_SECS as i64 * 1000;

/// Whose tokens a cutoff ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Subject {
    User(UserId),
    Device(OrgId, DeviceId),
    Session(UserId, DeviceId),
}

impl Subject {
    fn key(&self) -> String {
        match self {
            Self::User(user) => format!("user:{user}"),
            Self::Device(org, device) => format!("device:{org}:{device}"),
            Self::Session(user, device) => format!("session:{user}:{device}"),
        }
    }

    fn parse(key: &str) -> Option<Self> {
        let (kind, rest) = key.split_once(':')?;
        let pair = || rest.split_once(':');
        match kind {
            "user" => Some(Self::User(rest.parse().ok()?)),
            "device" => {
                let (org, device) = pair()?;
                Some(Self::Device(org.parse().ok()?, device.parse().ok()?))
            }
            "session" => {
                let (user, device) = pair()?;
                Some(Self::Session(user.parse().ok()?, device.parse().ok()?))
            }
            _ => None,
        }
    }

    /// The subjects a token belongs to.
    fn of(claims: &AccessClaims) -> [Self; 3] {
        [
            Self::User(claims.sub),
            Self::Device(claims.org, claims.dev),
            Self::Session(claims.sub, claims.dev),
        ]
    }
}

/// Ends every token of `subject` issued at or before `at` (the cutoff never moves back).
/// Call it in the transaction of the change that causes it.
pub fn cut(conn: &Connection, subject: Subject, at: DateTime<Utc>) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO token_cutoffs (subject, cutoff_ms, version)
         VALUES (?1, ?2, (SELECT coalesce(max(version), 0) + 1 FROM token_cutoffs))
         ON CONFLICT (subject) DO UPDATE
            SET cutoff_ms = CASE WHEN token_cutoffs.cutoff_ms > excluded.cutoff_ms
                                THEN token_cutoffs.cutoff_ms ELSE excluded.cutoff_ms END,
                version = excluded.version",
        (subject.key(), at.timestamp_millis()),
    )?;
    Ok(())
}

/// Ends the tokens of every user holding `role` (its permissions changed).
pub fn cut_role(conn: &Connection, role: RoleId, at: DateTime<Utc>) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare("SELECT id FROM users WHERE role_id = ?1")?;
    let users = stmt
        .query_map([role.to_string()], |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    for user in users.iter().filter_map(|u| u.parse().ok()) {
        cut(conn, Subject::User(user), at)?;
    }
    Ok(())
}

/// Cutoffs changed since `version`, newer than `since_ms`, and the newest version seen.
fn changed_since(
    conn: &Connection,
    version: i64,
    since_ms: i64,
) -> rusqlite::Result<(Vec<(Subject, i64)>, i64)> {
    let mut stmt = conn.prepare_cached(
        "SELECT subject, cutoff_ms, version FROM token_cutoffs WHERE version > ?1",
    )?;
    let mut newest = version;
    let mut changed = Vec::new();
    let rows = stmt.query_map([version], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, i64>(2)?,
        ))
    })?;
    for row in rows {
        let (key, cutoff, row_version) = row?;
        newest = newest.max(row_version);
        match Subject::parse(&key) {
            Some(subject) if cutoff > since_ms => changed.push((subject, cutoff)),
            Some(_) => {}
            None => tracing::warn!(subject = key, "ignored a malformed token cutoff"),
        }
    }
    Ok((changed, newest))
}

/// This instance's copy of the cutoffs.
#[derive(Default)]
pub struct TokenCutoffs {
    known: RwLock<Known>,
    /// Held while re-reading, so one request reads and the others go on with what is known.
    reading: tokio::sync::Mutex<()>,
}

#[derive(Default)]
struct Known {
    cutoffs: HashMap<Subject, i64>,
    version: i64,
    read_at: Option<Instant>,
    /// When the last completed read began: it saw every change committed before then.
    read_began: Option<Instant>,
}

impl TokenCutoffs {
    /// Whether a token with these (verified) claims was issued after every cutoff that
    /// applies to it. Three hash lookups: cheap enough for every request.
    pub fn allows(&self, claims: &AccessClaims) -> bool {
        let known = self.known.read().expect("cutoffs lock");
        Subject::of(claims).iter().all(|subject| {
            known
                .cutoffs
                .get(subject)
                .is_none_or(|cutoff| claims.iat_ms > *cutoff)
        })
    }

    /// Records cutoffs as read from the database (for tests and the benchmark).
    pub fn insert(&self, subject: Subject, cutoff_ms: i64) {
        let mut known = self.known.write().expect("cutoffs lock");
        let entry = known.cutoffs.entry(subject).or_insert(cutoff_ms);
        *entry = (*entry).max(cutoff_ms);
    }

    /// Re-reads what changed when the last look is older than [`REREAD_EVERY`]. While
    /// another request is reading, returns at once with what is known.
    pub async fn refresh_if_stale(&self, db: &Database, now: DateTime<Utc>) -> Result<(), DbError> {
        let fresh = self
            .known
            .read()
            .expect("cutoffs lock")
            .read_at
            .is_some_and(|at| at.elapsed() < REREAD_EVERY);
        if fresh {
            return Ok(());
        }
        let Ok(_reading) = self.reading.try_lock() else {
            // Never read yet: nobody may pass before the first read ends.
            if self.known.read().expect("cutoffs lock").read_at.is_none() {
                return self.refresh(db, now).await;
            }
            return Ok(());
        };
        self.read_changes(db, now).await
    }

    /// Re-reads what changed now: after a change this instance made, so it applies here at
    /// once. Callers arriving together share one read (a read that began after the call did
    /// sees the change), so a burst of them costs one query, not one each.
    pub async fn refresh(&self, db: &Database, now: DateTime<Utc>) -> Result<(), DbError> {
        let asked = Instant::now();
        let _reading = self.reading.lock().await;
        let read_since = self
            .known
            .read()
            .expect("cutoffs lock")
            .read_began
            .is_some_and(|began| began > asked);
        if read_since {
            return Ok(());
        }
        self.read_changes(db, now).await
    }

    async fn read_changes(&self, db: &Database, now: DateTime<Utc>) -> Result<(), DbError> {
        let began = Instant::now();
        let version = self.known.read().expect("cutoffs lock").version;
        let since_ms = now.timestamp_millis() - LONGEST_TOKEN_MS;
        let (changed, newest) = db
            .call(move |conn| -> Result<_, DbError> { Ok(changed_since(conn, version, since_ms)?) })
            .await?;
        let mut known = self.known.write().expect("cutoffs lock");
        for (subject, cutoff) in changed {
            let entry = known.cutoffs.entry(subject).or_insert(cutoff);
            *entry = (*entry).max(cutoff);
        }
        known.cutoffs.retain(|_, cutoff| *cutoff > since_ms);
        known.version = newest;
        known.read_at = Some(Instant::now());
        known.read_began = Some(began);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(sub: UserId, org: OrgId, dev: DeviceId, iat_ms: i64) -> AccessClaims {
        AccessClaims {
            iss: String::new(),
            aud: String::new(),
            sub,
            name: String::new(),
            email: String::new(),
            role: String::new(),
            perms: Vec::new(),
            org,
            dev,
            iat: iat_ms / 1000,
            iat_ms,
            nbf: 0,
            exp: 0,
            jti: String::new(),
        }
    }

    fn ids() -> (UserId, OrgId, DeviceId) {
        let id = || uuid::Uuid::now_v7();
        (
            UserId::from_uuid(id()),
            OrgId::from_uuid(id()),
            DeviceId::from_uuid(id()),
        )
    }

    #[test]
    fn a_cutoff_ends_tokens_issued_at_or_before_it_and_only_its_subjects() {
        let (user, org, device) = ids();
        let (other_user, _, other_device) = ids();
        let cutoffs = TokenCutoffs::default();
        cutoffs.insert(Subject::Session(user, device), 1_000);
        assert!(!cutoffs.allows(&claims(user, org, device, 999)));
        assert!(!cutoffs.allows(&claims(user, org, device, 1_000)));
        assert!(cutoffs.allows(&claims(user, org, device, 1_001)));
        assert!(
            cutoffs.allows(&claims(user, org, other_device, 999)),
            "their other till"
        );
        assert!(
            cutoffs.allows(&claims(other_user, org, device, 999)),
            "another person"
        );

        cutoffs.insert(Subject::User(user), 2_000);
        assert!(!cutoffs.allows(&claims(user, org, other_device, 1_500)));
        cutoffs.insert(Subject::Device(org, other_device), 3_000);
        assert!(!cutoffs.allows(&claims(other_user, org, other_device, 2_500)));
        cutoffs.insert(Subject::User(user), 10);
        assert!(
            !cutoffs.allows(&claims(user, org, device, 1_999)),
            "never moves back"
        );
    }

    #[test]
    fn subjects_survive_their_stored_form() {
        let (user, org, device) = ids();
        for subject in [
            Subject::User(user),
            Subject::Device(org, device),
            Subject::Session(user, device),
        ] {
            assert_eq!(Subject::parse(&subject.key()), Some(subject));
        }
        assert_eq!(Subject::parse("user:nonsense"), None);
        assert_eq!(Subject::parse("robot:x"), None);
    }
}

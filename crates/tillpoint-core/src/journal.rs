//! The till's journal: every business event, written in the same transaction as the rows it
//! describes, as the next link of this device's hash chain (ARCHITECTURE.md §4), with its
//! outbox row so sync will push it.
//!
//! Invariant: `seq` runs 1, 2, 3… with no gap and each entry's `prev_hash` is the hash of the
//! entry before it. Both hold because an entry is only ever appended inside the caller's
//! `BEGIN IMMEDIATE` transaction (one writer at a time), and the table refuses updates and
//! deletes. Anything that slips past (a hand-edited database file) is found by
//! [`verify`], here and on the server.

use rusqlite::{Connection, OptionalExtension};
use tillpoint_protocol::journal::{
    verify_chain, ChainError, JournalRecord, RecordKind, GENESIS_HASH,
};
use tillpoint_protocol::{DeviceId, OrgId, UserId};
use uuid::Uuid;

/// Who made an event, where, and under what authority.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Author {
    pub org_id: OrgId,
    pub user_id: UserId,
    pub user_name: String,
    pub device_id: DeviceId,
    /// The offline grant in force, when offline.
    pub grant_jti: Option<String>,
}

/// Appends an event to the journal and the outbox. Call it inside the event's transaction.
pub fn append(
    tx: &Connection,
    author: &Author,
    kind: RecordKind,
    id: Uuid,
    created_at: &str,
    payload: &impl serde::Serialize,
) -> rusqlite::Result<JournalRecord> {
    let last: Option<(i64, String)> = tx
        .prepare_cached("SELECT seq, hash FROM journal ORDER BY seq DESC LIMIT 1")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let (seq, prev_hash) = last.map_or((1, GENESIS_HASH.to_owned()), |(s, h)| (s as u64 + 1, h));
    let payload = serde_json::to_string(payload)
        .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
    let mut record = JournalRecord {
        id,
        kind,
        org_id: author.org_id,
        creator_id: author.user_id,
        device_id: author.device_id,
        seq,
        created_at: created_at.to_owned(),
        grant_jti: author.grant_jti.clone(),
        prev_hash,
        hash: String::new(),
        payload,
    };
    record.hash = record.expected_hash();
    tx.prepare_cached(
        "INSERT INTO journal (seq, id, kind, org_id, creator_id, device_id, created_at,
                              grant_jti, prev_hash, hash, payload)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?
    .execute((
        record.seq as i64,
        record.id.to_string(),
        kind.as_str(),
        record.org_id.to_string(),
        record.creator_id.to_string(),
        record.device_id.to_string(),
        &record.created_at,
        &record.grant_jti,
        &record.prev_hash,
        &record.hash,
        &record.payload,
    ))?;
    tx.prepare_cached("INSERT INTO outbox (journal_seq) VALUES (?1)")?
        .execute([record.seq as i64])?;
    Ok(record)
}

/// Reads entries with `seq` in `from..=to`.
pub fn read(conn: &Connection, from: u64, to: u64) -> rusqlite::Result<Vec<JournalRecord>> {
    let mut statement = conn.prepare_cached(
        "SELECT seq, id, kind, org_id, creator_id, device_id, created_at, grant_jti, prev_hash,
                hash, payload
         FROM journal WHERE seq BETWEEN ?1 AND ?2 ORDER BY seq",
    )?;
    let rows = statement.query_map((from as i64, to as i64), |r| {
        let text = |i: usize| r.get::<_, String>(i);
        let bad = |i: usize, what: &str| {
            rusqlite::Error::FromSqlConversionFailure(
                i,
                rusqlite::types::Type::Text,
                format!("bad {what} in the journal").into(),
            )
        };
        Ok(JournalRecord {
            seq: r.get::<_, i64>(0)? as u64,
            id: text(1)?.parse().map_err(|_| bad(1, "id"))?,
            kind: RecordKind::parse(&text(2)?).ok_or_else(|| bad(2, "kind"))?,
            org_id: text(3)?.parse().map_err(|_| bad(3, "org_id"))?,
            creator_id: text(4)?.parse().map_err(|_| bad(4, "creator_id"))?,
            device_id: text(5)?.parse().map_err(|_| bad(5, "device_id"))?,
            created_at: text(6)?,
            grant_jti: r.get(7)?,
            prev_hash: text(8)?,
            hash: text(9)?,
            payload: text(10)?,
        })
    })?;
    rows.collect()
}

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("the journal's chain is broken: {0}")]
    Chain(#[from] ChainError),
    #[error(transparent)]
    Store(#[from] rusqlite::Error),
}

/// Checks this till's whole chain, a page at a time.
pub fn verify(conn: &Connection) -> Result<u64, JournalError> {
    const PAGE: u64 = 1000;
    let mut last = (0, GENESIS_HASH.to_owned());
    loop {
        let page = read(conn, last.0 + 1, last.0 + PAGE)?;
        if page.is_empty() {
            // A gap at the end of a page shows up as an entry beyond it.
            let beyond: Option<i64> = conn.query_row(
                "SELECT MIN(seq) FROM journal WHERE seq > ?1",
                [last.0 as i64],
                |r| r.get(0),
            )?;
            if let Some(seq) = beyond {
                return Err(ChainError::Gap {
                    seq: seq as u64,
                    previous: last.0,
                }
                .into());
            }
            return Ok(last.0);
        }
        verify_chain(last.clone(), &page)?;
        let end = page.last().expect("not empty");
        last = (end.seq, end.hash.clone());
    }
}

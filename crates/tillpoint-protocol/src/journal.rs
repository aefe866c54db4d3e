//! The journal: every business event a till records (a sale, a refund, a till session opened
//! or closed), as the record that is pushed to the server.
//!
//! Each record names the previous one's hash, and its own hash covers its header, its
//! payload and that link: a chain per device (ARCHITECTURE.md §4). Deleting, reordering or
//! editing an entry breaks every hash after it, so the server (and the till itself) can tell.
//! The payload travels as the exact JSON text it was hashed as, so nothing ever has to
//! re-serialise it identically.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::ids::{DeviceId, OrgId, UserId};
use crate::permission::Operation;

/// The `prev_hash` of a device's first record.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What a journal record is about; it says how to read the payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    Sale,
    Refund,
    TillOpened,
    TillClosed,
}

impl RecordKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sale => "sale",
            Self::Refund => "refund",
            Self::TillOpened => "till_opened",
            Self::TillClosed => "till_closed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Sale, Self::Refund, Self::TillOpened, Self::TillClosed]
            .into_iter()
            .find(|kind| kind.as_str() == text)
    }

    /// What the record's creator did: it says the permission the record needs
    /// ([`Operation::required_permission`]), on the till and on the server alike.
    pub const fn operation(self) -> Operation {
        match self {
            Self::Sale => Operation::Sell,
            Self::Refund => Operation::Refund,
            Self::TillOpened | Self::TillClosed => Operation::ManageTillSession,
        }
    }
}

/// One journal entry, as stored on the till and pushed to the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct JournalRecord {
    /// UUIDv7, made on the till.
    pub id: Uuid,
    pub kind: RecordKind,
    pub org_id: OrgId,
    pub creator_id: UserId,
    pub device_id: DeviceId,
    /// 1, 2, 3… per device, with no gaps; at most [`crate::bounds::MAX_SEQ`].
    #[serde(deserialize_with = "crate::bounds::seq")]
    pub seq: u64,
    /// RFC 3339 UTC with milliseconds, from the till's clock.
    pub created_at: String,
    /// The offline grant it was made under; `None` when made online.
    pub grant_jti: Option<String>,
    /// Lower-case hex SHA-256.
    pub prev_hash: String,
    pub hash: String,
    /// The event itself, as JSON text.
    pub payload: String,
}

impl JournalRecord {
    /// The hash this record must carry, computed from everything else in it.
    pub fn expected_hash(&self) -> String {
        let mut hasher = Sha256::new();
        hasher.update(b"tillpoint-journal-v1");
        let seq = self.seq.to_string();
        let (id, org, creator, device) = (
            self.id.to_string(),
            self.org_id.to_string(),
            self.creator_id.to_string(),
            self.device_id.to_string(),
        );
        let fields: [&[u8]; 10] = [
            id.as_bytes(),
            self.kind.as_str().as_bytes(),
            org.as_bytes(),
            creator.as_bytes(),
            device.as_bytes(),
            seq.as_bytes(),
            self.created_at.as_bytes(),
            self.grant_jti.as_deref().unwrap_or("").as_bytes(),
            self.prev_hash.as_bytes(),
            self.payload.as_bytes(),
        ];
        for field in fields {
            // Length-prefixed, so no two different records share an input.
            hasher.update((field.len() as u64).to_be_bytes());
            hasher.update(field);
        }
        hex(&hasher.finalize())
    }

    /// Whether the record's hash is its own (not edited since it was written).
    pub fn hash_is_intact(&self) -> bool {
        self.hash == self.expected_hash()
    }
}

/// Where a device's chain breaks, if it does.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainError {
    #[error("record {seq} was edited: its hash does not match its contents")]
    Edited { seq: u64 },
    #[error("record {seq} does not follow record {previous}: a record is missing or out of order")]
    Gap { seq: u64, previous: u64 },
    #[error("record {seq} does not link to the record before it: one was removed or replaced")]
    Broken { seq: u64 },
}

/// Checks that `records` continue a chain whose last record had `seq` and `hash`
/// (`(0, GENESIS_HASH)` for a new device).
pub fn verify_chain<'a>(
    last: (u64, String),
    records: impl IntoIterator<Item = &'a JournalRecord>,
) -> Result<(), ChainError> {
    first_break(last, records).map_or(Ok(()), |(_, broken)| Err(broken))
}

/// Checks that `records` form one intact stretch of a chain on their own: the first record's
/// hash is its own, and every later one continues it ([`verify_chain`]): its `seq` the next,
/// its `prev_hash` the previous record's hash, its hash its own. Where the stretch starts is
/// not judged here (that is the receiver's copy of the chain). An empty slice is intact.
pub fn verify_stretch(records: &[JournalRecord]) -> Result<(), ChainError> {
    stretch_break(records).map_or(Ok(()), |(_, broken)| Err(broken))
}

/// How many leading records of `records` form one intact stretch ([`verify_stretch`]): what a
/// device can sign as one batch.
pub fn intact_prefix_len(records: &[JournalRecord]) -> usize {
    stretch_break(records).map_or(records.len(), |(at, _)| at)
}

fn stretch_break(records: &[JournalRecord]) -> Option<(usize, ChainError)> {
    let first = records.first()?;
    if !first.hash_is_intact() {
        return Some((0, ChainError::Edited { seq: first.seq }));
    }
    first_break((first.seq, first.hash.clone()), &records[1..]).map(|(at, broken)| (at + 1, broken))
}

/// The first record of `records` that does not continue the chain ending at `last`: its
/// position and why.
fn first_break<'a>(
    mut last: (u64, String),
    records: impl IntoIterator<Item = &'a JournalRecord>,
) -> Option<(usize, ChainError)> {
    for (at, record) in records.into_iter().enumerate() {
        let broken = if last.0.checked_add(1) != Some(record.seq) {
            ChainError::Gap {
                seq: record.seq,
                previous: last.0,
            }
        } else if record.prev_hash != last.1 {
            ChainError::Broken { seq: record.seq }
        } else if !record.hash_is_intact() {
            ChainError::Edited { seq: record.seq }
        } else {
            last = (record.seq, record.hash.clone());
            continue;
        };
        return Some((at, broken));
    }
    None
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(seq: u64, prev_hash: &str, payload: &str) -> JournalRecord {
        let mut record = JournalRecord {
            id: Uuid::now_v7(),
            kind: RecordKind::Sale,
            org_id: OrgId::from_uuid(Uuid::from_u128(1)),
            creator_id: UserId::from_uuid(Uuid::from_u128(2)),
            device_id: DeviceId::from_uuid(Uuid::from_u128(3)),
            seq,
            created_at: "2026-11-27T10:00:00.000Z".into(),
            grant_jti: None,
            prev_hash: prev_hash.into(),
            hash: String::new(),
            payload: payload.into(),
        };
        record.hash = record.expected_hash();
        record
    }

    fn chain(n: u64) -> Vec<JournalRecord> {
        let mut records: Vec<JournalRecord> = Vec::new();
        for seq in 1..=n {
            let prev = records
                .last()
                .map_or(GENESIS_HASH.to_owned(), |r| r.hash.clone());
            records.push(record(seq, &prev, &format!("{{\"n\":{seq}}}")));
        }
        records
    }

    #[test]
    fn an_intact_chain_verifies() {
        let records = chain(5);
        assert_eq!(records[0].hash.len(), 64);
        verify_chain((0, GENESIS_HASH.into()), &records).unwrap();
        // And it continues from where an earlier batch ended.
        verify_chain((2, records[1].hash.clone()), &records[2..]).unwrap();
    }

    #[test]
    fn an_edited_record_is_detected() {
        let mut records = chain(3);
        records[1].payload = "{\"n\":99}".into();
        assert_eq!(
            verify_chain((0, GENESIS_HASH.into()), &records),
            Err(ChainError::Edited { seq: 2 })
        );
        // Re-hashing the edited record does not help: the next one no longer links to it.
        records[1].hash = records[1].expected_hash();
        assert_eq!(
            verify_chain((0, GENESIS_HASH.into()), &records),
            Err(ChainError::Broken { seq: 3 })
        );
    }

    #[test]
    fn a_stretch_is_judged_on_its_own_links_wherever_it_starts() {
        let records = chain(5);
        verify_stretch(&records[2..]).unwrap();
        verify_stretch(&[]).unwrap();
        let mut reordered = records.clone();
        reordered.swap(1, 2);
        assert_eq!(
            verify_stretch(&reordered),
            Err(ChainError::Gap {
                seq: 3,
                previous: 1
            })
        );
        let mut edited = records.clone();
        edited[0].payload = "{}".into();
        assert_eq!(verify_stretch(&edited), Err(ChainError::Edited { seq: 1 }));
        let mut huge = records[..2].to_vec();
        huge[0].seq = u64::MAX;
        huge[0].hash = huge[0].expected_hash();
        huge[1].prev_hash = huge[0].hash.clone();
        huge[1].hash = huge[1].expected_hash();
        assert!(matches!(verify_stretch(&huge), Err(ChainError::Gap { .. })));
        // What a device can sign: the run before the first break.
        assert_eq!(intact_prefix_len(&records), 5);
        assert_eq!(intact_prefix_len(&reordered), 1);
        assert_eq!(intact_prefix_len(&edited), 0);
        assert_eq!(intact_prefix_len(&huge), 1);
    }

    #[test]
    fn a_deleted_record_is_detected() {
        let mut records = chain(4);
        records.remove(2);
        assert_eq!(
            verify_chain((0, GENESIS_HASH.into()), &records),
            Err(ChainError::Gap {
                seq: 4,
                previous: 2
            })
        );
    }

    #[test]
    fn every_header_field_is_covered() {
        let original = record(1, GENESIS_HASH, "{}");
        let mut edits: Vec<JournalRecord> = Vec::new();
        let mut edit = |change: &dyn Fn(&mut JournalRecord)| {
            let mut r = original.clone();
            change(&mut r);
            edits.push(r);
        };
        edit(&|r| r.kind = RecordKind::Refund);
        edit(&|r| r.org_id = OrgId::from_uuid(Uuid::from_u128(9)));
        edit(&|r| r.creator_id = UserId::from_uuid(Uuid::from_u128(9)));
        edit(&|r| r.device_id = DeviceId::from_uuid(Uuid::from_u128(9)));
        edit(&|r| r.created_at = "2026-11-27T10:00:00.001Z".into());
        edit(&|r| r.grant_jti = Some("g".into()));
        edit(&|r| r.id = Uuid::from_u128(9));
        for edited in edits {
            assert!(!edited.hash_is_intact(), "{edited:?}");
        }
    }
}

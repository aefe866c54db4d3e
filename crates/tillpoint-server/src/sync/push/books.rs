//! What a batch's judging and applying need to know of the server's books, read for the
//! whole batch at once and kept up to date in memory as its records are stored and applied:
//! the copies held of its records, the sale ids and receipt numbers taken and the grants'
//! running totals. Between records nothing then needs asking of the database, so the rows the
//! batch writes can go out together ([`crate::store::Connection::hold`]) instead of one round
//! trip each; the running totals and the stock the batch moved are written once, at the end.
//!
//! A push runs beside the pushes of the organisation's other devices
//! ([`crate::store::Connection::device_transaction`]). What it reads here is its own device's
//! (copies, chain, grants: the device's other writers wait), or a clash with another device
//! that the database's keys catch if it races. Stock levels are shared: the batch adds what
//! it moved to each level once it has the organisation's turn, and then reads the levels
//! back, so a level below zero is flagged as the books stand with this batch applied last.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Utc};
use serde_json::json;

use crate::store::Connection;
use rusqlite::OptionalExtension;
use tillpoint_protocol::journal::JournalRecord;
use tillpoint_protocol::OrgId;

use super::{parse_payload, Payload};

/// A copy of a record the server holds: what its contents hash to, its status and reason.
pub(crate) type HeldCopy = (String, String, Option<String>);

#[derive(Default)]
pub(crate) struct BatchBooks {
    org: String,
    /// Every copy held of the batch's records, by record id.
    copies: HashMap<String, Vec<HeldCopy>>,
    /// The device that recorded each sale id and receipt number taken, of those the batch
    /// names (and those it has applied).
    sale_ids: HashMap<String, String>,
    receipts: HashMap<String, String>,
    /// Offline sales so far per (grant, currency); `dirty` ones are written at the end.
    grant_totals: HashMap<(String, String), i64>,
    dirty_grants: BTreeSet<(String, String)>,
    /// The stock the batch moved per (product, location, '' for none), in order, with what
    /// a level below zero is flagged with.
    moves: BTreeMap<(String, String), Vec<Move>>,
    /// The grants whose rows were read: one missing stands at zero.
    grants_read: HashSet<String>,
    /// The batch's payloads by (seq, hash), until judging takes them.
    payloads: HashMap<(u64, String), Result<Payload, String>>,
}

/// One movement of stock by an applied record.
struct Move {
    stored_id: String,
    sku: String,
    milli: i64,
}

impl BatchBooks {
    /// Reads what judging and applying `records` may ask about.
    pub(crate) fn read(
        conn: &Connection,
        org: OrgId,
        records: &[&JournalRecord],
    ) -> rusqlite::Result<Self> {
        let mut books = BatchBooks {
            org: org.to_string(),
            ..Self::default()
        };
        let ids: Vec<String> = records.iter().map(|r| r.id.to_string()).collect();
        let (mut sale_ids, mut receipts, mut grants) = (Vec::new(), Vec::new(), HashSet::new());
        for record in records {
            // Read once, here: judging takes each back ([`BatchBooks::take_payload`]) and
            // rejects an unreadable one, for which there is nothing to read.
            let payload = parse_payload(record.kind, &record.payload);
            if let Ok(Payload::Sale(sale)) = &payload {
                sale_ids.push(sale.sale_id.to_string());
                receipts.push(sale.receipt_no.clone());
                if let Some(jti) = &record.grant_jti {
                    grants.insert(jti.clone());
                }
            }
            books
                .payloads
                .insert((record.seq, record.hash.clone()), payload);
        }
        let org = books.org.clone();
        conn.query_in(
            "SELECT record_id, content_hash, status, reason FROM sync_records
              WHERE org_id = ?1 AND record_id IN",
            &org,
            &ids,
            |row| {
                let copy = (row.get(1)?, row.get(2)?, row.get(3)?);
                books.copies.entry(row.get(0)?).or_default().push(copy);
                Ok(())
            },
        )?;
        conn.query_in(
            "SELECT id, device_id FROM sales WHERE org_id = ?1 AND id IN",
            &org,
            &sale_ids,
            |row| {
                books.sale_ids.insert(row.get(0)?, row.get(1)?);
                Ok(())
            },
        )?;
        conn.query_in(
            "SELECT receipt_no, device_id FROM sales WHERE org_id = ?1 AND receipt_no IN",
            &org,
            &receipts,
            |row| {
                books.receipts.entry(row.get(0)?).or_insert(row.get(1)?);
                Ok(())
            },
        )?;
        let grants: Vec<String> = grants.into_iter().collect();
        conn.query_in(
            "SELECT grant_jti, currency, total_minor FROM grant_usage
              WHERE org_id = ?1 AND grant_jti IN",
            &org,
            &grants,
            |row| {
                books
                    .grant_totals
                    .insert((row.get(0)?, row.get(1)?), row.get(2)?);
                Ok(())
            },
        )?;
        // Read: a grant with no row stands at zero.
        books.grants_read = grants.into_iter().collect();
        Ok(books)
    }

    /// The payload of `record` as [`BatchBooks::read`] read it; `None` once taken or for a
    /// record it was not given. Records are told apart by seq and hash: the batch checks
    /// found every hash to be its record's own, so one key is one content.
    pub(crate) fn take_payload(
        &mut self,
        record: &JournalRecord,
    ) -> Option<Result<Payload, String>> {
        self.payloads.remove(&(record.seq, record.hash.clone()))
    }

    /// The copies held of record `id`.
    pub(crate) fn copies_of(&self, id: &str) -> &[HeldCopy] {
        self.copies.get(id).map_or(&[], Vec::as_slice)
    }

    /// Notes a copy of record `id` stored by this batch.
    pub(crate) fn stored(&mut self, id: &str, copy: HeldCopy) {
        self.copies.entry(id.to_owned()).or_default().push(copy);
    }

    /// The device that recorded `sale_id`, or else receipt number `receipt_no`, if either is
    /// taken.
    pub(crate) fn sale_clash(&self, sale_id: &str, receipt_no: &str) -> Option<&str> {
        self.sale_ids
            .get(sale_id)
            .or_else(|| self.receipts.get(receipt_no))
            .map(String::as_str)
    }

    /// Notes a sale applied by this batch.
    pub(crate) fn sale_applied(&mut self, sale_id: &str, receipt_no: &str, device: &str) {
        self.sale_ids.insert(sale_id.to_owned(), device.to_owned());
        self.receipts
            .entry(receipt_no.to_owned())
            .or_insert_with(|| device.to_owned());
    }

    /// What has been sold offline under grant `jti` in `currency`, this batch included.
    pub(crate) fn grant_used(
        &mut self,
        conn: &Connection,
        jti: &str,
        currency: &str,
    ) -> rusqlite::Result<i64> {
        let key = (jti.to_owned(), currency.to_owned());
        if let Some(total) = self.grant_totals.get(&key) {
            return Ok(*total);
        }
        let total = if self.grants_read.contains(jti) {
            0
        } else {
            conn.prepare_cached(
                "SELECT total_minor FROM grant_usage
                  WHERE org_id = ?1 AND grant_jti = ?2 AND currency = ?3",
            )?
            .query_row((&self.org, jti, currency), |r| r.get(0))
            .optional()?
            .unwrap_or(0)
        };
        self.grant_totals.insert(key, total);
        Ok(total)
    }

    /// Adds `amount` to what grant `jti` has sold in `currency`.
    pub(crate) fn add_grant_use(
        &mut self,
        conn: &Connection,
        jti: &str,
        currency: &str,
        amount: i64,
    ) -> rusqlite::Result<()> {
        let used = self.grant_used(conn, jti, currency)?;
        let key = (jti.to_owned(), currency.to_owned());
        self.grant_totals
            .insert(key.clone(), used.saturating_add(amount));
        self.dirty_grants.insert(key);
        Ok(())
    }

    /// Notes `milli` of `product` moved at `location` (`None`: none) by applied record
    /// `stored_id`, a line of `sku`.
    pub(crate) fn move_stock(
        &mut self,
        stored_id: &str,
        product: &str,
        sku: &str,
        location: Option<&str>,
        milli: i64,
    ) {
        let key = (product.to_owned(), location.unwrap_or("").to_owned());
        self.moves.entry(key).or_default().push(Move {
            stored_id: stored_id.to_owned(),
            sku: sku.to_owned(),
            milli,
        });
    }

    /// Writes the running totals and the stock the batch moved, and flags each movement that
    /// left its level below zero (`negative_stock`, stamped `now`).
    ///
    /// Levels are shared with the organisation's other devices, so they are written in its
    /// turn ([`Connection::add_to_stock_levels`]), each as one addition of the batch's moves:
    /// nothing another push added is overwritten, whatever order the pushes commit in. Sums
    /// saturate at the ends of `i64`, as the levels do.
    pub(crate) fn write(&mut self, conn: &Connection, now: DateTime<Utc>) -> rusqlite::Result<()> {
        for key in std::mem::take(&mut self.dirty_grants) {
            conn.hold(
                "INSERT INTO grant_usage (org_id, grant_jti, currency, total_minor)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (org_id, grant_jti, currency)
                 DO UPDATE SET total_minor = excluded.total_minor",
                (&self.org, &key.0, &key.1, self.grant_totals[&key]),
            )?;
        }
        let moves = std::mem::take(&mut self.moves);
        if moves.is_empty() {
            return Ok(());
        }
        let sums: Vec<(String, String, i64)> = moves
            .iter()
            .map(|((product, location), moved)| {
                let sum = moved
                    .iter()
                    .fold(0i64, |sum, m| sum.saturating_add(m.milli));
                (product.clone(), location.clone(), sum)
            })
            .collect();
        let levels = conn.add_to_stock_levels(&self.org, &sums)?;
        for ((product, location, sum), moved) in sums.into_iter().zip(moves.values()) {
            let key = (product, location);
            let after: i64 = levels.get(&key).copied().unwrap_or(0);
            let mut on_hand = after.saturating_sub(sum);
            for m in moved {
                on_hand = on_hand.saturating_add(m.milli);
                if m.milli < 0 && on_hand < 0 {
                    let location = (!key.1.is_empty()).then_some(key.1.as_str());
                    super::applying::exception(
                        conn,
                        &self.org,
                        &m.stored_id,
                        "negative_stock",
                        json!({"product_id": key.0, "sku": m.sku, "location_id": location, "on_hand_milli": on_hand}),
                        now,
                    )?;
                }
            }
        }
        Ok(())
    }
}

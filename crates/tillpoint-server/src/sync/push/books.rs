//! What a batch's judging and applying need to know of the server's books, read for the
//! whole batch at once and kept up to date in memory as its records are stored and applied:
//! the copies held of its records, the sale ids and receipt numbers taken, the grants'
//! running totals and the stock levels. Between records nothing then needs asking of the
//! database, so the rows the batch writes can go out together
//! ([`crate::store::Connection::hold`]) instead of one round trip each; the running totals and
//! levels are written once, at the end.
//!
//! Everything here is read in the batch's transaction, so it is what the database holds for
//! as long as the batch runs (the organisation's writers take turns: SQLite's one writer,
//! PostgreSQL's serializable transactions behind the organisation's lock).

use std::collections::{BTreeSet, HashMap, HashSet};

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
    /// On hand per (product, location, '' for none); `dirty` ones are written at the end.
    levels: HashMap<(String, String), i64>,
    dirty_levels: BTreeSet<(String, String)>,
    /// The products and grants whose rows were read: one missing stands at zero.
    products_read: HashSet<String>,
    grants_read: HashSet<String>,
    /// The batch's payloads by (seq, hash), until judging takes them.
    payloads: HashMap<(u64, String), Result<Payload, String>>,
}

/// Values per query of the reads below: lists are padded to a power of two (repeating their
/// last value, which changes no answer), so a batch of any size uses a few prepared shapes.
const MOST_PER_QUERY: usize = 256;

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
        let (mut sale_ids, mut receipts, mut products, mut grants) =
            (Vec::new(), Vec::new(), HashSet::new(), HashSet::new());
        for record in records {
            // Read once, here: judging takes each back ([`BatchBooks::take_payload`]) and
            // rejects an unreadable one, for which there is nothing to read.
            let payload = parse_payload(record.kind, &record.payload);
            if let Ok(Payload::Sale(sale)) = &payload {
                sale_ids.push(sale.sale_id.to_string());
                receipts.push(sale.receipt_no.clone());
                products.extend(sale.lines.iter().map(|l| l.product_id.to_string()));
                if let Some(jti) = &record.grant_jti {
                    grants.insert(jti.clone());
                }
            }
            books
                .payloads
                .insert((record.seq, record.hash.clone()), payload);
        }
        books.read_rows(
            conn,
            "SELECT record_id, content_hash, status, reason FROM sync_records
              WHERE org_id = ?1 AND record_id IN",
            &ids,
            |books, row| {
                let copy = (row.get(1)?, row.get(2)?, row.get(3)?);
                books.copies.entry(row.get(0)?).or_default().push(copy);
                Ok(())
            },
        )?;
        books.read_rows(
            conn,
            "SELECT id, device_id FROM sales WHERE org_id = ?1 AND id IN",
            &sale_ids,
            |books, row| {
                books.sale_ids.insert(row.get(0)?, row.get(1)?);
                Ok(())
            },
        )?;
        books.read_rows(
            conn,
            "SELECT receipt_no, device_id FROM sales WHERE org_id = ?1 AND receipt_no IN",
            &receipts,
            |books, row| {
                books.receipts.entry(row.get(0)?).or_insert(row.get(1)?);
                Ok(())
            },
        )?;
        let products: Vec<String> = products.into_iter().collect();
        books.read_rows(
            conn,
            "SELECT product_id, location_id, on_hand_milli FROM stock_levels
              WHERE org_id = ?1 AND product_id IN",
            &products,
            |books, row| {
                books.levels.insert((row.get(0)?, row.get(1)?), row.get(2)?);
                Ok(())
            },
        )?;
        let grants: Vec<String> = grants.into_iter().collect();
        books.read_rows(
            conn,
            "SELECT grant_jti, currency, total_minor FROM grant_usage
              WHERE org_id = ?1 AND grant_jti IN",
            &grants,
            |books, row| {
                books
                    .grant_totals
                    .insert((row.get(0)?, row.get(1)?), row.get(2)?);
                Ok(())
            },
        )?;
        // Read: a product or grant with no row stands at zero.
        books.products_read = products.into_iter().collect();
        books.grants_read = grants.into_iter().collect();
        Ok(books)
    }

    /// Runs `select` (ending in `… IN`) for every value of `values`, in padded chunks.
    fn read_rows(
        &mut self,
        conn: &Connection,
        select: &str,
        values: &[String],
        mut each: impl FnMut(&mut Self, &crate::store::Row<'_, '_>) -> rusqlite::Result<()>,
    ) -> rusqlite::Result<()> {
        let org = self.org.clone();
        for chunk in values.chunks(MOST_PER_QUERY) {
            let width = chunk.len().next_power_of_two();
            let list: Vec<String> = (1..=width).map(|i| format!("?{}", i + 1)).collect();
            let sql = format!("{select} ({})", list.join(", "));
            let mut params: Vec<&str> = Vec::with_capacity(width + 1);
            params.push(&org);
            params.extend(chunk.iter().map(String::as_str));
            let last = *params.last().expect("a chunk is never empty");
            params.resize(width + 1, last);
            conn.prepare_cached(&sql)?
                .query_map(&params, |row| each(self, row))?
                .collect::<rusqlite::Result<Vec<()>>>()?;
        }
        Ok(())
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

    /// Moves a product's level at a location (`None`: none) by `moved` and returns the new
    /// level. The sum saturates at the ends of `i64` rather than overflow: a level pushed
    /// there by records a manager should look at must not stop genuine sales and refunds of
    /// that product from being applied.
    pub(crate) fn move_level(
        &mut self,
        conn: &Connection,
        product: &str,
        location: Option<&str>,
        moved: i64,
    ) -> rusqlite::Result<i64> {
        let key = (product.to_owned(), location.unwrap_or("").to_owned());
        let on_hand = match self.levels.get(&key) {
            Some(level) => *level,
            None if self.products_read.contains(product) => 0,
            None => conn
                .prepare_cached(
                    "SELECT on_hand_milli FROM stock_levels
                      WHERE org_id = ?1 AND product_id = ?2 AND location_id = ?3",
                )?
                .query_row((&self.org, &key.0, &key.1), |r| r.get(0))
                .optional()?
                .unwrap_or(0),
        };
        let on_hand = on_hand.saturating_add(moved);
        self.levels.insert(key.clone(), on_hand);
        self.dirty_levels.insert(key);
        Ok(on_hand)
    }

    /// Writes the levels and running totals the batch changed.
    pub(crate) fn write(&mut self, conn: &Connection) -> rusqlite::Result<()> {
        for key in std::mem::take(&mut self.dirty_levels) {
            conn.hold(
                "INSERT INTO stock_levels (org_id, product_id, location_id, on_hand_milli)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (org_id, product_id, location_id)
                 DO UPDATE SET on_hand_milli = excluded.on_hand_milli",
                (&self.org, &key.0, &key.1, self.levels[&key]),
            )?;
        }
        for key in std::mem::take(&mut self.dirty_grants) {
            conn.hold(
                "INSERT INTO grant_usage (org_id, grant_jti, currency, total_minor)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (org_id, grant_jti, currency)
                 DO UPDATE SET total_minor = excluded.total_minor",
                (&self.org, &key.0, &key.1, self.grant_totals[&key]),
            )?;
        }
        Ok(())
    }
}

//! What must hold after every kill, read straight from the stores.
//!
//! The till (after it is opened again, which recovers SQLite's WAL and finishes any
//! migration): `PRAGMA integrity_check` is ok; the journal's hash chain verifies; every sale
//! and refund the till reported committed is there exactly once; every journal record has
//! its outbox row (so every unsynced record will be pushed); no sale is half-written (a sale
//! or refund record without its sale, a sale without its record, its lines or its stock
//! movements).
//!
//! The server (after a kill during ingest): `PRAGMA integrity_check` is ok; every applied
//! sale record has exactly its one sale and every sale its applied record; every stock level
//! is the sum of its movements; each device's chain head is the last record it holds.

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::{bail, ensure, Context};
use rusqlite::Connection;

/// What a till's store held when it was checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TillFacts {
    pub journal_records: u64,
    pub sales: u64,
    pub pending: u64,
}

/// Opens the till's store as the till would on its next start, and checks it.
pub fn check_till(data_dir: &Path, promised: &BTreeSet<String>) -> anyhow::Result<TillFacts> {
    let store = tillpoint_core::LocalStore::open(data_dir).context("the store reopens")?;
    store.with_conn(|conn| check_till_conn(conn, promised))?
}

fn check_till_conn(conn: &Connection, promised: &BTreeSet<String>) -> anyhow::Result<TillFacts> {
    integrity_ok(conn)?;
    let journal_records =
        tillpoint_core::journal::verify(conn).context("the journal's chain verifies")?;
    let count = |sql: &str| -> anyhow::Result<u64> {
        Ok(conn.query_row(sql, (), |r| r.get::<_, i64>(0))? as u64)
    };
    let mut once = conn.prepare("SELECT COUNT(*) FROM sales WHERE id = ?1")?;
    for id in promised {
        let n: i64 = once.query_row([id], |r| r.get(0))?;
        ensure!(
            n == 1,
            "sale {id} was reported committed but the store holds it {n} times"
        );
    }
    let without_outbox = count(
        "SELECT COUNT(*) FROM journal j LEFT JOIN outbox o ON o.journal_seq = j.seq
         WHERE o.journal_seq IS NULL",
    )?;
    ensure!(
        without_outbox == 0,
        "{without_outbox} journal records have no outbox row: they would never be pushed"
    );
    let records_without_sale = count(
        "SELECT COUNT(*) FROM journal j WHERE j.kind IN ('sale', 'refund')
         AND NOT EXISTS (SELECT 1 FROM sales s WHERE s.journal_seq = j.seq)",
    )?;
    ensure!(
        records_without_sale == 0,
        "{records_without_sale} sale records in the journal have no sale"
    );
    let sales_without_lines = count(
        "SELECT COUNT(*) FROM sales s
         WHERE NOT EXISTS (SELECT 1 FROM sale_lines l WHERE l.sale_id = s.id)",
    )?;
    ensure!(
        sales_without_lines == 0,
        "{sales_without_lines} sales have no lines: half-written"
    );
    let sales_not_matching_lines = count(
        "SELECT COUNT(*) FROM sales s
         WHERE s.total_minor <> (SELECT SUM(l.total_minor) FROM sale_lines l WHERE l.sale_id = s.id)",
    )?;
    ensure!(
        sales_not_matching_lines == 0,
        "{sales_not_matching_lines} sales whose lines do not add up to their total"
    );
    // A sale's stock movements are written in its transaction: one per line that moves
    // goods (a refund line not restocked moves none), taking out what the line sold.
    let movements_off = count(
        "SELECT COUNT(*) FROM sales s WHERE
             (SELECT COUNT(*) FROM stock_movements m WHERE m.sale_id = s.id)
             <> (SELECT COUNT(*) FROM sale_lines l WHERE l.sale_id = s.id
                 AND (s.kind = 'sale' OR l.restock IS NOT 0))
          OR (SELECT COALESCE(SUM(m.quantity_milli), 0) FROM stock_movements m WHERE m.sale_id = s.id)
             <> -(SELECT COALESCE(SUM(l.quantity_milli), 0) FROM sale_lines l WHERE l.sale_id = s.id
                  AND (s.kind = 'sale' OR l.restock IS NOT 0))",
    )?;
    ensure!(
        movements_off == 0,
        "{movements_off} sales whose stock movements do not match their lines"
    );
    Ok(TillFacts {
        journal_records,
        sales: count("SELECT COUNT(*) FROM sales")?,
        pending: count("SELECT COUNT(*) FROM outbox WHERE state = 'pending'")?,
    })
}

/// What the server's store held when it was checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerFacts {
    pub records: u64,
    pub sales: u64,
}

/// Checks the server's database (the server stopped or running: SQLite's WAL lets a reader in).
pub fn check_server(database: &Path) -> anyhow::Result<ServerFacts> {
    let conn = Connection::open(database)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    integrity_ok(&conn)?;
    let count = |sql: &str| -> anyhow::Result<u64> {
        Ok(conn.query_row(sql, (), |r| r.get::<_, i64>(0))? as u64)
    };
    let applied_without_sale = count(
        "SELECT COUNT(*) FROM sync_records r
         WHERE r.kind IN ('sale', 'refund') AND r.status IN ('accepted', 'released')
         AND (SELECT COUNT(*) FROM sales s WHERE s.sync_record_id = r.id) <> 1",
    )?;
    ensure!(
        applied_without_sale == 0,
        "{applied_without_sale} applied sale records without exactly one sale"
    );
    let sales_without_record = count(
        "SELECT COUNT(*) FROM sales s WHERE NOT EXISTS (
             SELECT 1 FROM sync_records r WHERE r.id = s.sync_record_id
             AND r.status IN ('accepted', 'released'))",
    )?;
    ensure!(
        sales_without_record == 0,
        "{sales_without_record} sales without their applied record"
    );
    let levels_off = count(
        "SELECT COUNT(*) FROM stock_levels l WHERE l.on_hand_milli <> (
             SELECT COALESCE(SUM(m.quantity_milli), 0) FROM stock_movements m
             WHERE m.org_id = l.org_id AND m.product_id = l.product_id
             AND COALESCE(m.location_id, '') = l.location_id)",
    )?;
    ensure!(
        levels_off == 0,
        "{levels_off} stock levels differ from the sum of their movements"
    );
    let heads_off = count(
        "SELECT COUNT(*) FROM device_chains c WHERE c.last_seq <> (
             SELECT MAX(r.seq) FROM sync_records r
             WHERE r.org_id = c.org_id AND r.device_id = c.device_id)",
    )?;
    ensure!(
        heads_off == 0,
        "{heads_off} device chain heads do not point at their last record"
    );
    Ok(ServerFacts {
        records: count("SELECT COUNT(*) FROM sync_records")?,
        sales: count("SELECT COUNT(*) FROM sales")?,
    })
}

/// After a till pushed everything: each of its sales is on the server exactly once, and the
/// server holds nothing of that till's that the till does not.
pub fn check_delivered(data_dir: &Path, database: &Path) -> anyhow::Result<u64> {
    let till = Connection::open(data_dir.join(tillpoint_core::store::STORE_FILE))?;
    let pending: i64 = till.query_row(
        "SELECT COUNT(*) FROM outbox WHERE state <> 'synced'",
        (),
        |r| r.get(0),
    )?;
    ensure!(pending == 0, "{pending} records not synced after settling");
    let till_sales: Vec<(String, String)> = {
        let mut stmt = till.prepare("SELECT id, device_id FROM sales")?;
        let rows = stmt.query_map((), |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let server = Connection::open(database)?;
    server.busy_timeout(std::time::Duration::from_secs(10))?;
    let mut once = server.prepare("SELECT COUNT(*) FROM sales WHERE id = ?1")?;
    for (id, _) in &till_sales {
        let n: i64 = once.query_row([id], |r| r.get(0))?;
        ensure!(n == 1, "sale {id} is on the server {n} times");
    }
    if let Some((_, device)) = till_sales.first() {
        let on_server: i64 = server.query_row(
            "SELECT COUNT(*) FROM sales WHERE device_id = ?1",
            [device],
            |r| r.get(0),
        )?;
        ensure!(
            on_server as usize == till_sales.len(),
            "the server holds {on_server} sales of this till, the till {}",
            till_sales.len()
        );
    }
    Ok(till_sales.len() as u64)
}

fn integrity_ok(conn: &Connection) -> anyhow::Result<()> {
    let result: String = conn.query_row("PRAGMA integrity_check", (), |r| r.get(0))?;
    if result != "ok" {
        bail!("PRAGMA integrity_check: {result}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_store_passes_and_a_promised_sale_it_lacks_fails() {
        let dir = tempfile::tempdir().unwrap();
        let facts = check_till(dir.path(), &BTreeSet::new()).unwrap();
        assert_eq!(
            (facts.journal_records, facts.sales, facts.pending),
            (0, 0, 0)
        );
        let promised = BTreeSet::from(["0190-sale".to_string()]);
        let err = check_till(dir.path(), &promised).unwrap_err();
        assert!(format!("{err:#}").contains("reported committed"), "{err:#}");
    }

    #[test]
    fn a_journal_record_without_its_outbox_row_fails() {
        use tillpoint_core::journal::{append, Author};
        use tillpoint_protocol::journal::RecordKind;
        use tillpoint_protocol::{DeviceId, OrgId, UserId};
        let dir = tempfile::tempdir().unwrap();
        let store = tillpoint_core::LocalStore::open(dir.path()).unwrap();
        store
            .with_conn(|conn| {
                let author = Author {
                    org_id: OrgId::from_uuid(uuid::Uuid::now_v7()),
                    user_id: UserId::from_uuid(uuid::Uuid::now_v7()),
                    user_name: "Tendai".into(),
                    device_id: DeviceId::from_uuid(uuid::Uuid::now_v7()),
                    grant_jti: None,
                };
                let id = uuid::Uuid::now_v7();
                append(
                    conn,
                    &author,
                    RecordKind::TillOpened,
                    id,
                    "2026-12-04T10:00:00Z",
                    &"{}",
                )
                .unwrap();
                assert!(check_till_conn(conn, &BTreeSet::new()).is_ok());
                // What a till that lost the row would hold: a record nothing will push.
                conn.execute("DELETE FROM outbox", []).unwrap();
            })
            .unwrap();
        drop(store);
        let err = check_till(dir.path(), &BTreeSet::new()).unwrap_err();
        assert!(format!("{err:#}").contains("outbox"), "{err:#}");
    }

    #[test]
    fn a_half_written_sale_fails_at_each_thing_it_lacks() {
        use tillpoint_core::journal::{append, Author};
        use tillpoint_protocol::journal::RecordKind;
        use tillpoint_protocol::{DeviceId, OrgId, UserId};
        let dir = tempfile::tempdir().unwrap();
        let store = tillpoint_core::LocalStore::open(dir.path()).unwrap();
        store
            .with_conn(|conn| {
                let author = Author {
                    org_id: OrgId::from_uuid(uuid::Uuid::now_v7()),
                    user_id: UserId::from_uuid(uuid::Uuid::now_v7()),
                    user_name: "Tendai".into(),
                    device_id: DeviceId::from_uuid(uuid::Uuid::now_v7()),
                    grant_jti: None,
                };
                let id = uuid::Uuid::now_v7();
                let record = append(
                    conn,
                    &author,
                    RecordKind::Sale,
                    id,
                    "2026-12-04T10:00:00Z",
                    &"{}",
                )
                .unwrap();
                let none = BTreeSet::new();
                let fails_with = |what: &str| {
                    let err = check_till_conn(conn, &none).unwrap_err();
                    assert!(format!("{err:#}").contains(what), "{what}: {err:#}");
                };
                fails_with("have no sale");

                // The sale's row without its till session (not what is checked here).
                conn.execute_batch("PRAGMA foreign_keys = OFF").unwrap();
                conn.execute(
                    "INSERT INTO sales (id, receipt_seq, receipt_no, kind, session_id, org_id,
                     creator_id, creator_name, device_id, currency, subtotal_minor,
                     discount_minor, total_minor, vat_minor, created_at, journal_seq)
                     VALUES ('s1', 1, 'R-1', 'sale', 'session', 'o', 'u', 'Tendai', 'd', 'USD',
                     250, 0, 250, 33, '2026-12-04T10:00:00Z', ?1)",
                    [record.seq as i64],
                )
                .unwrap();
                fails_with("no lines");

                conn.execute(
                    "INSERT INTO sale_lines (sale_id, line_no, product_id, sku, name, unit,
                     quantity_milli, unit_price_minor, list_price_minor, line_discount_minor,
                     cart_discount_minor, total_minor, tax_code, tax_rate_bp, vat_minor)
                     VALUES ('s1', 1, 'p1', 'BREAD', 'Bread', 'each', 2000, 125, 125, 0, 0,
                     200, 'standard', 1500, 26)",
                    (),
                )
                .unwrap();
                fails_with("do not add up");

                conn.execute("UPDATE sale_lines SET total_minor = 250", [])
                    .unwrap();
                fails_with("stock movements");

                conn.execute(
                    "INSERT INTO stock_movements (id, product_id, quantity_milli, reason,
                     sale_id, journal_seq, created_at)
                     VALUES ('m1', 'p1', -2000, 'sale', 's1', ?1, '2026-12-04T10:00:00Z')",
                    [record.seq as i64],
                )
                .unwrap();
                let facts = check_till_conn(conn, &BTreeSet::from(["s1".to_string()])).unwrap();
                assert_eq!((facts.sales, facts.pending), (1, 1));
            })
            .unwrap();
    }

    /// The tables and columns `check_server` reads, as the server's schema has them.
    fn server_store(dir: &Path) -> std::path::PathBuf {
        let path = dir.join("server.db");
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(
            "CREATE TABLE sync_records (id TEXT PRIMARY KEY, org_id TEXT, device_id TEXT,
                 seq INTEGER, kind TEXT, status TEXT);
             CREATE TABLE sales (id TEXT, sync_record_id TEXT);
             CREATE TABLE stock_movements (org_id TEXT, product_id TEXT, location_id TEXT,
                 quantity_milli INTEGER);
             CREATE TABLE stock_levels (org_id TEXT, product_id TEXT, location_id TEXT,
                 on_hand_milli INTEGER);
             CREATE TABLE device_chains (org_id TEXT, device_id TEXT, last_seq INTEGER);
             INSERT INTO sync_records VALUES ('r1', 'o', 'd', 1, 'sale', 'accepted');
             INSERT INTO sales VALUES ('s1', 'r1');
             INSERT INTO stock_movements VALUES ('o', 'p1', NULL, -2000);
             INSERT INTO stock_levels VALUES ('o', 'p1', '', -2000);
             INSERT INTO device_chains VALUES ('o', 'd', 1);",
        )
        .unwrap();
        path
    }

    #[test]
    fn a_server_store_torn_by_a_kill_fails() {
        let dir = tempfile::tempdir().unwrap();
        let path = server_store(dir.path());
        let facts = check_server(&path).unwrap();
        assert_eq!((facts.records, facts.sales), (1, 1));
        for (tear, what) in [
            ("DELETE FROM sales", "without exactly one sale"),
            (
                "INSERT INTO sales VALUES ('s2', 'r-none')",
                "without their applied record",
            ),
            (
                "UPDATE stock_levels SET on_hand_milli = 0",
                "differ from the sum",
            ),
            ("UPDATE device_chains SET last_seq = 2", "chain heads"),
        ] {
            let torn = tempfile::tempdir().unwrap();
            let path = server_store(torn.path());
            Connection::open(&path)
                .unwrap()
                .execute_batch(tear)
                .unwrap();
            let err = check_server(&path).unwrap_err();
            assert!(format!("{err:#}").contains(what), "{tear}: {err:#}");
        }
    }
}

//! The load generator against the real server in-process: tills spread over two instances
//! push their offline sales while the catalog is edited through both instances' pools and
//! another till pulls all the while. On PostgreSQL (TILLPOINT_TEST_POSTGRES) that is two
//! instances sharing one database; on SQLite, one instance serving both roles.
//!
//! The pull's change numbers are handed out under concurrent writers: a number taken by a
//! transaction that commits after a later number was read would be a gap a till skips for
//! good. The till that pulled during the writes must end up holding exactly what a till
//! pulling from scratch afterwards holds.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rusqlite::types::Value;
use tillpoint_loadgen::{run, Options};
use tillpoint_protocol::{Barcode, CurrencyCode, OrgId};
use tillpoint_server::catalog::{add_products, NewProduct, Unit};
use tillpoint_server::store::{Database, DatabaseUrl, DbError};
use tillpoint_server::testing::{spawn_another_instance, spawn_demo_server};

const PASSWORD: &str = "loadgen-test-password";
const TILLS: usize = 4;
const SALES_PER_TILL: u64 = 25;
const EDIT_ROUNDS: u32 = 16;

/// What a till holds from the pull, without its own bookkeeping (when it received a row).
const PULLED: [(&str, &str); 7] = [
    (
        "products",
        "id, sku, name, unit, tax_class_id, price_minor, currency, active, updated_at",
    ),
    ("barcodes", "barcode, product_id"),
    ("stock_levels", "product_id, location_id, on_hand_milli"),
    ("tax_classes", "id, code, name, rate_bp"),
    ("locations", "*"),
    ("currencies", "*"),
    ("exchange_rates", "*"),
];

fn pulled_rows(data_dir: &Path) -> Vec<(&'static str, Vec<Vec<Value>>)> {
    let conn = rusqlite::Connection::open(data_dir.join("till.db")).unwrap();
    PULLED
        .iter()
        .map(|(table, columns)| {
            let mut stmt = conn
                .prepare(&format!("SELECT {columns} FROM {table} ORDER BY 1, 2"))
                .unwrap();
            let width = stmt.column_count();
            let rows = stmt
                .query_map((), |row| (0..width).map(|i| row.get(i)).collect())
                .unwrap()
                .collect::<rusqlite::Result<Vec<Vec<Value>>>>()
                .unwrap();
            (*table, rows)
        })
        .collect()
}

/// One round of an administrator's catalog work, in one transaction: a new product and a
/// price change on an existing one.
fn edit_catalog(db: &Database, org: OrgId, round: u32) -> Result<(), DbError> {
    db.call_blocking_in(org, |conn| -> Result<(), DbError> {
        let tx = conn.transaction()?;
        let org_text = org.to_string();
        let tax_class_id: String = tx.query_row(
            "SELECT id FROM tax_classes WHERE org_id = ?1 AND code = 'standard'",
            [&org_text],
            |r| r.get(0),
        )?;
        let product = NewProduct {
            sku: format!("EDIT-{round:04}"),
            name: format!("Added during the load {round}"),
            unit: Unit::Each,
            tax_class_id,
            price_minor: 250 + i64::from(round),
            currency: CurrencyCode::parse("USD").unwrap(),
            barcodes: vec![
                Barcode::ean13_from_body(&format!("{:012}", 770_000_000 + round)).unwrap(),
            ],
        };
        add_products(&tx, org, [product])?;
        tx.execute(
            "UPDATE products SET price_minor = price_minor + 1
             WHERE org_id = ?1 AND sku = ?2",
            (&org_text, format!("SKU-{:07}", round % 20)),
        )?;
        tx.commit()?;
        Ok(())
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sales_pushed_through_two_instances_reconcile_and_a_till_pulling_meanwhile_misses_nothing()
{
    let server = spawn_demo_server(200, PASSWORD).await;
    let other = spawn_another_instance(&server).await;
    let second = other.as_ref().unwrap_or(&server);
    let database = server.database_url.clone().unwrap_or_else(|| {
        DatabaseUrl::Sqlite(server.db.sqlite_path().expect("SQLite").to_owned())
    });
    let org: OrgId = server
        .db
        .call(|c| -> Result<String, DbError> {
            Ok(c.query_row(
                "SELECT org_id FROM users WHERE username = 'cashier'",
                (),
                |r| r.get(0),
            )?)
        })
        .await
        .unwrap()
        .parse()
        .unwrap();
    let work = tempfile::tempdir().unwrap();

    let watcher_dir = work.path().join("watcher");
    let watcher = tillpoint_headless::open_till(&watcher_dir, second.url.as_str()).unwrap();
    watcher.sign_in("cashier", PASSWORD).await.unwrap();
    watcher.pull_catalog(|_| {}).await.unwrap();

    let options = Options {
        servers: vec![server.url.to_string(), second.url.to_string()],
        database,
        tills: TILLS,
        sales_per_till: SALES_PER_TILL,
        batch: 10,
        push_rate: None,
        username: "cashier".into(),
        password: PASSWORD.into(),
        admin: Some(("admin".into(), PASSWORD.into())),
        work_dir: work.path().join("tills"),
    };
    let load = tokio::spawn(async move { run(&options).await });

    let dbs = [server.db.clone(), second.db.clone()];
    let edits_done = Arc::new(AtomicBool::new(false));
    let edits = {
        let done = edits_done.clone();
        tokio::task::spawn_blocking(move || {
            for round in 0..EDIT_ROUNDS {
                edit_catalog(&dbs[round as usize % 2], org, round).expect("a catalog edit");
                std::thread::sleep(Duration::from_millis(30));
            }
            done.store(true, Ordering::SeqCst);
        })
    };

    let mut pulls_during = 0;
    while !(load.is_finished() && edits_done.load(Ordering::SeqCst)) {
        watcher
            .pull_catalog(|_| {})
            .await
            .expect("a pull during the load");
        pulls_during += 1;
        tokio::time::sleep(Duration::from_millis(15)).await;
    }
    edits.await.unwrap();
    let report = load.await.unwrap().expect("the load ran");
    watcher.pull_catalog(|_| {}).await.unwrap();

    assert!(report.reconciles(), "{report:?}");
    assert_eq!(report.made_sales, TILLS as u64 * SALES_PER_TILL);
    assert_eq!(report.server.sales, report.made_sales as i64);
    assert_eq!(report.server.quarantined, 0);
    assert!(pulls_during >= 3, "the watcher pulled {pulls_during} times");

    let fresh_dir = work.path().join("fresh");
    let fresh = tillpoint_headless::open_till(&fresh_dir, server.url.as_str()).unwrap();
    fresh.sign_in("cashier", PASSWORD).await.unwrap();
    fresh.pull_catalog(|_| {}).await.unwrap();

    let (watched, from_scratch) = (pulled_rows(&watcher_dir), pulled_rows(&fresh_dir));
    for ((table, watched), (_, from_scratch)) in watched.iter().zip(&from_scratch) {
        assert_eq!(
            watched.len(),
            from_scratch.len(),
            "{table}: the till that pulled during the load holds a different number of rows"
        );
        assert!(
            watched == from_scratch,
            "{table}: the till that pulled during the load holds different rows"
        );
    }
    let added: i64 = from_scratch
        .iter()
        .find(|(t, _)| *t == "products")
        .map(|(_, rows)| rows.len() as i64)
        .unwrap();
    assert_eq!(added, 200 + i64::from(EDIT_ROUNDS));
    let moved: usize = from_scratch
        .iter()
        .find(|(t, _)| *t == "stock_levels")
        .map(|(_, rows)| rows.len())
        .unwrap();
    assert!(moved > 0, "the sales moved stock the tills pulled back");

    // Every change number names one record: none handed out twice.
    let duplicated: i64 = server
        .db
        .call(move |c| -> Result<i64, DbError> {
            Ok(c.query_row(
                "SELECT COUNT(*) FROM (
                   SELECT version FROM (
                     SELECT org_id, version FROM sync_changes
                     UNION ALL SELECT org_id, version FROM sync_changes_more) AS numbered
                   WHERE org_id = ?1 GROUP BY version HAVING COUNT(*) > 1) AS twice",
                [org.to_string()],
                |r| r.get(0),
            )?)
        })
        .await
        .unwrap();
    assert_eq!(duplicated, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_paced_push_sends_one_batch_per_till_on_schedule_and_reconciles() {
    const TILLS: usize = 3;
    const BATCH: usize = 4;
    let server = spawn_demo_server(50, PASSWORD).await;
    let database = server.database_url.clone().unwrap_or_else(|| {
        DatabaseUrl::Sqlite(server.db.sqlite_path().expect("SQLite").to_owned())
    });
    let work = tempfile::tempdir().unwrap();
    // 12 records a second between 3 tills of 4-record batches: each till's next batch is due
    // a second after its last.
    let options = Options {
        servers: vec![server.url.to_string()],
        database,
        tills: TILLS,
        sales_per_till: 11,
        batch: BATCH,
        push_rate: Some(12.0),
        username: "cashier".into(),
        password: PASSWORD.into(),
        admin: Some(("admin".into(), PASSWORD.into())),
        work_dir: work.path().join("tills"),
    };
    let report = run(&options).await.expect("the load ran");

    assert!(report.reconciles(), "{report:?}");
    // 11 sales and the till's opening: 12 records, three batches a till.
    assert_eq!(report.pushed_records, TILLS as u64 * 12);
    assert_eq!(report.push_batches.len(), TILLS * 3);
    assert!(
        report.push_wall >= Duration::from_secs(2),
        "three batches a second apart took {:?}: the push was not paced",
        report.push_wall
    );
}

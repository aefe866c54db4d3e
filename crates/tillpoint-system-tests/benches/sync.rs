//! The sync speed targets of issue 7, measured through the till's own sync engine against the
//! real server started in-process (SQLite, every push check on):
//!
//! - **push**: 100,000 offline sales pushed from one till (`Till::push_outbox`, batches of
//!   500, signed, over HTTP on loopback) — target ≥ 2,000 sales/s end to end;
//! - **pull**: a 1,000,000-product catalog (`demo::seed`, as `tillpoint-server demo
//!   --products 1000000`) pulled into a fresh till (`Till::pull_catalog`) — target ≤ 60 s.
//!
//! `cargo bench -p tillpoint-system-tests --bench sync` runs both; `-- push` or `-- pull` runs one.
//! `TILLPOINT_BENCH_SALES` and `TILLPOINT_BENCH_PRODUCTS` change the sizes. Figures in
//! docs/benchmarks.md.
//!
//! How the till's journal is made: one real offline sale through `Till::checkout` (a signed-in
//! cashier, unlocked offline, the till opened), then 99,999 more written with
//! `tillpoint_core::journal::append` — the function `checkout` itself writes the journal and
//! outbox with — as copies of that sale's payload with a new sale id and receipt number, so
//! each is a distinct, correctly chained offline sale under the same grant. Making them all
//! through `checkout` would take minutes and measure checkout, not sync. The timed part is
//! the push alone: reading the outbox, signing, HTTP, the server's checks and ingest, and
//! storing the answers.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use reqwest::Url;

use rusqlite::Connection;
use tillpoint_core::journal::{self, Author};
use tillpoint_core::sales::till_session::CountInput;
use tillpoint_core::sales::{CheckoutInput, PaymentRequest};
use tillpoint_core::sign_in::secrets::MemorySecrets;
use tillpoint_core::{LogLevel, Till};
use tillpoint_protocol::journal::RecordKind;
use tillpoint_protocol::sales::{SalePayload, TenderMethod};
use tillpoint_protocol::{Barcode, CurrencyCode};
use tillpoint_server::catalog::{add_products, NewProduct, Unit};
use tillpoint_server::demo;
use tillpoint_server::store::{Database, DbError};
use tillpoint_system_tests::{spawn_demo_server, till_config, TestServer};

const PASSWORD: &str = "sync-bench-password";
const SWEET_BARCODE: &str = "6001000000018";

fn size(var: &str, default: u64) -> u64 {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The real server on 127.0.0.1:0 with the demo organisation and `products` products.
async fn server(products: u64) -> TestServer {
    let t = Instant::now();
    let server = spawn_demo_server(products as usize, PASSWORD).await;
    println!(
        "server: demo organisation with {products} products seeded in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    server
}

fn till(url: &Url, dir: &Path) -> Till {
    let mut config = till_config(url, dir);
    config.log_level = LogLevel::Warn;
    Till::open_with_secrets(config, Arc::new(MemorySecrets::default())).expect("the till opens")
}

fn till_db(dir: &Path) -> Connection {
    let conn = Connection::open(dir.join(tillpoint_core::store::STORE_FILE)).unwrap();
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .unwrap();
    conn
}

/// Adds a 0.01 sweet to the demo catalog (100,000 of them stay inside the offline grant's
/// 5,000.00 total) and writes what the till needs to sell it straight into the till's store,
/// under the server's ids (the pull is measured on its own below).
fn sweet_on_both(db: &Database, dir: &Path) -> String {
    let (org, org_name, tax_class, location, sweet) = db
        .call_blocking(|conn| -> Result<_, DbError> {
            let tx = conn.transaction()?;
            let (org, org_name): (String, String) = tx.query_row(
                "SELECT id, name FROM organisations WHERE name = ?1",
                [demo::ORGANISATION_NAME],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            let tax_class: String = tx.query_row(
                "SELECT id FROM tax_classes WHERE org_id = ?1 AND code = 'standard'",
                [&org],
                |r| r.get(0),
            )?;
            let location: String = tx.query_row(
                "SELECT id FROM locations WHERE org_id = ?1 AND kind = 'shop'",
                [&org],
                |r| r.get(0),
            )?;
            add_products(
                &tx,
                org.parse().unwrap(),
                [NewProduct {
                    sku: "SWEET-1C".into(),
                    name: "Penny sweet".into(),
                    unit: Unit::Each,
                    tax_class_id: tax_class.clone(),
                    price_minor: 1,
                    currency: CurrencyCode::parse("USD").unwrap(),
                    barcodes: vec![Barcode::parse(SWEET_BARCODE).unwrap()],
                }],
            )?;
            let sweet: String = tx.query_row(
                "SELECT id FROM products WHERE org_id = ?1 AND sku = 'SWEET-1C'",
                [&org],
                |r| r.get(0),
            )?;
            tx.commit()?;
            Ok((org, org_name, tax_class, location, sweet))
        })
        .unwrap();
    let mut conn = till_db(dir);
    let tx = conn.transaction().unwrap();
    let now = chrono::Utc::now().to_rfc3339();
    tx.execute(
        "INSERT INTO organisation (singleton, org_id, name, tax_number, base_currency, updated_at)
         VALUES (1, ?1, ?2, NULL, 'USD', ?3)",
        (&org, &org_name, &now),
    )
    .unwrap();
    tx.execute(
        "INSERT INTO locations (id, name, kind) VALUES (?1, 'Harare CBD Shop', 'shop')",
        [&location],
    )
    .unwrap();
    tx.execute(
        "INSERT INTO currencies (code, name, minor_units) VALUES ('USD', 'US Dollar', 2)",
        (),
    )
    .unwrap();
    tx.execute(
        "INSERT INTO tax_classes (id, code, name, rate_bp) VALUES (?1, 'standard', 'VAT 15%', 1500)",
        [&tax_class],
    )
    .unwrap();
    tx.execute(
        "INSERT INTO products (id, sku, name, unit, tax_class_id, price_minor, currency, updated_at)
         VALUES (?1, 'SWEET-1C', 'Penny sweet', 'each', ?2, 1, 'USD', ?3)",
        (&sweet, &tax_class, &now),
    )
    .unwrap();
    tx.execute(
        "INSERT INTO barcodes (barcode, product_id) VALUES (?1, ?2)",
        (SWEET_BARCODE, &sweet),
    )
    .unwrap();
    tx.commit().unwrap();
    sweet
}

async fn push_bench() {
    let sales = size("TILLPOINT_BENCH_SALES", 100_000).max(1);
    println!("== push: {sales} offline sales from one till");
    let server = server(1).await;
    let db = &server.db;
    let till_dir = tempfile::tempdir().unwrap();
    let till = till(&server.url, till_dir.path());
    till.sign_in("cashier", PASSWORD).await.expect("signed in");
    let sweet = sweet_on_both(db, till_dir.path());
    till.open_till(&[CountInput {
        currency: "USD".into(),
        tender: TenderMethod::Cash,
        amount: "20.00".into(),
    }])
    .expect("the till opens");

    // One real offline sale.
    till.lock();
    till.unlock_offline("cashier", PASSWORD)
        .await
        .expect("unlocked offline");
    till.cart_add(&sweet, None).unwrap();
    till.checkout(&CheckoutInput {
        payments: vec![PaymentRequest {
            method: TenderMethod::Cash,
            currency: "USD".into(),
            amount: "0.01".into(),
            reference: None,
        }],
        change_currency: "USD".into(),
    })
    .await
    .expect("the sale goes through");

    // The rest, as copies of it through the journal's own writer.
    let t = Instant::now();
    {
        let mut conn = till_db(till_dir.path());
        let template = journal::read(&conn, 2, 2).unwrap().remove(0);
        assert!(template.grant_jti.is_some(), "an offline sale");
        let mut payload: SalePayload = serde_json::from_str(&template.payload).unwrap();
        let author = Author {
            org_id: template.org_id,
            user_id: template.creator_id,
            user_name: "Tatenda Sibanda".into(),
            device_id: template.device_id,
            grant_jti: template.grant_jti.clone(),
        };
        let receipt = payload.receipt_no.clone();
        let tx = conn.transaction().unwrap();
        for n in 1..sales {
            payload.sale_id = uuid::Uuid::now_v7();
            payload.receipt_no = format!("{receipt}-B{n:06}");
            journal::append(
                &tx,
                &author,
                RecordKind::Sale,
                uuid::Uuid::now_v7(),
                &template.created_at,
                &payload,
            )
            .unwrap();
        }
        tx.commit().unwrap();
    }
    println!(
        "till: journal of {} records (1 opening, {sales} sales) made in {:.1} s (untimed below)",
        sales + 1,
        t.elapsed().as_secs_f64()
    );

    // Back online, push everything.
    till.sign_in("cashier", PASSWORD).await.expect("signed in");
    let t = Instant::now();
    let summary = till.push_outbox(|_| {}).await.expect("pushed");
    let took = t.elapsed().as_secs_f64();
    assert_eq!(summary.accepted, sales + 1, "{summary:?}");
    assert_eq!(summary.quarantined + summary.rejected, 0, "{summary:?}");
    assert_eq!(till.unsynced_count().unwrap(), 0);
    let on_server: i64 = db
        .call_blocking(|c| -> Result<i64, DbError> {
            Ok(c.query_row("SELECT COUNT(*) FROM sales", (), |r| r.get(0))?)
        })
        .unwrap();
    assert_eq!(on_server as u64, sales);
    let rate = sales as f64 / took;
    println!(
        "push: {sales} offline sales in {} batches, all accepted, in {took:.1} s: {rate:.0} sales/s  [target ≥ 2,000 sales/s: {}]",
        summary.batches,
        if rate >= 2_000.0 { "met" } else { "MISSED" }
    );
}

async fn pull_bench() {
    let products = size("TILLPOINT_BENCH_PRODUCTS", 1_000_000).max(1);
    println!("== pull: {products} products into a fresh till");
    let server = server(products).await;
    let till_dir = tempfile::tempdir().unwrap();
    let till = till(&server.url, till_dir.path());
    till.sign_in("cashier", PASSWORD).await.expect("signed in");
    let t = Instant::now();
    let summary = till.pull_catalog(|_| {}).await.expect("pulled");
    let took = t.elapsed().as_secs_f64();
    assert_eq!(till.local_product_count().unwrap(), products);
    println!(
        "pull: {products} products ({} records, {} pages) in {took:.1} s  [target ≤ 60 s: {}]",
        summary.records,
        summary.pages,
        if took <= 60.0 { "met" } else { "MISSED" }
    );
}

#[tokio::main]
async fn main() {
    // `cargo bench` passes `--bench`; anything else names the parts to run.
    let parts: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let run = |part: &str| parts.is_empty() || parts.iter().any(|p| p == part);
    if run("push") {
        push_bench().await;
    }
    if run("pull") {
        pull_bench().await;
    }
}

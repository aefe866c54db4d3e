//! Selling on the till, attacked through `tillpoint-core`'s public API (ARCHITECTURE.md §3–5,
//! docs/decisions/money-and-tax.md and selling.md): one transaction per sale, tender across
//! currencies, VAT per band, permissions and offline limits enforced in the core, refunds,
//! till sessions and their Z report, receipt numbering, scale labels, parked carts, printing
//! and the journal's hash chain.
//!
//! Sign-in is real (a server on loopback). The catalog is written straight into the till's
//! store by [`install_catalog_standing_in_for_the_pull`] until the catalog pull exists.

mod checkout;
mod journal_tamper;
mod offline_limits;
mod parked_sales;
mod permissions;
mod printing;
mod receipt_numbers;
mod refunds;
mod scanning;
mod tender;
mod till_sessions;
mod vat;
mod z_report;

use std::time::Duration;

use rusqlite::Connection;
use tillpoint_core::sales::till_session::CountInput;
use tillpoint_core::sales::{
    Approver, CheckoutInput, DiscountInput, PaymentRequest, RefundInput, RefundLineInput, SaleError,
};
use tillpoint_core::{Till, TillConfig};
use tillpoint_protocol::money::format_amount;
use tillpoint_protocol::sales::{SalePayload, TenderMethod};
use tillpoint_protocol::{Barcode, UserId};
use tillpoint_system_tests::catalog::{self, ProductRow, StoreCatalog};
use tillpoint_system_tests::{spawn_server, spawn_till_with, TestOrg, TestServer, TestTill};

const PASSWORD: &str = "till-password-1";
const ADMIN_PASSWORD: &str = "admin-password-1";

#[derive(Debug, Clone)]
struct Item {
    id: String,
    barcode: String,
    price: i64,
}

/// What the shop sells (all priced in USD, tax-inclusive).
#[derive(Debug, Clone)]
struct Catalog {
    /// Standard-rated, 1.25.
    bread: Item,
    /// Zero-rated, 0.99.
    milk: Item,
    /// Exempt, 8.50.
    maize: Item,
    /// Standard-rated, 3.33.
    soap: Item,
    /// Standard-rated, 3.99.
    oil: Item,
    /// Standard-rated, 250.00: two make the offline grant's largest sale.
    tv: Item,
    /// Standard-rated, 600.00: more than the offline grant allows in one sale.
    fridge: Item,
    /// Zero-rated, 1.99 a kg; its barcode is the in-store label with a zero weight.
    bananas: Item,
    /// Seven standard-rated sweets at 0.04 each (VAT rounding per band, not per line).
    sweets: Vec<Item>,
    /// The in-store item code of the bananas (`25 12345 VVVVV c`).
    bananas_item_code: &'static str,
}

fn ean13(body: &str) -> String {
    Barcode::ean13_from_body(body)
        .expect("a 12-digit body")
        .as_str()
        .to_owned()
}

fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

impl Catalog {
    fn new() -> Self {
        let mut n = 0;
        let mut item = |price| {
            n += 1;
            Item {
                id: new_id(),
                barcode: ean13(&format!("600100{n:06}")),
                price,
            }
        };
        let bread = item(125);
        let milk = item(99);
        let maize = item(850);
        let soap = item(333);
        let oil = item(399);
        let tv = item(25_000);
        let fridge = item(60_000);
        let sweets = (0..7).map(|_| item(4)).collect();
        Self {
            bread,
            milk,
            maize,
            soap,
            oil,
            tv,
            fridge,
            bananas: Item {
                id: new_id(),
                barcode: ean13("251234500000"),
                price: 199,
            },
            sweets,
            bananas_item_code: "12345",
        }
    }
}

/// STANDS IN FOR THE CATALOG PULL (being built separately): writes the organisation, its
/// shop, the currencies USD and ZWG, the USD→ZWG rate (26.80 in force, and a later one not
/// yet in force), the tax classes and the products straight into the till's store, as the
/// pull will.
fn install_catalog_standing_in_for_the_pull(till: &TestTill, org: &TestOrg, catalog: &Catalog) {
    let mut products: Vec<(&Item, &str, &str, &str, &str)> = vec![
        (
            &catalog.bread,
            "BREAD",
            "White Bread 700g",
            "each",
            "standard",
        ),
        (&catalog.milk, "MILK", "Fresh Milk 1L", "each", "zero_rated"),
        (&catalog.maize, "MAIZE", "Maize Meal 10kg", "each", "exempt"),
        (&catalog.soap, "SOAP", "Bath Soap", "each", "standard"),
        (&catalog.oil, "OIL", "Cooking Oil 2L", "each", "standard"),
        (&catalog.tv, "TV32", "Television 32in", "each", "standard"),
        (&catalog.fridge, "FRIDGE", "Fridge 200L", "each", "standard"),
        (&catalog.bananas, "BANANA", "Bananas", "kg", "zero_rated"),
    ];
    let sweet_skus: Vec<String> = (1..=catalog.sweets.len())
        .map(|n| format!("SWEET{n}"))
        .collect();
    for (sweet, sku) in catalog.sweets.iter().zip(&sweet_skus) {
        products.push((sweet, sku, "Sweet", "each", "standard"));
    }
    let rows: Vec<ProductRow> = products
        .into_iter()
        .map(|(item, sku, name, unit, tax_class)| ProductRow {
            id: &item.id,
            barcode: &item.barcode,
            sku,
            name,
            unit,
            tax_class,
            price_minor: item.price,
        })
        .collect();
    catalog::write(
        till.data_dir(),
        &StoreCatalog {
            org,
            tax_number: Some("200012345"),
            currencies: &[("USD", "US Dollar"), ("ZWG", "Zimbabwe Gold")],
            rates: &[
                ("ZWG", "26.80", "2024-01-01T00:00:00.000Z"),
                // Not in force yet: a till must never use it.
                ("ZWG", "99.00", "2099-01-01T00:00:00.000Z"),
            ],
            tax_classes: &[
                ("standard", "Standard rated", 1500),
                ("zero_rated", "Zero rated", 0),
                ("exempt", "Exempt", 0),
            ],
            products: &rows,
        },
    );
}

struct Shop {
    server: TestServer,
    org: TestOrg,
    till: TestTill,
    catalog: Catalog,
    /// The user signed in ("tendai").
    user: UserId,
}

async fn shop(role: &str) -> Shop {
    shop_with(role, |_| {}).await
}

async fn shop_with(role: &str, configure: impl FnOnce(&mut TillConfig)) -> Shop {
    let server = spawn_server().await;
    let org = server.create_organisation("Kwik Mart").await;
    let user = server.create_user(&org, "tendai", role, PASSWORD).await;
    let till = spawn_till_with(&server.url, configure);
    let catalog = Catalog::new();
    install_catalog_standing_in_for_the_pull(&till, &org, &catalog);
    till.till.sign_in("tendai", PASSWORD).await.unwrap();
    Shop {
        server,
        org,
        till,
        catalog,
        user,
    }
}

impl Shop {
    fn t(&self) -> &Till {
        &self.till.till
    }

    fn db(&self) -> Connection {
        db(&self.till)
    }

    /// Another till of the same shop (same server, organisation and catalog), nobody
    /// signed in yet.
    fn another_till(&self, configure: impl FnOnce(&mut TillConfig)) -> TestTill {
        let till = spawn_till_with(&self.server.url, configure);
        install_catalog_standing_in_for_the_pull(&till, &self.org, &self.catalog);
        till
    }
}

fn db(till: &TestTill) -> Connection {
    let conn = Connection::open(till.data_dir().join("till.db")).unwrap();
    conn.busy_timeout(Duration::from_secs(5)).unwrap();
    conn
}

fn count(currency: &str, amount: &str) -> CountInput {
    CountInput {
        currency: currency.into(),
        tender: TenderMethod::Cash,
        amount: amount.into(),
    }
}

const FLOAT_USD: i64 = 5_000;
const FLOAT_ZWG: i64 = 100_000;

/// Opens the till with USD 50.00 and ZWG 1,000.00 in the drawer.
fn open_till(till: &Till) {
    till.open_till(&[count("USD", "50.00"), count("ZWG", "1000.00")])
        .expect("the till opens");
}

fn cash(currency: &str, amount: &str) -> PaymentRequest {
    PaymentRequest {
        method: TenderMethod::Cash,
        currency: currency.into(),
        amount: amount.into(),
        reference: None,
    }
}

fn card(currency: &str, amount: &str, reference: &str) -> PaymentRequest {
    PaymentRequest {
        method: TenderMethod::Card,
        currency: currency.into(),
        amount: amount.into(),
        reference: Some(reference.into()),
    }
}

fn paying(payments: Vec<PaymentRequest>, change_currency: &str) -> CheckoutInput {
    CheckoutInput {
        payments,
        change_currency: change_currency.into(),
    }
}

fn money(minor: i64) -> String {
    format_amount(minor, 2)
}

fn percent(value: &str) -> DiscountInput {
    DiscountInput {
        kind: "percent".into(),
        value: value.into(),
    }
}

fn amount_off(value: &str) -> DiscountInput {
    DiscountInput {
        kind: "amount".into(),
        value: value.into(),
    }
}

fn refund_line(line_no: u32, quantity: &str, restock: bool) -> RefundLineInput {
    RefundLineInput {
        line_no,
        quantity: quantity.into(),
        restock,
    }
}

fn refund_of(
    sale_id: &str,
    lines: Vec<RefundLineInput>,
    approver: Option<Approver>,
) -> RefundInput {
    RefundInput {
        sale_id: sale_id.into(),
        lines,
        reason: "customer returned it".into(),
        approver,
        tender: TenderMethod::Cash,
    }
}

fn err_code<T: std::fmt::Debug>(result: Result<T, SaleError>) -> &'static str {
    result.expect_err("must be refused").code().as_str()
}

fn scalar<T: rusqlite::types::FromSql>(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> T {
    conn.query_row(sql, params, |r| r.get(0))
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

fn rows(conn: &Connection, table: &str) -> i64 {
    scalar(conn, &format!("SELECT COUNT(*) FROM {table}"), [])
}

/// Everything a sale writes, counted: what "nothing was written" compares.
fn written(conn: &Connection) -> Vec<(&'static str, i64)> {
    let mut counts: Vec<(&'static str, i64)> = [
        "sales",
        "sale_lines",
        "sale_payments",
        "stock_movements",
        "journal",
        "outbox",
        "offline_totals",
        "till_session_totals",
    ]
    .into_iter()
    .map(|t| (t, rows(conn, t)))
    .collect();
    counts.push((
        "offline total",
        scalar(
            conn,
            "SELECT COALESCE(SUM(total_minor), 0) FROM offline_totals",
            (),
        ),
    ));
    counts.push((
        "session totals",
        scalar(
            conn,
            "SELECT COALESCE(SUM(amount_minor), 0) FROM till_session_totals",
            (),
        ),
    ));
    counts
}

/// `numerator / denominator`, half away from zero (the one rounding rule).
fn half_up(numerator: i128, denominator: i128) -> i64 {
    let q = (2 * numerator.abs() + denominator) / (2 * denominator);
    (if numerator < 0 { -q } else { q }) as i64
}

/// The VAT in `gross` at `rate_bp`, tax-inclusive: gross × rate / (1 + rate), half up.
fn vat_in(gross: i64, rate_bp: i64) -> i64 {
    half_up(
        i128::from(gross) * i128::from(rate_bp),
        10_000 + i128::from(rate_bp),
    )
}

/// USD minor units in ZWG minor units at 26.80, exactly (as a fraction ×10).
fn zwg_tenths(usd_minor: i64) -> i64 {
    usd_minor * 268
}

/// What a till asks in ZWG for `usd_minor`: rounded up.
fn zwg_asked(usd_minor: i64) -> i64 {
    (zwg_tenths(usd_minor) + 9) / 10
}

fn receipt_prefix(till: &Till) -> String {
    let device = till.device_id().unwrap().expect("signed in once");
    let hex = device.as_uuid().simple().to_string();
    hex[hex.len() - 8..].to_uppercase()
}

fn grouped_code(hash: &str) -> String {
    let head = hash[..16].to_uppercase();
    [&head[0..4], &head[4..8], &head[8..12], &head[12..16]].join("-")
}

fn payload_of(conn: &Connection, sale_id: &str) -> SalePayload {
    let text: String = scalar(
        conn,
        "SELECT j.payload FROM journal j JOIN sales s ON s.journal_seq = j.seq WHERE s.id = ?1",
        [sale_id],
    );
    serde_json::from_str(&text).expect("a sale payload")
}

fn line_id_of(view: &tillpoint_core::sales::CartView, item: &Item) -> u32 {
    view.lines
        .iter()
        .find(|l| l.product_id == item.id)
        .expect("the item is in the cart")
        .line_id
}

/// The `jti` of the grant stored for `username` on a till.
fn stored_grant_jti(conn: &Connection, username: &str) -> String {
    use base64::Engine as _;
    let token: String = scalar(
        conn,
        "SELECT grant_token FROM offline_users WHERE username = ?1",
        [username],
    );
    let payload = token.split('.').nth(1).unwrap();
    let claims: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    claims["jti"].as_str().unwrap().to_owned()
}

/// A seeded generator (SplitMix64): the same "random" sales on every run.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> i64 {
        (self.next() % n) as i64
    }
}

//! A catalog written straight into a till's store, the way the catalog pull would: for tests
//! about selling and pushing, where the pull (tested in tests/system/pull.rs) is not the
//! point. [`write`] is the one place that knows those tables; [`install`] is the small
//! catalog most suites need (USD, a standard VAT class at 15 % and the given products).

use std::collections::BTreeMap;
use std::path::Path;

use rusqlite::Connection;
use tillpoint_protocol::Barcode;

use super::TestOrg;

/// A product as a test knows it: the till's (and server's) id and its barcode.
#[derive(Debug, Clone)]
pub struct TestProduct {
    pub id: String,
    pub barcode: String,
    pub sku: String,
    pub name: String,
    /// Tax-inclusive USD cents.
    pub price_minor: i64,
}

impl TestProduct {
    /// A product sold by the unit, standard-rated, with barcode `600100` + `n` (6 digits).
    pub fn each(n: u32, sku: &str, name: &str, price_minor: i64) -> Self {
        Self::each_with_id(&uuid::Uuid::now_v7().to_string(), n, sku, name, price_minor)
    }

    /// [`TestProduct::each`] under a given id (the server's, when the server knows it too).
    pub fn each_with_id(id: &str, n: u32, sku: &str, name: &str, price_minor: i64) -> Self {
        Self {
            id: id.to_owned(),
            barcode: Barcode::ean13_from_body(&format!("600100{n:06}"))
                .expect("a 12-digit body")
                .as_str()
                .to_owned(),
            sku: sku.to_owned(),
            name: name.to_owned(),
            price_minor,
        }
    }
}

/// What a till's store holds of an organisation's catalog.
pub struct StoreCatalog<'a> {
    pub org: &'a TestOrg,
    pub tax_number: Option<&'a str>,
    /// (code, name), each with two minor units; USD, the organisation's base, among them.
    pub currencies: &'a [(&'a str, &'a str)],
    /// Rates from USD: (quote currency, rate, in force from).
    pub rates: &'a [(&'a str, &'a str, &'a str)],
    /// (code, name, rate in basis points).
    pub tax_classes: &'a [(&'a str, &'a str, i64)],
    pub products: &'a [ProductRow<'a>],
}

/// One product and its barcode, priced in USD (tax-inclusive).
pub struct ProductRow<'a> {
    pub id: &'a str,
    pub barcode: &'a str,
    pub sku: &'a str,
    pub name: &'a str,
    /// `each` or `kg`.
    pub unit: &'a str,
    /// The code of one of the catalog's tax classes.
    pub tax_class: &'a str,
    pub price_minor: i64,
}

/// Writes `org`, its shop, USD, VAT 15 % and `products` into the store in `data_dir`.
pub fn install(data_dir: &Path, org: &TestOrg, products: &[&TestProduct]) {
    let rows: Vec<ProductRow> = products
        .iter()
        .map(|product| ProductRow {
            id: &product.id,
            barcode: &product.barcode,
            sku: &product.sku,
            name: &product.name,
            unit: "each",
            tax_class: "standard",
            price_minor: product.price_minor,
        })
        .collect();
    write(
        data_dir,
        &StoreCatalog {
            org,
            tax_number: None,
            currencies: &[("USD", "US Dollar")],
            rates: &[],
            tax_classes: &[("standard", "VAT 15%", 1500)],
            products: &rows,
        },
    );
}

/// Writes `catalog` (the organisation, its one shop "Main Street", the currencies and rates,
/// the tax classes and the products) into the store in `data_dir`, in one transaction.
pub fn write(data_dir: &Path, catalog: &StoreCatalog) {
    let mut conn = Connection::open(data_dir.join("till.db")).expect("the till's store");
    let tx = conn.transaction().unwrap();
    let now = chrono::Utc::now().to_rfc3339();
    let new_id = || uuid::Uuid::now_v7().to_string();
    tx.execute(
        "INSERT INTO organisation (singleton, org_id, name, tax_number, base_currency, updated_at)
         VALUES (1, ?1, ?2, ?3, 'USD', ?4)",
        (
            catalog.org.id.to_string(),
            &catalog.org.name,
            catalog.tax_number,
            &now,
        ),
    )
    .unwrap();
    tx.execute(
        "INSERT INTO locations (id, name, kind) VALUES (?1, 'Main Street', 'shop')",
        [new_id()],
    )
    .unwrap();
    for (code, name) in catalog.currencies {
        tx.execute(
            "INSERT INTO currencies (code, name, minor_units) VALUES (?1, ?2, 2)",
            (code, name),
        )
        .unwrap();
    }
    for (quote, rate, effective_at) in catalog.rates {
        tx.execute(
            "INSERT INTO exchange_rates (id, base, quote, rate, effective_at)
             VALUES (?1, 'USD', ?2, ?3, ?4)",
            (new_id(), quote, rate, effective_at),
        )
        .unwrap();
    }
    let mut classes = BTreeMap::new();
    for (code, name, rate_bp) in catalog.tax_classes {
        let id = new_id();
        tx.execute(
            "INSERT INTO tax_classes (id, code, name, rate_bp) VALUES (?1, ?2, ?3, ?4)",
            (&id, code, name, rate_bp),
        )
        .unwrap();
        classes.insert(*code, id);
    }
    for product in catalog.products {
        tx.execute(
            "INSERT INTO products (id, sku, name, unit, tax_class_id, price_minor, currency, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'USD', ?7)",
            (
                product.id,
                product.sku,
                product.name,
                product.unit,
                &classes[product.tax_class],
                product.price_minor,
                &now,
            ),
        )
        .unwrap();
        tx.execute(
            "INSERT INTO barcodes (barcode, product_id) VALUES (?1, ?2)",
            (product.barcode, product.id),
        )
        .unwrap();
    }
    tx.commit().unwrap();
}

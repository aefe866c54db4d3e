//! A small catalog written straight into a till's store, the way the catalog pull would:
//! for tests about selling and pushing, where the pull (tested in tests/pull.rs) is not the
//! point. The organisation, its one shop, USD, a standard VAT class at 15 % and the products.

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

/// Writes `org`, its shop, USD, VAT 15 % and `products` into the store in `data_dir`.
pub fn install(data_dir: &Path, org: &TestOrg, products: &[&TestProduct]) {
    let mut conn = Connection::open(data_dir.join("till.db")).expect("the till's store");
    let tx = conn.transaction().unwrap();
    let now = chrono::Utc::now().to_rfc3339();
    let new_id = || uuid::Uuid::now_v7().to_string();
    tx.execute(
        "INSERT INTO organisation (singleton, org_id, name, tax_number, base_currency, updated_at)
         VALUES (1, ?1, ?2, NULL, 'USD', ?3)",
        (org.id.to_string(), &org.name, &now),
    )
    .unwrap();
    tx.execute(
        "INSERT INTO locations (id, name, kind) VALUES (?1, 'Main Street', 'shop')",
        [new_id()],
    )
    .unwrap();
    tx.execute(
        "INSERT INTO currencies (code, name, minor_units) VALUES ('USD', 'US Dollar', 2)",
        [],
    )
    .unwrap();
    let class = new_id();
    tx.execute(
        "INSERT INTO tax_classes (id, code, name, rate_bp) VALUES (?1, 'standard', 'VAT 15%', 1500)",
        [&class],
    )
    .unwrap();
    for product in products {
        tx.execute(
            "INSERT INTO products (id, sku, name, unit, tax_class_id, price_minor, currency, updated_at)
             VALUES (?1, ?2, ?3, 'each', ?4, ?5, 'USD', ?6)",
            (&product.id, &product.sku, &product.name, &class, product.price_minor, &now),
        )
        .unwrap();
        tx.execute(
            "INSERT INTO barcodes (barcode, product_id) VALUES (?1, ?2)",
            (&product.barcode, &product.id),
        )
        .unwrap();
    }
    tx.commit().unwrap();
}

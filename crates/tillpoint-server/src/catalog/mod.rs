//! Master data tills sell from: currencies and rates, tax classes, locations, products and
//! their barcodes. Every write names its organisation; the schema's composite keys refuse a
//! reference into another organisation. Every read takes the caller's [`Tenant`] and sees
//! only its organisation.

use crate::store::{Connection, Transaction};
use rusqlite::OptionalExtension;
use serde::Serialize;
use tillpoint_protocol::{Barcode, CurrencyCode, OrgId, ProductId};

use crate::identity::{new_id, now_text};
use crate::tenancy::Tenant;

/// The kinds of tax class and the units products sell in are the protocol's: the till and the
/// server must read them identically.
pub use tillpoint_protocol::money::Unit;
pub use tillpoint_protocol::tax::TaxCode as TaxClassCode;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocationKind {
    Shop,
    Warehouse,
}

pub fn add_currency(
    tx: &Transaction<'_>,
    org: OrgId,
    code: CurrencyCode,
    name: &str,
    minor_units: u8,
) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO currencies (org_id, code, name, minor_units) VALUES (?1, ?2, ?3, ?4)",
        (org.to_string(), code.as_str(), name, minor_units),
    )?;
    Ok(())
}

/// Records that one `base` buys `rate` of `quote` from now on. `rate` is an exact positive
/// decimal such as `26.80`; it is stored as text so no float ever touches money.
pub fn add_exchange_rate(
    tx: &Transaction<'_>,
    org: OrgId,
    base: CurrencyCode,
    quote: CurrencyCode,
    rate: &str,
) -> rusqlite::Result<()> {
    assert!(
        is_positive_decimal(rate),
        "exchange rate {rate:?} must be a positive decimal"
    );
    tx.execute(
        "INSERT INTO exchange_rates (id, org_id, base, quote, rate, effective_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        (
            new_id().to_string(),
            org.to_string(),
            base.as_str(),
            quote.as_str(),
            rate,
            now_text(),
        ),
    )?;
    Ok(())
}

fn is_positive_decimal(text: &str) -> bool {
    let mut parts = text.splitn(2, '.');
    let whole = parts.next().unwrap_or("");
    let fraction = parts.next().unwrap_or("0");
    !whole.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && !fraction.is_empty()
        && fraction.bytes().all(|b| b.is_ascii_digit())
        && text.bytes().any(|b| (b'1'..=b'9').contains(&b))
}

/// Adds a tax class and returns its id. `rate_bp` is in basis points (1500 = 15 %).
pub fn add_tax_class(
    tx: &Transaction<'_>,
    org: OrgId,
    code: TaxClassCode,
    name: &str,
    rate_bp: u16,
) -> rusqlite::Result<String> {
    let id = new_id().to_string();
    tx.execute(
        "INSERT INTO tax_classes (id, org_id, code, name, rate_bp) VALUES (?1, ?2, ?3, ?4, ?5)",
        (&id, org.to_string(), code.as_str(), name, rate_bp),
    )?;
    Ok(id)
}

pub fn add_location(
    tx: &Transaction<'_>,
    org: OrgId,
    name: &str,
    kind: LocationKind,
) -> rusqlite::Result<String> {
    let id = new_id().to_string();
    let kind = match kind {
        LocationKind::Shop => "shop",
        LocationKind::Warehouse => "warehouse",
    };
    tx.execute(
        "INSERT INTO locations (id, org_id, name, kind) VALUES (?1, ?2, ?3, ?4)",
        (&id, org.to_string(), name, kind),
    )?;
    Ok(id)
}

pub struct NewProduct {
    pub sku: String,
    pub name: String,
    pub unit: Unit,
    pub tax_class_id: String,
    /// Tax-inclusive, in minor units of `currency`.
    pub price_minor: i64,
    pub currency: CurrencyCode,
    pub barcodes: Vec<Barcode>,
}

/// Inserts products with their barcodes, reusing prepared statements: a 5,000-product
/// catalog goes in within one transaction in well under a second.
pub fn add_products(
    tx: &Transaction<'_>,
    org: OrgId,
    products: impl IntoIterator<Item = NewProduct>,
) -> rusqlite::Result<u64> {
    let org = org.to_string();
    let updated_at = now_text();
    let mut product_insert = tx.prepare_cached(
        "INSERT INTO products (id, org_id, sku, name, unit, tax_class_id, price_minor, currency, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?;
    let mut barcode_insert = tx
        .prepare_cached("INSERT INTO barcodes (org_id, barcode, product_id) VALUES (?1, ?2, ?3)")?;
    let mut count = 0;
    for product in products {
        let id = new_id().to_string();
        product_insert.execute((
            &id,
            &org,
            &product.sku,
            &product.name,
            product.unit.as_str(),
            &product.tax_class_id,
            product.price_minor,
            product.currency.as_str(),
            &updated_at,
        ))?;
        for barcode in &product.barcodes {
            barcode_insert.execute((&org, barcode.as_str(), &id))?;
        }
        count += 1;
    }
    Ok(count)
}

/// A product as the catalog API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Product {
    pub id: ProductId,
    pub sku: String,
    pub name: String,
    pub unit: Unit,
    pub tax_class: TaxClassCode,
    /// Tax-inclusive, in minor units of `currency`.
    pub price_minor: i64,
    pub currency: CurrencyCode,
    pub active: bool,
    /// Sorted.
    pub barcodes: Vec<Barcode>,
}

pub const DEFAULT_PAGE_SIZE: u32 = 100;
pub const MAX_PAGE_SIZE: u32 = 500;

const PRODUCT_COLUMNS: &str =
    "p.id, p.sku, p.name, p.unit, t.code, p.price_minor, p.currency, p.active
     FROM products p JOIN tax_classes t ON t.org_id = p.org_id AND t.id = p.tax_class_id";

fn read_product(
    conn: &Connection,
    org: &str,
    row: &crate::store::Row<'_, '_>,
) -> rusqlite::Result<Product> {
    fn bad<E: std::error::Error + Send + Sync + 'static>(
        i: usize,
    ) -> impl Fn(E) -> rusqlite::Error {
        move |e| {
            rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
        }
    }
    let unknown = |i: usize, what: String| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, what.into())
    };
    let id: String = row.get(0)?;
    let id: ProductId = id.parse().map_err(bad(0))?;
    let unit: String = row.get(3)?;
    let tax_class: String = row.get(4)?;
    let currency: String = row.get(6)?;
    let mut barcodes = conn.prepare_cached(
        "SELECT barcode FROM barcodes WHERE org_id = ?1 AND product_id = ?2 ORDER BY barcode",
    )?;
    let barcodes = barcodes
        .query_map((org, id.to_string()), |r| r.get::<_, String>(0))?
        .map(|code| Barcode::parse(&code?).map_err(bad(0)))
        .collect::<rusqlite::Result<_>>()?;
    Ok(Product {
        id,
        sku: row.get(1)?,
        name: row.get(2)?,
        unit: Unit::parse(&unit).ok_or_else(|| unknown(3, format!("unknown unit {unit}")))?,
        tax_class: TaxClassCode::parse(&tax_class)
            .ok_or_else(|| unknown(4, format!("unknown tax class {tax_class}")))?,
        price_minor: row.get(5)?,
        currency: CurrencyCode::parse(&currency).map_err(bad(6))?,
        active: row.get(7)?,
        barcodes,
    })
}

/// Up to `limit` products of the tenant's organisation in id order, starting after `after`.
pub fn products_page(
    conn: &Connection,
    tenant: &Tenant,
    after: Option<ProductId>,
    limit: u32,
) -> rusqlite::Result<Vec<Product>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {PRODUCT_COLUMNS} WHERE p.org_id = ?1 AND p.id > ?2 ORDER BY p.id LIMIT ?3"
    ))?;
    let org = tenant.org().to_string();
    let after = after.map(|id| id.to_string()).unwrap_or_default();

    stmt.query_map((&org, after, limit), |row| read_product(conn, &org, row))?
        .collect()
}

/// The product `id` of the tenant's organisation.
pub fn product(
    conn: &Connection,
    tenant: &Tenant,
    id: ProductId,
) -> rusqlite::Result<Option<Product>> {
    let org = tenant.org().to_string();
    conn.query_row(
        &format!("SELECT {PRODUCT_COLUMNS} WHERE p.org_id = ?1 AND p.id = ?2"),
        (&org, id.to_string()),
        |row| read_product(conn, &org, row),
    )
    .optional()
}

#[cfg(test)]
mod tests {
    use super::is_positive_decimal;

    #[test]
    fn exchange_rates_are_positive_decimals() {
        for ok in ["26.80", "1", "0.0375", "1000000"] {
            assert!(is_positive_decimal(ok), "{ok}");
        }
        for bad in ["", "0", "0.00", "-1", "1.", ".5", "1e3", "26,80", "NaN"] {
            assert!(!is_positive_decimal(bad), "{bad}");
        }
    }
}

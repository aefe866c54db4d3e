//! What the till sells from: finding a product by a scanned barcode (including the in-store
//! labels a shop's scale prints) or by typing part of its name or SKU, and the currencies and
//! exchange rates it may be paid in. All of it is read from the store, which sync fills.

use rusqlite::{Connection, OptionalExtension, Row};
use serde::Serialize;
use tillpoint_protocol::money::{ExchangeRate, Quantity, Unit};
use tillpoint_protocol::tax::{TaxCode, TaxRate};
use tillpoint_protocol::{Barcode, CurrencyCode, ProductId};

use crate::error_code::ErrorCode;

/// How many results a search shows.
pub const SEARCH_LIMIT: usize = 20;

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("no product has the barcode {0}")]
    UnknownBarcode(String),
    #[error("{0:?} is not a barcode this till can read: {1}")]
    BadBarcode(String, tillpoint_protocol::BarcodeError),
    #[error("no product has the id {0}")]
    UnknownProduct(String),
    #[error("{0} is not set up on this till; sync with the server first")]
    UnknownCurrency(CurrencyCode),
    #[error("there is no exchange rate between {0} and {1} on this till")]
    NoRate(CurrencyCode, CurrencyCode),
    #[error("the catalog on this till is damaged: {0}")]
    Damaged(String),
    #[error(transparent)]
    Store(#[from] rusqlite::Error),
}

impl CatalogError {
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::UnknownBarcode(_) | Self::BadBarcode(..) => ErrorCode::UnknownBarcode,
            Self::UnknownProduct(_) => ErrorCode::UnknownProduct,
            Self::UnknownCurrency(_) | Self::NoRate(..) => ErrorCode::CurrencyUnavailable,
            Self::Damaged(_) | Self::Store(_) => ErrorCode::StoreUnavailable,
        }
    }
}

/// A product as the till sells it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, Serialize)]
pub struct Product {
    pub id: ProductId,
    pub sku: String,
    pub name: String,
    pub unit: Unit,
    /// Tax-inclusive, per unit, in minor units of `currency`.
    pub price_minor: i64,
    pub currency: CurrencyCode,
    pub tax: TaxRate,
    pub barcode: Option<String>,
}

/// A search or scan result, as the window shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "contract", derive(specta::Type))]
pub struct ProductHit {
    pub product_id: ProductId,
    pub sku: String,
    pub name: String,
    pub unit: Unit,
    pub price_minor: i64,
    pub currency: CurrencyCode,
    pub minor_units: u32,
    pub tax_label: String,
    pub barcode: Option<String>,
}

/// What a scan found: the product, and what its label said when it was an in-store label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scanned {
    pub product: Product,
    pub label: Option<LabelValue>,
}

/// The value an in-store (scale) label carries (see [`decode_in_store`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabelValue {
    /// The weight, for products sold by the kg.
    Weight(Quantity),
    /// The price of the item, in minor units of the product's currency.
    Price(i64),
}

/// Reads an EAN-13 from a shop's own scale: `2` · kind digit · 5-digit item code · 5-digit
/// value · check digit. Kind 0–4: the value is a price in minor units; 5–9: a weight in
/// grams. The item is the product whose barcode is the same label with a zero value
/// (`2k IIIII 00000 c`). Returns that product barcode and the value.
pub fn decode_in_store(code: &Barcode) -> Option<(Barcode, LabelValue)> {
    let digits = code.as_str();
    if digits.len() != 13 || !digits.starts_with('2') {
        return None;
    }
    let kind = digits.as_bytes()[1] - b'0';
    let value: i64 = digits[7..12].parse().ok()?;
    let item = Barcode::ean13_from_body(&format!("{}00000", &digits[..7])).ok()?;
    let label = if kind <= 4 {
        LabelValue::Price(value)
    } else {
        LabelValue::Weight(Quantity::from_milli(value))
    };
    Some((item, label))
}

const PRODUCT_COLUMNS: &str =
    "p.id, p.sku, p.name, p.unit, p.price_minor, p.currency, t.code, t.rate_bp,
     (SELECT b.barcode FROM barcodes b WHERE b.product_id = p.id LIMIT 1)";

fn product_from(row: &Row<'_>) -> rusqlite::Result<Result<Product, String>> {
    let id: String = row.get(0)?;
    let unit: String = row.get(3)?;
    let currency: String = row.get(5)?;
    let code: String = row.get(6)?;
    let rate_bp: u32 = row.get(7)?;
    Ok((|| {
        Ok(Product {
            id: id.parse().map_err(|_| format!("product id {id:?}"))?,
            sku: row.get(1).map_err(|e| e.to_string())?,
            name: row.get(2).map_err(|e| e.to_string())?,
            unit: Unit::parse(&unit).ok_or_else(|| format!("unit {unit:?}"))?,
            price_minor: row.get(4).map_err(|e| e.to_string())?,
            currency: CurrencyCode::parse(&currency).map_err(|e| e.to_string())?,
            tax: match TaxCode::parse(&code) {
                // Zero-rated and exempt charge nothing, whatever a damaged row says.
                Some(code @ (TaxCode::ZeroRated | TaxCode::Exempt)) if rate_bp != 0 => {
                    return Err(format!(
                        "tax class {} with a rate of {rate_bp} bp",
                        code.as_str()
                    ))
                }
                Some(code) => TaxRate { code, rate_bp },
                None => return Err(format!("tax code {code:?}")),
            },
            barcode: row.get(8).map_err(|e| e.to_string())?,
        })
    })())
}

fn one_product(
    conn: &Connection,
    condition: &str,
    param: &str,
) -> Result<Option<Product>, CatalogError> {
    let sql = format!(
        "SELECT {PRODUCT_COLUMNS} FROM products p JOIN tax_classes t ON t.id = p.tax_class_id
         WHERE p.active = 1 AND {condition}"
    );
    conn.prepare_cached(&sql)?
        .query_row([param], product_from)
        .optional()?
        .transpose()
        .map_err(CatalogError::Damaged)
}

/// The active product with `id`.
pub fn product_by_id(conn: &Connection, id: &str) -> Result<Product, CatalogError> {
    one_product(conn, "p.id = ?1", id)?.ok_or_else(|| CatalogError::UnknownProduct(id.to_owned()))
}

/// The product a scanned code names: an exact barcode first, then an in-store label.
pub fn scan(conn: &Connection, code: &str) -> Result<Scanned, CatalogError> {
    let code = code.trim();
    let barcode = Barcode::parse(code).map_err(|e| CatalogError::BadBarcode(code.to_owned(), e))?;
    let by_barcode = |barcode: &str| {
        one_product(
            conn,
            "p.id = (SELECT product_id FROM barcodes WHERE barcode = ?1)",
            barcode,
        )
    };
    if let Some(product) = by_barcode(barcode.as_str())? {
        return Ok(Scanned {
            product,
            label: None,
        });
    }
    if let Some((item, label)) = decode_in_store(&barcode) {
        if let Some(product) = by_barcode(item.as_str())? {
            return Ok(Scanned {
                product,
                label: Some(label),
            });
        }
    }
    Err(CatalogError::UnknownBarcode(code.to_owned()))
}

/// Products whose name or SKU has words starting with each word typed, in catalog order.
/// Not ranked: ranking every match of a two-letter prefix over a million products costs
/// 100+ ms (verified-facts.md); an exact SKU is put first instead.
pub fn search(conn: &Connection, text: &str, limit: usize) -> Result<Vec<Product>, CatalogError> {
    let words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(8)
        .map(|w| format!("\"{}\"*", w.to_lowercase()))
        .collect();
    if words.is_empty() {
        return Ok(Vec::new());
    }
    let mut found = Vec::new();
    if let Some(exact) = one_product(conn, "p.sku = ?1", text.trim())? {
        found.push(exact);
    }
    let sql = format!(
        "SELECT {PRODUCT_COLUMNS} FROM products_fts f
         JOIN products p ON p.rowid = f.rowid JOIN tax_classes t ON t.id = p.tax_class_id
         WHERE products_fts MATCH ?1 AND p.active = 1 LIMIT ?2"
    );
    let mut statement = conn.prepare_cached(&sql)?;
    let rows = statement.query_map((words.join(" "), limit as i64 + 1), product_from)?;
    for row in rows {
        let product = row?.map_err(CatalogError::Damaged)?;
        if found.len() < limit && !found.iter().any(|p: &Product| p.id == product.id) {
            found.push(product);
        }
    }
    Ok(found)
}

/// The decimals of `currency` on this till.
pub fn minor_units(conn: &Connection, currency: CurrencyCode) -> Result<u32, CatalogError> {
    conn.prepare_cached("SELECT minor_units FROM currencies WHERE code = ?1")?
        .query_row([currency.as_str()], |r| r.get(0))
        .optional()?
        .ok_or(CatalogError::UnknownCurrency(currency))
}

/// A currency the till may take payment in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "contract", derive(specta::Type))]
pub struct CurrencyOption {
    pub code: CurrencyCode,
    pub name: String,
    pub minor_units: u32,
    /// Units of this currency per unit of the sale currency (`1` for itself), as shown.
    pub rate: String,
}

/// The rate in force at `at` (RFC 3339) between two currencies, as stored: one `base` is
/// `rate` of the other. Looks both ways, since an organisation states each pair once.
pub fn rate_between(
    conn: &Connection,
    a: CurrencyCode,
    b: CurrencyCode,
    at: &str,
) -> Result<(ExchangeRate, CurrencyCode), CatalogError> {
    if a == b {
        return Ok((ExchangeRate::ONE, a));
    }
    let mut statement = conn.prepare_cached(
        "SELECT base, rate FROM exchange_rates
         WHERE ((base = ?1 AND quote = ?2) OR (base = ?2 AND quote = ?1)) AND effective_at <= ?3
         ORDER BY effective_at DESC LIMIT 1",
    )?;
    let found: Option<(String, String)> = statement
        .query_row((a.as_str(), b.as_str(), at), |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let (base, rate) = found.ok_or(CatalogError::NoRate(a, b))?;
    let rate = ExchangeRate::parse(&rate).map_err(|e| CatalogError::Damaged(e.to_string()))?;
    let base = CurrencyCode::parse(&base).map_err(|e| CatalogError::Damaged(e.to_string()))?;
    Ok((rate, base))
}

/// A currency a sale in another may be paid in, with the rate in force between them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TakenCurrency {
    pub code: CurrencyCode,
    pub name: String,
    pub minor_units: u32,
    /// One `rate_base` is `rate` of the other currency of the pair, as stored.
    pub rate: ExchangeRate,
    pub rate_base: CurrencyCode,
}

/// Units of `code` per unit of `sale`, as a person reads it: `1`, `26.80`, or `1/26.80` when
/// the organisation states the pair the other way round.
pub fn rate_text(
    code: CurrencyCode,
    rate: ExchangeRate,
    rate_base: CurrencyCode,
    sale: CurrencyCode,
) -> String {
    if code == sale {
        "1".to_owned()
    } else if rate_base == sale {
        rate.to_string()
    } else {
        format!("1/{rate}")
    }
}

/// Every currency with a rate to `sale_currency` at `at`, the sale currency first.
pub fn taken_currencies(
    conn: &Connection,
    sale_currency: CurrencyCode,
    at: &str,
) -> Result<Vec<TakenCurrency>, CatalogError> {
    let mut statement =
        conn.prepare_cached("SELECT code, name, minor_units FROM currencies ORDER BY code")?;
    let all: Vec<(String, String, u32)> = statement
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<_, _>>()?;
    let mut taken = Vec::new();
    for (code, name, minor_units) in all {
        let code = CurrencyCode::parse(&code).map_err(|e| CatalogError::Damaged(e.to_string()))?;
        let (rate, rate_base) = match rate_between(conn, sale_currency, code, at) {
            Ok(found) => found,
            Err(CatalogError::NoRate(..)) => continue,
            Err(other) => return Err(other),
        };
        taken.push(TakenCurrency {
            code,
            name,
            minor_units,
            rate,
            rate_base,
        });
    }
    taken.sort_by_key(|t| t.code != sale_currency);
    Ok(taken)
}

/// [`taken_currencies`] as the window shows them.
pub fn currency_options(
    conn: &Connection,
    sale_currency: CurrencyCode,
    at: &str,
) -> Result<Vec<CurrencyOption>, CatalogError> {
    Ok(taken_currencies(conn, sale_currency, at)?
        .into_iter()
        .map(|t| CurrencyOption {
            rate: rate_text(t.code, t.rate, t.rate_base, sale_currency),
            code: t.code,
            name: t.name,
            minor_units: t.minor_units,
        })
        .collect())
}

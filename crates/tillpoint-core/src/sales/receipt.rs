//! A stored sale as a receipt: read back from the store (never from the cart), so a reprint
//! shows exactly what was committed, laid out by `tillpoint-receipt`, and printed when a
//! printer is set up. The verification code comes from the sale's journal hash, so a receipt
//! can be matched to the record the server holds.

use std::time::Duration;

use chrono::{DateTime, Local};
use rusqlite::{Connection, OptionalExtension};
use tillpoint_protocol::money::{Quantity, Unit};
use tillpoint_protocol::sales::TenderMethod;
use tillpoint_protocol::tax::{TaxCode, TaxRate};
use tillpoint_receipt::{
    Amount, EscPosOptions, Receipt, ReceiptKind, ReceiptLine, ReceiptPayment, ReceiptVat,
};

use super::views::PrintedReceipt;
use super::{SaleError, SELL};
use crate::catalog;
use crate::till::Till;

/// How long a printer may take to accept a receipt.
pub const PRINT_TIMEOUT: Duration = Duration::from_secs(10);

/// `ABCD-EF01-2345-6789` from the first 16 hex digits of a journal hash.
pub fn verification_code(hash: &str) -> String {
    let head: String = hash.chars().take(16).collect::<String>().to_uppercase();
    head.as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("-")
}

pub(crate) fn local_time(rfc3339: &str) -> String {
    DateTime::parse_from_rfc3339(rfc3339)
        .map(|t| t.with_timezone(&Local).format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|_| rfc3339.to_owned())
}

/// The head row of a stored sale, as a receipt needs it.
struct StoredSale {
    kind: String,
    receipt_no: String,
    reason: Option<String>,
    refund_of: Option<String>,
    created_at: String,
    cashier: String,
    subtotal: i64,
    discount: i64,
    total: i64,
    change: i64,
    currency: String,
    change_currency: Option<String>,
    hash: String,
    location_id: Option<String>,
    change_rate: Option<String>,
    change_rate_base: Option<String>,
}

/// Reads sale `sale_id` back as a receipt.
pub(crate) fn build(conn: &Connection, sale_id: &str, reprint: bool) -> Result<Receipt, SaleError> {
    let head = conn
        .query_row(
            "SELECT s.kind, s.receipt_no, s.reason, o.receipt_no, s.created_at, s.creator_name,
                    s.subtotal_minor, s.discount_minor, s.total_minor, s.change_minor,
                    s.currency, s.change_currency, j.hash, s.location_id, s.change_rate,
                    s.change_rate_base
             FROM sales s JOIN journal j ON j.seq = s.journal_seq
             LEFT JOIN sales o ON o.id = s.refund_of
             WHERE s.id = ?1",
            [sale_id],
            |r| {
                Ok(StoredSale {
                    kind: r.get(0)?,
                    receipt_no: r.get(1)?,
                    reason: r.get(2)?,
                    refund_of: r.get(3)?,
                    created_at: r.get(4)?,
                    cashier: r.get(5)?,
                    subtotal: r.get(6)?,
                    discount: r.get(7)?,
                    total: r.get(8)?,
                    change: r.get(9)?,
                    currency: r.get(10)?,
                    change_currency: r.get(11)?,
                    hash: r.get(12)?,
                    location_id: r.get(13)?,
                    change_rate: r.get(14)?,
                    change_rate_base: r.get(15)?,
                })
            },
        )
        .optional()?;
    let Some(StoredSale {
        kind,
        receipt_no,
        reason,
        refund_of,
        created_at,
        cashier,
        subtotal,
        discount,
        total,
        change,
        currency,
        change_currency,
        hash,
        location_id,
        change_rate,
        change_rate_base,
    }) = head
    else {
        return Err(SaleError::NoSuchSale(sale_id.to_owned()));
    };
    let units_of = |code: &str| -> Result<u32, SaleError> {
        let code = tillpoint_protocol::CurrencyCode::parse(code)
            .map_err(|e| SaleError::Store(e.to_string()))?;
        Ok(catalog::minor_units(conn, code)?)
    };
    let minor_units = units_of(&currency)?;
    let mut lines = Vec::new();
    let mut vat: Vec<(TaxRate, i64, i64)> = Vec::new();
    {
        let mut statement = conn.prepare_cached(
            "SELECT name, unit, quantity_milli, unit_price_minor, list_price_minor,
                    line_discount_minor + cart_discount_minor, total_minor, tax_code, tax_rate_bp,
                    vat_minor
             FROM sale_lines WHERE sale_id = ?1 ORDER BY line_no",
        )?;
        let rows = statement.query_map([sale_id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, i64>(4)?,
                r.get::<_, i64>(5)?,
                r.get::<_, i64>(6)?,
                r.get::<_, String>(7)?,
                r.get::<_, u32>(8)?,
                r.get::<_, i64>(9)?,
            ))
        })?;
        for row in rows {
            let (
                name,
                unit,
                quantity,
                unit_price,
                list_price,
                discount,
                line_total,
                code,
                rate_bp,
                line_vat,
            ) = row?;
            let quantity = Quantity::from_milli(quantity);
            let rate = TaxRate {
                code: TaxCode::parse(&code).unwrap_or(TaxCode::Standard),
                rate_bp,
            };
            match vat.iter_mut().find(|v| v.0 == rate) {
                Some(band) => {
                    band.1 += line_total;
                    band.2 += line_vat;
                }
                None => vat.push((rate, line_total, line_vat)),
            }
            lines.push(ReceiptLine {
                name,
                quantity: match Unit::parse(&unit) {
                    Some(Unit::Kg) => format!("{quantity} kg"),
                    _ => quantity.to_string(),
                },
                unit_price_minor: unit_price,
                discount_minor: discount.abs(),
                total_minor: line_total,
                tax_label: rate.label(),
                price_overridden: unit_price != list_price,
            });
        }
    }
    vat.sort_by_key(|v| v.0);
    let mut payments = Vec::new();
    {
        let mut statement = conn.prepare_cached(
            "SELECT method, currency, amount_minor, rate, rate_base, reference
             FROM sale_payments WHERE sale_id = ?1 ORDER BY payment_no",
        )?;
        let rows = statement.query_map([sale_id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, Option<String>>(5)?,
            ))
        })?;
        for row in rows {
            let (method, pay_currency, amount, rate, rate_base, reference) = row?;
            let other = if rate_base == currency {
                &pay_currency
            } else {
                &currency
            };
            payments.push(ReceiptPayment {
                method: TenderMethod::parse(&method)
                    .map_or(method.clone(), |m| m.label().to_owned()),
                amount: Amount {
                    minor_units: units_of(&pay_currency)?,
                    currency: pay_currency.clone(),
                    minor: amount,
                },
                rate: (pay_currency != currency).then(|| format!("1 {rate_base} = {rate} {other}")),
                reference,
            });
        }
    }
    let organisation: Option<(String, Option<String>)> = conn
        .query_row(
            "SELECT name, tax_number FROM organisation WHERE singleton = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let location = match location_id {
        Some(id) => conn
            .query_row("SELECT name FROM locations WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .optional()?,
        None => None,
    };
    let change_rate = match (&change_currency, change_rate, change_rate_base) {
        (Some(code), Some(rate), Some(base)) if change != 0 && *code != currency => {
            let other = if base == currency { code } else { &currency };
            Some(format!("1 {base} = {rate} {other}"))
        }
        _ => None,
    };
    let change = match change_currency {
        Some(code) if change != 0 => Some(Amount {
            minor_units: units_of(&code)?,
            currency: code,
            minor: change,
        }),
        _ => None,
    };
    let (shop_name, tax_number) = organisation.unwrap_or_else(|| ("Tillpoint".into(), None));
    Ok(Receipt {
        kind: if kind == "refund" {
            ReceiptKind::Refund
        } else {
            ReceiptKind::Sale
        },
        shop_name,
        location,
        tax_number,
        receipt_no,
        refund_of,
        reason,
        date: local_time(&created_at),
        cashier,
        currency,
        minor_units,
        lines,
        subtotal_minor: subtotal,
        discount_minor: discount.abs(),
        total_minor: total,
        vat_total_minor: vat.iter().map(|v| v.2).sum(),
        vat: vat
            .into_iter()
            .map(|(rate, gross, vat)| ReceiptVat {
                label: rate.label(),
                gross_minor: gross,
                vat_minor: vat,
                net_minor: gross - vat,
            })
            .collect(),
        payments,
        change,
        change_rate,
        verification_code: verification_code(&hash),
        reprint,
    })
}

impl Till {
    /// Sends what `render` makes for the configured printer's paper to it. `(false, None)`
    /// when the till has no printer; a failure is logged and returned as the cashier's
    /// message, never an error: the sale or report stands whether it printed or not.
    pub(crate) async fn print_on_paper(
        &self,
        render: impl FnOnce(EscPosOptions) -> Vec<u8>,
    ) -> Result<(bool, Option<String>), SaleError> {
        let Some(printer) = self.config().printer.clone() else {
            return Ok((false, None));
        };
        let bytes = render(EscPosOptions {
            width: printer.width,
            kick_drawer: printer.cash_drawer,
        });
        let sent = tokio::task::spawn_blocking(move || printer.target.send(&bytes, PRINT_TIMEOUT))
            .await
            .map_err(|e| SaleError::Store(e.to_string()))?;
        Ok(match sent {
            Ok(()) => (true, None),
            Err(err) => {
                tracing::warn!(%err, "not printed");
                (false, Some(err.to_string()))
            }
        })
    }

    /// The receipt of `sale_id` again (a reprint, marked as such), printed if a printer is
    /// set up.
    pub async fn print_receipt(&self, sale_id: &str) -> Result<PrintedReceipt, SaleError> {
        self.author(SELL)?;
        self.issue_receipt(sale_id).await
    }

    /// Issues a receipt of a committed sale: the first one is the original (it opens the cash
    /// drawer on a cash sale), every later one a reprint. The original is claimed in one
    /// statement, so two at once cannot both be it; a failed print gives the claim back.
    /// Needs no permission: it runs right after the sale's own checks.
    pub(crate) async fn issue_receipt(&self, sale_id: &str) -> Result<PrintedReceipt, SaleError> {
        let (receipt, cash) = {
            let conn = self.sales_conn()?;
            let prints: i64 = conn
                .query_row(
                    "UPDATE sales SET prints = prints + 1 WHERE id = ?1 RETURNING prints",
                    [sale_id],
                    |r| r.get(0),
                )
                .optional()?
                .ok_or_else(|| SaleError::NoSuchSale(sale_id.to_owned()))?;
            let receipt = build(&conn, sale_id, prints > 1)?;
            let cash: bool = conn.query_row(
                "SELECT EXISTS (SELECT 1 FROM sale_payments WHERE sale_id = ?1 AND method = 'cash')",
                [sale_id],
                |r| r.get(0),
            )?;
            (receipt, cash)
        };
        let html = tillpoint_receipt::html::render(&receipt);
        let kick = !receipt.reprint && cash;
        let (printed, print_error) = self
            .print_on_paper(|options| {
                tillpoint_receipt::escpos::render(
                    &receipt,
                    &EscPosOptions {
                        kick_drawer: options.kick_drawer && kick,
                        ..options
                    },
                )
            })
            .await?;
        if !printed && !receipt.reprint && self.config().printer.is_some() {
            // The original never reached paper: the next print is still the original.
            self.sales_conn()?.execute(
                "UPDATE sales SET prints = prints - 1 WHERE id = ?1",
                [sale_id],
            )?;
        }
        Ok(PrintedReceipt {
            receipt,
            html,
            printed,
            print_error,
        })
    }
}

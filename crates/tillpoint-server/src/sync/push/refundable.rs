//! What remains refundable of a sale: a refund is checked against the sale it names, as the
//! server holds it, and every refund of it the server has applied before.
//!
//! The till refunds only what it sold and has not refunded yet, but a till is not to be
//! trusted with the server's books: a refund naming a sale of another organisation, a sale
//! the server never saw, or more than was sold (in quantity or in money, across all the
//! refunds of that sale from every till) would pay out money nothing backs. The sale is
//! read from `sales`/`sale_lines`; earlier refunds from the records they were applied from
//! (`sync_records.payload`), which say which line of the sale each of their lines returned.
//!
//! A refund whose sale the server does not hold is quarantined, not refused: its sale may
//! still be on its way (in a later batch, or quarantined itself). A manager releasing it
//! once the sale has arrived has it applied; the reason says so.

use crate::store::Connection;
use rusqlite::OptionalExtension;
use tillpoint_protocol::sales::SalePayload;
use tillpoint_protocol::OrgId;

/// The sale line a refund returns goods of.
struct SoldLine {
    line_no: u32,
    product_id: String,
    quantity_milli: i64,
    total_minor: i64,
}

/// Why `refund` cannot be applied to the sale it names, if it cannot.
pub(super) fn check(
    conn: &Connection,
    org: OrgId,
    refund: &SalePayload,
) -> rusqlite::Result<Option<String>> {
    let Some(sale_id) = refund.refund_of else {
        return Ok(Some("a refund names the sale it refunds".into()));
    };
    let (org_text, sale_text) = (org.to_string(), sale_id.to_string());
    let sale: Option<(String, String)> = conn
        .prepare_cached("SELECT kind, currency FROM sales WHERE org_id = ?1 AND id = ?2")?
        .query_row((&org_text, &sale_text), |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let Some((kind, currency)) = sale else {
        return Ok(Some(format!(
            "refund of a sale the server does not hold: sale {sale_id} has not arrived (or is \
             quarantined); release this refund once it has been accepted"
        )));
    };
    if kind != "sale" {
        return Ok(Some(format!(
            "sale {sale_id} is a refund: a refund is not refunded"
        )));
    }
    if currency != refund.currency.as_str() {
        return Ok(Some(format!(
            "the refund is in {}, but sale {sale_id} was in {currency}",
            refund.currency
        )));
    }
    let sold: Vec<SoldLine> = conn
        .prepare_cached(
            "SELECT line_no, product_id, quantity_milli, total_minor FROM sale_lines
              WHERE org_id = ?1 AND sale_id = ?2",
        )?
        .query_map((&org_text, &sale_text), |r| {
            Ok(SoldLine {
                line_no: r.get(0)?,
                product_id: r.get(1)?,
                quantity_milli: r.get(2)?,
                total_minor: r.get(3)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    let earlier: Vec<SalePayload> = conn
        .prepare_cached(
            "SELECT r.payload FROM sales s JOIN sync_records r ON r.id = s.sync_record_id
              WHERE s.org_id = ?1 AND s.refund_of = ?2",
        )?
        .query_map((&org_text, &sale_text), |r| r.get::<_, String>(0))?
        .filter_map(|payload| {
            payload
                .ok()
                .and_then(|text| serde_json::from_str(&text).ok())
        })
        .collect();
    for line in &refund.lines {
        let Some(of) = line.refund_of_line else {
            return Ok(Some(format!(
                "line {} names no line of the sale",
                line.line_no
            )));
        };
        let Some(original) = sold.iter().find(|s| s.line_no == of) else {
            return Ok(Some(format!("sale {sale_id} has no line {of}")));
        };
        if original.product_id != line.product_id.to_string() {
            return Ok(Some(format!(
                "line {} returns another product than line {of} of sale {sale_id} sold",
                line.line_no
            )));
        }
    }
    for original in &sold {
        // What every refund of this line takes back, this one included (refund lines are
        // negative).
        let (mut quantity, mut amount) = (0_i128, 0_i128);
        for taken in earlier
            .iter()
            .chain(std::iter::once(refund))
            .flat_map(|r| &r.lines)
            .filter(|l| l.refund_of_line == Some(original.line_no))
        {
            quantity -= i128::from(taken.quantity.milli());
            amount -= i128::from(taken.total_minor);
        }
        if quantity > i128::from(original.quantity_milli) {
            return Ok(Some(format!(
                "more is refunded of line {} of sale {sale_id} than was sold: {quantity} of {} thousandths",
                original.line_no, original.quantity_milli
            )));
        }
        if amount > i128::from(original.total_minor) {
            return Ok(Some(format!(
                "more is paid back for line {} of sale {sale_id} than it was charged: {amount} of {} minor units",
                original.line_no, original.total_minor
            )));
        }
    }
    Ok(None)
}

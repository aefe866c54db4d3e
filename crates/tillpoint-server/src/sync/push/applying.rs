//! Applying: what an accepted record changes in the organisation's books.
//!
//! The invariant: **applying refuses nothing.** It is handed a record that judging accepted
//! (or that a manager released from quarantine, `super::super::quarantine`) and writes its
//! business rows in the caller's transaction: the sale or refund, its lines and payments,
//! its stock movements and the levels they add up to (each level change noted for pull by
//! the database's triggers, migration 0007, when `BatchBooks` writes them), the grant's
//! running total, and the exceptions a manager should look at (stock below zero, a price off
//! the list). Whether the record may
//! count was decided before it got here; what it changes is decided only here, so a pushed
//! record and a released one change the books alike.

use crate::store::Connection;
use chrono::{DateTime, Utc};
use serde_json::json;
use tillpoint_protocol::journal::{JournalRecord, RecordKind};
use tillpoint_protocol::OrgId;

use super::books::BatchBooks;
use super::Payload;
use crate::identity::time_text;

/// Applies an accepted (or released) record: a sale or refund becomes the server's sale, its
/// lines, payments and stock movements, and counts against its grant; selling below zero and
/// a price off the list are recorded as exceptions for a manager, never refused. Till
/// openings and closings are kept as records only. Rows go out through
/// [`Connection::hold`]; levels and running totals are kept in `books` until
/// [`BatchBooks::write`].
pub(crate) fn apply(
    tx: &Connection,
    books: &mut BatchBooks,
    org: OrgId,
    stored_id: &str,
    record: &JournalRecord,
    payload: &Payload,
    now: DateTime<Utc>,
) -> rusqlite::Result<()> {
    let Payload::Sale(sale) = payload else {
        return Ok(());
    };
    let org_text = org.to_string();
    let sale_id = sale.sale_id.to_string();
    let kind = if record.kind == RecordKind::Refund {
        "refund"
    } else {
        "sale"
    };
    tx.hold(
        "INSERT INTO sales (org_id, id, sync_record_id, kind, device_id, creator_id, receipt_no,
             till_session_id, location_id, currency, subtotal_minor, discount_minor, total_minor,
             refund_of, approver_id, grant_jti, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
        rusqlite::params![
            org_text,
            sale_id,
            stored_id,
            kind,
            record.device_id.to_string(),
            record.creator_id.to_string(),
            sale.receipt_no,
            sale.till_session_id.to_string(),
            sale.location_id.map(|l| l.to_string()),
            sale.currency.as_str(),
            sale.subtotal_minor,
            sale.discount_minor,
            sale.total_minor,
            sale.refund_of.map(|s| s.to_string()),
            sale.approver_id.map(|a| a.to_string()),
            record.grant_jti,
            record.created_at,
        ],
    )?;
    books.sale_applied(&sale_id, &sale.receipt_no, &record.device_id.to_string());
    let location = sale.location_id.map(|l| l.to_string());
    for line in &sale.lines {
        let product = line.product_id.to_string();
        tx.hold(
            "INSERT INTO sale_lines (org_id, sale_id, line_no, product_id, sku, name, quantity_milli,
                 unit_price_minor, list_price_minor, discount_minor, total_minor, vat_minor)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            rusqlite::params![
            org_text,
            sale_id,
            line.line_no,
            product,
            line.sku,
            line.name,
            line.quantity.milli(),
            line.unit_price_minor,
            line.list_price_minor,
            line.line_discount_minor + line.cart_discount_minor,
            line.total_minor,
            line.vat_minor,
            ],
        )?;
        let moved = tillpoint_protocol::stock::line_movement_milli(record.kind, line);
        if let Some(moved) = moved.filter(|m| *m != 0) {
            tx.hold(
                "INSERT INTO stock_movements (org_id, product_id, location_id, quantity_milli, sale_id, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                (&org_text, &product, &location, moved, &sale_id, &record.created_at),
            )?;
            books.move_stock(stored_id, &product, &line.sku, location.as_deref(), moved);
        }
        if record.kind == RecordKind::Sale && line.unit_price_minor != line.list_price_minor {
            exception(
                tx,
                &org_text,
                stored_id,
                "price_differs",
                json!({"product_id": product, "sku": line.sku, "charged": line.unit_price_minor, "list": line.list_price_minor}),
                now,
            )?;
        }
    }
    for (n, payment) in sale.payments.iter().enumerate() {
        tx.hold(
            "INSERT INTO sale_payments (org_id, sale_id, n, method, currency, amount_minor, value_minor, reference)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            rusqlite::params![
            org_text,
            sale_id,
            n as i64,
            payment.method.as_str(),
            payment.currency.as_str(),
            payment.amount_minor,
            payment.value_minor,
            payment.reference,
            ],
        )?;
    }
    if let Some(jti) = &record.grant_jti {
        let amount = i64::try_from(sale.total_minor.unsigned_abs()).unwrap_or(i64::MAX);
        books.add_grant_use(tx, jti, sale.currency.as_str(), amount)?;
    }
    Ok(())
}

pub(super) fn exception(
    tx: &Connection,
    org: &str,
    stored_id: &str,
    kind: &str,
    detail: serde_json::Value,
    now: DateTime<Utc>,
) -> rusqlite::Result<()> {
    tx.hold(
        "INSERT INTO sync_exceptions (org_id, sync_record_id, kind, detail, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        (org, stored_id, kind, detail.to_string(), time_text(now)),
    )
}

#[cfg(test)]
mod tests {
    use tillpoint_protocol::journal::GENESIS_HASH;
    use tillpoint_protocol::sync::Outcome;

    use super::super::fixtures::{sales, send, setup};
    use crate::store::DbError;

    #[test]
    fn sales_are_applied_with_their_stock_and_a_level_below_zero_is_flagged() {
        let s = setup();
        let records = sales(&s, (0, GENESIS_HASH.to_owned()), 3);
        let answer = send(&s, records);
        assert!(
            answer.iter().all(|a| a.0 == Outcome::Accepted),
            "{answer:?}"
        );
        let (level, flagged, sold): (i64, i64, i64) =
            s.db.call_blocking(|conn| -> Result<_, DbError> {
                Ok(conn.query_row(
                    "SELECT (SELECT on_hand_milli FROM stock_levels),
                            (SELECT COUNT(*) FROM sync_exceptions WHERE kind = 'negative_stock'),
                            (SELECT SUM(total_minor) FROM sales)",
                    (),
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )?)
            })
            .unwrap();
        assert_eq!((level, flagged, sold), (-3000, 3, 375));
    }
}

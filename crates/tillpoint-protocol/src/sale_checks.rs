//! What a sale or refund payload must add up to, checked the one way the till writes it.
//!
//! The server cannot trust a till's arithmetic: a payload whose lines do not come to its
//! total, whose refund pays out more than its lines, or whose sale is negative would move
//! money and stock by whatever it claims. So every payload is checked against the rules the
//! till's own pricing follows, with the same functions the till prices with
//! ([`crate::money::extend`] for price × quantity, [`crate::tax::vat_breakdown`] for a sale's
//! VAT, [`crate::tax::bands_of_lines`] for a refund's): a record the till wrote always passes,
//! and one that does not was not written by a till.
//!
//! What needs the books (a refund's sale held, what of it remains refundable) is the
//! server's to check; everything here needs only the payload. Numbers are already inside
//! their ranges (`crate::bounds`), and every sum is made in `i128`, so nothing here
//! overflows.

use crate::bounds::MAX_AMOUNT_MINOR;
use crate::journal::RecordKind;
use crate::money::extend;
use crate::sales::{SaleLine, SalePayload};
use crate::tax::{bands_of_lines, vat_breakdown};

/// Why a payload does not add up: said to the till and to a manager.
pub type PayloadProblem = String;

/// Checks `payload` as the payload of a record of `kind` (a sale or a refund); the first
/// rule it breaks.
pub fn check(kind: RecordKind, payload: &SalePayload) -> Result<(), PayloadProblem> {
    let refund = match kind {
        RecordKind::Sale => false,
        RecordKind::Refund => true,
        RecordKind::TillOpened | RecordKind::TillClosed => {
            return Err(format!("a {} record carries no sale", kind.as_str()))
        }
    };
    if payload.lines.is_empty() {
        return Err("it has no lines".into());
    }
    match (refund, payload.refund_of, payload.approver_id) {
        (true, None, _) => return Err("a refund names the sale it refunds (refund_of)".into()),
        (false, Some(_), _) => return Err("a sale refunds nothing (refund_of)".into()),
        (false, _, Some(_)) => return Err("a sale has no approver".into()),
        _ => {}
    }
    for (index, line) in payload.lines.iter().enumerate() {
        check_line(refund, index, line)?;
    }
    let sum = |amount: fn(&SaleLine) -> i64| -> i128 {
        payload.lines.iter().map(|l| i128::from(amount(l))).sum()
    };
    let total = sum(|l| l.total_minor);
    let subtotal = total + sum(|l| l.line_discount_minor) + sum(|l| l.cart_discount_minor);
    if i128::from(payload.total_minor) != total {
        return Err(format!(
            "its total {} is not the sum of its lines, {total}",
            payload.total_minor
        ));
    }
    if i128::from(payload.subtotal_minor) != subtotal {
        return Err(format!(
            "its subtotal {} is not its lines before discounts, {subtotal}",
            payload.subtotal_minor
        ));
    }
    if i128::from(payload.discount_minor) != subtotal - total {
        return Err(format!(
            "its discount {} is not its subtotal less its total, {}",
            payload.discount_minor,
            subtotal - total
        ));
    }
    // Each line's VAT is in range, but nothing bounds a hundred of them: their sum is
    // checked here, in i128, so the bands (one sign each, summed in i64) cannot overflow.
    let vat = sum(|l| l.vat_minor);
    if vat.unsigned_abs() > MAX_AMOUNT_MINOR.unsigned_abs().into() {
        return Err(format!(
            "its lines' VAT comes to {vat}, more than any amount ({MAX_AMOUNT_MINOR})"
        ));
    }
    check_vat(refund, payload)?;
    check_payments(refund, payload)
}

fn check_line(refund: bool, index: usize, line: &SaleLine) -> Result<(), PayloadProblem> {
    let n = line.line_no;
    if line.line_no as usize != index + 1 {
        return Err(format!(
            "line {n} is not numbered {} (lines count from 1)",
            index + 1
        ));
    }
    if !line.unit.allows(line.quantity) {
        return Err(format!("line {n}: {} is sold in whole units", line.name));
    }
    let quantity = line.quantity.milli();
    let discounts = [line.line_discount_minor, line.cart_discount_minor];
    if refund {
        if quantity >= 0
            || line.total_minor > 0
            || line.vat_minor > 0
            || discounts.iter().any(|d| *d > 0)
        {
            return Err(format!(
                "line {n}: a refund's quantities and amounts are negative"
            ));
        }
        if line.refund_of_line.is_none() {
            return Err(format!(
                "line {n}: a refund line names the sale's line it refunds"
            ));
        }
    } else {
        if quantity <= 0
            || line.total_minor < 0
            || line.vat_minor < 0
            || discounts.iter().any(|d| *d < 0)
        {
            return Err(format!(
                "line {n}: a sale's quantities and amounts are not negative"
            ));
        }
        if line.refund_of_line.is_some() || line.restock.is_some() {
            return Err(format!("line {n}: a sale line refunds nothing"));
        }
        let gross = extend(line.unit_price_minor, line.quantity)
            .map_err(|_| format!("line {n}: its price × quantity is too large"))?;
        let charged = i128::from(line.total_minor)
            + i128::from(line.line_discount_minor)
            + i128::from(line.cart_discount_minor);
        if i128::from(gross) != charged {
            return Err(format!(
                "line {n}: {} × {} is {gross}, but its total and discounts come to {charged}",
                line.unit_price_minor, line.quantity
            ));
        }
    }
    if line.unit_price_minor < 0 || line.list_price_minor < 0 {
        return Err(format!("line {n}: a price is not negative"));
    }
    Ok(())
}

/// A sale's VAT is worked out from its lines as the till prices them; a refund's is the
/// sum of its lines' shares of the VAT charged, never recomputed.
fn check_vat(refund: bool, payload: &SalePayload) -> Result<(), PayloadProblem> {
    let charged: Vec<_> = payload
        .lines
        .iter()
        .map(|l| (l.tax, l.total_minor))
        .collect();
    let bands = if refund {
        let shares: Vec<_> = payload
            .lines
            .iter()
            .map(|l| (l.tax, l.total_minor, l.vat_minor))
            .collect();
        bands_of_lines(&shares)
    } else {
        let (bands, line_vat) = vat_breakdown(&charged);
        if let Some(line) = payload
            .lines
            .iter()
            .zip(&line_vat)
            .find(|(line, vat)| line.vat_minor != **vat)
        {
            return Err(format!(
                "line {}: its VAT {} is not its share of its rate's VAT, {}",
                line.0.line_no, line.0.vat_minor, line.1
            ));
        }
        bands
    };
    if bands != payload.vat {
        return Err("its VAT breakdown is not its lines' VAT by rate".into());
    }
    Ok(())
}

/// A sale is paid: its payments (each positive, and in the sale's currency worth what was
/// handed over) cover its total, and change is never negative — exactly what was paid over
/// the total when everything is in the sale's currency. A refund pays out exactly its
/// (negative) total and gives no change.
fn check_payments(refund: bool, payload: &SalePayload) -> Result<(), PayloadProblem> {
    let total = i128::from(payload.total_minor);
    let paid: i128 = payload
        .payments
        .iter()
        .map(|p| i128::from(p.value_minor))
        .sum();
    for (n, payment) in payload.payments.iter().enumerate() {
        let signs_right = if refund {
            payment.amount_minor <= 0 && payment.value_minor <= 0
        } else {
            payment.amount_minor > 0 && payment.value_minor > 0
        };
        if !signs_right {
            return Err(format!(
                "payment {}: {}",
                n + 1,
                if refund {
                    "a refund's payments are paid out (negative)"
                } else {
                    "a sale's payments are more than 0"
                }
            ));
        }
        if payment.currency == payload.currency && payment.value_minor != payment.amount_minor {
            return Err(format!(
                "payment {}: in the sale's currency it is worth what was handed over",
                n + 1
            ));
        }
    }
    if refund {
        if paid != total {
            return Err(format!(
                "its payments pay out {paid}, not its total {total}"
            ));
        }
        if payload.change_minor != 0 {
            return Err("a refund gives no change".into());
        }
        return Ok(());
    }
    if total < 0 {
        return Err(format!("a sale's total is not negative ({total})"));
    }
    // Each payment's value is rounded (half up) from an exact fraction: together they may
    // fall short of what was really paid by less than a minor unit each.
    let rounding = payload.payments.len() as i128;
    if paid + rounding < total {
        return Err(format!(
            "its payments, {paid}, do not cover its total {total}"
        ));
    }
    if payload.change_minor < 0 {
        return Err("change is not negative".into());
    }
    let all_in_sale_currency = payload.change_currency == payload.currency
        && payload
            .payments
            .iter()
            .all(|p| p.currency == payload.currency);
    if all_in_sale_currency && i128::from(payload.change_minor) != paid - total {
        return Err(format!(
            "its change {} is not what was paid over its total, {}",
            payload.change_minor,
            paid - total
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::{ExchangeRate, Quantity, Unit};
    use crate::sales::{Payment, TenderMethod};
    use crate::tax::{TaxCode, TaxRate};
    use crate::{CurrencyCode, ProductId};

    const STANDARD: TaxRate = TaxRate {
        code: TaxCode::Standard,
        rate_bp: 1500,
    };

    fn usd() -> CurrencyCode {
        CurrencyCode::parse("USD").unwrap()
    }

    /// Two loaves at 1.25 less 0.10 off the line, paid with 5.00 cash: as a till writes it.
    fn sale() -> SalePayload {
        let lines = vec![SaleLine {
            line_no: 1,
            product_id: ProductId::from_uuid(uuid::Uuid::from_u128(7)),
            sku: "BREAD".into(),
            name: "Bread".into(),
            unit: Unit::Each,
            quantity: Quantity::whole(2),
            unit_price_minor: 125,
            list_price_minor: 125,
            line_discount_minor: 10,
            cart_discount_minor: 0,
            total_minor: 240,
            tax: STANDARD,
            vat_minor: 31,
            refund_of_line: None,
            restock: None,
        }];
        let (vat, _) = vat_breakdown(&[(STANDARD, 240)]);
        SalePayload {
            sale_id: uuid::Uuid::now_v7(),
            receipt_no: "R-1".into(),
            till_session_id: uuid::Uuid::now_v7(),
            location_id: None,
            currency: usd(),
            lines,
            subtotal_minor: 250,
            discount_minor: 10,
            total_minor: 240,
            vat,
            payments: vec![Payment {
                method: TenderMethod::Cash,
                currency: usd(),
                amount_minor: 500,
                rate: ExchangeRate::ONE,
                rate_base: usd(),
                value_minor: 500,
                reference: None,
            }],
            change_minor: 260,
            change_currency: usd(),
            change_rate: ExchangeRate::ONE,
            change_rate_base: usd(),
            refund_of: None,
            reason: None,
            approver_id: None,
            approver_grant_jti: None,
        }
    }

    /// One of those loaves back, as a till works a refund out.
    fn refund() -> SalePayload {
        let mut refund = sale();
        let line = &mut refund.lines[0];
        line.quantity = Quantity::from_milli(-1000);
        line.line_discount_minor = -5;
        line.total_minor = -120;
        line.vat_minor = -16;
        line.refund_of_line = Some(1);
        line.restock = Some(true);
        refund.vat = bands_of_lines(&[(STANDARD, -120, -16)]);
        refund.subtotal_minor = -125;
        refund.discount_minor = -5;
        refund.total_minor = -120;
        refund.payments[0].amount_minor = -120;
        refund.payments[0].value_minor = -120;
        refund.change_minor = 0;
        refund.refund_of = Some(uuid::Uuid::now_v7());
        refund
    }

    #[test]
    fn what_a_till_writes_adds_up() {
        check(RecordKind::Sale, &sale()).unwrap();
        check(RecordKind::Refund, &refund()).unwrap();
    }

    type Edit = Box<dyn Fn(&mut SalePayload)>;

    #[test]
    fn a_payload_that_does_not_add_up_is_named_by_the_rule_it_breaks() {
        let broken: Vec<(RecordKind, Edit, &str)> = vec![
            (
                RecordKind::Sale,
                Box::new(|p| p.total_minor = 1),
                "is not the sum of its lines",
            ),
            (
                RecordKind::Sale,
                Box::new(|p| p.lines[0].total_minor = 1),
                "× 2 is 250",
            ),
            (
                RecordKind::Sale,
                Box::new(|p| p.subtotal_minor = 1),
                "its subtotal",
            ),
            (
                RecordKind::Sale,
                Box::new(|p| p.discount_minor = 0),
                "its discount",
            ),
            (
                RecordKind::Sale,
                Box::new(|p| p.lines[0].vat_minor = 0),
                "its VAT 0",
            ),
            (
                RecordKind::Sale,
                Box::new(|p| p.vat.clear()),
                "VAT breakdown",
            ),
            (
                RecordKind::Sale,
                Box::new(|p| p.change_minor = 1000),
                "its change 1000",
            ),
            (
                RecordKind::Sale,
                Box::new(|p| p.change_minor = -1),
                "change is not negative",
            ),
            (
                RecordKind::Sale,
                Box::new(|p| p.payments[0].value_minor = 9),
                "worth what was handed over",
            ),
            (
                RecordKind::Sale,
                Box::new(|p| p.payments.clear()),
                "do not cover",
            ),
            (
                RecordKind::Sale,
                Box::new(|p| p.refund_of = Some(uuid::Uuid::nil())),
                "refunds nothing",
            ),
            (
                RecordKind::Sale,
                Box::new(|p| p.lines[0].quantity = Quantity::from_milli(-2000)),
                "not negative",
            ),
            (
                RecordKind::Sale,
                Box::new(|p| p.lines[0].quantity = Quantity::from_milli(1500)),
                "whole units",
            ),
            (
                RecordKind::Sale,
                Box::new(|p| p.lines[0].line_no = 2),
                "not numbered 1",
            ),
            (RecordKind::Sale, Box::new(|p| p.lines.clear()), "no lines"),
            (
                RecordKind::Refund,
                Box::new(|p| p.refund_of = None),
                "names the sale it refunds",
            ),
            (
                RecordKind::Refund,
                Box::new(|p| p.lines[0].quantity = Quantity::ONE),
                "are negative",
            ),
            (
                RecordKind::Refund,
                Box::new(|p| p.lines[0].refund_of_line = None),
                "names the sale's line",
            ),
            (
                RecordKind::Refund,
                Box::new(|p| p.payments[0].value_minor = -500),
                "worth what",
            ),
            (
                RecordKind::Refund,
                Box::new(|p| p.change_minor = 5),
                "no change",
            ),
            (RecordKind::TillOpened, Box::new(|_| {}), "carries no sale"),
        ];
        for (kind, edit, expected) in broken {
            let mut payload = if kind == RecordKind::Refund {
                refund()
            } else {
                sale()
            };
            edit(&mut payload);
            let problem = check(kind, &payload).unwrap_err();
            assert!(
                problem.contains(expected),
                "{expected:?} not in {problem:?}"
            );
        }
    }

    #[test]
    fn a_refund_that_pays_out_more_than_its_lines_is_refused() {
        let mut payload = refund();
        payload.payments[0].amount_minor = -10_000;
        payload.payments[0].value_minor = -10_000;
        let problem = check(RecordKind::Refund, &payload).unwrap_err();
        assert!(
            problem.contains("pay out -10000, not its total -120"),
            "{problem}"
        );
    }

    /// A finding of the fuzz targets (docs/reliability.md, "Fuzzing"): a refund's lines each
    /// carry a VAT share in range, but nothing bounded their sum, and summing a hundred
    /// shares of -10^17 into one band overflowed `i64` (a panic where overflow is checked,
    /// a wrapped total otherwise) instead of refusing the record.
    #[test]
    fn a_refund_whose_vat_shares_add_up_past_any_amount_is_refused() {
        let mut refund = refund();
        let template = refund.lines[0].clone();
        refund.lines = (1..=100)
            .map(|n| SaleLine {
                line_no: n,
                total_minor: 0,
                line_discount_minor: 0,
                vat_minor: -crate::bounds::MAX_AMOUNT_MINOR,
                ..template.clone()
            })
            .collect();
        refund.subtotal_minor = 0;
        refund.discount_minor = 0;
        refund.total_minor = 0;
        refund.payments[0].amount_minor = 0;
        refund.payments[0].value_minor = 0;
        let problem = check(RecordKind::Refund, &refund).unwrap_err();
        assert!(problem.contains("VAT"), "{problem}");
    }
}

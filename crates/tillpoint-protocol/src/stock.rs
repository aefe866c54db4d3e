//! The stock-change rule: what one line of a sale or refund does to its product's stock.
//!
//! Stock is a ledger of signed movements (ARCHITECTURE.md §4). The till writes a movement
//! when it makes the sale, so it can tell stock offline; the server writes its own when the
//! sale arrives, so its levels count every till. Both must move the same quantity for the
//! same line, or the till's estimate and the server's level drift apart — so the rule lives
//! here, once, and both sides call it.

use crate::journal::RecordKind;
use crate::sales::SaleLine;

/// How much `line` of a record of `kind` moves its product's stock, in thousandths of the
/// unit: a sale takes its quantity out; a refund (whose lines carry negative quantities)
/// puts it back, unless the goods did not go back on the shelf (`restock == Some(false)`:
/// damaged, thrown away). `None` when the line moves no stock, and for records that carry
/// no goods.
pub fn line_movement_milli(kind: RecordKind, line: &SaleLine) -> Option<i64> {
    match kind {
        RecordKind::Sale => Some(line.quantity.milli().saturating_neg()),
        RecordKind::Refund if line.restock == Some(false) => None,
        RecordKind::Refund => Some(line.quantity.milli().saturating_neg()),
        RecordKind::TillOpened | RecordKind::TillClosed => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::{Quantity, Unit};
    use crate::tax::{TaxCode, TaxRate};
    use crate::ProductId;

    fn line(quantity_milli: i64, restock: Option<bool>) -> SaleLine {
        SaleLine {
            line_no: 1,
            product_id: ProductId::from_uuid(uuid::Uuid::now_v7()),
            sku: "BREAD".into(),
            name: "Bread".into(),
            unit: Unit::Each,
            quantity: Quantity::from_milli(quantity_milli),
            unit_price_minor: 125,
            list_price_minor: 125,
            line_discount_minor: 0,
            cart_discount_minor: 0,
            total_minor: 125 * quantity_milli / 1000,
            tax: TaxRate {
                code: TaxCode::Standard,
                rate_bp: 1500,
            },
            vat_minor: 0,
            refund_of_line: restock.map(|_| 1),
            restock,
        }
    }

    #[test]
    fn a_sale_takes_its_quantity_out() {
        assert_eq!(
            line_movement_milli(RecordKind::Sale, &line(2000, None)),
            Some(-2000)
        );
        // Weighed goods move to the gram.
        assert_eq!(
            line_movement_milli(RecordKind::Sale, &line(1250, None)),
            Some(-1250)
        );
    }

    #[test]
    fn a_refund_puts_its_quantity_back_unless_the_goods_were_not_restocked() {
        assert_eq!(
            line_movement_milli(RecordKind::Refund, &line(-1000, Some(true))),
            Some(1000)
        );
        assert_eq!(
            line_movement_milli(RecordKind::Refund, &line(-1000, None)),
            Some(1000),
            "restocked unless it says otherwise"
        );
        assert_eq!(
            line_movement_milli(RecordKind::Refund, &line(-1000, Some(false))),
            None
        );
    }

    #[test]
    fn a_sale_line_moves_stock_whatever_its_restock_flag_says() {
        // Only a refund's goods can stay off the shelf: a sale always took them out.
        assert_eq!(
            line_movement_milli(RecordKind::Sale, &line(3000, Some(false))),
            Some(-3000)
        );
    }

    #[test]
    fn till_sessions_move_no_stock() {
        for kind in [RecordKind::TillOpened, RecordKind::TillClosed] {
            assert_eq!(line_movement_milli(kind, &line(1000, None)), None);
        }
    }
}

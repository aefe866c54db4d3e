//! Scanning: a scale label sells its weight, and bad or unknown barcodes change nothing.

use super::{ean13, err_code, shop};

#[tokio::test]
async fn a_scale_label_sells_its_weight_and_bad_barcodes_change_nothing() {
    let shop = shop("Cashier").await;
    let till = shop.t();
    let c = &shop.catalog;
    let label = ean13(&format!("25{}01235", c.bananas_item_code));
    let view = till.scan_barcode(&label).unwrap();
    assert_eq!(view.lines.len(), 1);
    assert_eq!(view.lines[0].product_id, c.bananas.id);
    assert_eq!(view.lines[0].quantity, "1.235");
    assert_eq!(view.total_minor, 246, "1.235 kg × 1.99 = 2.45765 → 2.46");
    assert!(!view.lines[0].price_overridden);
    // A second label is a second weighing, not added to the first.
    let other = ean13(&format!("25{}00500", c.bananas_item_code));
    let view = till.scan_barcode(&other).unwrap();
    assert_eq!(view.lines.len(), 2);
    assert_eq!(view.total_minor, 246 + 100, "0.5 kg × 1.99 = 0.995 → 1.00");

    let cart = till.pos_state().unwrap().cart;
    let unknown = ean13("600999999999");
    let mut bad_check = c.bread.barcode.clone();
    let last = bad_check.pop().unwrap();
    bad_check.push(if last == '0' { '1' } else { '0' });
    let unknown_item_label = ean13("259999901000");
    for code in [
        unknown.as_str(),
        bad_check.as_str(),
        unknown_item_label.as_str(),
        "",
        "12345",
        "abc",
    ] {
        assert_eq!(
            err_code(till.scan_barcode(code)),
            "unknown_barcode",
            "{code:?}"
        );
        assert_eq!(
            till.pos_state().unwrap().cart,
            cart,
            "{code:?} left the cart as it was"
        );
    }
}

//! Till sessions: selling and refunding need an open till, and a till opens once.

use super::{cash, count, err_code, open_till, paying, refund_line, refund_of, shop, written};

#[tokio::test]
async fn selling_needs_an_open_till_and_a_till_opens_once() {
    let shop = shop("Cashier").await;
    let till = shop.t();
    let c = &shop.catalog;
    till.scan_barcode(&c.bread.barcode).unwrap();
    let conn = shop.db();
    let before = written(&conn);
    let closed = till
        .checkout(&paying(vec![cash("USD", "5.00")], "USD"))
        .await;
    assert_eq!(err_code(closed), "till_not_open");
    assert_eq!(written(&conn), before);
    assert_eq!(err_code(till.till_report().await), "till_not_open");
    assert_eq!(err_code(till.close_till(&[]).await), "till_not_open");

    open_till(till);
    assert_eq!(
        err_code(till.open_till(&[count("USD", "10.00")])),
        "till_already_open"
    );
    let first = till
        .checkout(&paying(vec![cash("USD", "5.00")], "USD"))
        .await
        .unwrap();
    let x = till.till_report().await.unwrap().report;
    assert_eq!(x.kind, tillpoint_receipt::ReportKind::X);
    assert_eq!(x.sales_count, 1);

    // The cash is counted in each currency the till takes, or it does not close.
    assert_eq!(
        err_code(till.close_till(&[count("USD", "51.25")]).await),
        "cash_not_counted"
    );
    till.close_till(&[count("USD", "51.25"), count("ZWG", "1000.00")])
        .await
        .unwrap();
    till.scan_barcode(&c.milk.barcode).unwrap();
    let after_close = till
        .checkout(&paying(vec![cash("USD", "5.00")], "USD"))
        .await;
    assert_eq!(err_code(after_close), "till_not_open");
    let refund = till
        .refund(&refund_of(
            &first.sale_id,
            vec![refund_line(1, "1", true)],
            None,
        ))
        .await;
    // A Cashier needs an approver anyway; either refusal leaves nothing written.
    assert!(refund.is_err());

    open_till(till);
    let second = till
        .checkout(&paying(vec![cash("USD", "5.00")], "USD"))
        .await
        .unwrap();
    assert!(
        second.receipt_no.ends_with("-000002"),
        "{}",
        second.receipt_no
    );
    let sessions: Vec<(String, Option<String>)> = conn
        .prepare("SELECT s.session_id, t.closed_at FROM sales s JOIN till_sessions t ON t.id = s.session_id ORDER BY s.receipt_seq")
        .unwrap()
        .query_map((), |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_ne!(sessions[0].0, sessions[1].0, "each sale in its own session");
    assert!(sessions[0].1.is_some() && sessions[1].1.is_none());
}

#[tokio::test]
async fn a_refund_needs_an_open_till_too() {
    let shop = shop("Administrator").await;
    let till = shop.t();
    open_till(till);
    till.scan_barcode(&shop.catalog.bread.barcode).unwrap();
    let sale = till
        .checkout(&paying(vec![cash("USD", "5.00")], "USD"))
        .await
        .unwrap();
    till.close_till(&[count("USD", "51.25"), count("ZWG", "1000.00")])
        .await
        .unwrap();
    let refund = till
        .refund(&refund_of(
            &sale.sale_id,
            vec![refund_line(1, "1", true)],
            None,
        ))
        .await;
    assert_eq!(err_code(refund), "till_not_open");
}

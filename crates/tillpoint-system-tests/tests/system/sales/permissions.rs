//! Permissions enforced in the core: a cashier cannot discount or refund alone, a manager
//! approves on the till, a manager's discount cannot be cashed in by a cashier, and nobody
//! approves their own refund.

use super::{
    amount_off, cash, err_code, open_till, paying, payload_of, percent, refund_line, refund_of,
    shop, written, ADMIN_PASSWORD, PASSWORD,
};
use tillpoint_core::sales::Approver;

#[tokio::test]
async fn a_cashier_cannot_discount_or_refund_alone_and_a_manager_approves_on_the_till() {
    let shop = shop("Cashier").await;
    let amara = shop
        .server
        .create_user(&shop.org, "amara", "Administrator", ADMIN_PASSWORD)
        .await;
    shop.server
        .create_user(&shop.org, "rudo", "Cashier", "rudo-password-1")
        .await;
    shop.server
        .create_user(&shop.org, "farai", "Administrator", "farai-password-1")
        .await;
    let till = shop.t();
    // The manager signs in here first (and opens the till), then another cashier, then tendai.
    till.lock();
    till.sign_in("amara", ADMIN_PASSWORD).await.unwrap();
    open_till(till);
    till.lock();
    till.sign_in("rudo", "rudo-password-1").await.unwrap();
    till.lock();
    till.sign_in("tendai", PASSWORD).await.unwrap();

    let c = &shop.catalog;
    let view = till.scan_barcode(&c.bread.barcode).unwrap();
    let line = view.lines[0].line_id;
    assert_eq!(
        err_code(till.cart_set_discount(Some(&percent("10")))),
        "forbidden"
    );
    assert_eq!(
        err_code(till.cart_set_line_discount(line, Some(&amount_off("0.25")))),
        "forbidden"
    );
    assert_eq!(
        err_code(till.cart_set_price(line, Some("0.50"))),
        "forbidden"
    );
    let state = till.pos_state().unwrap();
    assert!(!state.can_discount && !state.can_refund);
    assert_eq!(state.cart.total_minor, 125, "nothing came off");
    till.scan_barcode(&c.bread.barcode).unwrap();
    let sale = till
        .checkout(&paying(vec![cash("USD", "5.00")], "USD"))
        .await
        .unwrap();

    let conn = shop.db();
    let before = written(&conn);
    let one = || vec![refund_line(1, "1", true)];
    let alone = till.refund(&refund_of(&sale.sale_id, one(), None)).await;
    assert_eq!(err_code(alone), "forbidden");
    let by_cashier = till
        .refund(&refund_of(
            &sale.sale_id,
            one(),
            Some(Approver {
                username: "rudo".into(),
                password: "rudo-password-1".into(),
            }),
        ))
        .await
        .expect_err("another cashier cannot approve");
    assert_eq!(by_cashier.code(), "forbidden");
    assert!(by_cashier.to_string().contains("approver"), "{by_cashier}");
    let stranger = till
        .refund(&refund_of(
            &sale.sale_id,
            one(),
            Some(Approver {
                username: "farai".into(),
                password: "farai-password-1".into(),
            }),
        ))
        .await;
    assert_eq!(
        err_code(stranger),
        "wrong_credentials",
        "farai never signed in here, and is told apart from a wrong password by nothing"
    );
    assert_eq!(written(&conn), before);

    let refund = till
        .refund(&refund_of(
            &sale.sale_id,
            one(),
            Some(Approver {
                username: "amara".into(),
                password: ADMIN_PASSWORD.into(),
            }),
        ))
        .await
        .expect("a manager who signed in on this till approves");
    let (approver, creator, kind, total): (Option<String>, String, String, i64) = conn
        .query_row(
            "SELECT approver_id, creator_id, kind, total_minor FROM sales WHERE id = ?1",
            [&refund.sale_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    assert_eq!(approver, Some(amara.to_string()));
    assert_eq!(creator, shop.user.to_string(), "the cashier made it");
    assert_eq!((kind.as_str(), total), ("refund", -125));
    assert_eq!(payload_of(&conn, &refund.sale_id).approver_id, Some(amara));

    let before = written(&conn);
    let wrong = till
        .refund(&refund_of(
            &sale.sale_id,
            one(),
            Some(Approver {
                username: "amara".into(),
                password: "not-her-password".into(),
            }),
        ))
        .await;
    assert_eq!(err_code(wrong), "wrong_credentials");
    assert_eq!(written(&conn), before);
}

#[tokio::test]
async fn a_discount_given_by_a_manager_cannot_be_cashed_in_by_a_cashier() {
    let shop = shop("Cashier").await;
    shop.server
        .create_user(&shop.org, "amara", "Administrator", ADMIN_PASSWORD)
        .await;
    let till = shop.t();
    till.lock();
    till.sign_in("amara", ADMIN_PASSWORD).await.unwrap();
    open_till(till);
    let view = till.scan_barcode(&shop.catalog.bread.barcode).unwrap();
    till.cart_set_price(view.lines[0].line_id, Some("0.01"))
        .unwrap();
    till.lock();
    till.sign_in("tendai", PASSWORD).await.unwrap();
    // The cashier may still sell what is on the till, but not take money for the markdown.
    let line = till.pos_state().unwrap().cart.lines[0].line_id;
    till.cart_set_quantity(line, "100").unwrap();
    let conn = shop.db();
    let before = written(&conn);
    let refused = till
        .checkout(&paying(vec![cash("USD", "5.00")], "USD"))
        .await;
    assert_eq!(err_code(refused), "forbidden");
    assert_eq!(written(&conn), before, "nothing was written");
    // Back at the list price, the sale goes through.
    till.cart_set_quantity(line, "1").unwrap();
    assert_eq!(err_code(till.cart_set_price(line, None)), "forbidden");
    till.cart_void().unwrap();
    till.scan_barcode(&shop.catalog.bread.barcode).unwrap();
    till.checkout(&paying(vec![cash("USD", "5.00")], "USD"))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_cashier_cannot_approve_their_own_refund() {
    let shop = shop("Cashier").await;
    let till = shop.t();
    open_till(till);
    till.scan_barcode(&shop.catalog.bread.barcode).unwrap();
    let sale = till
        .checkout(&paying(vec![cash("USD", "5.00")], "USD"))
        .await
        .unwrap();
    let own = till
        .refund(&refund_of(
            &sale.sale_id,
            vec![refund_line(1, "1", true)],
            Some(Approver {
                username: "tendai".into(),
                password: PASSWORD.into(),
            }),
        ))
        .await;
    assert_eq!(err_code(own), "invalid_input");
}

//! Receipt numbers per device: two tills selling offline number their receipts apart and
//! without gaps.

use super::{cash, db, open_till, paying, receipt_prefix, shop, PASSWORD};

#[tokio::test]
async fn two_tills_selling_offline_number_their_receipts_apart_and_without_gaps() {
    let shop = shop("Cashier").await;
    shop.server
        .create_user(&shop.org, "rudo", "Cashier", "rudo-password-1")
        .await;
    let second = shop.another_till(|_| {});
    second
        .till
        .sign_in("rudo", "rudo-password-1")
        .await
        .unwrap();
    let tills = [
        (shop.t(), "tendai", PASSWORD),
        (&second.till, "rudo", "rudo-password-1"),
    ];
    for (till, user, password) in tills {
        open_till(till);
        till.lock();
        till.unlock_offline(user, password).await.unwrap();
    }
    let mut numbers: Vec<Vec<String>> = vec![Vec::new(), Vec::new()];
    for round in 0..3 {
        for (index, (till, _, _)) in tills.iter().enumerate() {
            till.scan_barcode(&shop.catalog.bread.barcode).unwrap();
            let done = till
                .checkout(&paying(vec![cash("USD", "5.00")], "USD"))
                .await
                .unwrap_or_else(|e| panic!("till {index}, round {round}: {e}"));
            numbers[index].push(done.receipt_no);
        }
    }
    let prefixes = [receipt_prefix(tills[0].0), receipt_prefix(tills[1].0)];
    assert_ne!(prefixes[0], prefixes[1]);
    for (index, prefix) in prefixes.iter().enumerate() {
        let expected: Vec<String> = (1..=3).map(|n| format!("{prefix}-{n:06}")).collect();
        assert_eq!(numbers[index], expected, "till {index}");
    }
    let mut all: Vec<&String> = numbers.iter().flatten().collect();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 6, "no number is used twice across tills");
    for (conn, expected) in [(shop.db(), &numbers[0]), (db(&second), &numbers[1])] {
        let stored: Vec<String> = conn
            .prepare("SELECT receipt_no FROM sales ORDER BY receipt_seq")
            .unwrap()
            .query_map((), |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(&stored, expected);
    }
}

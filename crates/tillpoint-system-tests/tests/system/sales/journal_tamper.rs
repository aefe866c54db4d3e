//! Journal tamper: an edited or re-forged journal entry is found.

use super::{cash, open_till, paying, shop};
use tillpoint_core::journal::{self, JournalError};
use tillpoint_protocol::journal::ChainError;
use tillpoint_protocol::sales::SalePayload;

#[tokio::test]
async fn an_edited_or_reforged_journal_entry_is_found() {
    let shop = shop("Cashier").await;
    let till = shop.t();
    open_till(till);
    for item in [&shop.catalog.bread, &shop.catalog.oil] {
        till.scan_barcode(&item.barcode).unwrap();
        till.checkout(&paying(vec![cash("USD", "5.00")], "USD"))
            .await
            .unwrap();
    }
    let conn = shop.db();
    assert_eq!(journal::verify(&conn).unwrap(), 3);
    let refused = conn
        .execute("UPDATE journal SET payload = '{}' WHERE seq = 2", [])
        .expect_err("the journal refuses edits");
    assert!(refused.to_string().contains("append-only"), "{refused}");

    // Someone with the database file drops the guard and lowers a sale's total.
    conn.execute_batch("DROP TRIGGER journal_no_update")
        .unwrap();
    let record = journal::read(&conn, 2, 2).unwrap().remove(0);
    let mut payload: SalePayload = serde_json::from_str(&record.payload).unwrap();
    payload.total_minor = 25;
    let edited = serde_json::to_string(&payload).unwrap();
    conn.execute("UPDATE journal SET payload = ?1 WHERE seq = 2", [&edited])
        .unwrap();
    let err = journal::verify(&conn).expect_err("the edit is found");
    assert!(
        matches!(err, JournalError::Chain(ChainError::Edited { seq: 2 })),
        "{err:?}"
    );
    assert!(err.to_string().contains("record 2"), "{err}");

    // Re-hashing the edited entry breaks the link to the next one instead.
    let mut forged = journal::read(&conn, 2, 2).unwrap().remove(0);
    forged.hash = forged.expected_hash();
    conn.execute("UPDATE journal SET hash = ?1 WHERE seq = 2", [&forged.hash])
        .unwrap();
    let err = journal::verify(&conn).expect_err("the forgery is found");
    assert!(
        matches!(err, JournalError::Chain(ChainError::Broken { seq: 3 })),
        "{err:?}"
    );
    assert!(err.to_string().contains("record 3"), "{err}");
}

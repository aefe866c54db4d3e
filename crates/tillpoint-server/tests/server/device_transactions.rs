//! Pushes of one organisation's tills run side by side on PostgreSQL: each queues only
//! behind its own device's writers (`Connection::device_transaction`), and they take turns
//! only to write what they share (`Connection::add_to_stock_levels`). On SQLite every
//! writer takes the one write lock, so there is nothing to check, and these tests say so.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use tillpoint_server::store::DbError;
use tillpoint_server::testing::{on_postgres, spawn_server, TestServer};

/// Opens a device transaction for `device` on a pooled connection of its own, tells
/// `opened`, then runs `then` in it and commits.
fn hold_open(
    server: &TestServer,
    org: tillpoint_protocol::OrgId,
    device: &'static str,
    opened: mpsc::Sender<()>,
    then: impl FnOnce(&tillpoint_server::store::Connection<'_>) + Send + 'static,
) -> std::thread::JoinHandle<()> {
    let db = server.db.clone();
    std::thread::spawn(move || {
        let mut then = Some(then);
        db.call_blocking_in(org, |conn| -> Result<(), DbError> {
            let tx = conn.device_transaction(&org.to_string(), device)?;
            opened.send(()).ok();
            if let Some(then) = then.take() {
                then(&tx);
            }
            tx.commit()?;
            Ok(())
        })
        .unwrap();
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn two_devices_of_one_organisation_write_side_by_side_and_one_device_waits_for_itself() {
    if !on_postgres() {
        eprintln!("SQLite: one writer at a time, nothing runs side by side");
        return;
    }
    let server = spawn_server().await;
    let org = server.create_organisation("Shop").await.id;

    // Device A's transaction stays open until B has written and committed.
    let (a_opened, a_is_open) = mpsc::channel();
    let (b_done, b_is_done) = mpsc::channel::<()>();
    let a = hold_open(&server, org, "device-a", a_opened, move |_| {
        let waited = b_is_done.recv_timeout(Duration::from_secs(20));
        assert!(waited.is_ok(), "device B's push waited behind device A's");
    });
    a_is_open.recv().unwrap();
    let (b_opened, _) = mpsc::channel();
    let b = hold_open(&server, org, "device-b", b_opened, move |_| {});
    tokio::task::spawn_blocking(move || b.join().unwrap())
        .await
        .unwrap();
    b_done.send(()).unwrap();
    tokio::task::spawn_blocking(move || a.join().unwrap())
        .await
        .unwrap();

    // A second transaction of device A waits for the first to end.
    let first_ended = Arc::new(AtomicBool::new(false));
    let (opened, is_open) = mpsc::channel();
    let ended = first_ended.clone();
    let first = hold_open(&server, org, "device-a", opened, move |_| {
        std::thread::sleep(Duration::from_millis(400));
        ended.store(true, Ordering::SeqCst);
    });
    is_open.recv().unwrap();
    let (opened, _) = mpsc::channel();
    let ended = first_ended.clone();
    let second = hold_open(&server, org, "device-a", opened, move |_| {
        assert!(
            ended.load(Ordering::SeqCst),
            "a device's second push began while its first was still open"
        );
    });
    tokio::task::spawn_blocking(move || {
        first.join().unwrap();
        second.join().unwrap();
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn the_organisations_turn_is_taken_by_one_device_at_a_time_and_by_other_writers_too() {
    if !on_postgres() {
        eprintln!("SQLite: one writer at a time, the turn is always the writer's");
        return;
    }
    let server = spawn_server().await;
    let org = server.create_organisation("Shop").await.id;
    let org_text = org.to_string();

    let a_released = Arc::new(AtomicBool::new(false));
    let (opened, _) = mpsc::channel();
    let (turn_taken, has_turn) = mpsc::channel();
    let released = a_released.clone();
    let org_a = org_text.clone();
    let a = hold_open(&server, org, "device-a", opened, move |tx| {
        tx.add_to_stock_levels(&org_a, &a_sale()).unwrap();
        turn_taken.send(()).unwrap();
        std::thread::sleep(Duration::from_millis(400));
        released.store(true, Ordering::SeqCst);
    });
    has_turn.recv().unwrap();
    // Device B gets in beside A, but not into the turn A holds.
    let (opened, _) = mpsc::channel();
    let released = a_released.clone();
    let b = hold_open(&server, org, "device-b", opened, move |tx| {
        tx.add_to_stock_levels(&org_text, &a_sale()).unwrap();
        assert!(
            released.load(Ordering::SeqCst),
            "device B took the organisation's turn while A held it"
        );
    });
    // An ordinary writer of the organisation (an administrator's change) waits for it too.
    let db = server.db.clone();
    let released = a_released.clone();
    let other = std::thread::spawn(move || {
        db.call_blocking_in(org, |conn| -> Result<(), DbError> {
            let tx = conn.transaction()?;
            assert!(
                released.load(Ordering::SeqCst),
                "another writer of the organisation began while a device held its turn"
            );
            tx.commit()?;
            Ok(())
        })
        .unwrap();
    });
    tokio::task::spawn_blocking(move || {
        a.join().unwrap();
        b.join().unwrap();
        other.join().unwrap();
    })
    .await
    .unwrap();
}

/// One unit of a product sold, as a push adds it to the levels.
fn a_sale() -> Vec<(String, String, i64)> {
    vec![("a-product".to_owned(), String::new(), -1000)]
}

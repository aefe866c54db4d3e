//! What each record must be to count, pushed as a till (or an attacker holding a till's
//! key) would: made by someone signed in on the device or holding a grant for it, approved
//! by someone who did approve on it, by no one disabled, adding up, refunding no more than
//! remains, and with every number inside its range — never a panic or a retryable failure.

use chrono::Utc;
use serde_json::json;
use tillpoint_protocol::journal::{JournalRecord, GENESIS_HASH};
use tillpoint_protocol::sync::Outcome;
use tillpoint_protocol::DeviceId;

use super::fixtures::{
    edit_payload, grant, make_refund_of, rechain, sales, send, setup, sign_in_at, Setup,
    SIGNED_IN_AT,
};
use super::NOT_APPLICABLE;
use crate::store::DbError;

fn start() -> (u64, String) {
    (0, GENESIS_HASH.to_owned())
}

/// `records` chained from genesis after `edit`.
fn chained(
    mut records: Vec<JournalRecord>,
    edit: impl FnOnce(&mut [JournalRecord]),
) -> Vec<JournalRecord> {
    edit(&mut records);
    rechain(&mut records, start());
    records
}

fn count(s: &Setup, sql: &'static str) -> i64 {
    s.db.call_blocking(move |conn| -> Result<i64, DbError> {
        Ok(conn.query_row(sql, (), |r| r.get(0))?)
    })
    .unwrap()
}

fn execute(s: &Setup, sql: &'static str) {
    s.db.call_blocking(move |conn| -> Result<_, DbError> { Ok(conn.execute_batch(sql)?) })
        .unwrap();
}

/// Has the manager (who may refund) make `record`, signed in on the setup's device.
fn by_the_manager(s: &Setup, record: &mut JournalRecord) {
    sign_in_at(
        &s.db,
        s.pusher.tenant.org(),
        s.manager,
        s.device,
        SIGNED_IN_AT,
    );
    record.creator_id = s.manager;
}

#[test]
fn a_cashiers_till_cannot_name_the_administrator_as_the_creator_of_an_online_sale() {
    let s = setup();
    // The administrator is signed in, but on another till: that is no sign-in on this one.
    let elsewhere = DeviceId::from_uuid(uuid::Uuid::now_v7());
    s.db.call_blocking(move |conn| -> Result<_, DbError> {
        Ok(conn.execute(
            "INSERT INTO devices (org_id, id, first_seen, last_seen) VALUES (?1, ?2, '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z')",
            (s.pusher.tenant.org().to_string(), elsewhere.to_string()),
        )?)
    })
    .unwrap();
    sign_in_at(
        &s.db,
        s.pusher.tenant.org(),
        s.manager,
        elsewhere,
        "2026-11-27T09:00:00.000Z",
    );
    let records = chained(sales(&s, start(), 2), |r| r[1].creator_id = s.manager);
    let answer = send(&s, records.clone());
    assert_eq!(answer[0].0, Outcome::Accepted, "the cashier's own sale");
    assert_eq!(answer[1].0, Outcome::Quarantined);
    assert_eq!(
        answer[1].1.as_deref(),
        Some("made online, but its creator was not signed in on this device at its time")
    );
    assert_eq!(count(&s, "SELECT COUNT(*) FROM sales"), 1);
}

#[test]
fn an_online_record_counts_only_inside_its_creators_sign_in_on_the_device() {
    let s = setup();
    let (org, device, manager) = (s.pusher.tenant.org(), s.device, s.manager);
    // Signed in at 09:00 (as the records' 10:00 lie inside), signed out at 09:30.
    sign_in_at(&s.db, org, manager, device, "2026-11-27T09:00:00.000Z");
    execute(
        &s,
        "UPDATE refresh_tokens SET revoked_at = '2026-11-27T09:30:00.000Z'
          WHERE user_id IN (SELECT id FROM users WHERE username = 'manager')",
    );
    let records = chained(sales(&s, start(), 1), |r| r[0].creator_id = manager);
    let answer = send(&s, records);
    assert_eq!(answer[0].0, Outcome::Quarantined, "made after the sign-out");
    // A sign-in at 10:03 covers a record made at 10:00: within the clock tolerance.
    sign_in_at(&s.db, org, manager, device, "2026-11-27T10:03:00.000Z");
    let mut next = sales(&s, (1, String::new()), 1);
    next[0].creator_id = manager;
    let head = count(&s, "SELECT last_seq FROM device_chains") as u64;
    let hash: String =
        s.db.call_blocking(|conn| -> Result<String, DbError> {
            Ok(conn.query_row("SELECT last_hash FROM device_chains", (), |r| r.get(0))?)
        })
        .unwrap();
    rechain(&mut next, (head, hash));
    assert_eq!(send(&s, next)[0].0, Outcome::Accepted);
}

#[test]
fn an_approval_counts_only_under_the_approvers_grant_on_this_device_at_the_records_time() {
    let s = setup();
    let manager_grant = grant(&s, s.manager, &["pos:*:*"]);
    let manager_cannot_refund = grant(&s, s.manager, &["pos:sales:create"]);
    let cashiers = grant(&s, s.cashier, &["pos:*:*"]);
    let revoked = grant(&s, s.manager, &["pos:*:*"]);
    execute(
        &s,
        "UPDATE offline_grants SET revoked_at = '2026-11-27T09:10:00.000Z'
          WHERE jti = (SELECT jti FROM offline_grants ORDER BY issued_at DESC, jti DESC LIMIT 1)",
    );
    let approvals: [(Option<&str>, &str); 5] = [
        (None, "the approver's grant is not named"),
        (
            Some(&cashiers),
            "the approver's approval: the grant was issued to another user",
        ),
        (
            Some(&manager_cannot_refund),
            "the approver's approval: the grant does not cover pos:sales:refund",
        ),
        (
            Some(&revoked),
            "the approver's approval: made after the grant was revoked",
        ),
        (Some(&manager_grant), ""),
    ];
    let mut records = sales(&s, start(), 1 + approvals.len() as u64);
    let sold = records[0].clone();
    for (record, (jti, _)) in records[1..].iter_mut().zip(&approvals) {
        make_refund_of(record, &sold);
        edit_payload(record, |p| {
            p["approver_id"] = json!(s.manager);
            if let Some(jti) = jti {
                p["approver_grant_jti"] = json!(jti);
            }
        });
    }
    rechain(&mut records, start());
    let answer = send(&s, records);
    assert_eq!(answer[0].0, Outcome::Accepted);
    for ((outcome, reason), (_, expected)) in answer[1..].iter().zip(&approvals) {
        if expected.is_empty() {
            assert_eq!(*outcome, Outcome::Accepted, "{answer:?}");
        } else {
            assert_eq!(*outcome, Outcome::Quarantined, "{expected}");
            let reason = reason.as_deref().unwrap();
            assert!(reason.starts_with(expected), "{reason:?} for {expected:?}");
        }
    }
}

#[test]
fn the_creator_of_an_approved_refund_must_still_be_allowed_to_make_it() {
    let s = setup();
    let manager_grant = grant(&s, s.manager, &["pos:*:*"]);
    // Signed out before the refund: an approval does not stand in for its creator's sign-in.
    execute(
        &s,
        "UPDATE refresh_tokens SET revoked_at = '2026-11-27T09:30:00.000Z'",
    );
    let mut records = sales(&s, start(), 2);
    let sold = records[0].clone();
    make_refund_of(&mut records[1], &sold);
    edit_payload(&mut records[1], |p| {
        p["approver_id"] = json!(s.manager);
        p["approver_grant_jti"] = json!(manager_grant);
    });
    records[0].created_at = "2026-11-27T09:20:00.000Z".into();
    rechain(&mut records, start());
    let answer = send(&s, records);
    assert_eq!(answer[0].0, Outcome::Accepted, "{answer:?}");
    assert_eq!(answer[1].0, Outcome::Quarantined);
    assert_eq!(
        answer[1].1.as_deref(),
        Some("made online, but its creator was not signed in on this device at its time")
    );
}

#[test]
fn records_made_after_their_creator_was_disabled_are_quarantined_online_or_offline() {
    let s = setup();
    let jti = grant(&s, s.cashier, &["pos:sales:create"]);
    let cashier = s.cashier;
    s.db.call_blocking(move |conn| -> Result<_, DbError> {
        let at = chrono::DateTime::parse_from_rfc3339("2026-11-27T09:30:00.000Z")
            .unwrap()
            .with_timezone(&Utc);
        Ok(crate::identity::users::note_disabled(
            conn, cashier, true, at,
        )?)
    })
    .unwrap();
    let records = chained(sales(&s, start(), 3), |r| {
        r[0].created_at = "2026-11-27T09:20:00.000Z".into();
        r[2].grant_jti = Some(jti.clone());
    });
    let answer = send(&s, records);
    assert_eq!(answer[0].0, Outcome::Accepted, "made before: {answer:?}");
    for (outcome, reason) in &answer[1..] {
        assert_eq!(*outcome, Outcome::Quarantined);
        assert_eq!(
            reason.as_deref(),
            Some("made after its creator was disabled (2026-11-27T09:30:00.000Z)")
        );
    }
}

#[test]
fn a_payload_that_does_not_add_up_is_quarantined_with_the_rule_it_breaks() {
    let s = setup();
    let records = chained(sales(&s, start(), 2), |r| {
        // A negative "sale" that would take money out of the drawer's books.
        edit_payload(&mut r[1], |p| {
            p["lines"][0]["quantity"] = json!(-1000);
            p["lines"][0]["total_minor"] = json!(-125);
        });
    });
    let answer = send(&s, records);
    assert_eq!(answer[0].0, Outcome::Accepted);
    assert_eq!(answer[1].0, Outcome::Quarantined);
    assert_eq!(
        answer[1].1.as_deref(),
        Some("the sale does not add up: line 1: a sale's quantities and amounts are not negative")
    );
}

#[test]
fn a_refund_never_takes_back_more_than_remains_of_a_sale_the_server_holds() {
    let s = setup();
    let mut records = sales(&s, start(), 4);
    let sold = records[0].clone();
    let stranger = records[3].clone();
    make_refund_of(&mut records[1], &sold);
    make_refund_of(&mut records[2], &sold);
    // A refund of a sale the server has not seen (the last one, never sent).
    make_refund_of(&mut records[3], &stranger);
    for record in &mut records[1..] {
        by_the_manager(&s, record);
    }
    rechain(&mut records, start());
    let answer = send(&s, records);
    assert_eq!(answer[0].0, Outcome::Accepted);
    assert_eq!(
        answer[1].0,
        Outcome::Accepted,
        "the one loaf back: {answer:?}"
    );
    assert_eq!(answer[2].0, Outcome::Quarantined);
    assert!(
        answer[2]
            .1
            .as_deref()
            .unwrap()
            .starts_with("more is refunded of line 1 of sale"),
        "{answer:?}"
    );
    assert_eq!(answer[3].0, Outcome::Quarantined);
    assert!(
        answer[3]
            .1
            .as_deref()
            .unwrap()
            .starts_with("refund of a sale the server does not hold"),
        "{answer:?}"
    );
    assert_eq!(
        count(&s, "SELECT COUNT(*) FROM sales WHERE kind = 'refund'"),
        1
    );
}

#[test]
fn an_offline_sale_of_i64_min_is_rejected_as_it_is_read_never_panicked_on() {
    let s = setup();
    let jti = grant(&s, s.cashier, &["pos:sales:create"]);
    // Its absolute value panicked the grant's limit check.
    let records = chained(sales(&s, start(), 1), |r| {
        r[0].grant_jti = Some(jti.clone());
        edit_payload(&mut r[0], |p| p["total_minor"] = json!(i64::MIN));
    });
    let answer = send(&s, records);
    assert_eq!(answer[0].0, Outcome::Rejected);
    assert!(
        answer[0]
            .1
            .as_deref()
            .unwrap()
            .contains("amount -9223372036854775808 is out of range"),
        "{answer:?}"
    );
}

#[test]
fn a_line_of_i64_min_is_rejected_as_it_is_read_never_panicked_on() {
    let s = setup();
    // Its negation panicked the stock movement.
    let records = chained(sales(&s, start(), 1), |r| {
        edit_payload(&mut r[0], |p| p["lines"][0]["quantity"] = json!(i64::MIN));
    });
    let answer = send(&s, records);
    assert_eq!(answer[0].0, Outcome::Rejected);
    assert!(
        answer[0]
            .1
            .as_deref()
            .unwrap()
            .contains("quantity -9223372036854775808 is out of range"),
        "{answer:?}"
    );
}

#[test]
fn a_stock_level_at_the_end_of_its_range_does_not_stop_a_genuine_refund() {
    let s = setup();
    let records = sales(&s, start(), 2);
    let first = vec![records[0].clone()];
    assert_eq!(send(&s, first)[0].0, Outcome::Accepted);
    // Records a manager should look at have driven the loaf's level to the top.
    execute(
        &s,
        "UPDATE stock_levels SET on_hand_milli = 9223372036854775000",
    );
    let mut refund = vec![records[1].clone()];
    make_refund_of(&mut refund[0], &records[0]);
    by_the_manager(&s, &mut refund[0]);
    rechain(&mut refund, (1, records[0].hash.clone()));
    let answer = send(&s, refund);
    assert_eq!(answer[0].0, Outcome::Accepted, "{answer:?}");
    assert_eq!(
        count(&s, "SELECT on_hand_milli FROM stock_levels"),
        i64::MAX,
        "the level saturates rather than overflow"
    );
}

#[test]
fn a_record_the_books_refuse_is_quarantined_whole_not_answered_with_a_failure() {
    let s = setup();
    // A rule of the books judging does not foresee, refusing this sale's payment row.
    execute(
        &s,
        "CREATE TRIGGER refuse_payment BEFORE INSERT ON sale_payments
           WHEN new.amount_minor = 999 BEGIN SELECT RAISE(ABORT, 'refused'); END",
    );
    let records = chained(sales(&s, start(), 2), |r| {
        edit_payload(&mut r[1], |p| {
            p["payments"][0]["amount_minor"] = json!(999);
            p["payments"][0]["value_minor"] = json!(999);
            p["change_minor"] = json!(874);
        });
    });
    let answer = send(&s, records);
    assert_eq!(answer[0].0, Outcome::Accepted);
    assert_eq!(answer[1].0, Outcome::Quarantined, "{answer:?}");
    assert_eq!(answer[1].1.as_deref(), Some(NOT_APPLICABLE));
    assert_eq!(
        count(&s, "SELECT COUNT(*) FROM sales"),
        1,
        "nothing of it applied"
    );
    assert_eq!(
        count(
            &s,
            "SELECT COUNT(*) FROM sync_records WHERE status = 'quarantined'"
        ),
        1,
        "kept, for a manager"
    );
    assert_eq!(count(&s, "SELECT on_hand_milli FROM stock_levels"), -1000);
}

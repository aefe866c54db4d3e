//! Row-level security on PostgreSQL: work done for one organisation's token sees only that
//! organisation's rows even when its SQL forgets the filter, because the database, not the
//! query, applies it (migrations/server/postgres/). On SQLite there is no such layer (the
//! `Tenant` every query takes is the guard there), and these tests say so and stop.

use tillpoint_server::store::{DbError, Transaction};
use tillpoint_server::testing::{on_postgres, spawn_server};

use super::PASSWORD;

#[tokio::test]
async fn a_query_that_forgets_its_organisation_filter_still_sees_only_its_own_rows() {
    if !on_postgres() {
        eprintln!("SQLite: no row-level security to check");
        return;
    }
    let server = spawn_server().await;
    let a = server.create_organisation("Shop A").await;
    let b = server.create_organisation("Shop B").await;
    server
        .create_user(&a, "a-cashier", "Cashier", PASSWORD)
        .await;
    server
        .create_user(&b, "b-cashier", "Cashier", PASSWORD)
        .await;
    server
        .create_user(&b, "b-manager", "Stock Manager", PASSWORD)
        .await;

    let db = server.db.clone();
    let (a_id, b_id) = (a.id, b.id);
    tokio::task::spawn_blocking(move || {
        // The connection the server uses is an ordinary role: a superuser, or one allowed to
        // bypass the policies, would make all of this moot.
        let (superuser, bypasses): (bool, bool) = db
            .call_blocking(|conn| -> Result<_, DbError> {
                Ok(conn.query_row(
                    "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user",
                    (),
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )?)
            })
            .unwrap();
        assert!(!superuser && !bypasses, "the application role is ordinary");

        // Deliberately unfiltered, as A: only A's users, roles and organisation.
        let unfiltered = |org| {
            db.call_blocking_in(org, |conn| -> Result<(i64, i64, i64, i64), DbError> {
                Ok(conn.query_row(
                    "SELECT (SELECT COUNT(*) FROM users), (SELECT COUNT(DISTINCT org_id) FROM users),
                            (SELECT COUNT(*) FROM organisations),
                            (SELECT COUNT(*) FROM role_permissions)",
                    (),
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
                )?)
            })
            .unwrap()
        };
        let (users, orgs_seen, organisations, a_permissions) = unfiltered(a_id);
        assert_eq!((users, orgs_seen, organisations), (1, 1, 1));
        let (users, _, organisations, b_permissions) = unfiltered(b_id);
        assert_eq!((users, organisations), (2, 1));
        // Each sees its own standard roles' permissions, never the other's as well.
        let everyone: i64 = db
            .call_blocking(|conn| -> Result<i64, DbError> {
                Ok(conn.query_row("SELECT COUNT(*) FROM role_permissions", (), |r| r.get(0))?)
            })
            .unwrap();
        assert_eq!(a_permissions + b_permissions, everyone);

        // An unfiltered write, as A, changes nothing of B's.
        let renamed = db
            .call_blocking_in(a_id, |conn| -> Result<usize, DbError> {
                Ok(conn.execute("UPDATE users SET name = 'renamed'", ())?)
            })
            .unwrap();
        assert_eq!(renamed, 1);
        // And a row written as A into B is refused by the database.
        let planted = db.call_blocking_in(a_id, |conn| -> Result<(), DbError> {
            let tx: Transaction = conn.transaction()?;
            tx.execute(
                "INSERT INTO locations (id, org_id, name, kind) VALUES (?1, ?2, 'planted', 'shop')",
                (uuid::Uuid::now_v7().to_string(), b_id.to_string()),
            )?;
            tx.commit()?;
            Ok(())
        });
        assert!(planted.is_err(), "a row for B written as A: {planted:?}");
        let b_names: Vec<String> = db
            .call_blocking_in(b_id, |conn| -> Result<Vec<String>, DbError> {
                Ok(conn
                    .prepare("SELECT name FROM users ORDER BY name")?
                    .query_map((), |r| r.get(0))?
                    .collect::<Result<_, _>>()?)
            })
            .unwrap();
        assert_eq!(b_names, ["b-cashier", "b-manager"]);
    })
    .await
    .unwrap();
}

//! The PostgreSQL engine: a pooled session per unit of work, with its prepared statements,
//! its organisation scope for row-level security, and the note that a transaction lost a
//! serialization conflict and must run again.

use std::cell::{Cell, RefCell, RefMut};
use std::collections::HashMap;

use postgres::error::SqlState;
use postgres::{Client, NoTls};
use rusqlite::types::ToSql;

pub mod migrate;
pub mod placeholders;
pub mod values;
pub mod write_behind;

use values::Param;
use write_behind::{Held, Shape};

/// The organisation setting the row-level security policies read
/// (`migrations/server/postgres/`): one organisation's id, or `*` for work that spans them.
pub const SCOPE_SETTING: &str = "tillpoint.org_id";
/// The scope of work that is not on behalf of one organisation's token: sign-in by name,
/// refresh by token, start-up, the command line.
pub const ALL_ORGANISATIONS: &str = "*";

/// Seeds of the advisory locks' keys (`hashtextextended(id, seed)`): an organisation's
/// writers, and one device's.
const ORGANISATION_LOCK: i64 = 7411;
const DEVICE_LOCK: i64 = 7412;

/// One pooled PostgreSQL connection and what it remembers between units of work.
pub struct Session {
    /// `None` only while being dropped.
    client: RefCell<Option<Client>>,
    statements: RefCell<HashMap<String, postgres::Statement>>,
    scope: RefCell<String>,
    in_transaction: Cell<bool>,
    holds_lock: Cell<bool>,
    lost_conflict: Cell<bool>,
    /// Inserts held back until the next statement or the commit ([`write_behind`]).
    held: RefCell<Held>,
    /// Whether [`Session::hold`] may hold rows (off: each goes out at once).
    holding: Cell<bool>,
    /// Whether sending held rows failed since last asked: the failure surfaced at a later
    /// statement, which is not the one to blame.
    held_write_failed: Cell<bool>,
}

impl Session {
    pub fn new(client: Client) -> Self {
        Self {
            client: RefCell::new(Some(client)),
            statements: RefCell::new(HashMap::new()),
            scope: RefCell::new(String::new()),
            in_transaction: Cell::new(false),
            holds_lock: Cell::new(false),
            lost_conflict: Cell::new(false),
            held: RefCell::new(Held::default()),
            holding: Cell::new(true),
            held_write_failed: Cell::new(false),
        }
    }

    fn client(&self) -> RefMut<'_, Client> {
        RefMut::map(self.client.borrow_mut(), |c| {
            c.as_mut().expect("a session has its client until dropped")
        })
    }

    pub fn is_closed(&self) -> bool {
        self.client().is_closed()
    }

    pub fn check(&self) -> Result<(), postgres::Error> {
        self.client().simple_query("").map(drop)
    }

    /// Readies the session for a new unit of work on behalf of `scope`.
    pub fn start_work(&self, scope: &str) -> rusqlite::Result<()> {
        if self.in_transaction.get() || self.holds_lock.get() {
            self.rollback()?;
        }
        self.lost_conflict.set(false);
        self.held_write_failed.set(false);
        self.holding.set(true);
        if *self.scope.borrow() != scope {
            self.set_scope(scope)?;
        }
        Ok(())
    }

    /// The organisation scope row-level security applies now.
    pub fn scope(&self) -> String {
        self.scope.borrow().clone()
    }

    /// Sets the scope for what follows (inside a transaction too: the setting is the
    /// session's, so it outlives neither a rollback nor a commit unexpectedly). When it
    /// cannot be set, the remembered scope is forgotten, so the next unit of work sets it
    /// again.
    pub fn set_scope(&self, scope: &str) -> rusqlite::Result<()> {
        self.scope.borrow_mut().clear();
        self.query(
            "SELECT set_config(?1, ?2, false)",
            &[&SCOPE_SETTING, &scope],
        )?;
        *self.scope.borrow_mut() = scope.to_owned();
        Ok(())
    }

    /// Whether the last unit of work failed on a serialization conflict or a deadlock, which
    /// PostgreSQL resolves by failing one side: running it again is safe and expected.
    pub fn lost_conflict(&self) -> bool {
        self.lost_conflict.get()
    }

    fn statement(&self, sql: &str) -> rusqlite::Result<postgres::Statement> {
        if let Some(statement) = self.statements.borrow().get(sql) {
            return Ok(statement.clone());
        }
        let statement = self
            .client()
            .prepare(&placeholders::translate(sql))
            .map_err(|e| self.error(e))?;
        self.statements
            .borrow_mut()
            .insert(sql.to_owned(), statement.clone());
        Ok(statement)
    }

    fn bind(params: &[&dyn ToSql]) -> rusqlite::Result<Vec<Param>> {
        params.iter().map(|p| Param::from_rusqlite(*p)).collect()
    }

    pub fn execute(&self, sql: &str, params: &[&dyn ToSql]) -> rusqlite::Result<usize> {
        self.send_held()?;
        self.execute_now(sql, params)
    }

    fn execute_now(&self, sql: &str, params: &[&dyn ToSql]) -> rusqlite::Result<usize> {
        let statement = self.statement(sql)?;
        let values = Self::bind(params)?;
        let refs: Vec<&(dyn postgres::types::ToSql + Sync)> =
            values.iter().map(|v| v as _).collect();
        let count = self
            .client()
            .execute(&statement, &refs)
            .map_err(|e| self.error(e))?;
        Ok(count as usize)
    }

    pub fn query(&self, sql: &str, params: &[&dyn ToSql]) -> rusqlite::Result<Vec<postgres::Row>> {
        self.send_held()?;
        let statement = self.statement(sql)?;
        let values = Self::bind(params)?;
        let refs: Vec<&(dyn postgres::types::ToSql + Sync)> =
            values.iter().map(|v| v as _).collect();
        self.client()
            .query(&statement, &refs)
            .map_err(|e| self.error(e))
    }

    /// Runs `sql`, whose parameters are all text, planned for these values and the tables
    /// as they stand now: an unnamed statement, sent with its values in one round trip.
    ///
    /// A prepared statement moves to one generic plan after five runs, costed without its
    /// values. For a batch lookup (`org_id = $1 AND id IN (…)`) that plan, made on a young
    /// database, scanned every row of the organisation long after the tables held 100,000
    /// sales (docs/benchmarks.md). Every other statement keeps its generic plan: re-planning
    /// all of them, the foreign-key checks' included, cost a fifth of the server's
    /// PostgreSQL time under load.
    pub fn query_texts(&self, sql: &str, params: &[&str]) -> rusqlite::Result<Vec<postgres::Row>> {
        self.send_held()?;
        let typed: Vec<(&(dyn postgres::types::ToSql + Sync), postgres::types::Type)> = params
            .iter()
            .map(|p| {
                (
                    p as &(dyn postgres::types::ToSql + Sync),
                    postgres::types::Type::TEXT,
                )
            })
            .collect();
        self.client()
            .query_typed(&placeholders::translate(sql), &typed)
            .map_err(|e| self.error(e))
    }

    pub fn execute_batch(&self, sql: &str) -> rusqlite::Result<()> {
        self.send_held()?;
        self.client().batch_execute(sql).map_err(|e| self.error(e))
    }

    /// Runs the insert `sql` later, together with others like it ([`write_behind`]): before
    /// the next statement of this session, or at the commit. Outside a transaction, when
    /// holding is off, or for a statement that cannot be held, it runs now.
    pub fn hold(&self, sql: &str, params: &[&dyn ToSql]) -> rusqlite::Result<()> {
        let shape = Shape::of(sql).filter(|_| self.holding.get() && self.in_transaction.get());
        let Some(shape) = shape else {
            return self.execute(sql, params).map(drop);
        };
        if params.len() != shape.width() {
            return Err(rusqlite::Error::InvalidParameterCount(
                params.len(),
                shape.width(),
            ));
        }
        let row = Self::bind(params)?.into_iter().map(|p| p.0).collect();
        self.held.borrow_mut().push(shape, row);
        Ok(())
    }

    /// Whether held rows may be held (on at the start of every unit of work).
    pub fn set_holding(&self, on: bool) {
        self.holding.set(on);
    }

    /// Whether sending held rows failed since this was last asked.
    pub fn take_held_write_failure(&self) -> bool {
        self.held_write_failed.replace(false)
    }

    fn send_held(&self) -> rusqlite::Result<()> {
        if self.held.borrow().is_empty() {
            return Ok(());
        }
        let statements = self.held.borrow_mut().take();
        for (sql, values) in statements {
            let refs: Vec<&dyn ToSql> = values.iter().map(|v| v as &dyn ToSql).collect();
            if let Err(err) = self.execute_now(&sql, &refs) {
                self.held_write_failed.set(true);
                return Err(err);
            }
        }
        Ok(())
    }

    /// Opens a SERIALIZABLE transaction. Work for one organisation first queues behind that
    /// organisation's other writers (a session-level advisory lock, taken before the
    /// transaction's snapshot): their writes all meet on the organisation's change counter,
    /// so letting them race would only have all but one fail and run again.
    pub fn begin(&self) -> rusqlite::Result<()> {
        let scope = self.scope.borrow().clone();
        if scope != ALL_ORGANISATIONS && !scope.is_empty() {
            self.query(
                "SELECT pg_advisory_lock(hashtextextended(?1, ?2))",
                &[&scope, &ORGANISATION_LOCK],
            )?;
            self.holds_lock.set(true);
        }
        self.in_transaction.set(true);
        self.execute_batch("BEGIN ISOLATION LEVEL SERIALIZABLE")
    }

    /// Opens a READ COMMITTED transaction for the writes of one device of organisation `org`
    /// (a push). It queues behind that device's other writers only (a session-level advisory
    /// lock of its own), so the organisation's tills push side by side. What they share they
    /// write in the organisation's turn ([`Session::add_to_stock_levels`]).
    pub fn begin_for_device(&self, org: &str, device: &str) -> rusqlite::Result<()> {
        self.query(
            "SELECT pg_advisory_lock(hashtextextended(?1, ?2))",
            &[&format!("{org}/{device}"), &DEVICE_LOCK],
        )?;
        self.holds_lock.set(true);
        self.in_transaction.set(true);
        self.execute_batch("BEGIN ISOLATION LEVEL READ COMMITTED")
    }

    /// Waits for organisation `org`'s other writers (the lock [`Session::begin`] takes),
    /// holding them off until this transaction ends, then adds `moved` to its stock levels
    /// with the upsert tail `add` and answers the levels after. One statement: the lock is
    /// taken before the first row is written because every row joins the lock's one row.
    pub fn add_to_stock_levels(
        &self,
        org: &str,
        moved: &[(String, String, i64)],
        add: &str,
    ) -> rusqlite::Result<Vec<postgres::Row>> {
        self.send_held()?;
        let products: Vec<&str> = moved.iter().map(|m| m.0.as_str()).collect();
        let locations: Vec<&str> = moved.iter().map(|m| m.1.as_str()).collect();
        let amounts: Vec<i64> = moved.iter().map(|m| m.2).collect();
        let sql = format!(
            "WITH turn AS MATERIALIZED (
                 SELECT pg_advisory_xact_lock(hashtextextended($1, $2)) AS taken)
             INSERT INTO stock_levels (org_id, product_id, location_id, on_hand_milli)
             SELECT $1, m.p, m.l, m.q
               FROM turn, unnest($3::text[], $4::text[], $5::bigint[]) AS m (p, l, q)
              ORDER BY m.p COLLATE \"C\", m.l COLLATE \"C\"
             {add}"
        );
        let statement = self.statement(&sql)?;
        self.client()
            .query(
                &statement,
                &[&org, &ORGANISATION_LOCK, &products, &locations, &amounts],
            )
            .map_err(|e| self.error(e))
    }

    /// Opens a read-only transaction on one snapshot, which queues behind no writer.
    pub fn begin_read(&self) -> rusqlite::Result<()> {
        self.in_transaction.set(true);
        self.execute_batch("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
    }

    pub fn commit(&self) -> rusqlite::Result<()> {
        if let Err(err) = self.send_held() {
            self.rollback()?;
            return Err(err);
        }
        self.in_transaction.set(false);
        let committed = self.execute_batch("COMMIT");
        self.release_lock()?;
        committed
    }

    pub fn rollback(&self) -> rusqlite::Result<()> {
        self.held.borrow_mut().clear();
        self.in_transaction.set(false);
        let rolled_back = self.execute_batch("ROLLBACK");
        self.release_lock()?;
        rolled_back
    }

    fn release_lock(&self) -> rusqlite::Result<()> {
        if self.holds_lock.replace(false) {
            self.execute_batch("SELECT pg_advisory_unlock_all()")?;
        }
        Ok(())
    }

    /// `err` in rusqlite's terms (the error type every domain module already handles), noting
    /// a lost conflict on the way.
    fn error(&self, err: postgres::Error) -> rusqlite::Error {
        use rusqlite::ffi;
        let code = err.code().cloned();
        let sqlite_code = match &code {
            Some(c)
                if *c == SqlState::T_R_SERIALIZATION_FAILURE
                    || *c == SqlState::T_R_DEADLOCK_DETECTED =>
            {
                self.lost_conflict.set(true);
                ffi::SQLITE_BUSY
            }
            Some(c) if c.code().starts_with("23") || *c == SqlState::RAISE_EXCEPTION => {
                ffi::SQLITE_CONSTRAINT
            }
            Some(_) => ffi::SQLITE_ERROR,
            None => ffi::SQLITE_IOERR,
        };
        let message = match err.as_db_error() {
            Some(db) => format!("PostgreSQL: {}", db.message()),
            None => format!("PostgreSQL: {err}"),
        };
        rusqlite::Error::SqliteFailure(ffi::Error::new(sqlite_code), Some(message))
    }
}

impl Drop for Session {
    /// The blocking client closes its connection by blocking on its own runtime, which must
    /// not happen on an async worker (a pool dropped with the server's state): there it
    /// closes on a thread of its own.
    fn drop(&mut self) {
        if let Some(client) = self.client.get_mut().take() {
            if tokio::runtime::Handle::try_current().is_ok() {
                std::thread::spawn(move || drop(client));
            }
        }
    }
}

/// Hands out [`Session`]s to the pool.
#[derive(Debug)]
pub struct Manager {
    config: postgres::Config,
}

impl Manager {
    pub fn new(config: postgres::Config) -> Self {
        Self { config }
    }
}

impl r2d2::ManageConnection for Manager {
    type Connection = Session;
    type Error = postgres::Error;

    fn connect(&self) -> Result<Session, postgres::Error> {
        Ok(Session::new(self.config.connect(NoTls)?))
    }

    fn is_valid(&self, session: &mut Session) -> Result<(), postgres::Error> {
        session.check()
    }

    fn has_broken(&self, session: &mut Session) -> bool {
        session.is_closed()
    }
}

//! The one connection type the domain code speaks, whichever engine is underneath.
//!
//! Its surface is the part of rusqlite's the server uses (`execute`, `query_row`,
//! `prepare_cached` + `query_map`, transactions), and rusqlite's value model is the common
//! language: parameters are anything rusqlite can bind, rows are read into anything rusqlite
//! can read, and errors are `rusqlite::Error`. On SQLite every call goes straight through;
//! on PostgreSQL, [`super::postgres`] translates placeholders, binds by the column's real
//! type and reads each column back as the SQLite value it stands for. So a domain module is
//! written once, in SQL both engines accept (docs/decisions/server-store.md lists the rules).

use std::collections::HashMap;
use std::ops::Deref;

use rusqlite::types::ToSql;
use rusqlite::TransactionBehavior;

use super::postgres::Session;

/// Values per query of [`Connection::query_in`].
pub const MOST_PER_QUERY: usize = 256;

/// The tail of [`Connection::add_to_stock_levels`]'s insert on both engines: a level is
/// added to, saturating at the ends of `i64` rather than overflowing (a level pushed there by
/// records a manager should look at must not stop genuine sales of that product from being
/// applied), and answered as it stands after.
const ADD_TO_LEVEL: &str = "ON CONFLICT (org_id, product_id, location_id)
    DO UPDATE SET on_hand_milli = CASE
        WHEN excluded.on_hand_milli > 0 THEN CASE
            WHEN stock_levels.on_hand_milli > 9223372036854775807 - excluded.on_hand_milli
            THEN 9223372036854775807
            ELSE stock_levels.on_hand_milli + excluded.on_hand_milli END
        ELSE CASE
            WHEN stock_levels.on_hand_milli < (-9223372036854775807 - 1) - excluded.on_hand_milli
            THEN -9223372036854775807 - 1
            ELSE stock_levels.on_hand_milli + excluded.on_hand_milli END
        END
    RETURNING product_id, location_id, on_hand_milli";

/// A connection lent to one unit of work by [`super::Database::call`].
#[derive(Clone, Copy)]
pub struct Connection<'c> {
    engine: Engine<'c>,
}

#[derive(Clone, Copy)]
pub(crate) enum Engine<'c> {
    Sqlite(&'c rusqlite::Connection),
    Postgres(&'c Session),
}

impl<'c> Connection<'c> {
    /// A SQLite connection opened elsewhere, lent to the domain code (the fuzz targets run
    /// the ingest on throw-away copies of a database this way).
    pub fn sqlite(conn: &'c rusqlite::Connection) -> Self {
        Self {
            engine: Engine::Sqlite(conn),
        }
    }

    pub(crate) fn postgres(session: &'c Session) -> Self {
        Self {
            engine: Engine::Postgres(session),
        }
    }

    /// Which engine this is, for the few places that must say something engine-specific
    /// (the health check's report, tests that inspect the store).
    pub fn is_postgres(&self) -> bool {
        matches!(self.engine, Engine::Postgres(_))
    }

    /// The SQLite connection underneath, for code that only runs on the embedded engine
    /// (file checks, `VACUUM INTO` backups).
    pub fn as_sqlite(&self) -> Option<&'c rusqlite::Connection> {
        match self.engine {
            Engine::Sqlite(conn) => Some(conn),
            Engine::Postgres(_) => None,
        }
    }

    /// Runs `work` seeing every organisation's rows, for the few checks that are server-wide
    /// by nature (a username is unique across organisations). On PostgreSQL it widens the
    /// row-level security scope for `work` alone; SQLite has no such scope.
    pub fn across_organisations<T>(
        &self,
        work: impl FnOnce(&Self) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<T> {
        match self.engine {
            Engine::Sqlite(_) => work(self),
            Engine::Postgres(s) => {
                let scope = s.scope();
                s.set_scope(super::postgres::ALL_ORGANISATIONS)?;
                let outcome = work(self);
                s.set_scope(&scope)?;
                outcome
            }
        }
    }

    /// The newest migration applied to this database (both engines keep `schema_migrations`).
    pub fn schema_version(&self) -> rusqlite::Result<u32> {
        match self.engine {
            Engine::Sqlite(conn) => tillpoint_sqlite::schema_version(conn),
            Engine::Postgres(_) => self.query_row(
                "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
                (),
                |r| r.get(0),
            ),
        }
    }

    pub fn execute(&self, sql: &str, params: impl Params) -> rusqlite::Result<usize> {
        match self.engine {
            Engine::Sqlite(conn) => params.with_refs(|p| conn.execute(sql, p)),
            Engine::Postgres(s) => params.with_refs(|p| s.execute(sql, p)),
        }
    }

    /// Inserts a row now or a little later, with others like it: on PostgreSQL the row is
    /// held in a transaction and sent in a multi-row `INSERT` before the next statement or at
    /// the commit (`postgres::write_behind`, for `INSERT … VALUES (…)` with an optional tail
    /// that binds nothing); on SQLite, in-process, it is written at once. A held row that the
    /// database refuses fails a later call; [`Connection::take_held_write_failure`] then says
    /// so, as that call is not the one to blame.
    pub fn hold(&self, sql: &str, params: impl Params) -> rusqlite::Result<()> {
        match self.engine {
            Engine::Sqlite(conn) => {
                params.with_refs(|p| conn.prepare_cached(sql)?.execute(p).map(drop))
            }
            Engine::Postgres(s) => params.with_refs(|p| s.hold(sql, p)),
        }
    }

    /// Turns holding off (each [`Connection::hold`] then writes at once) or back on, for
    /// the rest of this unit of work.
    pub fn set_holding(&self, on: bool) {
        if let Engine::Postgres(s) = self.engine {
            s.set_holding(on);
        }
    }

    /// Whether writing held rows failed since this was last asked.
    pub fn take_held_write_failure(&self) -> bool {
        match self.engine {
            Engine::Sqlite(_) => false,
            Engine::Postgres(s) => s.take_held_write_failure(),
        }
    }

    /// Runs statements separated by `;` that take no parameters.
    pub fn execute_batch(&self, sql: &str) -> rusqlite::Result<()> {
        match self.engine {
            Engine::Sqlite(conn) => conn.execute_batch(sql),
            Engine::Postgres(s) => s.execute_batch(sql),
        }
    }

    /// The first row of the answer; `QueryReturnedNoRows` when there is none.
    pub fn query_row<T>(
        &self,
        sql: &str,
        params: impl Params,
        map: impl FnOnce(&Row<'_, '_>) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<T> {
        match self.engine {
            Engine::Sqlite(conn) => {
                params.with_refs(|p| conn.query_row(sql, p, |r| map(&Row::Sqlite(r))))
            }
            Engine::Postgres(s) => {
                let rows = params.with_refs(|p| s.query(sql, p))?;
                let row = rows.first().ok_or(rusqlite::Error::QueryReturnedNoRows)?;
                map(&Row::Postgres(row))
            }
        }
    }

    /// Runs `select`, which binds `?1` to `first` and ends in `… IN`, for every value of
    /// `values` (all compared with text columns), calling `each` on every row. Values go in
    /// chunks of at most [`MOST_PER_QUERY`], each padded to a power of two by repeating its
    /// last value (which changes no answer), so lists of any length share a handful of
    /// prepared shapes on SQLite. On PostgreSQL each chunk is planned for its own values
    /// ([`Session::query_texts`]).
    pub fn query_in(
        &self,
        select: &str,
        first: &str,
        values: &[String],
        mut each: impl FnMut(&Row<'_, '_>) -> rusqlite::Result<()>,
    ) -> rusqlite::Result<()> {
        for chunk in values.chunks(MOST_PER_QUERY) {
            let width = chunk.len().next_power_of_two();
            let list: Vec<String> = (1..=width).map(|i| format!("?{}", i + 1)).collect();
            let sql = format!("{select} ({})", list.join(", "));
            let mut params: Vec<&str> = Vec::with_capacity(width + 1);
            params.push(first);
            params.extend(chunk.iter().map(String::as_str));
            let last = *params.last().expect("a chunk is never empty");
            params.resize(width + 1, last);
            match self.engine {
                Engine::Sqlite(_) => {
                    self.prepare_cached(&sql)?
                        .query_map(&params, |row| each(row))?
                        .collect::<rusqlite::Result<Vec<()>>>()?;
                }
                Engine::Postgres(s) => {
                    for row in s.query_texts(&sql, &params)? {
                        each(&Row::Postgres(&row))?;
                    }
                }
            }
        }
        Ok(())
    }

    /// A statement to run several times. Both engines keep prepared statements per
    /// connection, so this is the same as [`Connection::prepare_cached`].
    pub fn prepare(&self, sql: &str) -> rusqlite::Result<Statement<'c>> {
        self.prepare_cached(sql)
    }

    pub fn prepare_cached(&self, sql: &str) -> rusqlite::Result<Statement<'c>> {
        Ok(match self.engine {
            Engine::Sqlite(conn) => Statement::Sqlite(conn.prepare_cached(sql)?),
            Engine::Postgres(s) => Statement::Postgres {
                session: s,
                sql: sql.to_owned(),
            },
        })
    }

    /// A transaction that reads and writes; on SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`), on PostgreSQL it is SERIALIZABLE, so both engines give every
    /// writer the same picture as if it ran alone. A PostgreSQL transaction that loses a
    /// conflict is run again whole by [`super::Database::call`].
    pub fn transaction(&self) -> rusqlite::Result<Transaction<'c>> {
        self.transaction_with_behavior(TransactionBehavior::Immediate)
    }

    pub fn transaction_with_behavior(
        &self,
        behavior: TransactionBehavior,
    ) -> rusqlite::Result<Transaction<'c>> {
        let guard = match self.engine {
            Engine::Sqlite(conn) => {
                TxGuard::Sqlite(rusqlite::Transaction::new_unchecked(conn, behavior)?)
            }
            Engine::Postgres(s) => {
                s.begin()?;
                TxGuard::Postgres(s)
            }
        };
        Ok(Transaction {
            conn: *self,
            guard: Some(guard),
        })
    }
}

impl<'c> Connection<'c> {
    /// A transaction for work that writes one device's rows of organisation `org` (a push),
    /// and rows it shares with the organisation's other devices only in the organisation's
    /// turn ([`Connection::add_to_stock_levels`]). On PostgreSQL it is READ COMMITTED and
    /// queues behind the same device's writers only, so the pushes of many tills run side by
    /// side until their turns. On SQLite it is a writer like any other (`BEGIN IMMEDIATE`).
    pub fn device_transaction(&self, org: &str, device: &str) -> rusqlite::Result<Transaction<'c>> {
        let guard = match self.engine {
            Engine::Sqlite(conn) => TxGuard::Sqlite(rusqlite::Transaction::new_unchecked(
                conn,
                TransactionBehavior::Immediate,
            )?),
            Engine::Postgres(s) => {
                s.begin_for_device(org, device)?;
                TxGuard::Postgres(s)
            }
        };
        Ok(Transaction {
            conn: *self,
            guard: Some(guard),
        })
    }

    /// Adds `moved` (product, location or '' for none, milli-units) to organisation `org`'s
    /// stock levels and answers each level as it stands after the addition.
    ///
    /// Levels are what a [`Connection::device_transaction`] shares with the organisation's
    /// other devices (and with them the organisation's change numbers), so it first waits
    /// for the organisation's turn and holds the other writers off until this transaction
    /// ends; other transactions already hold it (PostgreSQL), or the one write lock
    /// (SQLite). The turn is held through the commit, so on PostgreSQL the wait for it, the
    /// addition and the read-back are one statement: one round trip less held is the whole
    /// organisation's ingest faster. Each level is an addition, never a value read earlier,
    /// saturating at the ends of `i64`.
    pub fn add_to_stock_levels(
        &self,
        org: &str,
        moved: &[(String, String, i64)],
    ) -> rusqlite::Result<HashMap<(String, String), i64>> {
        let mut levels = HashMap::with_capacity(moved.len());
        if moved.is_empty() {
            return Ok(levels);
        }
        match self.engine {
            Engine::Sqlite(conn) => {
                let mut add = conn.prepare_cached(&format!(
                    "INSERT INTO stock_levels (org_id, product_id, location_id, on_hand_milli)
                     VALUES (?1, ?2, ?3, ?4) {ADD_TO_LEVEL}"
                ))?;
                for (product, location, milli) in moved {
                    let level = add.query_row((org, product, location, milli), |r| r.get(2))?;
                    levels.insert((product.clone(), location.clone()), level);
                }
            }
            Engine::Postgres(s) => {
                for row in s.add_to_stock_levels(org, moved, ADD_TO_LEVEL)? {
                    let row = Row::Postgres(&row);
                    levels.insert((row.get(0)?, row.get(1)?), row.get(2)?);
                }
            }
        }
        Ok(levels)
    }

    /// A transaction that only reads, all of it from one snapshot of what was committed when
    /// it began (SQLite: at its first read). It waits for no writer: on PostgreSQL it takes
    /// no organisation lock (a pull is not held up by the pushes queued for its
    /// organisation). Only for reading: on PostgreSQL a write through it fails.
    pub fn read_snapshot(&self) -> rusqlite::Result<Transaction<'c>> {
        let guard = match self.engine {
            Engine::Sqlite(conn) => TxGuard::Sqlite(rusqlite::Transaction::new_unchecked(
                conn,
                TransactionBehavior::Deferred,
            )?),
            Engine::Postgres(s) => {
                s.begin_read()?;
                TxGuard::Postgres(s)
            }
        };
        Ok(Transaction {
            conn: *self,
            guard: Some(guard),
        })
    }
}

/// An open transaction: everything run through it (it derefs to [`Connection`]) commits or
/// rolls back together. Dropped without [`Transaction::commit`], it rolls back.
pub struct Transaction<'c> {
    conn: Connection<'c>,
    guard: Option<TxGuard<'c>>,
}

enum TxGuard<'c> {
    Sqlite(rusqlite::Transaction<'c>),
    Postgres(&'c Session),
}

impl<'c> Transaction<'c> {
    pub fn commit(mut self) -> rusqlite::Result<()> {
        match self.guard.take() {
            Some(TxGuard::Sqlite(tx)) => tx.commit(),
            Some(TxGuard::Postgres(s)) => s.commit(),
            None => Ok(()),
        }
    }

    pub fn rollback(mut self) -> rusqlite::Result<()> {
        match self.guard.take() {
            Some(TxGuard::Sqlite(tx)) => tx.rollback(),
            Some(TxGuard::Postgres(s)) => s.rollback(),
            None => Ok(()),
        }
    }
}

impl Drop for Transaction<'_> {
    fn drop(&mut self) {
        if let Some(TxGuard::Postgres(s)) = self.guard.take() {
            // A failed rollback leaves the connection broken; the pool then discards it.
            let _ = s.rollback();
        }
    }
}

impl<'c> Deref for Transaction<'c> {
    type Target = Connection<'c>;
    fn deref(&self) -> &Connection<'c> {
        &self.conn
    }
}

/// A prepared statement.
pub enum Statement<'c> {
    Sqlite(rusqlite::CachedStatement<'c>),
    Postgres { session: &'c Session, sql: String },
}

impl Statement<'_> {
    pub fn execute(&mut self, params: impl Params) -> rusqlite::Result<usize> {
        match self {
            Statement::Sqlite(stmt) => params.with_refs(|p| stmt.execute(p)),
            Statement::Postgres { session, sql } => params.with_refs(|p| session.execute(sql, p)),
        }
    }

    /// Every row, each through `map`. The PostgreSQL rows are all fetched before the first
    /// `map`, so `map` may itself query the same connection.
    pub fn query_map<T, F>(&mut self, params: impl Params, mut map: F) -> rusqlite::Result<Rows<T>>
    where
        F: FnMut(&Row<'_, '_>) -> rusqlite::Result<T>,
    {
        let mapped: Vec<rusqlite::Result<T>> = match self {
            Statement::Sqlite(stmt) => params.with_refs(|p| -> rusqlite::Result<_> {
                Ok(stmt
                    .query_map(p, |r| Ok(map(&Row::Sqlite(r))))?
                    .map(|r| r.and_then(|inner| inner))
                    .collect())
            })?,
            Statement::Postgres { session, sql } => {
                let rows = params.with_refs(|p| session.query(sql, p))?;
                rows.iter().map(|r| map(&Row::Postgres(r))).collect()
            }
        };
        Ok(Rows(mapped.into_iter()))
    }

    pub fn query_row<T>(
        &mut self,
        params: impl Params,
        map: impl FnOnce(&Row<'_, '_>) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<T> {
        match self {
            Statement::Sqlite(stmt) => {
                params.with_refs(|p| stmt.query_row(p, |r| map(&Row::Sqlite(r))))
            }
            Statement::Postgres { session, sql } => {
                let rows = params.with_refs(|p| session.query(sql, p))?;
                let row = rows.first().ok_or(rusqlite::Error::QueryReturnedNoRows)?;
                map(&Row::Postgres(row))
            }
        }
    }

    /// Whether the query returns at least one row.
    pub fn exists(&mut self, params: impl Params) -> rusqlite::Result<bool> {
        match self {
            Statement::Sqlite(stmt) => params.with_refs(|p| stmt.exists(p)),
            Statement::Postgres { session, sql } => {
                Ok(!params.with_refs(|p| session.query(sql, p))?.is_empty())
            }
        }
    }
}

/// The mapped rows of [`Statement::query_map`].
pub struct Rows<T>(std::vec::IntoIter<rusqlite::Result<T>>);

impl<T> Iterator for Rows<T> {
    type Item = rusqlite::Result<T>;
    fn next(&mut self) -> Option<Self::Item> {
        self.0.next()
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

/// One row of an answer.
pub enum Row<'r, 's> {
    Sqlite(&'r rusqlite::Row<'s>),
    Postgres(&'r postgres::Row),
}

impl Row<'_, '_> {
    /// Column `index` (a position or a name) as `T`, with rusqlite's conversions on both
    /// engines.
    pub fn get<I: ColumnIndex, T: rusqlite::types::FromSql>(
        &self,
        index: I,
    ) -> rusqlite::Result<T> {
        match self {
            Row::Sqlite(row) => row.get(index),
            Row::Postgres(row) => {
                let position = index.position(row)?;
                super::postgres::values::read(row, position)
            }
        }
    }
}

/// A column by position or by name.
pub trait ColumnIndex: rusqlite::RowIndex + Copy {
    fn position(self, row: &postgres::Row) -> rusqlite::Result<usize>;
}

impl ColumnIndex for usize {
    fn position(self, row: &postgres::Row) -> rusqlite::Result<usize> {
        if self < row.len() {
            Ok(self)
        } else {
            Err(rusqlite::Error::InvalidColumnIndex(self))
        }
    }
}

impl ColumnIndex for &str {
    fn position(self, row: &postgres::Row) -> rusqlite::Result<usize> {
        row.columns()
            .iter()
            .position(|c| c.name().eq_ignore_ascii_case(self))
            .ok_or_else(|| rusqlite::Error::InvalidColumnName(self.to_owned()))
    }
}

/// Statement parameters: what rusqlite accepts (tuples, arrays, `params![…]`, `()`), handed
/// to either engine as a slice of values to bind.
pub trait Params {
    fn with_refs<R>(self, bind: impl FnOnce(&[&dyn ToSql]) -> R) -> R;
}

impl Params for () {
    fn with_refs<R>(self, bind: impl FnOnce(&[&dyn ToSql]) -> R) -> R {
        bind(&[])
    }
}

impl Params for &[&dyn ToSql] {
    fn with_refs<R>(self, bind: impl FnOnce(&[&dyn ToSql]) -> R) -> R {
        bind(self)
    }
}

impl<const N: usize> Params for &[&dyn ToSql; N] {
    fn with_refs<R>(self, bind: impl FnOnce(&[&dyn ToSql]) -> R) -> R {
        bind(self)
    }
}

impl<T: ToSql, const N: usize> Params for [T; N] {
    fn with_refs<R>(self, bind: impl FnOnce(&[&dyn ToSql]) -> R) -> R {
        let refs = self.each_ref().map(|v| v as &dyn ToSql);
        bind(&refs)
    }
}

impl<T: ToSql> Params for &Vec<T> {
    fn with_refs<R>(self, bind: impl FnOnce(&[&dyn ToSql]) -> R) -> R {
        let refs: Vec<&dyn ToSql> = self.iter().map(|v| v as &dyn ToSql).collect();
        bind(&refs)
    }
}

macro_rules! tuple_params {
    ($($name:ident $index:tt),+) => {
        impl<$($name: ToSql),+> Params for ($($name,)+) {
            fn with_refs<R>(self, bind: impl FnOnce(&[&dyn ToSql]) -> R) -> R {
                bind(&[$(&self.$index as &dyn ToSql),+])
            }
        }
    };
}

tuple_params!(A 0);
tuple_params!(A 0, B 1);
tuple_params!(A 0, B 1, C 2);
tuple_params!(A 0, B 1, C 2, D 3);
tuple_params!(A 0, B 1, C 2, D 3, E 4);
tuple_params!(A 0, B 1, C 2, D 3, E 4, F 5);
tuple_params!(A 0, B 1, C 2, D 3, E 4, F 5, G 6);
tuple_params!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);
tuple_params!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8);
tuple_params!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9);
tuple_params!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10);
tuple_params!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11);
tuple_params!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12);
tuple_params!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12, N 13);
tuple_params!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12, N 13, O 14);
tuple_params!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12, N 13, O 14, P 15);

//! What the server's database holds for the organisation under load: read straight from it
//! (SQLite file or PostgreSQL), before and after, for the reconciliation.

use anyhow::Context;
use tillpoint_server::store::{Database, DatabaseUrl, DbError};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Books {
    pub sales: i64,
    pub sales_total_minor: i64,
    /// Stock moved by sales and refunds, in thousandths.
    pub stock_moved_milli: i64,
    /// The sum of every stock level: it moves by exactly what was moved when no push's
    /// addition to a level was lost to another's.
    pub on_hand_milli: i64,
    pub quarantined: i64,
    pub records: i64,
}

impl std::ops::Sub for Books {
    type Output = Books;
    fn sub(self, before: Books) -> Books {
        Books {
            sales: self.sales - before.sales,
            sales_total_minor: self.sales_total_minor - before.sales_total_minor,
            stock_moved_milli: self.stock_moved_milli - before.stock_moved_milli,
            on_hand_milli: self.on_hand_milli - before.on_hand_milli,
            quarantined: self.quarantined - before.quarantined,
            records: self.records - before.records,
        }
    }
}

pub struct ServerBooks {
    db: Database,
    org: String,
}

impl ServerBooks {
    /// The books of the organisation `username` belongs to.
    pub fn open(url: &DatabaseUrl, username: &str) -> anyhow::Result<Self> {
        let db = Database::connect(url, 2).context("the server's database")?;
        let name = username.to_owned();
        let org = db
            .call_blocking(|conn| -> Result<String, DbError> {
                Ok(conn.query_row(
                    "SELECT org_id FROM users WHERE username = ?1",
                    [&name],
                    |r| r.get(0),
                )?)
            })
            .with_context(|| format!("no user {username} on the server"))?;
        Ok(Self { db, org })
    }

    pub fn read(&self) -> anyhow::Result<Books> {
        let org = self.org.clone();
        Ok(self.db.call_blocking(|conn| -> Result<Books, DbError> {
            Ok(conn.query_row(
                "SELECT (SELECT COUNT(*) FROM sales WHERE org_id = ?1 AND kind = 'sale'),
                        (SELECT COALESCE(SUM(total_minor), 0) FROM sales
                          WHERE org_id = ?1 AND kind = 'sale'),
                        (SELECT COALESCE(SUM(quantity_milli), 0) FROM stock_movements
                          WHERE org_id = ?1 AND sale_id IS NOT NULL),
                        (SELECT COALESCE(SUM(on_hand_milli), 0) FROM stock_levels
                          WHERE org_id = ?1),
                        (SELECT COUNT(*) FROM sync_records
                          WHERE org_id = ?1 AND status = 'quarantined'),
                        (SELECT COUNT(*) FROM sync_records WHERE org_id = ?1)",
                [&org],
                |r| {
                    Ok(Books {
                        sales: r.get(0)?,
                        sales_total_minor: r.get(1)?,
                        stock_moved_milli: r.get(2)?,
                        on_hand_milli: r.get(3)?,
                        quarantined: r.get(4)?,
                        records: r.get(5)?,
                    })
                },
            )?)
        })?)
    }
}

//! Parked carts: a sale put aside (the customer went to fetch something) while the till
//! serves the next one, then resumed exactly as it was.

use rusqlite::{Connection, OptionalExtension, TransactionBehavior};
use uuid::Uuid;

use super::cart::Cart;
use super::checkout::sale_currency;
use super::views::{ParkedCartInfo, PosState};
use super::{load_cart, now, save_cart, SaleError, SELL};
use crate::catalog;
use crate::till::Till;

/// The parked carts, oldest first.
pub(crate) fn list(conn: &Connection) -> Result<Vec<ParkedCartInfo>, SaleError> {
    let mut statement = conn.prepare_cached(
        "SELECT id, label, parked_at, parked_by_name, cart FROM parked_carts ORDER BY parked_at",
    )?;
    let rows: Vec<(String, String, String, String, String)> = statement
        .query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?
        .collect::<Result<_, _>>()?;
    let mut parked = Vec::with_capacity(rows.len());
    for (id, label, parked_at, parked_by_name, cart) in rows {
        let summary = (|| -> Result<ParkedCartInfo, SaleError> {
            let mut cart: Cart = serde_json::from_str(&cart)?;
            super::refresh_products(conn, &mut cart)?;
            let currency = sale_currency(conn, &cart)?;
            Ok(ParkedCartInfo {
                id: id.clone(),
                label: label.clone(),
                parked_at: super::receipt::local_time(&parked_at),
                parked_by_name: parked_by_name.clone(),
                line_count: cart.lines.len() as u32,
                total_minor: cart.price()?.total_minor,
                currency: currency.to_string(),
                minor_units: catalog::minor_units(conn, currency)?,
            })
        })();
        // One parked cart that cannot be read must not hide the others or block the till.
        match summary {
            Ok(info) => parked.push(info),
            Err(err) => tracing::warn!(%id, %err, "a parked cart cannot be read"),
        }
    }
    Ok(parked)
}

impl Till {
    /// Puts the cart aside under `label` and starts an empty one.
    pub fn park_cart(&self, label: &str) -> Result<PosState, SaleError> {
        let author = self.author(SELL)?;
        {
            let mut conn = self.sales_conn()?;
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let cart = load_cart(&tx)?;
            if cart.is_empty() {
                return Err(SaleError::CartEmpty);
            }
            let label = label.trim();
            let label = if label.is_empty() {
                format!("Sale of {} line(s)", cart.lines.len())
            } else {
                label.chars().take(60).collect()
            };
            tx.execute(
                "INSERT INTO parked_carts (id, parked_by, parked_by_name, parked_at, label, cart)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                (
                    Uuid::now_v7().to_string(),
                    author.user_id.to_string(),
                    &author.user_name,
                    now(&tx)?,
                    label,
                    serde_json::to_string(&cart)?,
                ),
            )?;
            save_cart(&tx, &Cart::default())?;
            tx.commit()?;
        }
        self.pos_state()
    }

    /// Brings a parked cart back to the till. The cart on the till must be empty first.
    pub fn resume_parked(&self, id: &str) -> Result<PosState, SaleError> {
        self.author(SELL)?;
        {
            let mut conn = self.sales_conn()?;
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            if !load_cart(&tx)?.is_empty() {
                return Err(SaleError::CartNotEmpty);
            }
            let cart: String = tx
                .query_row("SELECT cart FROM parked_carts WHERE id = ?1", [id], |r| {
                    r.get(0)
                })
                .optional()?
                .ok_or_else(|| SaleError::NoSuchParkedCart(id.to_owned()))?;
            let cart: Cart = serde_json::from_str(&cart)?;
            save_cart(&tx, &cart)?;
            tx.execute("DELETE FROM parked_carts WHERE id = ?1", [id])?;
            tx.commit()?;
        }
        self.pos_state()
    }
}

//! Stock on the till (ARCHITECTURE.md §4): a ledger of signed movements, one per sale or
//! refund line that moves goods, written in the same transaction as the sale; and what the
//! till can say about a product's quantity on hand while offline — the server's level as last
//! pulled, plus this till's movements the server had not counted then.
//!
//! Selling writes movements through [`record_sale_movements`]; the Stock screen reads them
//! through [`Till::stock_on_hand`] and [`Till::find_stock_products`]. Nothing else touches
//! `stock_movements` or `stock_levels` except the pull that brings the server's levels.

use rusqlite::{Connection, OptionalExtension};
use serde::Serialize;
use tillpoint_protocol::journal::RecordKind;
use tillpoint_protocol::permission::Operation;
use tillpoint_protocol::sales::SalePayload;
use tillpoint_protocol::stock::line_movement_milli;
use tillpoint_protocol::ProductId;
use uuid::Uuid;

use crate::catalog::ProductHit;
use crate::error::CoreError;
use crate::sales::SaleError;
use crate::till::Till;

/// Who may see stock levels and look products up for them (Cashier, Stock Manager, …).
pub const STOCK_VIEW: &str = Operation::ViewStock.permission_name();

/// A product's quantity on hand as this till can tell offline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "contract", derive(specta::Type))]
pub struct StockOnHand {
    pub product_id: ProductId,
    /// The server's level for this till's shop as last pulled, in thousandths of the unit.
    /// `None` until a pull has brought one.
    pub synced_quantity_milli: Option<i64>,
    /// When that figure was last known to be the server's (its age); `None` with it.
    pub synced_at: Option<String>,
    /// This till's movements the synced figure does not count (sales negative, restocking
    /// refunds positive): pending ones, and ones the server took after `synced_at`.
    pub unsynced_change_milli: i64,
    /// `synced_quantity_milli + unsynced_change_milli`, when there is a synced figure.
    pub estimate_milli: Option<i64>,
}

/// The shop this till sells in: its organisation's only shop. With several shops it is not
/// known until device enrolment assigns one, and sales carry none rather than a guess.
pub(crate) fn shop_location(conn: &Connection) -> rusqlite::Result<Option<Uuid>> {
    let shops: Vec<String> = conn
        .prepare_cached("SELECT id FROM locations WHERE kind = 'shop' LIMIT 2")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(match shops.as_slice() {
        [only] => only.parse().ok(),
        _ => None,
    })
}

/// Writes the stock movements of a sale or refund (`kind`) journaled as `journal_seq`, inside
/// the transaction that writes the sale: one per line that moves stock, as
/// [`line_movement_milli`] says.
pub(crate) fn record_sale_movements(
    tx: &Connection,
    kind: RecordKind,
    sale: &SalePayload,
    journal_seq: u64,
    created_at: &str,
) -> rusqlite::Result<()> {
    let mut movement = tx.prepare_cached(
        "INSERT INTO stock_movements (id, product_id, location_id, quantity_milli, reason,
             sale_id, journal_seq, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    for line in &sale.lines {
        // The rule the server applies too when the sale reaches it.
        if let Some(moved) = line_movement_milli(kind, line) {
            movement.execute(rusqlite::params![
                Uuid::now_v7().to_string(),
                line.product_id.to_string(),
                sale.location_id.map(|id| id.to_string()),
                moved,
                kind.as_str(),
                sale.sale_id.to_string(),
                journal_seq as i64,
                created_at,
            ])?;
        }
    }
    Ok(())
}

impl Till {
    /// What this till can say about `product`'s stock while offline: the server's level for
    /// this till's shop as last pulled, as of when (its age), and this till's movements the
    /// server had not counted then — pending ones, and ones the server took after that.
    /// Needs [`STOCK_VIEW`].
    pub fn stock_on_hand(&self, product: ProductId) -> Result<StockOnHand, CoreError> {
        self.require(&crate::sales::permission(STOCK_VIEW))?;
        let conn = self.store().conn()?;
        let product_text = product.to_string();
        // The shop this till sells from, as checkout records it: the one shop, else none.
        let location = shop_location(&conn)?
            .map(|id| id.to_string())
            .unwrap_or_default();
        // The figure was the server's at the page that brought it, and stays so until a
        // later change arrives: it is as recent as the last complete pull, if later.
        let synced: Option<(i64, String)> = conn
            .prepare_cached(
                "SELECT l.on_hand_milli,
                        MAX(l.pulled_at, COALESCE(
                            (SELECT completed_at FROM sync_cursors WHERE stream = 'pull'), ''))
                 FROM stock_levels l WHERE l.product_id = ?1 AND l.location_id = ?2",
            )?
            .query_row([&product_text, &location], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let counted_after = synced.as_ref().map(|(_, at)| at.as_str());
        let unsynced: i64 = conn
            .prepare_cached(
                "SELECT COALESCE(SUM(m.quantity_milli), 0)
                 FROM stock_movements m JOIN outbox o ON o.journal_seq = m.journal_seq
                 WHERE m.product_id = ?1
                   AND (o.state = 'pending'
                        OR (o.state = 'synced' AND ?2 IS NOT NULL AND o.updated_at > ?2))",
            )?
            .query_row((&product_text, counted_after), |r| r.get(0))?;
        let (synced, synced_at) = match synced {
            Some((quantity, at)) => (Some(quantity), Some(at)),
            None => (None, None),
        };
        Ok(StockOnHand {
            product_id: product,
            synced_quantity_milli: synced,
            synced_at,
            unsynced_change_milli: unsynced,
            estimate_milli: synced.map(|q| q + unsynced),
        })
    }

    /// The selling screen's product search, for the Stock screen: needs [`STOCK_VIEW`], not
    /// selling.
    pub fn find_stock_products(&self, query: &str) -> Result<Vec<ProductHit>, SaleError> {
        self.require(&crate::sales::permission(STOCK_VIEW))?;
        self.product_hits(query)
    }
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;
    use crate::sync::fake_server::{accept_all, setup, Setup};

    #[tokio::test]
    async fn offline_stock_counts_only_movements_the_server_has_not_had() {
        let s = setup(&[STOCK_VIEW], accept_all).await;
        let product = ProductId::from_uuid(Uuid::now_v7());
        let move_stock = |s: &Setup, quantity: i64| {
            let seq = s.record(1)[0].seq;
            s.till
                .store()
                .conn()
                .unwrap()
                .execute(
                    "INSERT INTO stock_movements (id, product_id, quantity_milli, reason, journal_seq, created_at)
                     VALUES (?1, ?2, ?3, 'sale', ?4, 't')",
                    (Uuid::now_v7().to_string(), product.to_string(), quantity, seq as i64),
                )
                .unwrap();
        };
        move_stock(&s, -2000);
        s.till.push_outbox(|_| {}).await.unwrap();
        move_stock(&s, -1500);
        move_stock(&s, 1000);
        let stock = s.till.stock_on_hand(product).unwrap();
        assert_eq!(stock.unsynced_change_milli, -500);
        assert_eq!(
            stock.synced_quantity_milli, None,
            "stock levels are not pulled yet"
        );
        assert_eq!(stock.estimate_milli, None);
    }

    #[tokio::test]
    async fn stock_lookups_need_stock_view() {
        let product = ProductId::from_uuid(Uuid::now_v7());
        let s = setup(&["pos:sales:view"], accept_all).await;
        let err = s.till.stock_on_hand(product).unwrap_err();
        assert_eq!(err.code(), "forbidden");
        assert!(err.to_string().contains(STOCK_VIEW), "{err}");
        let err = s.till.find_stock_products("milk").unwrap_err();
        assert_eq!(err.code(), "forbidden");

        // A Stock Manager (stock:*:*) sells nothing but may look stock up.
        let s = setup(&["stock:*:*"], accept_all).await;
        let stock = s.till.stock_on_hand(product).unwrap();
        assert_eq!(
            (stock.synced_quantity_milli, stock.unsynced_change_milli),
            (None, 0)
        );
        assert!(s.till.find_stock_products("milk").unwrap().is_empty());
        assert_eq!(
            s.till.find_products("milk").unwrap_err().code(),
            "forbidden"
        );
    }
}

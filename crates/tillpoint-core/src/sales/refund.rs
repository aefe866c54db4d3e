//! Refunds and returns against a sale held on this till: whole or per line, never more than
//! was sold (less what was refunded already). Needs `pos:sales:refund`; a cashier without it
//! may refund with a manager's own username and password, checked on the till against that
//! manager's offline verifier and grant, so it works offline too. Returned goods go back on
//! the shelf unless marked damaged.

use rusqlite::{Connection, OptionalExtension, TransactionBehavior};
use serde::Deserialize;
use tillpoint_protocol::journal::RecordKind;
use tillpoint_protocol::money::{divide, ExchangeRate, Quantity, Rounding, Unit};
use tillpoint_protocol::sales::{Payment, SaleLine, SalePayload, TenderMethod};
use tillpoint_protocol::tax::{bands_of_lines, TaxCode, TaxRate};
use tillpoint_protocol::{CurrencyCode, UserId};
use uuid::Uuid;

use super::checkout::{insert_sale, SaleDone};
use super::views::{SaleDetail, SaleDetailLine, SaleListItem};
use super::{now, permission, SaleError, REFUND, SELL};
use crate::catalog;
use crate::sign_in::session::SignInError;
use crate::sign_in::{clock, grant, identity, limits, offline_users};
use crate::till::Till;

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "contract", derive(specta::Type))]
pub struct RefundLineInput {
    pub line_no: u32,
    pub quantity: String,
    pub restock: bool,
}

/// A manager approving a refund the cashier may not make alone.
#[derive(Clone, Deserialize)]
#[cfg_attr(feature = "contract", derive(specta::Type))]
pub struct Approver {
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for Approver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Approver")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefundInput {
    pub sale_id: String,
    pub lines: Vec<RefundLineInput>,
    pub reason: String,
    #[serde(default)]
    pub approver: Option<Approver>,
    #[serde(default = "cash")]
    pub tender: TenderMethod,
}

fn cash() -> TenderMethod {
    TenderMethod::Cash
}

/// One line of a sale, with what is left to refund of it.
struct SoldLine {
    line: SaleLine,
    refunded_quantity: i64,
}

fn sold_lines(conn: &Connection, sale_id: &str) -> Result<Vec<SoldLine>, SaleError> {
    let mut statement = conn.prepare_cached(
        "SELECT l.line_no, l.product_id, l.sku, l.name, l.unit, l.quantity_milli,
                l.unit_price_minor, l.list_price_minor, l.line_discount_minor,
                l.cart_discount_minor, l.total_minor, l.tax_code, l.tax_rate_bp, l.vat_minor,
                COALESCE((SELECT -SUM(r.quantity_milli) FROM sale_lines r JOIN sales s ON s.id = r.sale_id
                          WHERE s.refund_of = l.sale_id AND r.refund_of_line = l.line_no), 0)
         FROM sale_lines l WHERE l.sale_id = ?1 ORDER BY l.line_no",
    )?;
    let rows = statement.query_map([sale_id], |r| {
        let bad = |i| {
            rusqlite::Error::InvalidColumnType(i, "sale line".into(), rusqlite::types::Type::Text)
        };
        Ok(SoldLine {
            line: SaleLine {
                line_no: r.get(0)?,
                product_id: r.get::<_, String>(1)?.parse().map_err(|_| bad(1))?,
                sku: r.get(2)?,
                name: r.get(3)?,
                unit: Unit::parse(&r.get::<_, String>(4)?).ok_or_else(|| bad(4))?,
                quantity: Quantity::from_milli(r.get(5)?),
                unit_price_minor: r.get(6)?,
                list_price_minor: r.get(7)?,
                line_discount_minor: r.get(8)?,
                cart_discount_minor: r.get(9)?,
                total_minor: r.get(10)?,
                tax: TaxRate {
                    code: TaxCode::parse(&r.get::<_, String>(11)?).ok_or_else(|| bad(11))?,
                    rate_bp: r.get(12)?,
                },
                vat_minor: r.get(13)?,
                refund_of_line: None,
                restock: None,
            },
            refunded_quantity: r.get(14)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn sale_item(conn: &Connection, sale_id: &str) -> Result<Option<SaleListItem>, SaleError> {
    let row: Option<(String, String, String, String, String, i64, String)> = conn
        .prepare_cached(
            "SELECT id, receipt_no, kind, created_at, creator_name, total_minor, currency
             FROM sales WHERE id = ?1",
        )?
        .query_row([sale_id], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
            ))
        })
        .optional()?;
    let Some((id, receipt_no, kind, created_at, cashier, total, currency)) = row else {
        return Ok(None);
    };
    let code = CurrencyCode::parse(&currency).map_err(|e| SaleError::Store(e.to_string()))?;
    let refundable = kind == "sale"
        && sold_lines(conn, &id)?
            .iter()
            .any(|l| l.line.quantity.milli() > l.refunded_quantity);
    Ok(Some(SaleListItem {
        sale_id: id,
        receipt_no,
        kind,
        created_at: super::receipt::local_time(&created_at),
        cashier_name: cashier,
        total_minor: total,
        minor_units: catalog::minor_units(conn, code)?,
        currency,
        refundable,
    }))
}

impl Till {
    /// The latest sales and refunds on this till, newest first.
    pub fn recent_sales(&self, limit: u32) -> Result<Vec<SaleListItem>, SaleError> {
        self.author(SELL)?;
        let conn = self.sales_conn()?;
        let ids: Vec<String> = conn
            .prepare_cached("SELECT id FROM sales ORDER BY receipt_seq DESC LIMIT ?1")?
            .query_map([limit.clamp(1, 200)], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        ids.iter()
            .filter_map(|id| sale_item(&conn, id).transpose())
            .collect()
    }

    /// A sale's lines with what is left to refund of each.
    pub fn sale_detail(&self, sale_id: &str) -> Result<SaleDetail, SaleError> {
        self.author(SELL)?;
        let conn = self.sales_conn()?;
        let sale =
            sale_item(&conn, sale_id)?.ok_or_else(|| SaleError::NoSuchSale(sale_id.to_owned()))?;
        let lines = sold_lines(&conn, sale_id)?
            .into_iter()
            .map(|l| SaleDetailLine {
                line_no: l.line.line_no,
                name: l.line.name,
                unit: l.line.unit,
                quantity: l.line.quantity.to_string(),
                refundable_quantity: Quantity::from_milli(
                    (l.line.quantity.milli() - l.refunded_quantity).max(0),
                )
                .to_string(),
                total_minor: l.line.total_minor,
            })
            .collect();
        Ok(SaleDetail { sale, lines })
    }

    /// Refunds lines of an earlier sale on this till, paying the money back by `tender`.
    pub async fn refund(&self, input: &RefundInput) -> Result<SaleDone, SaleError> {
        let author = self.seller()?;
        let approval = if self.may(REFUND) {
            None
        } else {
            match &input.approver {
                Some(approver) => Some(self.check_approver(approver, author.user_id).await?),
                None => {
                    return Err(SignInError::Forbidden(
                        permission(REFUND),
                        "; a manager can approve this refund with their password",
                    )
                    .into())
                }
            }
        };
        let reason = input.reason.trim();
        if reason.is_empty() {
            return Err(SaleError::InvalidInput(
                "give the reason for the refund".into(),
            ));
        }
        let grant = self
            .active_session()
            .as_ref()
            .filter(|_| author.grant_jti.is_some())
            .map(|s| s.grant().limits.clone());
        let (sale_id, receipt_no) = {
            let mut conn = self.sales_conn()?;
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let payload = refund_payload(&tx, input, reason, approval)?;
            if let (Some(limits), Some(jti)) = (&grant, author.grant_jti.as_deref()) {
                let amount = -payload.total_minor;
                limits::check_sale(&tx, limits, jti, payload.currency, amount, 0)?;
                limits::record_offline_sale(&tx, jti, payload.currency, amount)?;
            }
            let created_at = now(&tx)?;
            let written = insert_sale(&tx, &author, RecordKind::Refund, payload, &created_at)?;
            tx.commit()?;
            written
        };
        tracing::info!(%receipt_no, refund_of = %input.sale_id, "refund written");
        let printed = self.issue_receipt(&sale_id).await?;
        Ok(SaleDone {
            sale_id,
            receipt_no,
            printed,
        })
    }

    /// Checks a manager's credentials on this till, as an offline unlock would (with the same
    /// back-off), and that their grant, still valid, allows refunds. The approver and the
    /// grant the approval was checked against: both go into the refund's record, so the
    /// server can check the same grant.
    async fn check_approver(
        &self,
        approver: &Approver,
        cashier: UserId,
    ) -> Result<Approval, SaleError> {
        let (person, reading, keys, identity) = {
            let conn = self.sales_conn()?;
            let reading = clock::observe(&conn, chrono::Utc::now().timestamp())?;
            if reading.locked {
                return Err(SignInError::ClockLocked.into());
            }
            let person = offline_users::find(&conn, &approver.username)?;
            // An unknown name and a wrong password read the same: no probing for managers.
            let person = person.ok_or(SignInError::WrongCredentials)?;
            if person.user_id == cashier {
                return Err(SaleError::InvalidInput(
                    "a refund is approved by someone else, not by the cashier making it".into(),
                ));
            }
            if let Some(until) = person.locked_until.filter(|until| *until > reading.now) {
                return Err(SignInError::BackingOff {
                    retry_after_secs: until - reading.now,
                }
                .into());
            }
            // Counted as a failure until it succeeds, so attempts made at the same time
            // cannot all slip in before the back-off.
            offline_users::record_failure(&conn, person.user_id, reading.now)?;
            let keys = grant::cached_keys(&conn)?;
            let identity = identity::load(&conn)?.ok_or(SignInError::NotSignedIn)?;
            (person, reading, keys, identity)
        };
        let (password, verifier) = (approver.password.clone(), person.password_verifier.clone());
        let matches = tokio::task::spawn_blocking(move || {
            tillpoint_password::verify_password(&password, &verifier)
        })
        .await
        .map_err(|e| SaleError::Store(e.to_string()))?;
        {
            let conn = self.sales_conn()?;
            offline_users::record_attempt(&conn, &approver.username, reading.now, matches)?;
            if !matches {
                tracing::warn!(approver = %person.username, "wrong approver password");
                return Err(SignInError::WrongCredentials.into());
            }
            offline_users::record_success(&conn, person.user_id)?;
        }
        let org = identity.org.ok_or(SignInError::NotSignedIn)?;
        let claims = grant::verify(
            &person.grant_token,
            &keys,
            org,
            identity.device_id,
            reading.now,
        )
        .map_err(SignInError::from)?;
        let refund = permission(REFUND);
        if !tillpoint_protocol::permission::any_covers(&claims.perms, &refund) {
            return Err(SignInError::Forbidden(refund, " (the approver)").into());
        }
        // What the server said since the approver's grant was issued narrows it, as it does
        // for the approver's own offline work (revoked, disabled, role changed).
        let standing = offline_users::standing(
            &*self.sales_conn()?,
            person.user_id,
            &claims.jti,
            identity.device_id,
            Some(&refund),
        )?;
        if let Some(standing) = standing {
            return Err(crate::sign_in::session::refusal(standing, Some(&refund)).into());
        }
        Ok(Approval {
            approver: person.user_id,
            grant_jti: claims.jti,
        })
    }
}

/// A manager's approval of a refund, as checked on this till.
#[derive(Debug, Clone)]
struct Approval {
    approver: UserId,
    /// The approver's offline grant the approval was checked against.
    grant_jti: String,
}

/// What sale `sale_id` may still pay back by `method`, in its currency: what that method
/// paid (cash less the change given) less what earlier refunds paid back by it. A card
/// payment is not refunded from the drawer.
fn refundable_by(conn: &Connection, sale_id: &str, method: TenderMethod) -> Result<i64, SaleError> {
    let (paid, change): (i64, i64) = conn.query_row(
        "SELECT COALESCE(SUM(CASE WHEN p.method = ?2 THEN p.value_minor END), 0),
                COALESCE(SUM(p.value_minor), 0) - s.total_minor
         FROM sales s LEFT JOIN sale_payments p ON p.sale_id = s.id
         WHERE s.id = ?1",
        (sale_id, method.as_str()),
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let refunded: i64 = conn.query_row(
        "SELECT COALESCE(-SUM(p.value_minor), 0) FROM sales s
         JOIN sale_payments p ON p.sale_id = s.id
         WHERE s.refund_of = ?1 AND p.method = ?2",
        (sale_id, method.as_str()),
        |r| r.get(0),
    )?;
    // Only cash gets change, so the change came out of the cash.
    let change = if method == TenderMethod::Cash {
        change.max(0)
    } else {
        0
    };
    Ok(paid - change - refunded)
}

/// Works out the refund's lines and amounts from the original sale.
fn refund_payload(
    tx: &Connection,
    input: &RefundInput,
    reason: &str,
    approval: Option<Approval>,
) -> Result<SalePayload, SaleError> {
    let session = super::selling::selling_session(tx)?;
    let (kind, currency): (String, String) = tx
        .query_row(
            "SELECT kind, currency FROM sales WHERE id = ?1",
            [&input.sale_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?
        .ok_or_else(|| SaleError::NoSuchSale(input.sale_id.clone()))?;
    if kind != "sale" {
        return Err(SaleError::NotRefundable(
            "a refund cannot itself be refunded".into(),
        ));
    }
    if input.lines.is_empty() {
        return Err(SaleError::InvalidInput(
            "choose at least one line to refund".into(),
        ));
    }
    let currency = CurrencyCode::parse(&currency).map_err(|e| SaleError::Store(e.to_string()))?;
    let sold = sold_lines(tx, &input.sale_id)?;
    let mut lines: Vec<SaleLine> = Vec::new();
    for (index, wanted) in input.lines.iter().enumerate() {
        let original = sold
            .iter()
            .find(|l| l.line.line_no == wanted.line_no)
            .ok_or_else(|| {
                SaleError::InvalidInput(format!("the sale has no line {}", wanted.line_no))
            })?;
        let quantity = Quantity::parse(&wanted.quantity)
            .map_err(|e| SaleError::InvalidInput(e.to_string()))?;
        // A line named more than once in this refund: what the earlier mentions take counts
        // as refunded already (quantities and amounts here are negative).
        let asked_quantity: i64 = lines
            .iter()
            .filter(|l| l.refund_of_line == Some(original.line.line_no))
            .map(|l| -l.quantity.milli())
            .sum();
        let left = original.line.quantity.milli() - original.refunded_quantity - asked_quantity;
        if quantity.milli() <= 0 || !original.line.unit.allows(quantity) {
            return Err(SaleError::InvalidInput(format!(
                "{} cannot be refunded in that quantity",
                original.line.name
            )));
        }
        if quantity.milli() > left {
            return Err(SaleError::NotRefundable(format!(
                "only {} of {} is left to refund",
                Quantity::from_milli(left.max(0)),
                original.line.name
            )));
        }
        // Each refund returns the share of the line's amounts between what was refunded
        // before and after it, each rounded once: the shares of any sequence of refunds add
        // up to exactly what the line was charged (amount, discounts and VAT alike).
        let before = original.line.quantity.milli() - left;
        let after = before + quantity.milli();
        let sold = i128::from(original.line.quantity.milli());
        let part = |amount: i64| {
            let upto = |done: i64| {
                divide(
                    i128::from(amount) * i128::from(done),
                    sold,
                    Rounding::HalfUp,
                ) as i64
            };
            upto(after) - upto(before)
        };
        lines.push(SaleLine {
            line_no: index as u32 + 1,
            quantity: Quantity::from_milli(-quantity.milli()),
            line_discount_minor: -part(original.line.line_discount_minor),
            cart_discount_minor: -part(original.line.cart_discount_minor),
            total_minor: -part(original.line.total_minor),
            vat_minor: -part(original.line.vat_minor),
            refund_of_line: Some(original.line.line_no),
            restock: Some(wanted.restock),
            ..original.line.clone()
        });
    }
    // The VAT returned is the lines' shares of the VAT charged, never recomputed: several
    // partial refunds must not hand back more VAT than the sale carried.
    let shares: Vec<_> = lines
        .iter()
        .map(|l| (l.tax, l.total_minor, l.vat_minor))
        .collect();
    let vat = bands_of_lines(&shares);
    let total: i64 = lines.iter().map(|l| l.total_minor).sum();
    let refundable = refundable_by(tx, &input.sale_id, input.tender)?;
    if -total > refundable {
        return Err(SaleError::NotRefundable(format!(
            "at most {} (minor units of {currency}) of this sale can still go back by {}: \
             refund it the way it was paid",
            refundable.max(0),
            input.tender.label()
        )));
    }
    let discount: i64 = lines
        .iter()
        .map(|l| l.line_discount_minor + l.cart_discount_minor)
        .sum();
    Ok(SalePayload {
        sale_id: Uuid::now_v7(),
        receipt_no: String::new(),
        till_session_id: session.uuid()?,
        location_id: None,
        currency,
        subtotal_minor: total + discount,
        discount_minor: discount,
        total_minor: total,
        vat,
        payments: vec![Payment {
            method: input.tender,
            currency,
            amount_minor: total,
            rate: ExchangeRate::ONE,
            rate_base: currency,
            value_minor: total,
            reference: None,
        }],
        change_minor: 0,
        change_currency: currency,
        change_rate: ExchangeRate::ONE,
        change_rate_base: currency,
        refund_of: Some(
            input
                .sale_id
                .parse()
                .map_err(|_| SaleError::NoSuchSale(input.sale_id.clone()))?,
        ),
        reason: Some(reason.chars().take(200).collect()),
        approver_id: approval.as_ref().map(|a| a.approver),
        approver_grant_jti: approval.map(|a| a.grant_jti),
        lines,
    })
}

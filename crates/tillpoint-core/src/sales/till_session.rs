//! Till sessions: a cash drawer opened with a counted float and closed with a counted
//! cash-up. X and Z reports read the running totals each sale adds to
//! (`till_session_totals`), so closing a session of any size reads a few dozen rows.

use std::collections::BTreeMap;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior};
use serde::{Deserialize, Serialize};
use tillpoint_protocol::journal::RecordKind;
use tillpoint_protocol::money::parse_amount;
use tillpoint_protocol::sales::{TenderMethod, TillCount, TillSessionPayload};
use tillpoint_protocol::tax::{TaxCode, TaxRate};
use tillpoint_protocol::CurrencyCode;
use uuid::Uuid;

use tillpoint_receipt::{
    CashierReport, CashierTotal, CurrencyReport, ReceiptVat, ReportKind, SessionReport, TenderLine,
};

use super::views::TillSessionInfo;
use super::{now, SaleError, TILL_SESSIONS};
use crate::catalog;
use crate::journal;
use crate::till::Till;

/// An amount counted, as the window sends it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "contract", derive(specta::Type))]
pub struct CountInput {
    pub currency: String,
    pub tender: TenderMethod,
    pub amount: String,
}

/// A session report with its printable document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "contract", derive(specta::Type))]
pub struct ReportView {
    #[serde(flatten)]
    pub report: SessionReport,
    pub html: String,
    /// Whether it went to the receipt printer, and why not when that failed.
    pub printed: bool,
    pub print_error: Option<String>,
}

/// Adds to one running total of a session.
#[allow(clippy::too_many_arguments)]
pub(crate) fn add_total(
    tx: &Connection,
    session: &str,
    bucket: &str,
    currency: &str,
    key: &str,
    amount_minor: i64,
    extra_minor: i64,
    count: i64,
) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO till_session_totals (session_id, bucket, currency, key, amount_minor,
                                          extra_minor, count)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (session_id, bucket, currency, key) DO UPDATE SET
             amount_minor = amount_minor + ?5, extra_minor = extra_minor + ?6,
             count = count + ?7",
    )?
    .execute((
        session,
        bucket,
        currency,
        key,
        amount_minor,
        extra_minor,
        count,
    ))?;
    Ok(())
}

/// The session open on this till, if any.
pub(crate) fn open_session(conn: &Connection) -> rusqlite::Result<Option<TillSessionInfo>> {
    conn.prepare_cached(
        "SELECT id, opened_at, opened_by_name FROM till_sessions WHERE closed_at IS NULL",
    )?
    .query_row([], |r| {
        Ok(TillSessionInfo {
            id: r.get(0)?,
            opened_at: r.get(1)?,
            opened_by_name: r.get(2)?,
        })
    })
    .optional()
}

fn parse_counts(conn: &Connection, counts: &[CountInput]) -> Result<Vec<TillCount>, SaleError> {
    let mut parsed: BTreeMap<(CurrencyCode, TenderMethod), i64> = BTreeMap::new();
    for count in counts {
        let currency = CurrencyCode::parse(&count.currency)
            .map_err(|e| SaleError::InvalidInput(e.to_string()))?;
        let units = catalog::minor_units(conn, currency)?;
        let amount = parse_amount(&count.amount, units)
            .map_err(|e| SaleError::InvalidInput(e.to_string()))?;
        if parsed.insert((currency, count.tender), amount).is_some() {
            return Err(SaleError::InvalidInput(format!(
                "{} {} is counted twice",
                currency,
                count.tender.label()
            )));
        }
    }
    Ok(parsed
        .into_iter()
        .map(|((currency, tender), amount_minor)| TillCount {
            currency,
            tender,
            amount_minor,
        })
        .collect())
}

/// Refuses a cash-up without a cash count in each currency the till takes now — the ones the
/// selling screen lists, so the close form asks for exactly these.
fn check_cash_counted(conn: &Connection, counts: &[TillCount], at: &str) -> Result<(), SaleError> {
    let missing: Vec<CurrencyCode> = super::checkout::till_currencies_now(conn, at)?
        .into_iter()
        .map(|option| option.code)
        .filter(|code| {
            !counts
                .iter()
                .any(|c| c.currency == *code && c.tender == TenderMethod::Cash)
        })
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(SaleError::CashNotCounted(missing))
    }
}

fn insert_counts(
    tx: &Connection,
    session: &str,
    stage: &str,
    counts: &[TillCount],
) -> rusqlite::Result<()> {
    let mut insert = tx.prepare_cached(
        "INSERT INTO till_session_counts (session_id, stage, currency, tender, amount_minor)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for count in counts {
        insert.execute((
            session,
            stage,
            count.currency.as_str(),
            count.tender.as_str(),
            count.amount_minor,
        ))?;
    }
    Ok(())
}

impl Till {
    /// Opens the till with the float counted into the drawer, per currency.
    pub fn open_till(&self, float: &[CountInput]) -> Result<TillSessionInfo, SaleError> {
        let author = self.author(TILL_SESSIONS)?;
        let mut conn = self.sales_conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        if open_session(&tx)?.is_some() {
            return Err(SaleError::TillAlreadyOpen);
        }
        let counts = parse_counts(&tx, float)?;
        if counts.iter().any(|c| c.tender != TenderMethod::Cash) {
            return Err(SaleError::InvalidInput("a float is cash".into()));
        }
        let id = Uuid::now_v7();
        let opened_at = now(&tx)?;
        tx.execute(
            "INSERT INTO till_sessions (id, device_id, opened_by, opened_by_name, opened_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            (
                id.to_string(),
                author.device_id.to_string(),
                author.user_id.to_string(),
                &author.user_name,
                &opened_at,
            ),
        )?;
        insert_counts(&tx, &id.to_string(), "float", &counts)?;
        let payload = TillSessionPayload {
            till_session_id: id,
            counts,
            expected: Vec::new(),
        };
        journal::append(
            &tx,
            &author,
            RecordKind::TillOpened,
            Uuid::now_v7(),
            &opened_at,
            &payload,
        )?;
        tx.commit()?;
        Ok(TillSessionInfo {
            id: id.to_string(),
            opened_at,
            opened_by_name: author.user_name,
        })
    }

    /// The X report: the open session's figures so far, without closing it (printed when
    /// the till has a printer).
    pub async fn till_report(&self) -> Result<ReportView, SaleError> {
        self.author(TILL_SESSIONS)?;
        let report = {
            let conn = self.sales_conn()?;
            let session = open_session(&conn)?.ok_or(SaleError::TillNotOpen)?;
            report(&conn, &session.id)?
        };
        self.issue_report(report).await
    }

    /// A report as the window shows it, printed when the till has a printer.
    async fn issue_report(&self, report: SessionReport) -> Result<ReportView, SaleError> {
        let (printed, print_error) = self
            .print_on_paper(|options| tillpoint_receipt::escpos::render_report(&report, &options))
            .await?;
        Ok(ReportView {
            html: tillpoint_receipt::html::render_report(&report),
            report,
            printed,
            print_error,
        })
    }

    /// Closes the till with the cash-up counted, and returns its Z report. The cash in the
    /// drawer must be counted in every currency the till takes (zero is a count); other
    /// tenders are counted when there is something to count.
    pub async fn close_till(&self, counted: &[CountInput]) -> Result<ReportView, SaleError> {
        let author = self.author(TILL_SESSIONS)?;
        let figures = {
            let mut conn = self.sales_conn()?;
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let session = open_session(&tx)?.ok_or(SaleError::TillNotOpen)?;
            let counts = parse_counts(&tx, counted)?;
            let closed_at = now(&tx)?;
            check_cash_counted(&tx, &counts, &closed_at)?;
            insert_counts(&tx, &session.id, "counted", &counts)?;
            tx.execute(
                "UPDATE till_sessions SET closed_at = ?2, closed_by = ?3 WHERE id = ?1",
                (&session.id, &closed_at, author.user_id.to_string()),
            )?;
            let figures = report(&tx, &session.id)?;
            let expected = figures
                .currencies
                .iter()
                .flat_map(|c| {
                    c.tenders.iter().map(|t| TillCount {
                        currency: CurrencyCode::parse(&c.currency).expect("stored codes are valid"),
                        tender: t.method,
                        amount_minor: t.expected_minor,
                    })
                })
                .collect();
            let payload = TillSessionPayload {
                till_session_id: session.uuid()?,
                counts,
                expected,
            };
            journal::append(
                &tx,
                &author,
                RecordKind::TillClosed,
                Uuid::now_v7(),
                &closed_at,
                &payload,
            )?;
            tx.commit()?;
            figures
        };
        self.issue_report(figures).await
    }
}

/// Reads a session's report from its running totals and counts.
pub(crate) fn report(conn: &Connection, session_id: &str) -> Result<SessionReport, SaleError> {
    let (opened_at, opened_by_name, closed_at, closed_by): (
        String,
        String,
        Option<String>,
        Option<String>,
    ) = conn.query_row(
        "SELECT opened_at, opened_by_name, closed_at, closed_by FROM till_sessions WHERE id = ?1",
        [session_id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
    )?;
    let closed_by_name = closed_by.as_ref().map(|id| {
        conn.query_row(
            "SELECT name FROM offline_users WHERE user_id = ?1",
            [id],
            |r| r.get::<_, String>(0),
        )
        .unwrap_or_else(|_| id.clone())
    });
    let mut totals: Vec<(String, String, String, i64, i64, i64)> = Vec::new();
    {
        let mut statement = conn.prepare_cached(
            "SELECT bucket, currency, key, amount_minor, extra_minor, count
             FROM till_session_totals WHERE session_id = ?1 ORDER BY bucket, currency, key",
        )?;
        let rows = statement.query_map([session_id], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })?;
        for row in rows {
            totals.push(row?);
        }
    }
    let mut counts: BTreeMap<(String, String, String), i64> = BTreeMap::new();
    {
        let mut statement = conn.prepare_cached(
            "SELECT stage, currency, tender, amount_minor FROM till_session_counts WHERE session_id = ?1",
        )?;
        let rows = statement.query_map([session_id], |r| {
            Ok(((r.get(0)?, r.get(1)?, r.get(2)?), r.get(3)?))
        })?;
        for row in rows {
            let (key, amount) = row?;
            counts.insert(key, amount);
        }
    }
    let total = |bucket: &str, currency: &str, key: &str| {
        totals
            .iter()
            .find(|t| t.0 == bucket && t.1 == currency && t.2 == key)
            .map_or(0, |t| t.3)
    };
    let mut currency_codes: Vec<String> = totals
        .iter()
        .map(|t| t.1.clone())
        .chain(counts.keys().map(|k| k.1.clone()))
        .collect();
    currency_codes.sort();
    currency_codes.dedup();
    let closing = closed_at.is_some();
    let mut currencies = Vec::new();
    for code in currency_codes {
        let minor_units = CurrencyCode::parse(&code)
            .ok()
            .and_then(|c| catalog::minor_units(conn, c).ok())
            .unwrap_or(2);
        let float = counts
            .get(&("float".into(), code.clone(), "cash".into()))
            .copied()
            .unwrap_or(0);
        let tenders = TenderMethod::ALL
            .into_iter()
            .filter_map(|method| {
                let taken = total("tender", &code, method.as_str());
                let expected = if method == TenderMethod::Cash {
                    float + taken - total("change", &code, "cash")
                } else {
                    taken
                };
                let counted = counts
                    .get(&("counted".into(), code.clone(), method.as_str().into()))
                    .copied();
                let counted = counted.or(closing
                    .then_some(0)
                    .filter(|_| method == TenderMethod::Cash));
                (expected != 0 || counted.is_some()).then_some(TenderLine {
                    method,
                    expected_minor: expected,
                    counted_minor: counted,
                    over_short_minor: counted.map(|c| c - expected),
                })
            })
            .collect();
        let vat = totals
            .iter()
            .filter(|t| t.0 == "vat" && t.1 == code)
            .map(|t| {
                let (tax_code, rate_bp) = t.2.split_once(':').unwrap_or(("standard", "0"));
                let rate = TaxRate {
                    code: TaxCode::parse(tax_code).unwrap_or(TaxCode::Standard),
                    rate_bp: rate_bp.parse().unwrap_or(0),
                };
                ReceiptVat {
                    label: rate.label(),
                    gross_minor: t.4,
                    vat_minor: t.3,
                    net_minor: t.4 - t.3,
                }
            })
            .collect();
        let (sales, refunds) = (total("sales", &code, ""), total("refunds", &code, ""));
        currencies.push(CurrencyReport {
            minor_units,
            float_minor: float,
            sales_minor: sales,
            refunds_minor: -refunds,
            discounts_minor: total("discounts", &code, ""),
            net_minor: sales + refunds,
            vat,
            tenders,
            currency: code,
        });
    }
    let mut cashiers: BTreeMap<String, CashierReport> = BTreeMap::new();
    for t in totals.iter().filter(|t| t.0 == "cashier") {
        let name =
            t.2.split_once('|')
                .map_or(t.2.as_str(), |(_, n)| n)
                .to_owned();
        let minor_units = currencies
            .iter()
            .find(|c| c.currency == t.1)
            .map_or(2, |c| c.minor_units);
        let entry = cashiers
            .entry(t.2.clone())
            .or_insert_with(|| CashierReport {
                name,
                sales_count: 0,
                totals: Vec::new(),
            });
        entry.sales_count += t.5;
        entry.totals.push(CashierTotal {
            currency: t.1.clone(),
            minor_units,
            amount_minor: t.3,
        });
    }
    let count = |bucket: &str| totals.iter().filter(|t| t.0 == bucket).map(|t| t.5).sum();
    let shop_name = conn
        .query_row(
            "SELECT name FROM organisation WHERE singleton = 1",
            [],
            |r| r.get(0),
        )
        .optional()?;
    Ok(SessionReport {
        kind: if closing {
            ReportKind::Z
        } else {
            ReportKind::X
        },
        session_id: session_id.to_owned(),
        shop_name,
        opened_at: super::receipt::local_time(&opened_at),
        opened_by_name,
        closed_at: closed_at.as_deref().map(super::receipt::local_time),
        closed_by_name,
        printed_at: chrono::Local::now().format("%Y-%m-%d %H:%M").to_string(),
        sales_count: count("sales"),
        refunds_count: count("refunds"),
        currencies,
        cashiers: cashiers.into_values().collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sales::SELL;
    use crate::sync::fake_server::{accept_all, setup, Setup};

    fn count(currency: &str, tender: TenderMethod, amount: &str) -> CountInput {
        CountInput {
            currency: currency.into(),
            tender,
            amount: amount.into(),
        }
    }

    fn cash(currency: &str, amount: &str) -> CountInput {
        count(currency, TenderMethod::Cash, amount)
    }

    fn journal_len(s: &Setup) -> i64 {
        let conn = s.till.store().conn().unwrap();
        conn.query_row("SELECT COUNT(*) FROM journal", [], |r| r.get(0))
            .unwrap()
    }

    #[tokio::test]
    async fn a_till_closes_only_with_the_cash_counted_in_every_currency_it_takes() {
        let s = setup(&[TILL_SESSIONS, SELL], accept_all).await;
        s.install_catalog();
        s.till.open_till(&[cash("USD", "50.00")]).unwrap();
        let before = journal_len(&s);

        for counted in [
            vec![],
            vec![cash("USD", "50.00")],
            // A card count is no cash count.
            vec![cash("USD", "50.00"), count("ZWG", TenderMethod::Card, "0")],
        ] {
            let err = s.till.close_till(&counted).await.unwrap_err();
            assert_eq!(err.code(), "cash_not_counted", "{counted:?}");
            assert!(err.to_string().contains("ZWG"), "{err}");
        }
        let err = s.till.close_till(&[]).await.unwrap_err();
        assert_eq!(
            err.to_string(),
            "count the cash in the drawer in USD, ZWG before closing the till"
        );
        // Refused whole: still open, nothing journaled.
        assert!(s.till.pos_state().unwrap().till_session.is_some());
        assert_eq!(journal_len(&s), before);

        // An empty drawer is counted as zero.
        let z = s
            .till
            .close_till(&[cash("USD", "50.00"), cash("ZWG", "0")])
            .await
            .unwrap();
        assert_eq!(z.report.kind, tillpoint_receipt::ReportKind::Z);
        assert!(s.till.pos_state().unwrap().till_session.is_none());
        assert_eq!(journal_len(&s), before + 1);
    }

    #[tokio::test]
    async fn before_the_catalog_arrives_there_is_no_currency_to_count() {
        let s = setup(&[TILL_SESSIONS, SELL], accept_all).await;
        s.till.open_till(&[]).unwrap();
        assert!(s.till.pos_state().unwrap().currencies.is_empty());
        s.till.close_till(&[]).await.unwrap();
    }
}

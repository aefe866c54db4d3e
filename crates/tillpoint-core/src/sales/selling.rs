//! May the person at the till sell now, and how? The core's one answer: every sale and refund
//! passes [`Till::seller`] and [`selling_session`], and [`Till::selling_status`] reports what
//! they would say, so the window shows the decision instead of working it out again.
//!
//! A sale needs someone signed in who may sell (`pos:sales:create`): online, by their access
//! token; otherwise by their grant — still valid on a clock that was not set back, not
//! revoked, for a person still enabled (see [`Till::require`]). It is made *online* only
//! while the token is valid and the server has not been seen to go away; otherwise it is made
//! under the grant, with its limits, and says so. It also needs an open till, and a catalog
//! to sell from (the currencies the till takes come with the first pull).

use chrono::{DateTime, Utc};
use rusqlite::Connection;
use serde::Serialize;

use super::till_session::open_session;
use super::views::TillSessionInfo;
use super::{checkout, SaleError, SELL};
use crate::catalog::CurrencyOption;
use crate::journal::Author;
use crate::sign_in::session::{SessionMode, SignInError};
use crate::till::Till;

/// What the window shows about selling: whether a sale may be made now, how (online or under
/// the grant, and until when), and if not, why not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "contract", derive(specta::Type))]
pub struct SellingStatus {
    /// Whether a sale may be rung up and paid for now.
    pub may_sell: bool,
    /// How a sale made now is made: `online` (the server's word holds) or `offline` (under
    /// the grant, with its limits). `None` when nobody is signed in.
    pub mode: Option<SessionMode>,
    /// When the signed-in person's offline access ends (Unix seconds).
    pub grant_expires_at: Option<i64>,
    /// Its seconds left on the till's clock (which never runs backwards), 0 once expired.
    pub grant_remaining_secs: Option<i64>,
    /// Why not, when `may_sell` is false.
    pub blocked: Option<SellingBlocked>,
}

/// Why nobody may sell now, and what to tell them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "contract", derive(specta::Type))]
pub struct SellingBlocked {
    pub reason: NotSelling,
    /// The message a sale attempted now would fail with.
    pub message: String,
}

/// Why a sale cannot be made now. Named as the error a sale attempted now fails with (its
/// `code`), except [`NotSelling::NoCatalog`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "contract", derive(specta::Type))]
pub enum NotSelling {
    /// Nobody is signed in (the till is locked).
    NotSignedIn,
    /// The person may not sell (`pos:sales:create`), or not offline, or not any more.
    Forbidden,
    /// Offline, and their grant has run out.
    GrantExpired,
    /// Offline, and an administrator revoked their grant.
    GrantRevoked,
    /// Offline, and an administrator revoked this till.
    DeviceRevoked,
    /// Offline, and an administrator disabled the person.
    UserDisabled,
    /// The computer's clock was set back (or the till's record of it edited): locked, online
    /// or offline, until the server is reached with the clock right.
    ClockLocked,
    /// Nobody has opened the till (counted the float).
    TillNotOpen,
    /// The catalog has not arrived: the till takes no currency yet.
    NoCatalog,
}

impl NotSelling {
    /// The reason `err` gives, if it is one of those that stop selling (rather than a
    /// failure of the till itself).
    fn of(err: &SaleError) -> Option<Self> {
        Some(match err {
            SaleError::SignIn(sign_in) => match sign_in {
                SignInError::NotSignedIn => Self::NotSignedIn,
                SignInError::Forbidden(..) => Self::Forbidden,
                SignInError::GrantExpired => Self::GrantExpired,
                SignInError::GrantRevoked => Self::GrantRevoked,
                SignInError::TillRevokedOffline => Self::DeviceRevoked,
                SignInError::UserDisabled => Self::UserDisabled,
                SignInError::ClockLocked => Self::ClockLocked,
                _ => return None,
            },
            SaleError::TillNotOpen => Self::TillNotOpen,
            _ => return None,
        })
    }
}

const NO_CATALOG: &str = "this till has no catalog yet; sync with the server first";

impl Till {
    /// Who sells now and how — online, or under their grant (the author then carries its
    /// `jti`) — or why nobody may. The check every sale, refund and cart change passes.
    pub(crate) fn seller(&self) -> Result<Author, SaleError> {
        self.author(SELL)
    }

    /// Whether a sale may be made now, how, and if not why not (see the module doc). Needs
    /// no permission: it says what the person at the till may do.
    pub fn selling_status(&self) -> Result<SellingStatus, SaleError> {
        let seller = self.seller().map(|_| ());
        let conn = self.sales_conn()?;
        let time = super::till_time(&conn)?;
        let currencies = checkout::till_currencies_now(&conn, &super::timestamp(time))?;
        self.selling_status_with(seller, &conn, time, &currencies)
    }

    /// [`Till::selling_status`], given what [`Till::seller`] said (call it before taking the
    /// store lock), the till's time and the currencies it takes then — which the selling
    /// screen's state has already read.
    pub(crate) fn selling_status_with(
        &self,
        seller: Result<(), SaleError>,
        conn: &Connection,
        time: DateTime<Utc>,
        currencies: &[CurrencyOption],
    ) -> Result<SellingStatus, SaleError> {
        let session = self.active_session().clone();
        let mode = session.as_ref().map(|s| {
            if self.works_online(s, time.timestamp()) {
                SessionMode::Online
            } else {
                SessionMode::Offline
            }
        });
        let grant_expires_at = session.as_ref().map(|s| s.grant().exp);
        let blocked = match seller.and_then(|()| selling_session(conn).map(|_| ())) {
            Err(err) => match NotSelling::of(&err) {
                Some(reason) => Some(SellingBlocked {
                    reason,
                    message: err.to_string(),
                }),
                None => return Err(err),
            },
            Ok(()) => currencies.is_empty().then(|| SellingBlocked {
                reason: NotSelling::NoCatalog,
                message: NO_CATALOG.to_owned(),
            }),
        };
        Ok(SellingStatus {
            may_sell: blocked.is_none(),
            mode,
            grant_expires_at,
            grant_remaining_secs: grant_expires_at.map(|exp| (exp - time.timestamp()).max(0)),
            blocked,
        })
    }
}

/// The till session a sale goes in, read inside the sale's transaction: none open, no sale.
pub(crate) fn selling_session(conn: &Connection) -> Result<TillSessionInfo, SaleError> {
    open_session(conn)?.ok_or(SaleError::TillNotOpen)
}

/// The error a sale made before the catalog arrived fails with.
pub(crate) fn no_catalog() -> SaleError {
    SaleError::InvalidInput(NO_CATALOG.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sales::till_session::CountInput;
    use crate::sales::{CheckoutInput, TILL_SESSIONS};
    use crate::sync::fake_server::{accept_all, setup, Setup};

    /// A till signed in online as someone who may sell and open the till, with a catalog.
    async fn shop() -> Setup {
        let s = setup(&[SELL, TILL_SESSIONS], accept_all).await;
        s.install_catalog();
        s
    }

    fn open_till(s: &Setup) {
        s.till
            .open_till(&[CountInput {
                currency: "USD".into(),
                tender: tillpoint_protocol::sales::TenderMethod::Cash,
                amount: "50.00".into(),
            }])
            .unwrap();
    }

    fn status(s: &Setup) -> SellingStatus {
        s.till.selling_status().unwrap()
    }

    fn reason(s: &Setup) -> Option<NotSelling> {
        status(s).blocked.map(|b| b.reason)
    }

    /// What a checkout of the (empty) cart attempted now fails with.
    async fn empty_checkout(s: &Setup) -> SaleError {
        s.till
            .checkout(&CheckoutInput {
                payments: Vec::new(),
                change_currency: "USD".into(),
            })
            .await
            .unwrap_err()
    }

    /// Checks that the status gives `expected`, and that a checkout attempted now fails
    /// with the error the reason is named after, with the status's message.
    async fn blocked_as_checkout_is(s: &Setup, expected: NotSelling) {
        let status = status(s);
        assert!(!status.may_sell);
        let blocked = status.blocked.expect("blocked");
        assert_eq!(blocked.reason, expected);
        let err = empty_checkout(s).await;
        assert_eq!(
            serde_json::to_value(expected).unwrap(),
            serde_json::json!(err.code())
        );
        assert_eq!(blocked.message, err.to_string());
    }

    #[tokio::test]
    async fn online_with_an_open_till_and_a_catalog_a_person_may_sell() {
        let s = shop().await;
        open_till(&s);
        let status = status(&s);
        assert_eq!(
            (status.may_sell, status.mode, status.blocked.clone()),
            (true, Some(SessionMode::Online), None)
        );
        let left = status.grant_remaining_secs.unwrap();
        assert!((3590..=3600).contains(&left), "{left}");
        let until = status.grant_expires_at.unwrap() - Utc::now().timestamp();
        assert!((3590..=3600).contains(&until), "{until}");
        // The selling screen carries the same answer.
        assert_eq!(s.till.pos_state().unwrap().selling, status);
        // Past every selling check, an empty cart is all that stops this checkout.
        let err = empty_checkout(&s).await;
        assert_eq!(err.code(), "cart_empty");
        let json = serde_json::to_value(&status).unwrap();
        assert_eq!(json["maySell"], true);
        assert_eq!(json["mode"], "online");
    }

    #[tokio::test]
    async fn the_status_says_why_not_as_checkout_would() {
        let s = shop().await;
        blocked_as_checkout_is(&s, NotSelling::TillNotOpen).await;
        open_till(&s);
        assert_eq!(reason(&s), None);

        s.till.lock();
        blocked_as_checkout_is(&s, NotSelling::NotSignedIn).await;
        let nobody = status(&s);
        assert_eq!(
            (
                nobody.mode,
                nobody.grant_expires_at,
                nobody.grant_remaining_secs
            ),
            (None, None, None)
        );

        // A Stock Manager sells nothing.
        let s = setup(&["stock:*:*"], accept_all).await;
        blocked_as_checkout_is(&s, NotSelling::Forbidden).await;
        assert_eq!(status(&s).mode, Some(SessionMode::Online));
    }

    #[tokio::test]
    async fn before_the_catalog_arrives_nothing_can_be_sold() {
        let s = setup(&[SELL, TILL_SESSIONS], accept_all).await;
        s.till.open_till(&[]).unwrap();
        let blocked = status(&s).blocked.unwrap();
        assert_eq!(blocked.reason, NotSelling::NoCatalog);
        assert_eq!(blocked.message, no_catalog().to_string());
        assert_eq!(
            serde_json::to_value(blocked.reason).unwrap(),
            serde_json::json!("no_catalog")
        );
        assert!(s.till.pos_state().unwrap().currencies.is_empty());
    }

    #[tokio::test]
    async fn with_the_server_gone_a_sale_is_made_under_the_grant() {
        let s = shop().await;
        open_till(&s);
        // Signed in online, but the server stops answering (the fake has no health check).
        s.till.connection().check().await;
        let status = status(&s);
        assert_eq!(
            (status.may_sell, status.mode),
            (true, Some(SessionMode::Offline))
        );
        assert_eq!(
            s.till.seller().unwrap().grant_jti.as_deref(),
            Some("test-grant")
        );
    }

    /// Issue 17, Low: with a valid token but the server seen gone, the grant governs — and
    /// the grant a sale would carry is the one checked: its limits, its revocation and its
    /// end, whatever the token says.
    #[tokio::test]
    async fn with_the_server_gone_the_grant_a_sale_carries_is_checked() {
        let s = shop().await;
        open_till(&s);
        s.till.connection().check().await;
        // The test grant sets no limits: offline, nothing may be sold in USD.
        let usd = tillpoint_protocol::CurrencyCode::parse("USD").unwrap();
        let err = s.till.check_offline_sale(usd, 100, 0).unwrap_err();
        assert!(
            matches!(
                err,
                SignInError::Limit(crate::sign_in::limits::LimitError::CurrencyNotAllowed(_))
            ),
            "{err:?}"
        );
        s.till.end_grant_for_tests(Utc::now().timestamp() - 10);
        let err = s.till.seller().unwrap_err();
        assert_eq!(err.code(), "grant_expired", "{err}");
        s.till.end_grant_for_tests(Utc::now().timestamp() + 3600);
        s.till
            .store()
            .with_conn(|c| {
                c.execute(
                    "INSERT INTO revoked_grants (jti, user_id, revoked_at) VALUES ('test-grant', 'u', 'now')",
                    [],
                )
            })
            .unwrap()
            .unwrap();
        let err = s.till.seller().unwrap_err();
        assert_eq!(err.code(), "grant_revoked", "{err}");
    }

    #[tokio::test]
    async fn offline_a_person_sells_until_their_grant_ends() {
        let s = shop().await;
        open_till(&s);
        let now = Utc::now().timestamp();
        s.till.work_offline_for_tests(now + 100);
        let status = status(&s);
        assert_eq!(
            (status.may_sell, status.mode, status.grant_expires_at),
            (true, Some(SessionMode::Offline), Some(now + 100))
        );
        assert!((95..=100).contains(&status.grant_remaining_secs.unwrap()));

        s.till.work_offline_for_tests(now - 1);
        blocked_as_checkout_is(&s, NotSelling::GrantExpired).await;
        assert_eq!(self::status(&s).grant_remaining_secs, Some(0));
    }

    #[tokio::test]
    async fn offline_what_the_last_pull_said_and_the_clock_stop_selling() {
        let s = shop().await;
        open_till(&s);
        s.till.work_offline_for_tests(Utc::now().timestamp() + 3600);
        let run = |sql: &str| {
            s.till.store().conn().unwrap().execute_batch(sql).unwrap();
        };
        run(
            "INSERT INTO revoked_grants (jti, user_id, revoked_at) VALUES ('test-grant', 'u', 't')",
        );
        blocked_as_checkout_is(&s, NotSelling::GrantRevoked).await;
        run("DELETE FROM revoked_grants");

        let device = s.till.device_id().unwrap().unwrap();
        run(&format!(
            "INSERT INTO revoked_devices (device_id, revoked_at) VALUES ('{device}', 't')"
        ));
        blocked_as_checkout_is(&s, NotSelling::DeviceRevoked).await;
        run("DELETE FROM revoked_devices");
        assert_eq!(reason(&s), None);

        // The clock set back a day: the till has seen a later time than the system's.
        run(&format!(
            "UPDATE till_clock SET highest_seen = {}",
            Utc::now().timestamp() + 86_400
        ));
        blocked_as_checkout_is(&s, NotSelling::ClockLocked).await;
    }
}

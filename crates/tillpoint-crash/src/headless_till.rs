//! What the headless till does between its start and the kill: the real `tillpoint-core`
//! `Till` (the desktop's whole core, without a window), signing in, opening the drawer,
//! pulling the catalog, selling, refunding and pushing in a seeded random order.
//!
//! It tells the driver on stdout, one flushed line per step, what it is about to do
//! (`begin <op>`) and what has committed (`done sale <id>`, `done refund <id>`, …): a line is
//! printed only after the call returned, so every `done` line is a promise the store must
//! keep across the kill. A business refusal (the offline limit, nothing to refund) is
//! `refused <op> <code>`; anything that says the till itself is broken ends the process with
//! status 2, which the driver counts as a failure, not a kill.

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tillpoint_core::sales::till_session::CountInput;
use tillpoint_core::sales::{CheckoutInput, PaymentRequest};
use tillpoint_core::sales::{RefundInput, RefundLineInput};
use tillpoint_core::{ErrorCode, Till};
use tillpoint_protocol::sales::TenderMethod;

/// Who the till is and where its server is.
pub struct TillArgs {
    pub data_dir: PathBuf,
    pub server_url: String,
    pub username: String,
    pub password: String,
}

/// Error codes that mean the till cannot do its job, not that a request was refused.
const BROKEN: &[ErrorCode] = &[
    ErrorCode::StoreUnavailable,
    ErrorCode::DataDirUnusable,
    ErrorCode::IdentityUnavailable,
    ErrorCode::DeviceKeyUnavailable,
    ErrorCode::KeyringFailed,
    ErrorCode::KeyringUnavailable,
    ErrorCode::ServerError,
    ErrorCode::PushRefused,
    ErrorCode::SyncCursorRefused,
];

/// Opens the till in `args.data_dir`, with secrets beside the store.
pub fn open_till(args: &TillArgs) -> anyhow::Result<Till> {
    tillpoint_headless::open_till(&args.data_dir, &args.server_url)
}

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    // The driver reads these after the kill: a line half-written when the kill came is
    // ignored there, so a failed write here only loses a promise, never makes a false one.
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// The outcome of one operation: done, refused for a business reason, or the till is broken.
fn judge<T>(op: &str, result: Result<T, (ErrorCode, String)>) -> anyhow::Result<Option<T>> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err((code, message)) if BROKEN.contains(&code) => {
            bail!("{op} failed: {code:?}: {message}")
        }
        Err((code, _)) => {
            say(&format!("refused {op} {}", code.as_str()));
            Ok(None)
        }
    }
}

macro_rules! attempt {
    ($op:expr, $call:expr) => {
        judge($op, $call.map_err(|e| (e.code(), e.to_string())))
    };
}

/// Signs in (online; or, if `may_go_offline`, offline under the grant a third of the time
/// once there is one), pulls the catalog if the till has none (or now and then; always if
/// online is required) and opens the drawer if no till session is open.
async fn get_ready(
    till: &Till,
    args: &TillArgs,
    rng: &mut ChaCha8Rng,
    may_go_offline: bool,
) -> anyhow::Result<()> {
    say("begin sign-in");
    let offline = may_go_offline
        && rng.random_bool(0.3)
        && till
            .unlock_offline(&args.username, &args.password)
            .await
            .is_ok();
    if offline {
        say("done sign-in offline");
    } else {
        till.sign_in(&args.username, &args.password)
            .await
            .context("online sign-in")?;
        say("done sign-in online");
    }
    // Currencies and rates come with the catalog: a till that never finished a pull cannot
    // count its float yet.
    if !may_go_offline || till.local_product_count()? == 0 || rng.random_bool(0.2) {
        pull(till).await?;
    }
    if till.pos_state()?.till_session.is_none() {
        say("begin open-till");
        let float = [CountInput {
            currency: "USD".into(),
            tender: TenderMethod::Cash,
            amount: "100.00".into(),
        }];
        if attempt!("open-till", till.open_till(&float))?.is_some() {
            say("done open-till");
        }
    }
    Ok(())
}

async fn pull(till: &Till) -> anyhow::Result<()> {
    say("begin pull");
    if let Some(summary) = attempt!("pull", till.pull_catalog(|_| {}).await)? {
        say(&format!("done pull {}", summary.products));
    }
    Ok(())
}

async fn push(till: &Till) -> anyhow::Result<()> {
    say("begin push");
    if let Some(s) = attempt!("push", till.push_outbox(|_| {}).await)? {
        say(&format!(
            "done push {} {} {} {}",
            s.accepted, s.duplicate, s.quarantined, s.rejected
        ));
    }
    Ok(())
}

/// Up to three random USD products of the catalog into the cart (which may still hold what
/// a killed life rang up: the cart is saved on every change), then paid in cash.
async fn checkout(till: &Till, rng: &mut ChaCha8Rng) -> anyhow::Result<()> {
    let products: Vec<String> = till.store().with_conn(|conn| {
        let mut stmt = conn.prepare_cached(
            "SELECT id FROM products WHERE active = 1 AND currency = 'USD' AND unit = 'each'
             ORDER BY id",
        )?;
        let ids = stmt.query_map((), |r| r.get(0))?;
        ids.collect::<rusqlite::Result<Vec<String>>>()
    })??;
    if products.is_empty() {
        return pull(till).await;
    }
    say("begin checkout");
    for _ in 0..rng.random_range(1..=3) {
        let product = &products[rng.random_range(0..products.len())];
        let quantity = rng.random_range(1..=4).to_string();
        if attempt!("checkout", till.cart_add(product, Some(&quantity)))?.is_none() {
            return Ok(());
        }
    }
    let cart = till.pos_state()?.cart;
    let amount = format!("{}.{:02}", cart.total_minor / 100, cart.total_minor % 100);
    let input = CheckoutInput {
        payments: vec![PaymentRequest {
            method: TenderMethod::Cash,
            currency: "USD".into(),
            amount,
            reference: None,
        }],
        change_currency: "USD".into(),
    };
    match attempt!("checkout", till.checkout(&input).await)? {
        Some(done) => say(&format!("done sale {}", done.sale_id)),
        // A cart the till will not sell (the offline limit) is voided, as a cashier would.
        None => {
            let _ = till.cart_void();
        }
    }
    Ok(())
}

/// A whole line of one of the last sales handed back, restocked, cash out of the drawer.
async fn refund(till: &Till, rng: &mut ChaCha8Rng) -> anyhow::Result<()> {
    let sales: Vec<_> = till
        .recent_sales(20)?
        .into_iter()
        .filter(|s| s.kind == "sale" && s.refundable)
        .collect();
    if sales.is_empty() {
        return Ok(());
    }
    let sale = &sales[rng.random_range(0..sales.len())];
    let detail = till.sale_detail(&sale.sale_id)?;
    let Some(line) = detail.lines.iter().find(|l| {
        !l.refundable_quantity
            .trim_start_matches(['0', '.'])
            .is_empty()
    }) else {
        return Ok(());
    };
    say("begin refund");
    let input = RefundInput {
        sale_id: sale.sale_id.clone(),
        lines: vec![RefundLineInput {
            line_no: line.line_no,
            quantity: line.refundable_quantity.clone(),
            restock: true,
        }],
        reason: "crash run: customer returned it".into(),
        approver: None,
        tender: TenderMethod::Cash,
    };
    if let Some(done) = attempt!("refund", till.refund(&input).await)? {
        say(&format!("done refund {}", done.sale_id));
    }
    Ok(())
}

/// Sells, refunds, pushes and pulls in a seeded random order until killed (or, with
/// `ops`, that many operations, then returns).
pub async fn work(args: &TillArgs, seed: u64, ops: Option<u32>) -> anyhow::Result<()> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    say("begin open-store");
    let till = open_till(args)?;
    say("done open-store");
    get_ready(&till, args, &mut rng, true).await?;
    let mut done = 0;
    while ops.is_none_or(|ops| done < ops) {
        match rng.random_range(0..100) {
            0..55 => checkout(&till, &mut rng).await?,
            55..70 => refund(&till, &mut rng).await?,
            70..90 => push(&till).await?,
            _ => pull(&till).await?,
        }
        done += 1;
    }
    Ok(())
}

/// Sells `count` sales and pushes none of them: the backlog a server run's push carries.
pub async fn sell(args: &TillArgs, seed: u64, count: u32) -> anyhow::Result<()> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let till = open_till(args)?;
    // Online, with the catalog whole: a backlog that cannot be sold proves nothing.
    get_ready(&till, args, &mut rng, false).await?;
    for _ in 0..count {
        checkout(&till, &mut rng).await?;
    }
    Ok(())
}

/// Signs in online and pushes until nothing is pending, waiting out a server that is down
/// (the driver may be killing and restarting it) for at most `patience`.
pub async fn settle(args: &TillArgs, patience: Duration) -> anyhow::Result<()> {
    let till = open_till(args)?;
    let deadline = Instant::now() + patience;
    let mut signed_in = false;
    loop {
        if !signed_in {
            signed_in = till.sign_in(&args.username, &args.password).await.is_ok();
        }
        if signed_in {
            say("begin push");
            match till.push_outbox(|_| {}).await {
                Ok(s) => {
                    say(&format!(
                        "done push {} {} {} {}",
                        s.accepted, s.duplicate, s.quarantined, s.rejected
                    ));
                    if till.unsynced_count()? == 0 {
                        return Ok(());
                    }
                }
                Err(err) if err.code() == ErrorCode::ServerUnreachable => {
                    say("refused push server_unreachable")
                }
                Err(err) if err.code() == ErrorCode::SessionExpired => signed_in = false,
                Err(err) => bail!("push failed: {:?}: {err}", err.code()),
            }
        }
        if Instant::now() > deadline {
            bail!(
                "{} records still pending after {patience:?}",
                till.unsynced_count()?
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Opens the store, which migrates it to this build's schema.
pub fn migrate(args: &TillArgs) -> anyhow::Result<()> {
    say("begin migrate");
    tillpoint_core::LocalStore::open(&args.data_dir)?;
    say("done migrate");
    Ok(())
}

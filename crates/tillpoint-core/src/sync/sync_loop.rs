//! The till's one background sync loop, and its policy: when a round runs and what a failure
//! does. The desktop shell spawns [`Till::run_sync_loop`] and turns its [`SyncReports`] into
//! events for the window; everything it decides is here, where headless tests reach it.
//!
//! - A round runs every [`ROUND_EVERY`] while someone is signed in online, and at once when
//!   poked through [`SyncNow`] (after a sale, a refund, a till opened or closed, an online
//!   sign-in, or "Sync now"). A round is push, then pull.
//! - Offline or locked, nothing is sent, but the sync status is still reported at each tick:
//!   a sale just made shows up as waiting.
//! - A failed round is logged, shown in the status, and retried at the next one; it never
//!   blocks selling. An access token the server no longer takes (`session_expired`) is
//!   refreshed once, the window is told the session changed, and the round stops there: it is
//!   retried at the next tick with whatever session the refresh left. Any other push failure
//!   still lets the catalog come down.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use super::{PullProgress, PullSummary, SyncError, SyncStatus};
use crate::sign_in::session::{SessionMode, SessionStatus};
use crate::till::Till;

/// How often a round runs when nothing pokes the loop.
pub const ROUND_EVERY: Duration = Duration::from_secs(15);

/// Wakes the sync loop early: a poke while a round runs starts the next one when it ends.
#[derive(Clone, Default)]
pub struct SyncNow(Arc<Notify>);

impl SyncNow {
    pub fn poke(&self) {
        self.0.notify_one();
    }
}

/// What the loop tells the shell, which passes it on to the window.
pub trait SyncReports: Send {
    /// What is waiting and what went wrong: after every round, every pushed batch, and every
    /// tick while nothing is pushed.
    fn status(&mut self, status: SyncStatus);
    /// A page of the catalog stored.
    fn catalog_progress(&mut self, progress: PullProgress);
    /// A pull finished.
    fn catalog_synced(&mut self, summary: PullSummary);
    /// The sign-in changed because sync refreshed it: refreshed, offline, or ended (`None`).
    fn session_changed(&mut self, session: Option<SessionStatus>);
}

impl Till {
    /// Runs the sync loop forever (until its task is dropped): a round every `every` (the
    /// shell gives [`ROUND_EVERY`]) or when `wake` is poked, as the module doc says.
    pub async fn run_sync_loop(
        &self,
        wake: &SyncNow,
        every: Duration,
        reports: &mut impl SyncReports,
    ) {
        loop {
            let _ = tokio::time::timeout(every, wake.0.notified()).await;
            let online = self
                .session_status()
                .is_some_and(|s| s.mode == SessionMode::Online);
            if online {
                self.sync_round(reports).await;
            }
            // Offline too: a sale just made shows up as waiting.
            self.report_sync_status(reports);
        }
    }

    /// One round: push, then pull, reporting as it goes.
    pub async fn sync_round(&self, reports: &mut impl SyncReports) {
        let pushed = self.push_outbox(|_| self.report_sync_status(reports)).await;
        if let Err(err) = pushed {
            if self.refresh_expired(&err, reports).await {
                return;
            }
            // Other push failures do not stop the catalog from coming down.
        }
        let pulled = self
            .pull_catalog(|progress| reports.catalog_progress(progress))
            .await;
        match pulled {
            Ok(summary) => reports.catalog_synced(summary),
            Err(err) => {
                self.refresh_expired(&err, reports).await;
                tracing::warn!(error = %err, "catalog pull failed; retrying later");
            }
        }
    }

    /// For an expired session: refreshes it once, reports the session, and says the round
    /// should stop here.
    async fn refresh_expired(&self, err: &SyncError, reports: &mut impl SyncReports) -> bool {
        if !matches!(err, SyncError::SessionExpired) {
            return false;
        }
        match self.refresh_session().await {
            Ok(outcome) => {
                tracing::info!(?outcome, "sync refreshed the session; retrying next round")
            }
            Err(err) => tracing::warn!(error = %err, "sync could not refresh the session"),
        }
        reports.session_changed(self.session_status());
        true
    }

    fn report_sync_status(&self, reports: &mut impl SyncReports) {
        match self.sync_status() {
            Ok(status) => reports.status(status),
            Err(err) => tracing::warn!(error = %err, "could not read the sync status"),
        }
    }
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;
    use chrono::Utc;
    use tokio::sync::mpsc;
    use tokio::time::Instant;

    use super::*;
    use crate::sync::fake_server::{accept_all, setup, Setup};

    /// What the loop reported, as the shell would have passed it on.
    #[derive(Debug)]
    enum Report {
        Status(SyncStatus),
        Progress(PullProgress),
        Synced(PullSummary),
        Session(Option<SessionStatus>),
    }

    /// Reports into a channel, each with the (possibly paused) time it was made.
    struct Channel(mpsc::UnboundedSender<(Instant, Report)>);

    impl Channel {
        fn send(&self, report: Report) {
            let _ = self.0.send((Instant::now(), report));
        }
    }

    impl SyncReports for Channel {
        fn status(&mut self, status: SyncStatus) {
            self.send(Report::Status(status));
        }
        fn catalog_progress(&mut self, progress: PullProgress) {
            self.send(Report::Progress(progress));
        }
        fn catalog_synced(&mut self, summary: PullSummary) {
            self.send(Report::Synced(summary));
        }
        fn session_changed(&mut self, session: Option<SessionStatus>) {
            self.send(Report::Session(session));
        }
    }

    /// Long enough that only a poke starts a round in a test.
    const NEVER: Duration = Duration::from_secs(3600);

    /// Starts `s`'s sync loop in a task of its own, as the shell does.
    fn start(s: &Setup, every: Duration) -> (SyncNow, Reports) {
        let (sender, receiver) = mpsc::unbounded_channel();
        let wake = SyncNow::default();
        let (till, loop_wake) = (s.till.clone(), wake.clone());
        tokio::spawn(async move {
            till.run_sync_loop(&loop_wake, every, &mut Channel(sender))
                .await;
        });
        (wake, receiver)
    }

    type Reports = mpsc::UnboundedReceiver<(Instant, Report)>;

    /// The next report, and when it was made; fails the test when none comes `within`.
    async fn next(receiver: &mut Reports, within: Duration) -> (Instant, Report) {
        tokio::time::timeout(within, receiver.recv())
            .await
            .expect("the loop reports in time")
            .expect("the loop is running")
    }

    /// The reports up to and including the end of the round (the status after it).
    async fn round(receiver: &mut Reports) -> Vec<Report> {
        let mut reports = Vec::new();
        loop {
            let (_, report) = next(receiver, Duration::from_secs(20)).await;
            let status_after_round = matches!(report, Report::Status(_))
                && reports
                    .last()
                    .is_some_and(|r| matches!(r, Report::Synced(_) | Report::Session(_)));
            reports.push(report);
            if status_after_round {
                return reports;
            }
        }
    }

    fn last_status(reports: &[Report]) -> &SyncStatus {
        match reports.last() {
            Some(Report::Status(status)) => status,
            other => panic!("a round ends with the status: {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_poke_runs_a_round_at_once_push_then_pull() {
        let s = setup(&[], accept_all).await;
        s.record(2);
        let (wake, mut receiver) = start(&s, NEVER);
        wake.poke();
        let reports = round(&mut receiver).await;
        assert_eq!((s.fake.pushes(), s.fake.pulls()), (1, 1));
        // The pushed batch, the catalog's page, the pull's end, the status after the round.
        assert!(
            matches!(
                reports.as_slice(),
                [
                    Report::Status(SyncStatus { pending: 0, .. }),
                    Report::Progress(PullProgress { pages: 1, .. }),
                    Report::Synced(PullSummary { pages: 1, .. }),
                    Report::Status(_),
                ]
            ),
            "{reports:?}"
        );
        assert!(last_status(&reports).last_success_at.is_some());
        assert!(s.state_names().iter().all(|state| state == "synced"));
    }

    #[tokio::test]
    async fn without_a_poke_a_round_runs_at_every_tick() {
        let s = setup(&[], accept_all).await;
        let (_wake, mut receiver) = start(&s, Duration::from_millis(50));
        round(&mut receiver).await;
        round(&mut receiver).await;
        assert!(s.fake.pulls() >= 2, "{}", s.fake.pulls());
    }

    #[tokio::test(start_paused = true)]
    async fn every_15_s_offline_or_locked_the_status_is_reported_and_nothing_is_sent() {
        let s = setup(&[], accept_all).await;
        s.record(1);
        s.till.work_offline_for_tests(Utc::now().timestamp() + 3600);
        let started = Instant::now();
        let (_wake, mut receiver) = start(&s, ROUND_EVERY);
        for tick in 1..=4 {
            if tick == 3 {
                s.till.lock();
            }
            let (at, report) = next(&mut receiver, ROUND_EVERY * 2).await;
            assert_eq!(at - started, ROUND_EVERY * tick, "tick {tick}");
            assert!(
                matches!(report, Report::Status(SyncStatus { pending: 1, .. })),
                "{report:?}"
            );
        }
        assert_eq!(ROUND_EVERY, Duration::from_secs(15));
        assert_eq!((s.fake.pushes(), s.fake.pulls()), (0, 0));
    }

    #[tokio::test]
    async fn an_expired_session_is_refreshed_once_and_the_round_stops() {
        let s = setup(&[], accept_all).await;
        s.record(1);
        *s.fake.status.lock().unwrap() = StatusCode::UNAUTHORIZED;
        *s.fake.refresh_status.lock().unwrap() = StatusCode::INTERNAL_SERVER_ERROR;
        let (wake, mut receiver) = start(&s, NEVER);
        wake.poke();
        let reports = round(&mut receiver).await;
        // The refresh failed and the session stays as it was: the window hears it, and the
        // catalog waits for the next round.
        match reports.as_slice() {
            [Report::Session(Some(session)), Report::Status(_)] => {
                assert_eq!(session.mode, SessionMode::Online)
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            (s.fake.pushes(), s.fake.refreshes(), s.fake.pulls()),
            (1, 1, 0)
        );
        assert_eq!(
            last_status(&reports).last_error.as_ref().unwrap().code,
            "session_expired"
        );

        // The server refuses the refresh: the window hears the person was signed out.
        *s.fake.refresh_status.lock().unwrap() = StatusCode::UNAUTHORIZED;
        wake.poke();
        let reports = round(&mut receiver).await;
        assert!(
            matches!(
                reports.as_slice(),
                [Report::Session(None), Report::Status(_)]
            ),
            "{reports:?}"
        );
        assert_eq!(
            (s.fake.pushes(), s.fake.refreshes(), s.fake.pulls()),
            (2, 2, 0)
        );
        assert!(s.till.session_status().is_none());
        assert_eq!(s.state_names(), ["pending"]);

        // Nobody is signed in now: a poke reports the status and sends nothing.
        wake.poke();
        let (_, report) = next(&mut receiver, Duration::from_secs(20)).await;
        assert!(matches!(
            report,
            Report::Status(SyncStatus { pending: 1, .. })
        ));
        assert_eq!((s.fake.pushes(), s.fake.refreshes()), (2, 2));
    }

    #[tokio::test]
    async fn a_push_failure_still_pulls_the_catalog() {
        let s = setup(&[], accept_all).await;
        s.record(1);
        *s.fake.status.lock().unwrap() = StatusCode::INTERNAL_SERVER_ERROR;
        let (wake, mut receiver) = start(&s, NEVER);
        wake.poke();
        let reports = round(&mut receiver).await;
        assert!(
            matches!(
                reports.as_slice(),
                [Report::Progress(_), Report::Synced(_), Report::Status(_)]
            ),
            "{reports:?}"
        );
        assert_eq!(
            (s.fake.pushes(), s.fake.refreshes(), s.fake.pulls()),
            (1, 0, 1)
        );
        let status = last_status(&reports);
        assert_eq!(status.pending, 1);
        assert_eq!(status.last_error.as_ref().unwrap().code, "server_error");
    }
}

//! Keeping a sign-in alive in the background: refresh the access token when 80 % of its life
//! has passed; when the network is gone, carry on offline under the grant and try again with
//! backoff; when the server is back, go online again; when the server refuses, sign out.
//! The desktop shell runs [`Till::keep_session`] as a task and shows every change.

use std::time::Duration;

use super::session::{RefreshOutcome, SessionMode, SessionStatus, SignInError};
use crate::connection::ConnectionState;
use crate::till::Till;

/// How often the keeper looks at the session when nothing has failed.
pub const CHECK_EVERY: Duration = Duration::from_secs(5);
pub const MAX_RETRY_DELAY: Duration = Duration::from_secs(60);

/// The wait before the next look, after `failures` refreshes in a row failed.
pub fn next_wait(failures: u32) -> Duration {
    if failures == 0 {
        return CHECK_EVERY;
    }
    Duration::from_secs(1 << failures.min(6)).min(MAX_RETRY_DELAY)
}

impl Till {
    /// Runs forever (until its task is dropped), calling `on_change` with the new status
    /// whenever the session changes: refreshed, gone offline, back online, or signed out
    /// (`None`).
    pub async fn keep_session(&self, mut on_change: impl FnMut(Option<SessionStatus>) + Send) {
        let mut failures = 0u32;
        loop {
            tokio::time::sleep(next_wait(failures)).await;
            let Some(status) = self.session_status() else {
                failures = 0;
                continue;
            };
            let Ok(clock) = self.till_clock() else {
                failures = failures.saturating_add(1);
                continue;
            };
            let due = match status.mode {
                // A clock set back locks work until the server is reached: try at once.
                SessionMode::Online => {
                    clock.locked || self.refresh_due_at().is_some_and(|at| at <= clock.now)
                }
                // Offline: try to go back online as soon as the server answers again.
                SessionMode::Offline => self.connection().status().state == ConnectionState::Online,
            };
            if !due {
                continue;
            }
            match self.refresh_session().await {
                Ok(RefreshOutcome::Refreshed) => {
                    failures = 0;
                    on_change(self.session_status());
                }
                Ok(RefreshOutcome::WentOffline) => {
                    failures = failures.saturating_add(1);
                    if status.mode == SessionMode::Online {
                        on_change(self.session_status());
                    }
                }
                Err(SignInError::SignedOut(reason)) => {
                    tracing::info!(reason, "the server ended the sign-in");
                    failures = 0;
                    on_change(None);
                }
                Err(err) => {
                    failures = failures.saturating_add(1);
                    tracing::warn!(error = %err, "could not refresh the sign-in; will retry");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_to_a_minute() {
        assert_eq!(next_wait(0), CHECK_EVERY);
        assert_eq!(next_wait(1), Duration::from_secs(2));
        assert_eq!(next_wait(3), Duration::from_secs(8));
        assert_eq!(next_wait(6), MAX_RETRY_DELAY);
        assert_eq!(next_wait(60), MAX_RETRY_DELAY);
    }
}

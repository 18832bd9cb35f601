//! Chores that run every so often until shutdown (the sweep of abandoned uploads, the flush of
//! activity-mail digests), each run under its own correlation id and logged the same way.

use std::future::Future;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::error::Result;

/// A chore's pace and its log lines.
#[derive(Debug, Clone, Copy)]
pub struct Periodic {
    /// How long to wait before each run; the first run comes one interval after the start.
    pub interval: Duration,
    /// Logged (at info, with the count as `n`) after a run that handled something.
    pub done: &'static str,
    /// Logged (as a warning, with the cause chain) after a run that failed.
    pub failed: &'static str,
}

impl Periodic {
    /// Runs `chore` every interval until `shutdown`. A run returns how many things it handled;
    /// a failed run is logged and the next one comes an interval later, as after a success.
    pub async fn run<F, Fut>(self, shutdown: CancellationToken, mut chore: F)
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<u64>>,
    {
        loop {
            tokio::select! {
                () = tokio::time::sleep(self.interval) => {}
                () = shutdown.cancelled() => return,
            }
            let correlation_id = common::correlation::new_id();
            match common::correlation::scope(correlation_id, chore()).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(n, "{}", self.done),
                Err(error) => tracing::warn!(error = %error.report(), "{}", self.failed),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;

    use super::*;
    use crate::error::Error;

    const CHORE: Periodic = Periodic {
        interval: Duration::from_millis(5),
        done: "things done",
        failed: "failed to do things",
    };

    #[tokio::test]
    async fn a_chore_runs_again_after_a_failure_until_shutdown() {
        let shutdown = CancellationToken::new();
        let runs = Arc::new(AtomicU32::new(0));
        let (counted, stop) = (runs.clone(), shutdown.clone());
        let running = tokio::spawn(CHORE.run(shutdown.clone(), move || {
            let run = counted.fetch_add(1, Ordering::SeqCst) + 1;
            if run == 3 {
                stop.cancel();
            }
            async move {
                if run == 1 {
                    Err(Error::Conflict("not yet".into()))
                } else {
                    Ok(u64::from(run))
                }
            }
        }));
        tokio::time::timeout(Duration::from_secs(5), running)
            .await
            .expect("the chore stops at shutdown")
            .expect("the chore does not panic");
        assert_eq!(runs.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn a_cancelled_chore_stops_without_running() {
        let shutdown = CancellationToken::new();
        shutdown.cancel();
        let mut runs = 0;
        let slow = Periodic {
            interval: Duration::from_secs(3600),
            ..CHORE
        };
        tokio::time::timeout(
            Duration::from_secs(5),
            slow.run(shutdown, || {
                runs += 1;
                std::future::ready(Ok(0))
            }),
        )
        .await
        .expect("the chore stops at once");
        assert_eq!(runs, 0);
    }
}

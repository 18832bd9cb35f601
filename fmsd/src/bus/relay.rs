//! The outbox relay: publishes what a service committed to its outbox, oldest first.
//!
//! An event is removed from the outbox only after the bus acknowledged it, so a crash in
//! between publishes it again on the next start; consumers are idempotent, so that is harmless.
//!
//! While the bus is away the relay retries every [`RETRY_DELAY`]; it logs a warning when the
//! first publish fails, again every [`REMIND_EVERY`] while none succeeds, and a line when the
//! bus takes events again, so an operator sees both the outage and its end.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::ports::{Outbox, Publisher};
use crate::retry::Backoff;

/// How long the relay sleeps when nothing wakes it; bounds the latency of a missed wake-up.
const IDLE_POLL: Duration = Duration::from_millis(500);
/// How long it waits after a failed publish before trying again.
const RETRY_DELAY: Duration = Duration::from_secs(1);
/// How often a failing relay says again that it is still failing.
const REMIND_EVERY: Duration = Duration::from_secs(30);

/// Relays `outbox` to `publisher` until `shutdown`; `wake` is notified after each commit that
/// wrote events, so they leave at once instead of at the next poll.
pub async fn run(
    name: &'static str,
    outbox: Arc<dyn Outbox>,
    publisher: Arc<dyn Publisher>,
    wake: Arc<Notify>,
    shutdown: CancellationToken,
) {
    let mut backoff = Backoff::constant(RETRY_DELAY);
    let mut outage = Outage::default();
    loop {
        match relay_batch(outbox.as_ref(), publisher.as_ref()).await {
            Ok(n_published) => {
                outage.ended(name, n_published);
                if n_published == 0 {
                    tokio::select! {
                        () = wake.notified() => {}
                        () = tokio::time::sleep(IDLE_POLL) => {}
                        () = shutdown.cancelled() => break,
                    }
                }
            }
            Err(error) => {
                outage.failed(name, &error);
                if !backoff.wait(&shutdown).await {
                    break;
                }
            }
        }
    }
    // One last pass so events committed by the final requests leave before exit.
    if let Err(error) = relay_batch(outbox.as_ref(), publisher.as_ref()).await {
        tracing::warn!(relay = name, error = %format!("{error:#}"), "outbox left unpublished at shutdown");
    }
}

/// Publishes one batch; returns how many events went out.
async fn relay_batch(outbox: &dyn Outbox, publisher: &dyn Publisher) -> anyhow::Result<usize> {
    let entries = outbox.pending(100).await?;
    for (n_published, entry) in entries.iter().enumerate() {
        if let Err(error) = publisher.publish(&entry.topic, &entry.envelope).await {
            // Keep what went out; the rest is retried in order.
            outbox.mark_published(&entries[..n_published]).await?;
            return Err(error.into());
        }
    }
    outbox.mark_published(&entries).await?;
    Ok(entries.len())
}

/// The relay's failures since its last success, for the log.
#[derive(Debug, Default)]
struct Outage {
    /// When the first publish of this outage failed; `None` while publishing works.
    since: Option<Instant>,
    /// When the last warning went out.
    warned: Option<Instant>,
    /// Failed attempts in this outage.
    attempts: u64,
}

impl Outage {
    /// Logs a failure: a warning for the first, then one every [`REMIND_EVERY`].
    fn failed(&mut self, relay: &str, error: &anyhow::Error) {
        let now = Instant::now();
        let since = *self.since.get_or_insert(now);
        self.attempts += 1;
        if self
            .warned
            .is_some_and(|warned| now - warned < REMIND_EVERY)
        {
            return;
        }
        self.warned = Some(now);
        let error = format!("{error:#}");
        if self.attempts == 1 {
            tracing::warn!(relay, error, "outbox relay failed; retrying every second");
        } else {
            let failing_secs = (now - since).as_secs();
            let attempts = self.attempts;
            tracing::warn!(
                relay,
                error,
                failing_secs,
                attempts,
                "outbox relay still failing"
            );
        }
    }

    /// Ends the outage, if there was one, with a line saying so.
    fn ended(&mut self, relay: &str, n_published: usize) {
        let Some(since) = self.since.take() else {
            return;
        };
        let failing_secs = since.elapsed().as_secs();
        tracing::info!(relay, failing_secs, n_published, "outbox relay works again");
        *self = Self::default();
    }
}

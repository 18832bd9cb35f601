//! The outbox relay: publishes what a service committed to its outbox, oldest first.
//!
//! An event is removed from the outbox only after the bus acknowledged it, so a crash in
//! between publishes it again on the next start; consumers are idempotent, so that is harmless.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::ports::{Outbox, Publisher};
use crate::retry::Backoff;

/// How long the relay sleeps when nothing wakes it; bounds the latency of a missed wake-up.
const IDLE_POLL: Duration = Duration::from_millis(500);
/// How long it waits after a failed publish before trying again.
const RETRY_DELAY: Duration = Duration::from_secs(1);

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
    loop {
        match relay_batch(outbox.as_ref(), publisher.as_ref()).await {
            Ok(0) => {
                tokio::select! {
                    () = wake.notified() => {}
                    () = tokio::time::sleep(IDLE_POLL) => {}
                    () = shutdown.cancelled() => break,
                }
            }
            Ok(_) => {}
            Err(error) => {
                tracing::warn!(relay = name, error = %format!("{error:#}"), "outbox relay failed; will retry");
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

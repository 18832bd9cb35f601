//! Runs one event handler for one consumer group.
//!
//! Each event is handled inside its envelope's correlation id. A transient failure (a store or
//! the mailer unreachable) is retried with exponential backoff, each retry logged, for as long
//! as [`RETRY_SPAN`]: a server that is away for minutes is waited out, and the mail still goes.
//! After that, or at once for an event that can never succeed (a malformed payload), the event
//! goes to `<topic>.dlq` with the error, so nothing is dropped silently. The position is committed only
//! after the handler succeeded or the event was dead-lettered.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use common::events::Envelope;
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use super::ports::{Delivery, Publisher, Subscriber, Subscription};
use crate::error::{Error, Result};
use crate::retry::Backoff;

/// How long a transiently failing event is retried before it is dead-lettered.
pub const RETRY_SPAN: Duration = Duration::from_secs(60 * 60);
/// First retry delay; doubled on every attempt up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(200);
/// Longest retry delay.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// The delays between retries of a handler, a read, a commit or a dead letter.
fn backoff() -> Backoff {
    Backoff::new(FIRST_BACKOFF, 2, MAX_BACKOFF)
}

/// Handles the events of one topic for one service.
#[async_trait]
pub trait EventHandler: Send + Sync {
    /// The consumer group, e.g. `fms-notifications` (one per service and topic); services that
    /// record processed events key them by a name of their own, since event ids are unique.
    fn group(&self) -> &'static str;
    /// The topic it reads.
    fn topic(&self) -> &'static str;
    /// Handles one event; events it does not care about are `Ok`. Must be idempotent.
    async fn handle(&self, envelope: &Envelope) -> Result<()>;
}

/// What goes on a dead-letter topic.
#[derive(Debug, Serialize)]
struct DeadLetter<'a> {
    /// The consumer group that gave up.
    group: &'a str,
    /// Why, with the whole cause chain.
    error: String,
    /// How many times it was tried.
    attempts: u32,
    /// The original event.
    envelope: &'a Envelope,
}

/// Subscribes `handler` and runs it until `shutdown`.
pub async fn run(
    handler: Arc<dyn EventHandler>,
    subscriber: Arc<dyn Subscriber>,
    publisher: Arc<dyn Publisher>,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let mut subscription = subscriber
        .subscribe(handler.group(), handler.topic())
        .await?;
    tracing::info!(
        group = handler.group(),
        topic = handler.topic(),
        "consumer started"
    );
    record_lag(handler.as_ref(), subscription.as_mut()).await;
    while let Some(delivery) = next_delivery(subscription.as_mut(), &shutdown).await {
        let correlation_id = delivery
            .envelope
            .correlation_id
            .clone()
            .unwrap_or_else(common::correlation::new_id);
        let handled = common::correlation::scope(
            correlation_id,
            handle_with_retries(handler.as_ref(), publisher.as_ref(), &delivery, &shutdown),
        )
        .await;
        if !handled {
            // Shutdown came while backing off: leave it uncommitted, it is delivered again.
            break;
        }
        commit_with_retries(subscription.as_mut(), &delivery, &shutdown).await;
        record_lag(handler.as_ref(), subscription.as_mut()).await;
    }
    tracing::info!(group = handler.group(), "consumer stopped");
    Ok(())
}

/// Sets the consumer-lag gauge of `handler`'s group; a bus that cannot say leaves it as it was.
async fn record_lag(handler: &dyn EventHandler, subscription: &mut dyn Subscription) {
    if !crate::metrics::enabled() {
        return;
    }
    match subscription.lag().await {
        Ok(Some(n_events)) => {
            crate::metrics::consumer_lag(handler.group(), handler.topic(), n_events);
        }
        Ok(None) => {}
        Err(error) => {
            tracing::debug!(error = %format!("{error:#}"), "failed to read the consumer lag")
        }
    }
}

/// The next event, riding out a bus that is briefly unreachable.
async fn next_delivery(
    subscription: &mut dyn Subscription,
    shutdown: &CancellationToken,
) -> Option<Delivery> {
    let mut backoff = backoff();
    loop {
        match subscription.next(shutdown).await {
            Ok(delivery) => return delivery,
            Err(error) => {
                tracing::warn!(error = %format!("{error:#}"), "failed to read from the bus; will retry");
                if !backoff.wait(shutdown).await {
                    return None;
                }
            }
        }
    }
}

/// Handles one delivery; `false` if shutdown interrupted the retries.
#[tracing::instrument(skip_all, fields(group = handler.group(), event_id = %delivery.envelope.id, event_type = %delivery.envelope.event_type))]
async fn handle_with_retries(
    handler: &dyn EventHandler,
    publisher: &dyn Publisher,
    delivery: &Delivery,
    shutdown: &CancellationToken,
) -> bool {
    let mut backoff = backoff();
    let mut attempts = 0;
    let first_try = std::time::Instant::now();
    loop {
        attempts += 1;
        let error = match handler.handle(&delivery.envelope).await {
            Ok(()) => return true,
            Err(error) => error,
        };
        if !error.is_transient() || first_try.elapsed() >= RETRY_SPAN {
            dead_letter(handler, publisher, delivery, &error, attempts, shutdown).await;
            return true;
        }
        let failing_secs = first_try.elapsed().as_secs();
        tracing::warn!(attempts, failing_secs, error = %error.report(), "event handler failed; will retry");
        if !backoff.wait(shutdown).await {
            return false;
        }
    }
}

/// Publishes the event and its error to `<topic>.dlq`, retrying until the bus takes it.
async fn dead_letter(
    handler: &dyn EventHandler,
    publisher: &dyn Publisher,
    delivery: &Delivery,
    error: &Error,
    attempts: u32,
    shutdown: &CancellationToken,
) {
    let error_text = error.report();
    tracing::error!(attempts, error = %error_text, "event dead-lettered");
    crate::metrics::dead_lettered(handler.group(), &delivery.topic);
    let letter = DeadLetter {
        group: handler.group(),
        error: error_text,
        attempts,
        envelope: &delivery.envelope,
    };
    let dead = Envelope {
        id: uuid::Uuid::now_v7(),
        event_type: format!("{}.dead_letter", delivery.envelope.event_type),
        version: 1,
        occurred_at: chrono::Utc::now(),
        correlation_id: delivery.envelope.correlation_id.clone(),
        key: delivery.envelope.key.clone(),
        payload: serde_json::to_value(&letter).unwrap_or_default(),
    };
    let topic = format!("{}.dlq", delivery.topic);
    let mut backoff = backoff();
    while let Err(error) = publisher.publish(&topic, &dead).await {
        tracing::warn!(error = %format!("{error:#}"), "failed to dead-letter; will retry");
        if !backoff.wait(shutdown).await {
            return;
        }
    }
}

/// Commits, retrying while the bus is briefly unreachable; an uncommitted event is handled
/// again after a restart, which idempotent handlers make harmless.
async fn commit_with_retries(
    subscription: &mut dyn Subscription,
    delivery: &Delivery,
    shutdown: &CancellationToken,
) {
    let mut backoff = backoff();
    while let Err(error) = subscription.commit(delivery).await {
        tracing::warn!(error = %format!("{error:#}"), "failed to commit; will retry");
        if !backoff.wait(shutdown).await {
            return;
        }
    }
}

//! The process's one idempotent producer, replaced by a new one when it can no longer deliver.
//!
//! librdkafka's idempotent producer never recovers from some errors: once fenced, or out of
//! sequence after a broker outage, every later send fails the same way, and a broker that comes
//! back after a long pause may leave sends waiting with no answer at all. So a send that fails
//! with such an error, or gets no acknowledgement by [`SEND_DEADLINE`], replaces the producer:
//! the next send starts a new producer session (a new `InitProducerId`). An event the old
//! producer delivered after all is then published twice; consumers are idempotent.

use std::sync::{PoisonError, RwLock};
use std::time::Duration;

use anyhow::Context as _;
use rdkafka::config::ClientConfig;
use rdkafka::error::KafkaError;
use rdkafka::message::OwnedHeaders;
use rdkafka::producer::{FutureProducer, FutureRecord, Producer as _};
use rdkafka::types::RDKafkaErrorCode;

use super::{client_config, millis, TracingContext};
use crate::error::{Error, Result};

/// How long a publish may wait for the broker's acknowledgement before it fails. The relay
/// retries a failed publish, so a bounded wait turns a dead broker into a logged retry instead
/// of a relay silently stuck for librdkafka's default five minutes.
pub(super) const DELIVERY_TIMEOUT: Duration = Duration::from_secs(15);

/// How long a send may take in all (waiting for room in the local queue, then for the
/// acknowledgement) before it counts as lost and the producer is replaced.
const SEND_DEADLINE: Duration = Duration::from_secs(20);

/// The producer type every send goes through.
type Inner = FutureProducer<TracingContext>;

/// The current producer, behind a lock only swaps take for writing.
pub(super) struct Producer {
    /// The bootstrap servers, to build a replacement.
    brokers: String,
    /// The producer sends go through now.
    current: RwLock<Inner>,
}

impl Producer {
    /// A producer for `brokers`; it connects on its first use.
    pub(super) fn new(brokers: &str) -> anyhow::Result<Self> {
        Ok(Self {
            brokers: brokers.to_owned(),
            current: RwLock::new(build(brokers)?),
        })
    }

    /// The producer sends go through now (a cheap handle), for metadata requests.
    pub(super) fn current(&self) -> Inner {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Produces one record and waits for the broker's acknowledgement.
    pub(super) async fn send(
        &self,
        topic: &str,
        key: &str,
        payload: &[u8],
        headers: OwnedHeaders,
    ) -> Result<()> {
        let producer = self.current();
        let record = FutureRecord::to(topic)
            .key(key)
            .payload(payload)
            .headers(headers);
        let sent = tokio::time::timeout(SEND_DEADLINE, producer.send(record, DELIVERY_TIMEOUT));
        let error = match sent.await {
            Ok(Ok(_)) => return Ok(()),
            Ok(Err((error, _))) => {
                if let Some(reason) = unrecoverable(&producer, &error) {
                    self.replace(&producer, &reason);
                }
                anyhow::Error::new(error)
            }
            Err(_) => {
                let reason = format!("no acknowledgement within {} s", SEND_DEADLINE.as_secs());
                self.replace(&producer, &reason);
                anyhow::anyhow!(reason)
            }
        };
        Err(Error::unavailable(
            error.context(format!("failed to publish to {topic}")),
        ))
    }

    /// Puts a new producer in place of `failed`, unless another send replaced it already.
    fn replace(&self, failed: &Inner, reason: &str) {
        let mut current = self.current.write().unwrap_or_else(PoisonError::into_inner);
        if current.client().native_ptr() != failed.client().native_ptr() {
            return;
        }
        match build(&self.brokers) {
            Ok(fresh) => {
                let old = std::mem::replace(&mut *current, fresh);
                tracing::warn!(reason, "kafka producer replaced by a new one");
                // Dropping purges and flushes for up to half a second; not on an async worker.
                tokio::task::spawn_blocking(move || drop(old));
            }
            Err(error) => {
                tracing::warn!(error = %format!("{error:#}"), "failed to replace the kafka producer; will try again");
            }
        }
    }
}

/// Why `producer` will never deliver again after `error`, if it will not.
fn unrecoverable(producer: &Inner, error: &KafkaError) -> Option<String> {
    if let Some((code, reason)) = producer.client().fatal_error() {
        return Some(format!("fatal error {code:?}: {reason}"));
    }
    let code = error.rdkafka_error_code()?;
    matches!(
        code,
        RDKafkaErrorCode::ProducerFenced
            | RDKafkaErrorCode::InvalidProducerEpoch
            | RDKafkaErrorCode::InvalidProducerIdMapping
            | RDKafkaErrorCode::OutOfOrderSequenceNumber
            | RDKafkaErrorCode::UnknownProducerId
            | RDKafkaErrorCode::Fatal
            // An idempotent producer whose message timed out must renegotiate its epoch, which
            // brokers that lost the session never complete; a fresh one starts clean.
            | RDKafkaErrorCode::MessageTimedOut
    )
    .then(|| format!("{code:?}"))
}

/// A new idempotent producer for `brokers`.
fn build(brokers: &str) -> anyhow::Result<Inner> {
    let mut config: ClientConfig = client_config(brokers);
    config
        // Idempotence implies acks=all, retries and at most 5 requests in flight; it keeps a
        // retried batch from being written twice or out of order. tansu 0.6.0 answers
        // InitProducerId (checked with `debug=eos`: a producer id is assigned); the first
        // publish waits ~0.5 s for it.
        .set("enable.idempotence", "true")
        .set("acks", "all")
        // Java clients hash keys with murmur2; using the same partitioner keeps one key on
        // one partition whichever client produced it.
        .set("partitioner", "murmur2_random")
        // The relay publishes one event at a time and waits for each acknowledgement, so
        // lingering for a batch would only add latency to every event.
        .set("linger.ms", "0")
        .set("message.timeout.ms", millis(DELIVERY_TIMEOUT));
    config
        .create_with_context(TracingContext)
        .context("failed to create the kafka producer")
}

//! The Kafka bus: events on Kafka topics through rdkafka (its bundled librdkafka).
//!
//! Publishing is idempotent with `acks=all` and keyed by the envelope's key, so one aggregate's
//! events land on one partition, in order, once. The payload is the envelope as JSON; `type`,
//! `id` and `correlation_id` are repeated as headers for consumers outside fms. Every logical
//! topic name gets `topic_prefix` and every consumer group `group_prefix`, so deployments (and
//! tests) can share a cluster. Topics are created up front: brokers like tansu do not create
//! them on first use.
//!
//! A subscription is one consumer in its group. Offsets are committed only by
//! [`Subscription::commit`] (no auto-commit), so a restarted consumer resumes after the last
//! event a handler finished. A message that is not an envelope is dead-lettered here, since no
//! handler could ever take it (see `kafka/subscription.rs`).
//!
//! Tested against tansu 0.6.0 (`fmsd/tests/contracts/bus.rs`); the settings below are the
//! ones that work there, and each says why it is set.

mod lag;
mod membership;
mod producer;
mod recovery;
mod subscription;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use async_trait::async_trait;
use common::events::Envelope;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::ClientContext;
use rdkafka::config::{ClientConfig, RDKafkaLogLevel};
use rdkafka::consumer::ConsumerContext;
use rdkafka::error::KafkaError;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::Producer as _;
use rdkafka::types::RDKafkaErrorCode;

use crate::bus::ports::{Publisher, Subscriber, Subscription};
use crate::error::{Error, Result};
use crate::settings::KafkaSettings;

use producer::Producer;
use subscription::KafkaSubscription;

/// How long `/readyz` waits for the broker's metadata.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);
/// How long start-up waits for created topics to show in the metadata.
const TOPIC_WAIT: Duration = Duration::from_secs(30);
/// How long a single metadata request may take while waiting for topics.
const METADATA_TIMEOUT: Duration = Duration::from_secs(5);
/// How long topic creation may take, unreachable broker included: fmsd fails to start with a
/// clear message after this instead of librdkafka's default minute.
const ADMIN_TIMEOUT: Duration = Duration::from_secs(10);

/// The Kafka bus; cheap to share behind an `Arc`.
pub struct KafkaBus {
    /// What publishers and subscriptions share.
    shared: Arc<Shared>,
}

/// The producer, the admin client and the settings, shared with every subscription (which
/// publishes undecodable messages to the dead-letter topic itself).
struct Shared {
    /// The bootstrap servers, for the consumers each subscription creates.
    brokers: String,
    /// Prefixes, partitions and replication.
    settings: KafkaSettings,
    /// One idempotent producer for the whole process; librdkafka batches and orders per
    /// partition. Replaced when it can no longer deliver (see `kafka/producer.rs`).
    producer: Producer,
    /// Creates topics the first time they are used.
    admin: AdminClient<TracingContext>,
    /// Physical topics known to exist, so each is created (or checked) once per process.
    known_topics: Mutex<HashSet<String>>,
}

impl std::fmt::Debug for KafkaBus {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("KafkaBus")
            .field("brokers", &self.shared.brokers)
            .field("settings", &self.shared.settings)
            .finish_non_exhaustive()
    }
}

impl KafkaBus {
    /// Connects to `brokers` (`host:port[,host:port...]`), creates every topic of
    /// [`common::events::topics::ALL`] and its `.dlq` (an existing topic is fine) and waits until
    /// the metadata shows them.
    pub async fn connect(brokers: &str, settings: &KafkaSettings) -> anyhow::Result<KafkaBus> {
        let producer = Producer::new(brokers)?;
        let admin: AdminClient<TracingContext> = client_config(brokers)
            .create_with_context(TracingContext)
            .context("failed to create the kafka admin client")?;
        let bus = KafkaBus {
            shared: Arc::new(Shared {
                brokers: brokers.to_owned(),
                settings: settings.clone(),
                producer,
                admin,
                known_topics: Mutex::new(HashSet::new()),
            }),
        };
        let topics: Vec<String> = common::events::topics::ALL
            .iter()
            .flat_map(|topic| [topic.to_string(), format!("{topic}.dlq")])
            .map(|topic| bus.shared.physical_topic(&topic))
            .collect();
        bus.shared
            .ensure_topics(&topics)
            .await
            .with_context(|| format!("failed to create the kafka topics on {brokers}"))?;
        tracing::info!(brokers, n_topics = topics.len(), "kafka bus connected");
        Ok(bus)
    }
}

impl Shared {
    /// The broker's name for the logical topic `topic`.
    fn physical_topic(&self, topic: &str) -> String {
        format!("{}{topic}", self.settings.topic_prefix)
    }

    /// The broker's name for the logical consumer group `group`.
    fn physical_group(&self, group: &str) -> String {
        format!("{}{group}", self.settings.group_prefix)
    }

    /// Creates `topic` unless this process already knows it exists.
    async fn ensure_topic(&self, topic: &str) -> Result<()> {
        if self.known_topics().contains(topic) {
            return Ok(());
        }
        self.ensure_topics(&[topic.to_owned()])
            .await
            .map_err(Error::unavailable)
    }

    /// The set of known topics; a poisoned lock only means a panic elsewhere, the set is fine.
    fn known_topics(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        self.known_topics
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Creates `topics` (an existing one is fine) and waits until the metadata shows each with
    /// all its partitions, so the first publish or subscribe does not race the creation.
    async fn ensure_topics(&self, topics: &[String]) -> anyhow::Result<()> {
        let new_topics: Vec<NewTopic<'_>> = topics
            .iter()
            .map(|topic| {
                let replication = TopicReplication::Fixed(self.settings.replication_factor);
                NewTopic::new(topic, self.settings.partitions, replication)
            })
            .collect();
        let options = AdminOptions::new()
            .request_timeout(Some(ADMIN_TIMEOUT))
            .operation_timeout(Some(ADMIN_TIMEOUT));
        let results = self
            .admin
            .create_topics(&new_topics, &options)
            .await
            .context("failed to ask the broker to create topics")?;
        for result in results {
            match result {
                Ok(topic) => tracing::info!(topic, "kafka topic created"),
                Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
                Err((topic, code)) => anyhow::bail!("failed to create topic {topic}: {code}"),
            }
        }
        self.wait_for_topics(topics).await?;
        self.known_topics().extend(topics.iter().cloned());
        Ok(())
    }

    /// Polls the metadata until every topic in `topics` is there with its leaders known.
    async fn wait_for_topics(&self, topics: &[String]) -> anyhow::Result<()> {
        let deadline = Instant::now() + TOPIC_WAIT;
        for topic in topics {
            loop {
                let producer = self.producer.current();
                let name = topic.clone();
                let ready = tokio::task::spawn_blocking(move || {
                    let metadata = producer
                        .client()
                        .fetch_metadata(Some(&name), METADATA_TIMEOUT)?;
                    Ok::<_, KafkaError>(metadata.topics().iter().any(|found| {
                        found.name() == name
                            && found.error().is_none()
                            && !found.partitions().is_empty()
                            && found.partitions().iter().all(|p| p.leader() >= 0)
                    }))
                })
                .await?;
                match ready {
                    Ok(true) => break,
                    Ok(false) if Instant::now() < deadline => {}
                    Ok(false) => anyhow::bail!("topic {topic} did not appear in the metadata"),
                    Err(error) if Instant::now() < deadline => {
                        tracing::debug!(topic, error = %error, "metadata not ready; will retry");
                    }
                    Err(error) => return Err(error).context("failed to fetch the topic metadata"),
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        Ok(())
    }
}

/// The headers repeated from the envelope for consumers that do not parse it.
fn envelope_headers(envelope: &Envelope) -> OwnedHeaders {
    let id = envelope.id.to_string();
    let headers = OwnedHeaders::new()
        .insert(Header {
            key: "type",
            value: Some(envelope.event_type.as_str()),
        })
        .insert(Header {
            key: "id",
            value: Some(id.as_str()),
        });
    match &envelope.correlation_id {
        Some(correlation_id) => headers.insert(Header {
            key: "correlation_id",
            value: Some(correlation_id.as_str()),
        }),
        None => headers,
    }
}

#[async_trait]
impl Publisher for KafkaBus {
    #[tracing::instrument(skip(self, envelope), fields(event_id = %envelope.id))]
    async fn publish(&self, topic: &str, envelope: &Envelope) -> Result<()> {
        let physical = self.shared.physical_topic(topic);
        self.shared.ensure_topic(&physical).await?;
        let payload = serde_json::to_vec(envelope).map_err(Error::internal)?;
        self.shared
            .producer
            .send(
                &physical,
                &envelope.key,
                &payload,
                envelope_headers(envelope),
            )
            .await
    }
}

#[async_trait]
impl Subscriber for KafkaBus {
    #[tracing::instrument(skip(self))]
    async fn subscribe(&self, group: &str, topic: &str) -> Result<Box<dyn Subscription>> {
        let physical = self.shared.physical_topic(topic);
        self.shared.ensure_topic(&physical).await?;
        let subscription = KafkaSubscription::start(self.shared.clone(), group, topic)?;
        Ok(Box::new(subscription))
    }
}

#[async_trait]
impl crate::health::Probe for KafkaBus {
    async fn probe(&self) -> Result<()> {
        // One of our topics, not the whole cluster's metadata, which can be large when shared.
        let topic = self
            .shared
            .physical_topic(common::events::topics::CUSTOMERS);
        let producer = self.shared.producer.current();
        tokio::task::spawn_blocking(move || {
            producer
                .client()
                .fetch_metadata(Some(&topic), PROBE_TIMEOUT)
                .map(|_| ())
        })
        .await
        .map_err(Error::internal)?
        .map_err(Error::unavailable)
    }
}

/// The settings every client (producer, admin, consumer) shares.
fn client_config(brokers: &str) -> ClientConfig {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", brokers)
        .set("client.id", "fmsd")
        // librdkafka's log lines reach `tracing` through `TracingContext`.
        .set_log_level(RDKafkaLogLevel::Info);
    config
}

/// A duration as librdkafka's millisecond setting.
fn millis(duration: Duration) -> String {
    duration.as_millis().to_string()
}

/// Sends librdkafka's logs and errors to `tracing`.
#[derive(Debug, Clone, Copy)]
struct TracingContext;

impl ClientContext for TracingContext {
    fn log(&self, level: RDKafkaLogLevel, facility: &str, message: &str) {
        match level {
            RDKafkaLogLevel::Emerg
            | RDKafkaLogLevel::Alert
            | RDKafkaLogLevel::Critical
            | RDKafkaLogLevel::Error => tracing::error!(facility, "librdkafka: {message}"),
            RDKafkaLogLevel::Warning => tracing::warn!(facility, "librdkafka: {message}"),
            RDKafkaLogLevel::Notice | RDKafkaLogLevel::Info => {
                tracing::info!(facility, "librdkafka: {message}");
            }
            RDKafkaLogLevel::Debug => tracing::debug!(facility, "librdkafka: {message}"),
        }
    }

    fn error(&self, error: KafkaError, reason: &str) {
        // Connection losses are reported here and retried by librdkafka itself; calls that fail
        // because of them return `Error::Unavailable` to their callers.
        tracing::warn!(error = %error, "librdkafka: {reason}");
    }
}

/// For consumers that never join a group (they only read or write its offsets), so have no
/// rebalances to report; group members use [`membership::Membership`].
impl ConsumerContext for TracingContext {}

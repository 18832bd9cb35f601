//! One Kafka consumer in its consumer group: what [`Subscriber::subscribe`] hands out.
//!
//! Offsets are committed only when the consumer loop says an event was handled, and only for a
//! partition this consumer still owns: after a rebalance the new owner resumes from the last
//! committed offset and delivers the event again (at least once), while a late commit from the
//! old owner could move the group's offset backwards.
//!
//! A consumer that has been out of its group for [`REJOIN_LIMIT`] (its session timed out
//! while the broker was away, and the coordinator does not take it back) is replaced by a new
//! member of the same group, which resumes from the group's committed offsets. If that new
//! member cannot join either within [`RESTART_LIMIT`], the group itself is stuck on the broker,
//! and it is started afresh with its offsets (`kafka/recovery.rs`).
//!
//! [`Subscriber::subscribe`]: crate::bus::ports::Subscriber::subscribe

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use common::events::Envelope;
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::message::{Headers, Message, OwnedMessage};
use rdkafka::{Offset, TopicPartitionList};
use tokio_util::sync::CancellationToken;

use super::lag;
use super::membership::Membership;
use super::{client_config, envelope_headers, Shared};
use crate::bus::ports::{Delivery, Subscription};
use crate::error::{Error, Result};

/// The consumer type every subscription uses.
pub(super) type GroupConsumer = StreamConsumer<Membership>;

/// How long a consumer may be without an assignment before it is replaced. Longer than a
/// rebalance takes (a few seconds on tansu), shorter than an operator's patience.
const REJOIN_LIMIT: Duration = Duration::from_secs(30);

/// How long a member that replaced a stuck one may be without an assignment before the group
/// is started afresh. A join takes a few seconds when the coordinator works.
const RESTART_LIMIT: Duration = Duration::from_secs(15);

/// How long a stuck member may take to leave before its group is started afresh anyway.
const CLOSE_WAIT: Duration = Duration::from_secs(10);

/// How long a look at the group's members or the topic's partitions may take.
const LOOKUP_TIMEOUT: Duration = Duration::from_secs(5);

/// How often a waiting read looks at the membership.
const WATCH_INTERVAL: Duration = Duration::from_secs(5);

/// A consumer group member reading one topic.
pub(super) struct KafkaSubscription {
    /// The producer (for undecodable messages) and the settings.
    shared: Arc<Shared>,
    /// The current member of the group; replaced when it has been out of the group too long.
    /// `None` only after a replacement failed to start; the next read tries again.
    member: Option<Member>,
    /// The group's name on the broker, for logs and dead letters.
    group: String,
    /// The logical topic, as the consumer loop knows it.
    topic: String,
    /// The topic's name on the broker.
    physical_topic: String,
    /// A message that is not an envelope, with the reason, waiting to be dead-lettered; it is
    /// kept until that succeeds and nothing else is read before, so it is never skipped silently.
    undecodable: Option<(OwnedMessage, String)>,
    /// When the lag was last asked of the broker, and what it was.
    lag: Option<(std::time::Instant, Option<u64>)>,
}

/// One consumer in the group and what its rebalances said.
struct Member {
    /// The consumer. Declared before `_closer` so that the closer holds the last reference.
    consumer: Arc<GroupConsumer>,
    /// Whether it holds an assignment, and since when.
    membership: Membership,
    /// It replaced a member that could not get back into the group.
    replacement: bool,
    /// Closes the consumer off the async workers when the member is dropped.
    _closer: CloseOffThread,
}

impl Member {
    /// Leaves the group and waits (up to [`CLOSE_WAIT`]) until the consumer is closed, so that
    /// a group started afresh is not joined by the stuck member.
    async fn close(mut self) {
        let consumer = self.consumer;
        let last = self._closer.0.take();
        let closed = tokio::task::spawn_blocking(move || drop((consumer, last)));
        let _ = tokio::time::timeout(CLOSE_WAIT, closed).await;
    }

    /// Creates a consumer in the physical `group` and subscribes it to the physical `topic`;
    /// it joins the group on its first read.
    fn join(shared: &Shared, group: &str, topic: &str, replacement: bool) -> Result<Self> {
        let membership = Membership::new(group);
        let consumer: GroupConsumer = client_config(&shared.brokers)
            .set("group.id", group)
            // Offsets move only when a handler finished (`commit`), never on a timer.
            .set("enable.auto.commit", "false")
            // A new group starts at the oldest event: nothing published before the first start
            // of a service is lost.
            .set("auto.offset.reset", "earliest")
            // The rest is librdkafka's default and tested against tansu 0.6.0: the classic group
            // protocol with eager `range,roundrobin` assignment (two members split three
            // partitions 2/1 after one heartbeat, 3 s); an instance that dies without leaving
            // the group gives its partitions up after `session.timeout.ms` (45 s).
            .create_with_context(membership.clone())
            .map_err(Error::unavailable)?;
        consumer.subscribe(&[topic]).map_err(Error::unavailable)?;
        let consumer = Arc::new(consumer);
        Ok(Self {
            _closer: CloseOffThread(Some(consumer.clone())),
            consumer,
            membership,
            replacement,
        })
    }
}

/// What a wait for the next message ended with.
enum Wake {
    /// Shutdown.
    Stop,
    /// A message, or the consumer's error.
    Received(Result<OwnedMessage>),
    /// Time to look at the membership.
    Watch,
}

impl KafkaSubscription {
    /// Creates a consumer in `group` (prefixed) and subscribes it to `topic` (prefixed); it
    /// joins the group on its first read.
    pub(super) fn start(shared: Arc<Shared>, group: &str, topic: &str) -> Result<Self> {
        let physical_group = shared.physical_group(group);
        let physical_topic = shared.physical_topic(topic);
        let member = Member::join(&shared, &physical_group, &physical_topic, false)?;
        Ok(Self {
            shared,
            member: Some(member),
            group: physical_group,
            topic: topic.to_owned(),
            physical_topic,
            undecodable: None,
            lag: None,
        })
    }

    /// Replaces the consumer by a new member if it has been out of its group too long, and
    /// starts the group afresh if a new member could not join either.
    async fn watch(&mut self) -> Result<()> {
        let Some(member) = &self.member else {
            return self.rejoin();
        };
        let (replacement, consumer) = (member.replacement, member.consumer.clone());
        let out_for = match (member.membership.out_for(), member.membership.empty_for()) {
            (Some(out_for), _) => out_for,
            (None, Some(empty_for))
                if empty_for >= REJOIN_LIMIT && self.empty_assignment_is_wrong(consumer).await =>
            {
                empty_for
            }
            _ => return Ok(()),
        };
        let stuck = replacement && out_for >= RESTART_LIMIT;
        if !stuck && out_for < REJOIN_LIMIT {
            return Ok(());
        }
        let (group, topic) = (self.group.as_str(), self.physical_topic.as_str());
        let out_secs = out_for.as_secs();
        if stuck {
            tracing::warn!(
                group,
                topic,
                out_secs,
                "kafka consumer group stuck on the broker: no member gets partitions; starting it afresh with its committed offsets"
            );
            if let Some(stuck_member) = self.member.take() {
                stuck_member.close().await;
            }
            let restored = super::recovery::restart_group(&self.shared, group, topic).await?;
            tracing::info!(
                group,
                topic,
                restored,
                "kafka consumer group started afresh"
            );
        } else {
            tracing::warn!(
                group,
                topic,
                out_secs,
                "kafka consumer without partitions for too long; replacing it with a new group member"
            );
            self.member = None;
        }
        self.rejoin()
    }

    /// Whether this member's empty assignment means the group is broken: range and round-robin
    /// assignment give every member a partition while the group has no more members than the
    /// topic has partitions (tansu 0.6.0, after the group's leader died, hands the new members
    /// empty assignments and leaves every partition unread).
    async fn empty_assignment_is_wrong(&self, consumer: Arc<GroupConsumer>) -> bool {
        let (group, topic) = (self.group.clone(), self.physical_topic.clone());
        let counted = tokio::task::spawn_blocking(move || {
            let groups = consumer.fetch_group_list(Some(&group), LOOKUP_TIMEOUT)?;
            let members = groups
                .groups()
                .iter()
                .find(|found| found.name() == group)
                .map_or(0, |found| found.members().len());
            let metadata = consumer.fetch_metadata(Some(&topic), LOOKUP_TIMEOUT)?;
            let partitions = metadata
                .topics()
                .iter()
                .find(|found| found.name() == topic)
                .map_or(0, |found| found.partitions().len());
            Ok::<_, rdkafka::error::KafkaError>((members, partitions))
        })
        .await;
        let Ok(Ok((members, partitions))) = counted else {
            return false;
        };
        let wrong = partitions > 0 && members <= partitions;
        if wrong {
            tracing::warn!(
                group = %self.group,
                topic = %self.physical_topic,
                members,
                partitions,
                "kafka consumer holds no partition although the group has a partition for each member"
            );
        }
        wrong
    }

    /// Puts a new member in the group in place of one that could not get back in.
    fn rejoin(&mut self) -> Result<()> {
        let member = Member::join(&self.shared, &self.group, &self.physical_topic, true)?;
        self.member = Some(member);
        Ok(())
    }

    /// The current member's consumer, starting a member if the last replacement failed.
    fn consumer(&mut self) -> Result<Arc<GroupConsumer>> {
        if self.member.is_none() {
            self.rejoin()?;
        }
        let member = self
            .member
            .as_ref()
            .ok_or_else(|| Error::internal(anyhow::anyhow!("no consumer")))?;
        Ok(member.consumer.clone())
    }

    /// Commits `offset` as the next one to read on `partition`, if this consumer still owns it.
    async fn commit_next(&self, partition: i32, offset: i64) -> Result<()> {
        // Without a member nothing is owned: the next owner delivers the event again.
        let consumer = self.member.as_ref().map(|member| member.consumer.clone());
        let topic = self.physical_topic.clone();
        let committed = tokio::task::spawn_blocking(move || {
            let Some(consumer) = consumer else {
                return Ok(false);
            };
            if consumer
                .assignment()?
                .find_partition(&topic, partition)
                .is_none()
            {
                return Ok(false);
            }
            let mut offsets = TopicPartitionList::new();
            offsets.add_partition_offset(&topic, partition, Offset::Offset(offset))?;
            consumer.commit(&offsets, CommitMode::Sync)?;
            Ok(true)
        })
        .await
        .map_err(Error::internal)?
        .map_err(|error: rdkafka::error::KafkaError| Error::unavailable(error))?;
        if !committed {
            tracing::warn!(
                group = %self.group,
                topic = %self.physical_topic,
                partition,
                "partition no longer assigned; its new owner delivers the event again"
            );
        }
        Ok(())
    }

    /// Publishes a message that is not an envelope to `<topic>.dlq`, then commits past it.
    async fn dead_letter(&self, message: &OwnedMessage, reason: &str) -> Result<()> {
        let header = |name: &str| {
            message.headers().and_then(|headers| {
                headers
                    .iter()
                    .find(|header| header.key == name)
                    .and_then(|header| header.value)
                    .map(|value| String::from_utf8_lossy(value).into_owned())
            })
        };
        let key = message
            .key()
            .map(|key| String::from_utf8_lossy(key).into_owned())
            .unwrap_or_default();
        let payload = serde_json::json!({
            "group": self.group,
            "error": reason,
            "attempts": 0,
            "partition": message.partition(),
            "offset": message.offset(),
            "raw": String::from_utf8_lossy(message.payload().unwrap_or_default()),
        });
        let letter = Envelope {
            id: uuid::Uuid::now_v7(),
            event_type: format!(
                "{}.dead_letter",
                header("type").unwrap_or_else(|| "undecodable".to_owned())
            ),
            version: 1,
            occurred_at: chrono::Utc::now(),
            correlation_id: header("correlation_id"),
            key,
            payload,
        };
        let dead_letter_topic = format!("{}.dlq", self.physical_topic);
        self.shared.ensure_topic(&dead_letter_topic).await?;
        let bytes = serde_json::to_vec(&letter).map_err(Error::internal)?;
        self.shared
            .producer
            .send(
                &dead_letter_topic,
                &letter.key,
                &bytes,
                envelope_headers(&letter),
            )
            .await?;
        // The consumer loop commits each event before it reads the next, so committing past
        // this message never skips one that was read but not handled.
        self.commit_next(message.partition(), message.offset() + 1)
            .await
    }
}

#[async_trait]
impl Subscription for KafkaSubscription {
    async fn next(&mut self, shutdown: &CancellationToken) -> Result<Option<Delivery>> {
        loop {
            if shutdown.is_cancelled() {
                return Ok(None);
            }
            if let Some((message, reason)) = self.undecodable.take() {
                // Shutdown does not wait for the broker: the message is not committed, so it is
                // read (and dead-lettered) again after the restart.
                let dead_lettered = tokio::select! {
                    biased;
                    () = shutdown.cancelled() => None,
                    result = self.dead_letter(&message, &reason) => Some(result),
                };
                match dead_lettered {
                    Some(Ok(())) => continue,
                    Some(Err(error)) => {
                        self.undecodable = Some((message, reason));
                        return Err(error);
                    }
                    None => return Ok(None),
                }
            }
            let consumer = self.consumer()?;
            let wake = tokio::select! {
                biased;
                () = shutdown.cancelled() => Wake::Stop,
                received = consumer.recv() => Wake::Received(
                    received.map(|message| message.detach()).map_err(Error::unavailable),
                ),
                () = tokio::time::sleep(WATCH_INTERVAL) => Wake::Watch,
            };
            let message = match wake {
                Wake::Stop => return Ok(None),
                Wake::Received(received) => received?,
                Wake::Watch => {
                    self.watch().await?;
                    continue;
                }
            };
            match serde_json::from_slice::<Envelope>(message.payload().unwrap_or_default()) {
                Ok(envelope) => {
                    return Ok(Some(Delivery {
                        topic: self.topic.clone(),
                        position: message.offset(),
                        partition: message.partition(),
                        envelope,
                    }));
                }
                Err(error) => {
                    let reason = format!("not an event envelope: {error}");
                    tracing::error!(
                        group = %self.group,
                        topic = %self.physical_topic,
                        partition = message.partition(),
                        offset = message.offset(),
                        error = %reason,
                        "undecodable message; dead-lettering it"
                    );
                    self.undecodable = Some((message, reason));
                }
            }
        }
    }

    async fn commit(&mut self, delivery: &Delivery) -> Result<()> {
        // Kafka's committed offset is the next one to read.
        self.commit_next(delivery.partition, delivery.position + 1)
            .await?;
        // Until the broker is asked again, each event handled is one less behind: the last
        // event of a burst brings the gauge to 0 even if no other event follows.
        if let Some((_, Some(behind))) = self.lag.as_mut() {
            *behind = behind.saturating_sub(1);
        }
        Ok(())
    }

    async fn lag(&mut self) -> Result<Option<u64>> {
        if let Some((checked, lag)) = self.lag {
            if checked.elapsed() < lag::INTERVAL {
                return Ok(lag);
            }
        }
        let Some(member) = self.member.as_ref() else {
            return Ok(None);
        };
        let (consumer, topic) = (member.consumer.clone(), self.physical_topic.clone());
        let lag = tokio::task::spawn_blocking(move || lag::assigned(&consumer, &topic))
            .await
            .map_err(Error::internal)?;
        self.lag = Some((std::time::Instant::now(), lag));
        Ok(lag)
    }
}

/// Drops the last reference to a consumer on a blocking thread: closing leaves the group, which
/// waits for the broker and must not stall an async worker (or hang one if the broker is gone).
struct CloseOffThread(Option<Arc<GroupConsumer>>);

impl Drop for CloseOffThread {
    fn drop(&mut self) {
        let Some(consumer) = self.0.take() else {
            return;
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn_blocking(move || drop(consumer));
            }
            Err(_) => drop(consumer),
        }
    }
}

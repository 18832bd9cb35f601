//! What only the Kafka bus has to show: dead-lettering through the consumer loop, messages that
//! are not envelopes, and two fmsd instances sharing a consumer group.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use common::events::{topics, Envelope};
use fmsd::bus::adapters::kafka::KafkaBus;
use fmsd::bus::consumer::{self, EventHandler};
use fmsd::bus::ports::{Publisher, Subscriber};
use fmsd::error::{Error, Result};
use fmsd::settings::KafkaSettings;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::{Headers, Message};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{Offset, TopicPartitionList};
use tokio_util::sync::CancellationToken;

use super::{event, next, stays_quiet};
use crate::support;

/// Settings no other test uses: its own topics and consumer groups on the shared broker.
pub fn isolated_settings() -> KafkaSettings {
    KafkaSettings {
        partitions: 3,
        replication_factor: 1,
        topic_prefix: format!("{}.", support::unique("test-")),
        group_prefix: format!("{}.", support::unique("test-")),
    }
}

/// The bus on the test broker; fails the test if it cannot be reached.
pub async fn connect(settings: &KafkaSettings) -> Arc<KafkaBus> {
    let brokers = support::require("FMS_TEST_KAFKA_BROKERS");
    let bus = tokio::time::timeout(
        Duration::from_secs(20),
        KafkaBus::connect(&brokers, settings),
    )
    .await
    .unwrap_or_else(|_| panic!("kafka at {brokers} did not answer within 20 s"))
    .unwrap_or_else(|error| panic!("kafka at {brokers} is unreachable: {error:#}"));
    Arc::new(bus)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_is_the_envelope_as_json_keyed_by_its_aggregate_with_headers() {
    let settings = isolated_settings();
    let bus = connect(&settings).await;
    let envelope = event("aggregate-7", 0);
    bus.publish(topics::FILES, &envelope).await.unwrap();

    // Read it back with a plain Kafka consumer, as a service outside fms would.
    let physical_topic = format!("{}{}", settings.topic_prefix, topics::FILES);
    let reader: StreamConsumer = ClientConfig::new()
        .set(
            "bootstrap.servers",
            support::require("FMS_TEST_KAFKA_BROKERS"),
        )
        .set("group.id", support::unique("test-reader-"))
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    let mut partitions = TopicPartitionList::new();
    for partition in 0..settings.partitions {
        partitions
            .add_partition_offset(&physical_topic, partition, Offset::Beginning)
            .unwrap();
    }
    reader.assign(&partitions).unwrap();
    let record = tokio::time::timeout(Duration::from_secs(15), reader.recv())
        .await
        .expect("no record within 15 s")
        .unwrap();
    assert_eq!(record.key(), Some(&b"aggregate-7"[..]));
    let payload: Envelope = serde_json::from_slice(record.payload().unwrap()).unwrap();
    assert_eq!(payload, envelope);
    let headers: HashMap<&str, &[u8]> = record
        .headers()
        .unwrap()
        .iter()
        .map(|header| (header.key, header.value.unwrap()))
        .collect();
    assert_eq!(headers["type"], b"test.counted");
    assert_eq!(headers["id"], envelope.id.to_string().as_bytes());
    assert_eq!(headers["correlation_id"], b"corr-aggregate-7-0");
}

/// A handler that rejects every event as something no retry can fix.
struct AlwaysInvalid;

#[async_trait]
impl EventHandler for AlwaysInvalid {
    fn group(&self) -> &'static str {
        "fms-always-invalid"
    }
    fn topic(&self) -> &'static str {
        topics::CUSTOMERS
    }
    async fn handle(&self, _envelope: &Envelope) -> Result<()> {
        Err(Error::Invalid("this handler takes nothing".into()))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_event_goes_to_the_dead_letter_topic_and_the_group_moves_on() {
    let bus = connect(&isolated_settings()).await;
    let doomed = event("d", 0);
    bus.publish(topics::CUSTOMERS, &doomed).await.unwrap();

    let shutdown = CancellationToken::new();
    let running = tokio::spawn(consumer::run(
        Arc::new(AlwaysInvalid),
        bus.clone(),
        bus.clone(),
        shutdown.clone(),
    ));
    let dead_letter_topic = format!("{}.dlq", topics::CUSTOMERS);
    let mut dead_letters = bus
        .subscribe("dlq-reader", &dead_letter_topic)
        .await
        .unwrap();
    let letter = next(dead_letters.as_mut()).await;
    assert_eq!(letter.topic, dead_letter_topic);
    assert_eq!(letter.envelope.event_type, "test.counted.dead_letter");
    assert_eq!(letter.envelope.key, "d");
    assert_eq!(letter.envelope.correlation_id, doomed.correlation_id);
    assert_eq!(letter.envelope.payload["group"], "fms-always-invalid");
    let original: Envelope =
        serde_json::from_value(letter.envelope.payload["envelope"].clone()).unwrap();
    assert_eq!(original, doomed);

    // Stop the consumer (it commits before it reads again), then restart its group: it starts
    // after the dead-lettered event.
    shutdown.cancel();
    running.await.unwrap().unwrap();
    let marker = event("d", 1);
    bus.publish(topics::CUSTOMERS, &marker).await.unwrap();
    let mut restarted = bus
        .subscribe("fms-always-invalid", topics::CUSTOMERS)
        .await
        .unwrap();
    assert_eq!(next(restarted.as_mut()).await.envelope, marker);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_that_is_not_an_envelope_is_dead_lettered_and_skipped() {
    let settings = isolated_settings();
    let bus = connect(&settings).await;
    let physical_topic = format!("{}{}", settings.topic_prefix, topics::CUSTOMERS);
    // Another producer (not fms) writes garbage with the same key as the events around it, so
    // all of them share a partition and their order is known.
    let foreign: FutureProducer = ClientConfig::new()
        .set(
            "bootstrap.servers",
            support::require("FMS_TEST_KAFKA_BROKERS"),
        )
        .set("partitioner", "murmur2_random")
        .create()
        .unwrap();
    foreign
        .send(
            FutureRecord::to(&physical_topic)
                .key("k")
                .payload("{not json"),
            Duration::from_secs(5),
        )
        .await
        .unwrap();
    let valid = event("k", 0);
    bus.publish(topics::CUSTOMERS, &valid).await.unwrap();

    let mut subscription = bus.subscribe("skipper", topics::CUSTOMERS).await.unwrap();
    let delivery = next(subscription.as_mut()).await;
    assert_eq!(delivery.envelope, valid);
    subscription.commit(&delivery).await.unwrap();

    let dead_letter_topic = format!("{}.dlq", topics::CUSTOMERS);
    let mut dead_letters = bus
        .subscribe("dlq-reader", &dead_letter_topic)
        .await
        .unwrap();
    let letter = next(dead_letters.as_mut()).await;
    assert_eq!(letter.envelope.event_type, "undecodable.dead_letter");
    assert_eq!(letter.envelope.key, "k");
    assert_eq!(letter.envelope.payload["raw"], "{not json");
    assert_eq!(
        letter.envelope.payload["group"],
        format!("{}skipper", settings.group_prefix)
    );

    // Restarted, the group is past the garbage: it is not dead-lettered a second time.
    drop(subscription);
    let marker = event("k", 1);
    bus.publish(topics::CUSTOMERS, &marker).await.unwrap();
    let mut restarted = bus.subscribe("skipper", topics::CUSTOMERS).await.unwrap();
    assert_eq!(next(restarted.as_mut()).await.envelope, marker);
    assert!(stays_quiet(dead_letters.as_mut(), Duration::from_secs(1)).await);
}

/// What one instance handled: (instance, event id, partition).
type Handled = Arc<Mutex<Vec<(usize, uuid::Uuid, i32)>>>;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_in_one_group_share_the_partitions_and_handle_each_event_once() {
    let settings = isolated_settings();
    // Two instances: two connections, one consumer each, the same group.
    let instances = [connect(&settings).await, connect(&settings).await];
    let handled: Handled = Arc::default();
    let shutdown = CancellationToken::new();
    let mut tasks = Vec::new();
    for (instance, bus) in instances.iter().enumerate() {
        let mut subscription = bus.subscribe("shared", topics::FILES).await.unwrap();
        let (handled, shutdown) = (handled.clone(), shutdown.clone());
        tasks.push(tokio::spawn(async move {
            while let Some(delivery) = subscription.next(&shutdown).await.unwrap() {
                let id = delivery.envelope.id;
                handled
                    .lock()
                    .unwrap()
                    .push((instance, id, delivery.partition));
                subscription.commit(&delivery).await.unwrap();
            }
        }));
    }

    // Let the group settle (the first member learns of the second at its next heartbeat):
    // warm-up events, on enough keys to reach every partition, until both instances have
    // handled one, so the assignment both read from is the final one.
    let publisher = instances[0].clone();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let instances_seen: BTreeSet<usize> = handled.lock().unwrap().iter().map(|h| h.0).collect();
        if instances_seen.len() == 2 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the group never gave both instances partitions"
        );
        for n in 0..12 {
            let envelope = event(&format!("warm-{n}"), 0);
            publisher.publish(topics::FILES, &envelope).await.unwrap();
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    let events: Vec<Envelope> = (0..20)
        .map(|n| event(&format!("aggregate-{n}"), n))
        .collect();
    for envelope in &events {
        publisher.publish(topics::FILES, envelope).await.unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(15);
    let is_test_event = |id: &uuid::Uuid| events.iter().any(|e| e.id == *id);
    loop {
        let n_handled = handled
            .lock()
            .unwrap()
            .iter()
            .filter(|h| is_test_event(&h.1))
            .count();
        if n_handled >= events.len() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "only {n_handled} of 20 events were handled"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Time for a duplicate to show up, if there were one.
    tokio::time::sleep(Duration::from_secs(1)).await;
    shutdown.cancel();
    for task in tasks {
        task.await.unwrap();
    }

    let handled = handled.lock().unwrap();
    let mut times: HashMap<uuid::Uuid, usize> = HashMap::new();
    let mut partitions = BTreeSet::new();
    let mut instances_used = BTreeSet::new();
    for (instance, id, partition) in handled.iter().filter(|h| is_test_event(&h.1)) {
        *times.entry(*id).or_default() += 1;
        partitions.insert(*partition);
        instances_used.insert(*instance);
    }
    assert_eq!(times.len(), 20);
    assert!(
        times.values().all(|&n| n == 1),
        "some event was handled twice: {times:?}"
    );
    assert_eq!(
        partitions,
        BTreeSet::from([0, 1, 2]),
        "the keys did not spread"
    );
    assert_eq!(instances_used.len(), 2, "one instance handled everything");
}

#[tokio::test]
async fn connecting_to_a_broker_that_is_not_there_fails_within_seconds() {
    let started = Instant::now();
    let error = KafkaBus::connect("127.0.0.1:1", &isolated_settings())
        .await
        .expect_err("connected to nothing");
    assert!(format!("{error:#}").contains("127.0.0.1:1"), "{error:#}");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
}

//! The bus contract (`Publisher`, `Subscriber`, `Subscription`), written once and run against
//! the embedded bus (a temp dir) and Kafka (tansu here; every test has its own topic and group
//! prefixes, so tests share the broker and run in parallel). Kafka-only behaviour — the
//! dead-letter path, undecodable messages, two instances in one group — is in `bus/kafka.rs`.

#[cfg(feature = "kafka")]
mod kafka;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use common::events::{topics, Envelope};
use fmsd::bus::adapters::embedded::EmbeddedBus;
use fmsd::bus::ports::{Delivery, Publisher, Subscriber, Subscription};
use tokio_util::sync::CancellationToken;

/// The longest a test waits for one event (Kafka's first read includes joining the group).
const WAIT: Duration = Duration::from_secs(15);

/// A test event: `n` of aggregate `key`.
pub fn event(key: &str, n: u32) -> Envelope {
    Envelope {
        id: uuid::Uuid::now_v7(),
        event_type: "test.counted".into(),
        version: 1,
        occurred_at: chrono::Utc::now(),
        correlation_id: Some(format!("corr-{key}-{n}")),
        key: key.into(),
        payload: serde_json::json!({ "n": n }),
    }
}

/// The next delivery; fails the test if none comes within [`WAIT`].
pub async fn next(subscription: &mut dyn Subscription) -> Delivery {
    let shutdown = CancellationToken::new();
    tokio::time::timeout(WAIT, subscription.next(&shutdown))
        .await
        .expect("no event within the wait")
        .expect("next failed")
        .expect("next ended without a shutdown")
}

/// Whether `subscription` stays quiet for `quiet` (then `next` must end with `None`).
pub async fn stays_quiet(subscription: &mut dyn Subscription, quiet: Duration) -> bool {
    let shutdown = CancellationToken::new();
    let cancel = shutdown.clone();
    tokio::spawn(async move {
        tokio::time::sleep(quiet).await;
        cancel.cancel();
    });
    let delivery = tokio::time::timeout(quiet + WAIT, subscription.next(&shutdown))
        .await
        .expect("next did not return after shutdown")
        .expect("next failed");
    delivery.is_none()
}

/// Every `Publisher`/`Subscriber` keeps this contract.
async fn contract(publisher: Arc<dyn Publisher>, subscriber: Arc<dyn Subscriber>) {
    // Three aggregates, four events each, interleaved.
    let mut published = Vec::new();
    for n in 0..4 {
        for key in ["a", "b", "c"] {
            let envelope = event(key, n);
            publisher
                .publish(topics::CUSTOMERS, &envelope)
                .await
                .unwrap();
            published.push(envelope);
        }
    }

    // A group gets every event, each aggregate's in publishing order, on the logical topic.
    let mut first = subscriber
        .subscribe("contract-first", topics::CUSTOMERS)
        .await
        .unwrap();
    let mut per_key: HashMap<String, Vec<Envelope>> = HashMap::new();
    for _ in 0..published.len() {
        let delivery = next(first.as_mut()).await;
        assert_eq!(delivery.topic, topics::CUSTOMERS);
        first.commit(&delivery).await.unwrap();
        per_key
            .entry(delivery.envelope.key.clone())
            .or_default()
            .push(delivery.envelope);
    }
    for key in ["a", "b", "c"] {
        let expected: Vec<&Envelope> = published.iter().filter(|e| e.key == key).collect();
        let got: Vec<&Envelope> = per_key[key].iter().collect();
        assert_eq!(got, expected, "events of {key} out of order or altered");
    }

    // Another group gets every event too, independently.
    let mut second = subscriber
        .subscribe("contract-second", topics::CUSTOMERS)
        .await
        .unwrap();
    let mut ids = Vec::new();
    for _ in 0..published.len() {
        ids.push(next(second.as_mut()).await.envelope.id);
    }
    ids.sort();
    let mut expected_ids: Vec<_> = published.iter().map(|e| e.id).collect();
    expected_ids.sort();
    assert_eq!(ids, expected_ids);
    drop(second);

    // A group that committed everything resumes with what comes next, not a replay.
    drop(first);
    let mut first_again = subscriber
        .subscribe("contract-first", topics::CUSTOMERS)
        .await
        .unwrap();
    let later = event("a", 4);
    publisher.publish(topics::CUSTOMERS, &later).await.unwrap();
    let delivery = next(first_again.as_mut()).await;
    assert_eq!(delivery.envelope, later, "a committed event came again");
    first_again.commit(&delivery).await.unwrap();

    // `next` ends with None on shutdown, while waiting and when asked after it.
    assert!(stays_quiet(first_again.as_mut(), Duration::from_millis(300)).await);
    let cancelled = CancellationToken::new();
    cancelled.cancel();
    assert!(first_again.next(&cancelled).await.unwrap().is_none());
    drop(first_again);

    // After a restart, delivery resumes after the last commit: an event read but not committed
    // comes again.
    let resume: Vec<Envelope> = (0..5).map(|n| event("r", n)).collect();
    for envelope in &resume {
        publisher.publish(topics::FILES, envelope).await.unwrap();
    }
    let mut before = subscriber
        .subscribe("contract-resume", topics::FILES)
        .await
        .unwrap();
    for expected in &resume[..2] {
        let delivery = next(before.as_mut()).await;
        assert_eq!(&delivery.envelope, expected);
        before.commit(&delivery).await.unwrap();
    }
    let uncommitted = next(before.as_mut()).await;
    assert_eq!(uncommitted.envelope, resume[2]);
    // The lag is what comes after the last event handed out.
    assert_eq!(before.lag().await.unwrap(), Some(2), "the lag of a reader");
    drop(before);
    let mut after = subscriber
        .subscribe("contract-resume", topics::FILES)
        .await
        .unwrap();
    for (n_handled, expected) in resume[2..].iter().enumerate() {
        let delivery = next(after.as_mut()).await;
        assert_eq!(
            &delivery.envelope, expected,
            "did not resume after the last commit"
        );
        after.commit(&delivery).await.unwrap();
        if n_handled == 0 {
            assert_eq!(after.lag().await.unwrap(), Some(2), "the lag mid-way");
        }
    }
    // Asked again at once, with no event after the last: the gauge reaches 0, not the value
    // of the last time the broker was asked.
    assert_eq!(
        after.lag().await.unwrap(),
        Some(0),
        "the lag of a caught-up group"
    );
}

#[tokio::test]
async fn the_embedded_bus_keeps_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    let bus = Arc::new(EmbeddedBus::open(&dir.path().join("bus.db")).unwrap());
    contract(bus.clone(), bus).await;
}

#[cfg(feature = "kafka")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_kafka_bus_keeps_the_contract() {
    let bus = kafka::connect(&kafka::isolated_settings()).await;
    fmsd::health::Probe::probe(bus.as_ref()).await.unwrap();
    contract(bus.clone(), bus).await;
}

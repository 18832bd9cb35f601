//! Starting a consumer group afresh, with its committed offsets, when the broker's coordinator
//! no longer lets any member in.
//!
//! tansu 0.6.0 can keep a group in that state for good: when it resumes after a pause longer
//! than the session timeout, it may drop the group's leader as expired yet keep it recorded as
//! leader, and from then on every member that joins is told that the departed one leads, and
//! its SyncGroup is answered "rebalance in progress", forever (new processes included). Only a
//! group that starts empty gets out. So: read the group's committed offsets (which needs no
//! membership), delete the group, write the offsets back (a commit from outside the group,
//! which an empty group accepts), and let the members join the new, empty group.
//!
//! The subscription does this only after a new member could not join either, so a broker whose
//! groups work never sees it. Running it twice, or from two instances at once, is harmless: the
//! offsets written back are the ones read, and an event read again is handled idempotently.

use std::time::Duration;

use rdkafka::admin::AdminOptions;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::producer::Producer as _;
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{Offset, TopicPartitionList};

use super::{client_config, Shared, TracingContext};
use crate::error::{Error, Result};

/// How long each request to the broker may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Deletes `group` and restores its committed offsets on `topic` (both physical names); returns
/// how many partitions had an offset to restore.
pub(super) async fn restart_group(shared: &Shared, group: &str, topic: &str) -> Result<usize> {
    let offsets = committed_offsets(shared, group, topic).await?;
    let options = AdminOptions::new()
        .request_timeout(Some(REQUEST_TIMEOUT))
        .operation_timeout(Some(REQUEST_TIMEOUT));
    let results = shared
        .admin
        .delete_groups(&[group], &options)
        .await
        .map_err(Error::unavailable)?;
    for result in results {
        match result {
            Ok(_) | Err((_, RDKafkaErrorCode::GroupIdNotFound)) => {}
            Err((_, code)) => {
                return Err(Error::unavailable(anyhow::anyhow!(
                    "failed to delete the consumer group {group}: {code}"
                )))
            }
        }
    }
    let restored = offsets.count();
    if restored > 0 {
        commit_from_outside(shared, group, offsets).await?;
    }
    Ok(restored)
}

/// The offsets `group` committed on every partition of `topic` (partitions without one left out).
async fn committed_offsets(
    shared: &Shared,
    group: &str,
    topic: &str,
) -> Result<TopicPartitionList> {
    let producer = shared.producer.current();
    let consumer = outsider(shared, group)?;
    let topic = topic.to_owned();
    blocking(move || {
        let metadata = producer
            .client()
            .fetch_metadata(Some(&topic), REQUEST_TIMEOUT)?;
        let mut partitions = TopicPartitionList::new();
        for found in metadata
            .topics()
            .iter()
            .filter(|found| found.name() == topic)
        {
            for partition in found.partitions() {
                partitions.add_partition(&topic, partition.id());
            }
        }
        let committed = consumer.committed_offsets(partitions, REQUEST_TIMEOUT)?;
        let mut kept = TopicPartitionList::new();
        for element in committed.elements() {
            if let Offset::Offset(offset) = element.offset() {
                kept.add_partition_offset(
                    element.topic(),
                    element.partition(),
                    Offset::Offset(offset),
                )?;
            }
        }
        Ok(kept)
    })
    .await
}

/// Commits `offsets` for `group` from a consumer that is not a member (none is, after a delete).
async fn commit_from_outside(
    shared: &Shared,
    group: &str,
    offsets: TopicPartitionList,
) -> Result<()> {
    let consumer = outsider(shared, group)?;
    blocking(move || consumer.commit(&offsets, CommitMode::Sync)).await
}

/// A consumer that names `group` but never joins it.
fn outsider(shared: &Shared, group: &str) -> Result<BaseConsumer<TracingContext>> {
    client_config(&shared.brokers)
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .create_with_context(TracingContext)
        .map_err(Error::unavailable)
}

/// Runs a blocking librdkafka call off the async workers.
async fn blocking<T: Send + 'static>(
    call: impl FnOnce() -> std::result::Result<T, KafkaError> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(call)
        .await
        .map_err(Error::internal)?
        .map_err(Error::unavailable)
}

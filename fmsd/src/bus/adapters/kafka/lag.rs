//! A Kafka consumer's lag, for the consumer-lag gauge: how far its position on each assigned
//! partition is behind the end of the log.

use std::time::Duration;

use rdkafka::consumer::Consumer;
use rdkafka::Offset;

use super::subscription::GroupConsumer;

/// How often the lag is asked of the broker; in between, the last answer stands, less one for
/// each event committed since.
pub(super) const INTERVAL: Duration = Duration::from_secs(5);

/// How long the broker may take to give one partition's watermarks.
const WATERMARK_TIMEOUT: Duration = Duration::from_secs(1);

/// The sum, over the partitions of `topic` assigned to `consumer`, of the high watermark less
/// the consumer's position; `None` until some partition knows both. Asks the broker for the
/// watermarks, so it blocks for up to [`WATERMARK_TIMEOUT`] per partition.
pub(super) fn assigned(consumer: &GroupConsumer, topic: &str) -> Option<u64> {
    let positions = consumer.position().ok()?;
    let mut lag = None;
    for element in positions.elements_for_topic(topic) {
        let Offset::Offset(position) = element.offset() else {
            continue;
        };
        let Ok((_, high)) =
            consumer.fetch_watermarks(topic, element.partition(), WATERMARK_TIMEOUT)
        else {
            continue;
        };
        let behind = u64::try_from(high - position).unwrap_or(0);
        lag = Some(lag.unwrap_or(0) + behind);
    }
    lag
}

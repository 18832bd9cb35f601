//! Waiting between attempts: [`Backoff`] is a delay that grows by a factor up to a cap, slept
//! in a way shutdown interrupts at once.
//!
//! The bus consumer retries handlers, reads, commits and dead letters with it, and the outbox
//! relay retries publishing, so every retry loop of the bus waits, grows and stops the same way.
//! (A poll with a fixed pace and a deadline, such as the wait for a Kafka topic's metadata,
//! simply sleeps: there is nothing to grow or reset.)

use std::time::Duration;

use tokio_util::sync::CancellationToken;

/// A growing delay between attempts: `initial`, then each delay times `factor`, never more than
/// `cap`.
#[derive(Debug, Clone)]
pub struct Backoff {
    /// The first delay, and the first again after [`Backoff::reset`].
    initial: Duration,
    /// What each delay is multiplied by to give the next.
    factor: u32,
    /// The longest delay: a long outage is retried at this pace, not ever more slowly.
    cap: Duration,
    /// The delay the next wait takes.
    next: Duration,
}

impl Backoff {
    /// Delays of `initial`, then `factor` times the one before, up to `cap`.
    pub fn new(initial: Duration, factor: u32, cap: Duration) -> Self {
        let initial = initial.min(cap);
        Self {
            initial,
            factor,
            cap,
            next: initial,
        }
    }

    /// The same `delay` every time.
    pub fn constant(delay: Duration) -> Self {
        Self::new(delay, 1, delay)
    }

    /// The delay the next wait takes; the one after it grows.
    pub fn next_delay(&mut self) -> Duration {
        let delay = self.next;
        self.next = self.next.saturating_mul(self.factor).min(self.cap);
        delay
    }

    /// Starts again from the first delay, after a success.
    pub fn reset(&mut self) {
        self.next = self.initial;
    }

    /// Sleeps the next delay; `false`, at once, if `shutdown` is cancelled first.
    pub async fn wait(&mut self, shutdown: &CancellationToken) -> bool {
        let delay = self.next_delay();
        tokio::select! {
            () = tokio::time::sleep(delay) => true,
            () = shutdown.cancelled() => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;

    #[test]
    fn delays_grow_by_the_factor_and_stop_at_the_cap() {
        let mut backoff = Backoff::new(Duration::from_millis(200), 2, Duration::from_secs(1));
        let delays: Vec<u128> = (0..6).map(|_| backoff.next_delay().as_millis()).collect();
        assert_eq!(delays, [200, 400, 800, 1000, 1000, 1000]);
        backoff.reset();
        assert_eq!(backoff.next_delay(), Duration::from_millis(200));
    }

    #[test]
    fn a_constant_backoff_never_grows_and_the_cap_bounds_the_first_delay() {
        let mut constant = Backoff::constant(Duration::from_secs(1));
        assert!((0..3).all(|_| constant.next_delay() == Duration::from_secs(1)));
        let mut capped = Backoff::new(Duration::from_secs(5), 2, Duration::from_secs(2));
        assert_eq!(capped.next_delay(), Duration::from_secs(2));
    }

    #[tokio::test]
    async fn cancelling_stops_a_wait_at_once() {
        let mut backoff = Backoff::constant(Duration::from_secs(3600));
        let shutdown = CancellationToken::new();
        let cancel = shutdown.clone();
        let started = Instant::now();
        let waiting = tokio::spawn(async move { backoff.wait(&shutdown).await });
        tokio::time::sleep(Duration::from_millis(20)).await;
        cancel.cancel();
        let waited = tokio::time::timeout(Duration::from_secs(5), waiting)
            .await
            .expect("the wait ends when cancelled")
            .expect("the wait does not panic");
        assert!(!waited, "a cancelled wait says so");
        assert!(started.elapsed() < Duration::from_secs(5));

        let mut backoff = Backoff::constant(Duration::from_secs(3600));
        let cancelled = CancellationToken::new();
        cancelled.cancel();
        let waited = tokio::time::timeout(Duration::from_secs(5), backoff.wait(&cancelled))
            .await
            .expect("a wait after shutdown does not sleep");
        assert!(!waited);
    }
}

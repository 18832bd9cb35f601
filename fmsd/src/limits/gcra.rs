//! GCRA, the generic cell rate algorithm: a limit of `n` attempts a minute kept as one number
//! per key, its theoretical arrival time (TAT). An attempt moves the TAT one interval (a minute
//! over `n`) past `max(TAT, now)`; it is refused while the TAT is more than `n - 1` intervals
//! ahead of now. So a quiet key takes a burst of `n`, then one attempt per interval, exactly
//! like a token bucket, but its whole state is a single integer a database row can hold and one
//! write can update.
//!
//! Pure arithmetic on microseconds since the Unix epoch; both stores (`adapters/`) run it, so
//! they refuse the same attempts.

use std::time::Duration;

/// Microseconds since the Unix epoch, from the process clock.
pub type Micros = i64;

/// A minute, in microseconds.
const MINUTE: Micros = 60_000_000;
/// An hour, in microseconds.
const HOUR: Micros = 60 * MINUTE;

/// `n` attempts a minute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// How long one attempt takes to come back: a minute over `n`.
    interval: Micros,
    /// How far the TAT may run ahead of now with one more attempt still let in: `n - 1`
    /// intervals, so `n` fit in a burst.
    tolerance: Micros,
}

impl Rate {
    /// `n` attempts a minute; `n` of 0 is taken as 1, so a limit never locks a key for good.
    pub fn per_minute(n: u32) -> Self {
        Self::per(n, MINUTE)
    }

    /// `n` attempts an hour; `n` of 0 is taken as 1.
    pub fn per_hour(n: u32) -> Self {
        Self::per(n, HOUR)
    }

    /// `n` attempts per `window`.
    fn per(n: u32, window: Micros) -> Self {
        let n = Micros::from(n.max(1));
        let interval = window / n;
        Self {
            interval,
            tolerance: interval * (n - 1),
        }
    }

    /// How long one attempt takes to come back.
    pub fn interval(&self) -> Duration {
        micros(self.interval)
    }
}

/// One attempt at `now` on a key whose TAT is `tat` (0 for a key never seen): the new TAT when
/// it is let in, else how long until it would be.
pub fn admit(tat: Micros, now: Micros, rate: Rate) -> Result<Micros, Duration> {
    let start = tat.max(now);
    let ahead = start.saturating_sub(now);
    if ahead > rate.tolerance {
        Err(micros(ahead - rate.tolerance))
    } else {
        Ok(start.saturating_add(rate.interval))
    }
}

/// One attempt at `now` on several keys at once, all or none: the new TATs, in order, when
/// every key lets it in; else the longest wait among the keys that refuse it.
pub fn admit_all(keys: &[(Micros, Rate)], now: Micros) -> Result<Vec<Micros>, Duration> {
    let outcomes: Vec<_> = keys
        .iter()
        .map(|&(tat, rate)| admit(tat, now, rate))
        .collect();
    let longest_wait = outcomes.iter().filter_map(|outcome| outcome.err()).max();
    match longest_wait {
        Some(wait) => Err(wait),
        None => Ok(outcomes.into_iter().flatten().collect()),
    }
}

/// The TAT once an attempt [`admit`] let in is given back: one interval earlier. A TAT that
/// falls behind now means the same as now (the key is quiet), so nothing is clamped.
pub fn give_back(tat: Micros, rate: Rate) -> Micros {
    tat.saturating_sub(rate.interval)
}

/// Non-negative microseconds as a duration.
fn micros(value: Micros) -> Duration {
    Duration::from_micros(u64::try_from(value).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const NOW: Micros = 1_800_000_000_000_000;

    /// Attempts at the same moment until one is refused: how many got in, and the wait.
    fn burst(mut tat: Micros, now: Micros, rate: Rate) -> (u32, Duration, Micros) {
        let mut n_admitted = 0;
        loop {
            match admit(tat, now, rate) {
                Ok(next) => {
                    tat = next;
                    n_admitted += 1;
                }
                Err(wait) => return (n_admitted, wait, tat),
            }
        }
    }

    #[test]
    fn a_quiet_key_takes_a_burst_of_n_then_waits_one_interval() {
        let rate = Rate::per_minute(10);
        assert_eq!(rate.interval(), Duration::from_secs(6));
        let (n_admitted, wait, tat) = burst(0, NOW, rate);
        assert_eq!(n_admitted, 10);
        assert_eq!(wait, Duration::from_secs(6));
        assert_eq!(tat, NOW + 10 * 6_000_000);
    }

    #[test]
    fn one_attempt_comes_back_per_interval() {
        let rate = Rate::per_minute(5);
        let (_, _, tat) = burst(0, NOW, rate);
        // Just before the interval has passed: still refused, with the rest of the wait.
        assert_eq!(
            admit(tat, NOW + 11_999_999, rate),
            Err(Duration::from_micros(1))
        );
        let tat = admit(tat, NOW + 12_000_000, rate).unwrap();
        assert!(admit(tat, NOW + 12_000_000, rate).is_err());
        // A minute of quiet brings the whole burst back, and no more.
        let (n_admitted, _, _) = burst(tat, NOW + 12_000_000 + MINUTE, rate);
        assert_eq!(n_admitted, 5);
    }

    #[test]
    fn a_tat_long_past_counts_as_a_quiet_key() {
        let rate = Rate::per_minute(3);
        assert_eq!(admit(NOW - 3_600_000_000, NOW, rate), Ok(NOW + 20_000_000));
    }

    #[test]
    fn a_rate_of_zero_is_one_a_minute() {
        let (n_admitted, wait, _) = burst(0, NOW, Rate::per_minute(0));
        assert_eq!((n_admitted, wait), (1, Duration::from_secs(60)));
    }

    #[test]
    fn giving_back_undoes_an_attempt() {
        let rate = Rate::per_minute(5);
        let (_, _, full) = burst(0, NOW, rate);
        let before = give_back(full, rate);
        let again = admit(before, NOW, rate).unwrap();
        assert_eq!(again, full);
        // A quiet key given back stays quiet: the TAT behind now admits like 0 does.
        let tat = admit(0, NOW, rate).unwrap();
        assert_eq!(admit(give_back(tat, rate), NOW, rate), admit(0, NOW, rate));
    }

    #[test]
    fn several_keys_are_charged_all_or_none_with_the_longest_wait() {
        let (small, large) = (Rate::per_minute(2), Rate::per_minute(30));
        let (_, _, full) = burst(0, NOW, small);
        assert_eq!(
            admit_all(&[(0, large), (full, small)], NOW),
            Err(Duration::from_secs(30))
        );
        assert_eq!(
            admit_all(&[(0, large), (0, small)], NOW),
            Ok(vec![NOW + 2_000_000, NOW + 30_000_000])
        );
        let (_, _, large_full) = burst(0, NOW, large);
        assert_eq!(
            admit_all(&[(large_full, large), (full, small)], NOW),
            Err(Duration::from_secs(30))
        );
    }

    proptest! {
        /// However attempts are spread over a window, no more get in than the burst plus one
        /// per interval of the window: the documented limit, never more.
        #[test]
        fn never_more_than_the_burst_plus_one_per_interval(
            n in 1u32..40,
            mut offsets in proptest::collection::vec(0i64..(3 * MINUTE), 1..300),
        ) {
            let rate = Rate::per_minute(n);
            offsets.sort_unstable();
            let window = offsets[offsets.len() - 1] - offsets[0];
            let mut tat = 0;
            let mut n_admitted = 0i64;
            for offset in offsets {
                if let Ok(next) = admit(tat, NOW + offset, rate) {
                    tat = next;
                    n_admitted += 1;
                }
            }
            prop_assert!(n_admitted <= i64::from(n) + window / rate.interval);
        }
    }
}

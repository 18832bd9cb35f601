//! The `RateLimitStore` contract, written once and run against process memory, SQLite and the
//! real PostgreSQL: a quiet key takes its burst and then waits one interval, an attempt on
//! several keys charges all or none, a given-back attempt can be taken again, and two handles
//! on one store (two fmsd instances on one database) counting the same key at the same moment
//! let in no more than the limit between them. `outage` checks that a store that cannot be
//! reached refuses instead of letting attempts through.
//!
//! Isolation: every key names a fresh random account; every PostgreSQL test makes a database
//! of its own.

use std::sync::Arc;
use std::time::Duration;

use fmsd::limits::adapters::memory::MemoryRateLimitStore;
use fmsd::limits::adapters::sql::SqlRateLimitStore;
use fmsd::limits::gcra::{Micros, Rate};
use fmsd::limits::ports::{Limit, LimitKey, RateLimitStore, Verdict};
use fmsd::store_url::StoreUrl;

#[cfg(feature = "postgres")]
mod outage;

/// Some moment, in microseconds since the epoch.
const NOW: Micros = 1_800_000_000_000_000;

/// Attempts sent at once from the two handles in the concurrency check.
const N_AT_ONCE: usize = 40;

fn limit(rate: Rate) -> Limit {
    Limit {
        key: LimitKey::account(&format!("{}@example.com", uuid::Uuid::new_v4())),
        rate,
    }
}

/// Attempts on `limit` at `now` until one is refused: how many got in, and the wait.
async fn until_refused(store: &dyn RateLimitStore, limit: &Limit, now: Micros) -> (u32, Duration) {
    let mut n_admitted = 0;
    loop {
        match store.acquire(vec![limit.clone()], now).await.unwrap() {
            Verdict::Admitted => n_admitted += 1,
            Verdict::Refused { retry_after } => return (n_admitted, retry_after),
        }
        assert!(n_admitted < 1000, "the limit never refused");
    }
}

/// The contract. `first` and `second` are two handles on one store: the same one for process
/// memory, two opens of one database for SQL.
async fn rate_limit_store_works(first: Arc<dyn RateLimitStore>, second: Arc<dyn RateLimitStore>) {
    let five = Rate::per_minute(5);

    // A burst of five, then a wait of one interval (12 s), whichever handle asks.
    let key = limit(five);
    assert_eq!(
        until_refused(first.as_ref(), &key, NOW).await,
        (5, Duration::from_secs(12))
    );
    assert_eq!(
        until_refused(second.as_ref(), &key, NOW).await,
        (0, Duration::from_secs(12))
    );
    // One interval later one attempt is back, and only one.
    assert_eq!(
        until_refused(second.as_ref(), &key, NOW + 12_000_000).await,
        (1, Duration::from_secs(12))
    );

    // Other keys are not touched.
    assert_eq!(until_refused(first.as_ref(), &limit(five), NOW).await.0, 5);

    // Two keys at once: the used-up one refuses, and the other is not charged for it.
    let fresh = limit(Rate::per_minute(30));
    let refused = first
        .acquire(vec![fresh.clone(), key.clone()], NOW + 12_000_000)
        .await
        .unwrap();
    assert_eq!(
        refused,
        Verdict::Refused {
            retry_after: Duration::from_secs(12)
        }
    );
    assert_eq!(until_refused(second.as_ref(), &fresh, NOW).await.0, 30);

    // A given-back attempt can be taken again, by the other handle too.
    first.give_back(vec![key.clone()]).await.unwrap();
    assert_eq!(
        until_refused(second.as_ref(), &key, NOW + 12_000_000)
            .await
            .0,
        1
    );
    // Giving back on a key never counted changes nothing a quiet key would not have.
    let never = limit(five);
    second.give_back(vec![never.clone()]).await.unwrap();
    assert_eq!(until_refused(first.as_ref(), &never, NOW).await.0, 5);

    // Attempts sent at once from both handles: no more get in than the limit between them.
    let contested = limit(five);
    let attempts = (0..N_AT_ONCE).map(|n| {
        let store = if n % 2 == 0 {
            first.clone()
        } else {
            second.clone()
        };
        let limits = vec![contested.clone(), limit(Rate::per_minute(1000))];
        tokio::spawn(async move { store.acquire(limits, NOW).await.unwrap() })
    });
    let verdicts = futures::future::join_all(attempts).await;
    let n_admitted = verdicts
        .into_iter()
        .filter(|verdict| *verdict.as_ref().unwrap() == Verdict::Admitted)
        .count();
    assert_eq!(
        n_admitted, 5,
        "{N_AT_ONCE} attempts at once let {n_admitted} in"
    );
}

#[tokio::test]
async fn memory_keeps_the_rate_limit_contract() {
    let store: Arc<dyn RateLimitStore> = Arc::new(MemoryRateLimitStore::new());
    rate_limit_store_works(store.clone(), store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_keeps_the_rate_limit_contract() {
    let dir = tempfile::tempdir().unwrap();
    let url = StoreUrl::Sqlite(dir.path().join("limits.db"));
    let first = Arc::new(SqlRateLimitStore::open(&url).await.unwrap());
    let second = Arc::new(SqlRateLimitStore::open(&url).await.unwrap());
    rate_limit_store_works(first, second).await;
}

#[cfg(feature = "postgres")]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_keeps_the_rate_limit_contract() {
    let database = crate::support::TestDatabase::create().await;
    let first = Arc::new(
        SqlRateLimitStore::open(&database.store_url())
            .await
            .unwrap(),
    );
    let second = Arc::new(
        SqlRateLimitStore::open(&database.store_url())
            .await
            .unwrap(),
    );
    rate_limit_store_works(first, second).await;
}

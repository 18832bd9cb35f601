//! What a password-guessing limit check costs (figures, not a test): one `acquire` on each
//! `RateLimitStore` — process memory, SQLite, and, when `FMS_TEST_POSTGRES_URL` is set
//! (`scripts/services.sh` writes it), PostgreSQL — one caller at a time on fresh keys (a login:
//! two keys), then many callers at once on one key (a guesser hammering one account).
//!
//! `cargo bench -p fmsd --bench limits`; it prints the median and the 99th percentile.

#![allow(missing_docs, clippy::unwrap_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use fmsd::limits::adapters::memory::MemoryRateLimitStore;
use fmsd::limits::adapters::sql::SqlRateLimitStore;
use fmsd::limits::gcra::Rate;
use fmsd::limits::ports::{Limit, LimitKey, RateLimitStore};
use fmsd::store_url::StoreUrl;

/// Calls per figure.
const N_CALLS: usize = 2000;
/// Callers at once in the contended figure.
const N_CALLERS: usize = 16;

/// A login's two limits, on keys no other call uses.
fn login_limits(n: usize) -> Vec<Limit> {
    vec![
        Limit {
            key: LimitKey::login_client(std::net::IpAddr::from([10, 0, (n >> 8) as u8, n as u8])),
            rate: Rate::per_minute(30),
        },
        Limit {
            key: LimitKey::account(&format!("bench-{n}@example.com")),
            rate: Rate::per_minute(10),
        },
    ]
}

fn now() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

/// Median and 99th percentile of `times`.
fn summary(mut times: Vec<Duration>) -> String {
    times.sort_unstable();
    let at = |q: f64| times[((times.len() - 1) as f64 * q) as usize];
    format!("median {:>9.1?}  p99 {:>9.1?}", at(0.5), at(0.99))
}

async fn measure(name: &str, store: Arc<dyn RateLimitStore>) {
    let mut alone = Vec::with_capacity(N_CALLS);
    for n in 0..N_CALLS {
        let started = Instant::now();
        store.acquire(login_limits(n), now()).await.unwrap();
        alone.push(started.elapsed());
    }
    let hot = vec![Limit {
        key: LimitKey::account("hammered@example.com"),
        rate: Rate::per_minute(10),
    }];
    let callers = (0..N_CALLERS).map(|_| {
        let (store, hot) = (store.clone(), hot.clone());
        tokio::spawn(async move {
            let mut times = Vec::with_capacity(N_CALLS / N_CALLERS);
            for _ in 0..N_CALLS / N_CALLERS {
                let started = Instant::now();
                store.acquire(hot.clone(), now()).await.unwrap();
                times.push(started.elapsed());
            }
            times
        })
    });
    let contended: Vec<Duration> = futures::future::join_all(callers)
        .await
        .into_iter()
        .flat_map(Result::unwrap)
        .collect();
    println!(
        "{name:<10} one caller, a login's 2 keys: {}   {N_CALLERS} callers on 1 key: {}",
        summary(alone),
        summary(contended)
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    measure("memory", Arc::new(MemoryRateLimitStore::new())).await;

    let dir = tempfile::tempdir().unwrap();
    let sqlite = StoreUrl::Sqlite(dir.path().join("limits.db"));
    measure(
        "sqlite",
        Arc::new(SqlRateLimitStore::open(&sqlite).await.unwrap()),
    )
    .await;

    #[cfg(feature = "postgres")]
    postgres().await;
}

/// The PostgreSQL figures, in a database of their own, dropped afterwards.
#[cfg(feature = "postgres")]
async fn postgres() {
    use diesel::{Connection, PgConnection, RunQueryDsl};

    let Ok(admin) = std::env::var("FMS_TEST_POSTGRES_URL") else {
        println!("postgres   not measured: FMS_TEST_POSTGRES_URL is not set");
        return;
    };
    let name = format!("fms_bench_limits_{}", uuid::Uuid::new_v4().simple());
    let mut connection = PgConnection::establish(&admin).unwrap();
    diesel::sql_query(format!("CREATE DATABASE {name}"))
        .execute(&mut connection)
        .unwrap();
    let mut url = url::Url::parse(&admin).unwrap();
    url.set_path(&format!("/{name}"));
    let store = SqlRateLimitStore::open(&StoreUrl::Postgres(url.to_string()))
        .await
        .unwrap();
    measure("postgres", Arc::new(store)).await;
    diesel::sql_query(format!("DROP DATABASE {name} WITH (FORCE)"))
        .execute(&mut connection)
        .unwrap();
}

//! What the one SQL layer costs (figures, not a test): the same statements through
//! `DbConnection` — diesel's `MultiConnection`, which every SQL store uses — and through the
//! engine's own connection, side by side on SQLite and, when `FMS_TEST_POSTGRES_URL` is set
//! (`scripts/services.sh` writes it), on PostgreSQL. Run by `scripts/bench-sql.sh`.
//!
//! Two workloads per engine: point reads (the CPU cost of building, dispatching and decoding a
//! query shows there) and durable single-row writes (what an upload or a move does). Each is
//! run in alternating rounds on both connections and the median round is reported.

// A build without the postgres feature has one engine, so unwrapping a SQLite connection is
// irrefutable there.
#![allow(missing_docs, clippy::unwrap_used, irrefutable_let_patterns)]

use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::ManageConnection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use fmsd::db::connection::{Manager, Target};
use fmsd::db::DbConnection;

diesel::table! {
    processed_events (consumer, event_id) {
        consumer -> Text,
        event_id -> Text,
    }
}

const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/notifications");
#[cfg(feature = "postgres")]
const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/notifications-postgres");

/// Rounds per workload and connection; the median is reported.
const ROUNDS: usize = 5;

/// `n` point reads, then `n` single-row writes, on `$connection`; returns both durations.
macro_rules! workload {
    ($connection:expr, $n:expr, $round:expr) => {{
        let connection = $connection;
        let started = Instant::now();
        for i in 0..$n {
            let key = format!("seed-{}", i % 100);
            let found: bool = diesel::select(diesel::dsl::exists(
                processed_events::table
                    .filter(processed_events::consumer.eq("bench"))
                    .filter(processed_events::event_id.eq(key)),
            ))
            .get_result(connection)
            .unwrap();
            assert!(found);
        }
        let reads = started.elapsed();
        let started = Instant::now();
        for i in 0..$n / 10 {
            diesel::insert_into(processed_events::table)
                .values((
                    processed_events::consumer.eq("bench"),
                    processed_events::event_id.eq(format!("r{}-{i}", $round)),
                ))
                .execute(connection)
                .unwrap();
        }
        (reads, started.elapsed())
    }};
}

/// Two fresh connections to `target` (migrated, seeded): one kept as a `DbConnection`, one
/// unwrapped to the engine's own.
fn pair(target: Target, migrations: EmbeddedMigrations) -> (DbConnection, DbConnection) {
    let manager = Manager::new(target);
    let mut first = manager.connect().unwrap();
    first.run_pending_migrations(migrations).unwrap();
    let seed: String = (0..100)
        .map(|i| format!("INSERT INTO processed_events VALUES ('bench', 'seed-{i}');"))
        .collect();
    first.batch_execute(&seed).unwrap();
    (first, manager.connect().unwrap())
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn report(engine: &str, n: usize, multi: &[(Duration, Duration)], own: &[(Duration, Duration)]) {
    let per = |d: Duration, count: usize| d.as_secs_f64() * 1e6 / count as f64;
    let column = |runs: &[(Duration, Duration)], write: bool| {
        median(runs.iter().map(|r| if write { r.1 } else { r.0 }).collect())
    };
    for (what, write, count) in [("point read", false, n), ("durable write", true, n / 10)] {
        let (m, o) = (
            per(column(multi, write), count),
            per(column(own, write), count),
        );
        println!(
            "{engine:<10} {what:<14} {count:>6} × | DbConnection {m:>9.1} µs | own connection {o:>9.1} µs | ratio {:.3}",
            m / o
        );
    }
}

fn run_sqlite(n: usize) {
    let dir = tempfile::tempdir().unwrap();
    let target = |name: &str| Target::Sqlite(dir.path().join(name).to_string_lossy().into_owned());
    let (mut multi, _) = pair(target("multi.db"), SQLITE);
    let (own, _) = pair(target("own.db"), SQLITE);
    let DbConnection::Sqlite(mut own) = own else {
        unreachable!("a SQLite target gives a SQLite connection")
    };
    let (mut multi_runs, mut own_runs) = (Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        multi_runs.push(workload!(&mut multi, n, round));
        own_runs.push(workload!(&mut own, n, round));
    }
    report("sqlite", n, &multi_runs, &own_runs);
}

#[cfg(feature = "postgres")]
fn run_postgres(n: usize, admin_url: &str) {
    let name = format!("fms_bench_{}", uuid::Uuid::new_v4().simple());
    let mut admin = PgConnection::establish(admin_url).unwrap();
    diesel::sql_query(format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .unwrap();
    let mut url = url::Url::parse(admin_url).unwrap();
    url.set_path(&format!("/{name}"));
    {
        let (mut multi, own) = pair(Target::Postgres(url.to_string()), POSTGRES);
        let DbConnection::Postgres(mut own) = own else {
            unreachable!("a PostgreSQL target gives a PostgreSQL connection")
        };
        let (mut multi_runs, mut own_runs) = (Vec::new(), Vec::new());
        for round in 0..ROUNDS {
            multi_runs.push(workload!(&mut multi, n, round));
            // The second connection writes the same table: other keys.
            own_runs.push(workload!(&mut own, n, round + ROUNDS));
        }
        report("postgres", n, &multi_runs, &own_runs);
    }
    diesel::sql_query(format!("DROP DATABASE {name} WITH (FORCE)"))
        .execute(&mut admin)
        .unwrap();
}

fn main() {
    let n: usize = std::env::var("BENCH_STATEMENTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(20_000);
    println!("median of {ROUNDS} alternating rounds; durable writes are one-row INSERTs, each its own commit");
    run_sqlite(n);
    match std::env::var("FMS_TEST_POSTGRES_URL") {
        #[cfg(feature = "postgres")]
        Ok(url) => run_postgres(n, &url),
        #[cfg(not(feature = "postgres"))]
        Ok(_) => println!("postgres   skipped: built without the postgres feature"),
        Err(_) => println!("postgres   skipped: FMS_TEST_POSTGRES_URL is not set"),
    }
}

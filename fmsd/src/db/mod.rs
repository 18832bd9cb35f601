//! The SQL layer every service store stands on, written once over both engines: SQLite for the
//! embedded default (one database file per service, WAL, durable commits) and PostgreSQL for
//! the real stack, picked by the store URL.
//!
//! - [`connection`]: [`DbConnection`], diesel's `MultiConnection` over both engines, and the
//!   pool's connection manager.
//! - [`dialect`]: the few statements that differ per engine, side by side.
//! - [`error`]: the one mapping of diesel's errors, the same on both engines.
//! - [`outbox`]: the outbox and processed-event tables every service database has.
//!
//! **Invariant:** `db` knows no service and no port: services' adapters use it, the bus's
//! outbox adapter reads through it, and it imports neither.
//!
//! diesel is blocking, so every query runs on tokio's blocking pool through
//! [`Database::run`], which keeps the caller's tracing span.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use diesel::connection::SimpleConnection;
use diesel::r2d2::Pool;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness};

use crate::error::{Error, Result};
use crate::store_url::StoreUrl;

pub mod connection;
pub mod dialect;
pub mod error;
pub mod outbox;

pub use connection::DbConnection;
use connection::{Manager, Target};
pub use error::{map_error, map_transaction_error};

/// A service's migrations, one set per engine (the DDL is where the engines differ most:
/// collations, types, sequences).
pub struct Migrations {
    /// For SQLite.
    pub sqlite: EmbeddedMigrations,
    /// For PostgreSQL.
    #[cfg(feature = "postgres")]
    pub postgres: EmbeddedMigrations,
}

/// A pooled database on either engine.
#[derive(Clone)]
pub struct Database {
    /// Connections are cheap but not free; the pool caps them and hands them to blocking tasks.
    pool: Pool<Manager>,
    /// SQLite takes one writer at a time, and a writer that finds the lock taken sleeps in the
    /// busy handler, waking later and later: under 8 clients that made a token refresh's p99
    /// 100× its p50. So the process's writers take turns here first, in the order they came,
    /// and each BEGIN IMMEDIATE finds the lock free. PostgreSQL has row locks: `None`.
    writers: Option<Arc<tokio::sync::Mutex<()>>>,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database").finish_non_exhaustive()
    }
}

impl Database {
    /// Opens the database of the store `what` at `url` (`sqlite://` or `postgres://`) and
    /// runs its migrations; any other scheme is refused with the ones that work.
    pub async fn open(what: &str, url: &StoreUrl, migrations: Migrations) -> anyhow::Result<Self> {
        match url {
            StoreUrl::Sqlite(path) => Self::sqlite(path, migrations.sqlite),
            #[cfg(feature = "postgres")]
            StoreUrl::Postgres(url) => Self::postgres(url, migrations.postgres).await,
            #[cfg(not(feature = "postgres"))]
            StoreUrl::Postgres(_) => Err(crate::store_url::not_built(what, "postgres")),
            other => Err(crate::store_url::unsupported(
                what,
                other,
                "sqlite:// or postgres://",
            )),
        }
    }

    /// Opens (creating if needed) the SQLite database at `path` and runs `migrations`.
    pub fn sqlite(path: &Path, migrations: EmbeddedMigrations) -> anyhow::Result<Self> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("failed to create {}", parent.display()))?;
        }
        let target = Target::Sqlite(path.to_string_lossy().into_owned());
        let pool = Pool::builder()
            .max_size(8)
            // A file on this machine has no server to go away: no `SELECT 1` before each use.
            .test_on_check_out(false)
            .connection_timeout(Duration::from_secs(10))
            .build(Manager::new(target))
            .with_context(|| format!("failed to open {}", path.display()))?;
        let writers = Some(Arc::new(tokio::sync::Mutex::new(())));
        Self::migrate(pool, migrations, writers)
            .with_context(|| format!("failed to migrate {}", path.display()))
    }

    /// Connects to the PostgreSQL database at `url` and runs `migrations`. Never logs the URL
    /// (it may hold a password).
    #[cfg(feature = "postgres")]
    pub async fn postgres(url: &str, migrations: EmbeddedMigrations) -> anyhow::Result<Self> {
        let target = Target::Postgres(url.to_owned());
        tokio::task::spawn_blocking(move || {
            let pool = Pool::builder()
                .max_size(16)
                // Open connections as needed: many instances and tests share one server's limit.
                .min_idle(Some(1))
                .connection_timeout(Duration::from_secs(10))
                .build(Manager::new(target))
                .context("failed to connect to PostgreSQL")?;
            Self::migrate(pool, migrations, None)
                .context("failed to migrate the PostgreSQL database")
        })
        .await
        .context("the PostgreSQL connect task failed")?
    }

    /// Runs the pending `migrations` on one of `pool`'s connections.
    fn migrate(
        pool: Pool<Manager>,
        migrations: EmbeddedMigrations,
        writers: Option<Arc<tokio::sync::Mutex<()>>>,
    ) -> anyhow::Result<Self> {
        let mut connection = pool.get().context("failed to get a connection")?;
        connection
            .run_pending_migrations(migrations)
            .map_err(|error| anyhow::anyhow!("{error}"))?;
        drop(connection);
        Ok(Self { pool, writers })
    }

    /// Runs `work` with a connection on the blocking pool, keeping the caller's span; no free
    /// connection in time is `Unavailable`.
    pub async fn run<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T> + Send + 'static,
    {
        let pool = self.pool.clone();
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || {
            let _entered = span.enter();
            let mut connection = pool.get().map_err(Error::unavailable)?;
            work(&mut connection)
        })
        .await
        .map_err(Error::internal)?
    }

    /// Runs `work` in a write transaction (see [`dialect`]) on the blocking pool. A failed
    /// BEGIN or COMMIT is `Unavailable`: nothing was written, and the store may take it later.
    /// READ COMMITTED raises no serialization failure, so a transaction never needs to run
    /// twice; a deadlock or a lost connection is `Unavailable` for the caller to retry.
    pub async fn write<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T> + Send + 'static,
    {
        // The turn goes with the work, so a caller that stops waiting does not let the next
        // writer in while its transaction still runs.
        let turn = match &self.writers {
            Some(writers) => Some(writers.clone().lock_owned().await),
            None => None,
        };
        self.run(move |connection| {
            let _turn = turn;
            transaction(connection, work)
        })
        .await
    }

    /// Whether a query goes through.
    pub async fn ping(&self) -> Result<()> {
        self.run(|connection| {
            connection
                .batch_execute("SELECT 1")
                .map_err(Error::unavailable)
        })
        .await
    }
}

/// One BEGIN, `work`, COMMIT (or ROLLBACK when `work` failed).
fn transaction<T>(
    connection: &mut DbConnection,
    work: impl FnOnce(&mut DbConnection) -> Result<T>,
) -> Result<T> {
    dialect::begin(connection).map_err(map_transaction_error)?;
    match work(connection) {
        Ok(value) => {
            dialect::commit(connection).map_err(map_transaction_error)?;
            Ok(value)
        }
        Err(error) => {
            // A rollback that fails leaves the connection broken; the pool then drops it.
            if let Err(rollback) = dialect::rollback(connection) {
                tracing::warn!(error = %rollback, "rollback failed");
            }
            Err(error)
        }
    }
}

#[async_trait::async_trait]
impl crate::health::Probe for Database {
    async fn probe(&self) -> Result<()> {
        self.ping().await
    }
}

//! PostgreSQL through diesel for the real stack: a pooled connection, migrations embedded in the
//! binary and run at connect, queries on the blocking pool (diesel is blocking) keeping the
//! caller's tracing span.

use std::time::Duration;

use anyhow::Context;
use diesel::connection::SimpleConnection;
use diesel::r2d2::{ConnectionManager, Pool};
use diesel::PgConnection;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness};

use crate::error::{Error, Result};

/// A pooled PostgreSQL database.
#[derive(Clone)]
pub struct Postgres {
    /// Caps connections and hands them to blocking tasks.
    pool: Pool<ConnectionManager<PgConnection>>,
}

impl std::fmt::Debug for Postgres {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Postgres").finish_non_exhaustive()
    }
}

impl Postgres {
    /// Connects to `url` and runs `migrations`. Never logs the URL (it may hold a password).
    pub async fn connect(url: &str, migrations: EmbeddedMigrations) -> anyhow::Result<Self> {
        let url = url.to_owned();
        tokio::task::spawn_blocking(move || {
            let pool = Pool::builder()
                .max_size(16)
                // Open connections as needed: many instances and tests share one server's limit.
                .min_idle(Some(1))
                .connection_timeout(Duration::from_secs(10))
                .build(ConnectionManager::<PgConnection>::new(url))
                .context("failed to connect to PostgreSQL")?;
            let mut connection = pool
                .get()
                .context("failed to get a PostgreSQL connection")?;
            connection
                .run_pending_migrations(migrations)
                .map_err(|error| anyhow::anyhow!("{error}"))
                .context("failed to migrate the PostgreSQL database")?;
            Ok(Self { pool })
        })
        .await
        .context("the PostgreSQL connect task failed")?
    }

    /// Runs `work` with a connection on the blocking pool; a pool timeout is `Unavailable`.
    pub async fn run<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut PgConnection) -> Result<T> + Send + 'static,
    {
        super::run_pooled(&self.pool, work).await
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

#[async_trait::async_trait]
impl crate::health::Probe for Postgres {
    async fn probe(&self) -> Result<()> {
        self.ping().await
    }
}

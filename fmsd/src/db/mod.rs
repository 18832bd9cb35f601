//! SQLite through diesel for the embedded default: one database file per service, migrations
//! embedded in the binary and run at open, WAL so readers never wait for the writer.
//!
//! [`outbox`] holds the outbox and processed-event tables every service database has.
//! With the `postgres` feature, `postgres` and `postgres_outbox` are the same for PostgreSQL.
//!
//! diesel is blocking, so every query runs on tokio's blocking pool through [`Sqlite::run`],
//! which keeps the caller's tracing span.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use diesel::connection::SimpleConnection;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool, PooledConnection};
use diesel::SqliteConnection;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness};

use crate::error::{Error, Result};

pub mod outbox;
#[cfg(feature = "postgres")]
pub mod postgres;
#[cfg(feature = "postgres")]
pub mod postgres_outbox;

/// A pooled SQLite database.
#[derive(Clone)]
pub struct Sqlite {
    /// Connections are cheap but not free; the pool caps them and hands them to blocking tasks.
    pool: Pool<ConnectionManager<SqliteConnection>>,
}

impl std::fmt::Debug for Sqlite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sqlite").finish_non_exhaustive()
    }
}

/// Sets the pragmas every connection needs.
#[derive(Debug)]
struct Pragmas;

impl CustomizeConnection<SqliteConnection, diesel::r2d2::Error> for Pragmas {
    fn on_acquire(
        &self,
        connection: &mut SqliteConnection,
    ) -> std::result::Result<(), diesel::r2d2::Error> {
        // busy_timeout first: switching to WAL itself takes a lock, and connections opened at
        // the same moment must wait for it rather than fail. FULL makes a commit durable on
        // power loss, not only on a crash of fmsd.
        connection
            .batch_execute(
                "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; \
                 PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;",
            )
            .map_err(diesel::r2d2::Error::QueryError)
    }
}

impl Sqlite {
    /// Opens (creating if needed) the database at `path` and runs `migrations` on it.
    pub fn open(path: &Path, migrations: EmbeddedMigrations) -> anyhow::Result<Self> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("failed to create {}", parent.display()))?;
        }
        let manager = ConnectionManager::<SqliteConnection>::new(path.to_string_lossy());
        let pool = Pool::builder()
            .max_size(8)
            .connection_timeout(Duration::from_secs(10))
            .connection_customizer(Box::new(Pragmas))
            .build(manager)
            .with_context(|| format!("failed to open {}", path.display()))?;
        let mut connection = pool.get().context("failed to get a connection")?;
        connection
            .run_pending_migrations(migrations)
            .map_err(|error| anyhow::anyhow!("{error}"))
            .with_context(|| format!("failed to migrate {}", path.display()))?;
        Ok(Self { pool })
    }

    /// Runs `work` with a connection on the blocking pool.
    pub async fn run<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut SqliteConnection) -> Result<T> + Send + 'static,
    {
        run_pooled(&self.pool, work).await
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

/// Runs `work` with a connection from `pool` on tokio's blocking pool, keeping the caller's
/// span; no free connection in time is `Unavailable`.
pub async fn run_pooled<C, T, F>(pool: &Pool<ConnectionManager<C>>, work: F) -> Result<T>
where
    C: diesel::r2d2::R2D2Connection + Send + 'static,
    T: Send + 'static,
    F: FnOnce(&mut C) -> Result<T> + Send + 'static,
{
    let pool = pool.clone();
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || {
        let _entered = span.enter();
        let mut connection: PooledConnection<_> = pool.get().map_err(Error::unavailable)?;
        work(&mut connection)
    })
    .await
    .map_err(Error::internal)?
}

/// Maps a diesel error: a unique-key violation is a conflict, anything else internal.
pub fn map_error(error: diesel::result::Error, conflict: &str) -> Error {
    use diesel::result::{DatabaseErrorKind, Error as DieselError};
    match error {
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
            Error::Conflict(conflict.to_owned())
        }
        DieselError::NotFound => Error::NotFound("not found".into()),
        other => Error::internal(other),
    }
}

/// A diesel error with no meaning for the caller is internal; `?` applies this in adapters.
impl From<diesel::result::Error> for Error {
    fn from(error: diesel::result::Error) -> Self {
        Error::internal(error)
    }
}

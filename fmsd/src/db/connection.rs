//! The one connection type of the SQL layer: [`DbConnection`] is a SQLite or a PostgreSQL
//! connection behind diesel's `MultiConnection`, so a query written once with diesel's DSL runs
//! on either engine. [`Manager`] opens connections for the pool, with the engine picked by the
//! store URL and never by guessing.

use diesel::connection::SimpleConnection;
use diesel::r2d2::{Error as PoolError, ManageConnection, R2D2Connection};
use diesel::{Connection, SqliteConnection};

#[cfg(feature = "postgres")]
use diesel::PgConnection;

pub use engines::DbConnection;

/// The connection enum in a module of its own: the derive generates the common backend's types
/// (`MultiBackend`, its rows and binds) next to it, undocumented.
#[allow(missing_docs)]
mod engines {
    #[cfg(feature = "postgres")]
    use diesel::PgConnection;
    use diesel::SqliteConnection;

    /// A connection to one of the engines. Statements diesel's common backend cannot express
    /// (`RETURNING`, `ON CONFLICT`, row locks) go to the engine's own connection through
    /// [`crate::db::dialect::per_engine`].
    #[derive(diesel::MultiConnection)]
    pub enum DbConnection {
        /// The embedded default: a file of the service's own.
        Sqlite(SqliteConnection),
        /// The real stack.
        #[cfg(feature = "postgres")]
        Postgres(PgConnection),
    }
}

/// Where the pool's connections go.
#[derive(Debug, Clone)]
pub enum Target {
    /// A SQLite database file.
    Sqlite(String),
    /// A PostgreSQL URL. Never logged: it may hold a password.
    #[cfg(feature = "postgres")]
    Postgres(String),
}

/// The pragmas every SQLite connection needs. busy_timeout first: switching to WAL itself takes
/// a lock, and connections opened at the same moment must wait for it rather than fail. FULL
/// makes a commit durable on power loss, not only on a crash of fmsd.
const SQLITE_PRAGMAS: &str = "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; \
     PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;";

/// Opens the pool's connections to one [`Target`].
pub struct Manager {
    /// The database every connection of the pool goes to.
    target: Target,
}

impl std::fmt::Debug for Manager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Manager").finish_non_exhaustive()
    }
}

impl Manager {
    /// A manager for `target`.
    pub fn new(target: Target) -> Self {
        Self { target }
    }
}

impl ManageConnection for Manager {
    type Connection = DbConnection;
    type Error = PoolError;

    fn connect(&self) -> Result<DbConnection, PoolError> {
        match &self.target {
            Target::Sqlite(path) => {
                let mut connection =
                    SqliteConnection::establish(path).map_err(PoolError::ConnectionError)?;
                connection
                    .batch_execute(SQLITE_PRAGMAS)
                    .map_err(PoolError::QueryError)?;
                Ok(DbConnection::Sqlite(connection))
            }
            #[cfg(feature = "postgres")]
            Target::Postgres(url) => PgConnection::establish(url)
                .map(DbConnection::Postgres)
                .map_err(PoolError::ConnectionError),
        }
    }

    fn is_valid(&self, connection: &mut DbConnection) -> Result<(), PoolError> {
        connection.ping().map_err(PoolError::QueryError)
    }

    fn has_broken(&self, connection: &mut DbConnection) -> bool {
        std::thread::panicking() || connection.is_broken()
    }
}

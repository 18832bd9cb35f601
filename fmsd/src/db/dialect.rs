//! The few places where SQLite and PostgreSQL really differ, side by side; everything else in
//! the stores is written once with diesel's DSL over [`DbConnection`].
//!
//! - How a write transaction begins: SQLite takes its one write lock up front
//!   (`BEGIN IMMEDIATE`), so two writers never both read and then collide at their first write;
//!   PostgreSQL runs READ COMMITTED and serializes what must be serialized with locks.
//! - [`lock_owner`]: a transaction-scoped advisory lock on PostgreSQL, nothing on SQLite (whose
//!   write lock already serializes every writer).
//! - [`per_engine`]: statements both engines speak but diesel's common backend does not
//!   (`RETURNING`, `ON CONFLICT`) are written once and compiled for each engine's own
//!   connection.
//! - [`load_skip_locked`]: `FOR UPDATE SKIP LOCKED` on PostgreSQL, a plain select on SQLite.
//! - [`commit_without_flush`]: a commit that does not wait for the disk, on PostgreSQL only.

use diesel::connection::{AnsiTransactionManager, Connection, TransactionManager};
use diesel::QueryResult;
use uuid::Uuid;

use super::DbConnection;
use crate::error::Result;

/// Runs `$body` with `$inner` bound to the engine's own connection inside `$connection` (a
/// `&mut DbConnection`). The body is written once and compiled for each engine.
macro_rules! per_engine {
    ($connection:expr, |$inner:ident| $body:expr) => {
        match $connection {
            $crate::db::DbConnection::Sqlite($inner) => $body,
            #[cfg(feature = "postgres")]
            $crate::db::DbConnection::Postgres($inner) => $body,
        }
    };
}
pub(crate) use per_engine;

/// Loads `$query` (a select on `$connection`, a `&mut DbConnection`), locking the rows it picks
/// and skipping rows another transaction holds, on PostgreSQL; on SQLite the transaction's
/// write lock already keeps every other writer out.
macro_rules! load_skip_locked {
    ($connection:expr, $query:expr) => {
        match $connection {
            $crate::db::DbConnection::Sqlite(inner) => $query.load(inner),
            #[cfg(feature = "postgres")]
            $crate::db::DbConnection::Postgres(inner) => {
                $query.for_update().skip_locked().load(inner)
            }
        }
    };
}
pub(crate) use load_skip_locked;

/// Begins a write transaction the way the engine needs (see the module's doc).
pub fn begin(connection: &mut DbConnection) -> QueryResult<()> {
    match connection {
        DbConnection::Sqlite(inner) => {
            AnsiTransactionManager::begin_transaction_sql(inner, "BEGIN IMMEDIATE")
        }
        #[cfg(feature = "postgres")]
        DbConnection::Postgres(inner) => AnsiTransactionManager::begin_transaction_sql(
            inner,
            "BEGIN TRANSACTION ISOLATION LEVEL READ COMMITTED",
        ),
    }
}

/// Commits the transaction [`begin`] opened.
pub fn commit(connection: &mut DbConnection) -> QueryResult<()> {
    <DbConnection as Connection>::TransactionManager::commit_transaction(connection)
}

/// Rolls back the transaction [`begin`] opened.
pub fn rollback(connection: &mut DbConnection) -> QueryResult<()> {
    <DbConnection as Connection>::TransactionManager::rollback_transaction(connection)
}

/// The first key of the files service's advisory locks (`'fmsf'`), so they never collide with
/// another service's locks in a shared database; the second key is the owner's hash.
#[cfg(feature = "postgres")]
const OWNER_LOCK_CLASS: i32 = 0x666d_7366;

/// Serializes the writes of `owner` until the transaction ends: the quota check and the insert
/// it allows, the "is the path free" check and the insert, one owner's events in commit order.
/// On PostgreSQL two owners whose ids hash alike only wait for each other; on SQLite the
/// transaction already holds the database's write lock.
#[cfg_attr(not(feature = "postgres"), allow(unused_variables))]
pub fn lock_owner(connection: &mut DbConnection, owner: Uuid) -> Result<()> {
    match connection {
        DbConnection::Sqlite(_) => Ok(()),
        #[cfg(feature = "postgres")]
        DbConnection::Postgres(inner) => {
            use diesel::sql_types::{Integer, Text};
            use diesel::RunQueryDsl;
            diesel::sql_query("SELECT pg_advisory_xact_lock($1, hashtext($2))")
                .bind::<Integer, _>(OWNER_LOCK_CLASS)
                .bind::<Text, _>(owner.to_string())
                .execute(inner)?;
            Ok(())
        }
    }
}

/// Lets the current transaction's commit return before its WAL is on disk, on PostgreSQL
/// (`SET LOCAL synchronous_commit = off`): a crash of the server may lose the last fraction of
/// a second of such commits, but never corrupts or half-applies one. Only for state that costs
/// little to lose (rate-limit counts), never for data. Nothing on SQLite, where durability is
/// set per connection.
#[cfg_attr(not(feature = "postgres"), allow(unused_variables))]
pub fn commit_without_flush(connection: &mut DbConnection) -> Result<()> {
    match connection {
        DbConnection::Sqlite(_) => Ok(()),
        #[cfg(feature = "postgres")]
        DbConnection::Postgres(inner) => {
            use diesel::RunQueryDsl;
            diesel::sql_query("SET LOCAL synchronous_commit = off").execute(inner)?;
            Ok(())
        }
    }
}

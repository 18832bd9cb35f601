//! The file repo on PostgreSQL: the tree and the upload sessions in the files service's own
//! database, each write one READ COMMITTED transaction that also holds the outbox rows of its
//! events (`crate::db::postgres_outbox`). Same semantics and error cases as the SQLite repo.
//!
//! Concurrency: every write of an owner first takes a transaction-scoped advisory lock on that
//! owner (`pg_advisory_xact_lock`), then re-checks its rules, so two writes of one owner run one
//! after the other, as all writes do in SQLite, while different owners never wait for each
//! other. That is what keeps a path unique under concurrent mkdirs (besides the unique index),
//! keeps concurrent upload sessions within the quota, and keeps one owner's events in commit
//! order in the outbox. The expired-session sweep, which spans owners, locks the rows it ends
//! and skips those another transaction holds. A serialization failure (which READ COMMITTED
//! does not raise today) is retried a few times.
//!
//! Paths are unique per owner; a folder's children are listed through the index on
//! (owner, parent, name), whose `COLLATE "C"` is the byte order the API promises. A subtree is
//! a range scan on `path` (see [`RemotePath::descendant_range`]).
//!
//! `tree` holds the tree's queries, `uploads` the sessions' and the garbage's, `schema` the
//! tables (migrations in `migrations/files-postgres`, run at connect).

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use common::events::Outgoing;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel_migrations::{embed_migrations, EmbeddedMigrations};
use tokio::sync::Notify;
use uuid::Uuid;

use crate::bus::ports::Outbox;
use crate::db::postgres::Postgres;
use crate::db::postgres_outbox::{self as outbox, query_error, PostgresOutbox};
use crate::error::{Error, Result};
use crate::files::domain::{
    Garbage, Node, OverwritePolicy, RemotePath, Removal, Sha256Hex, Upload, UsageCounts,
};
use crate::files::ports::{EventsFor, FileRepo, NewFile};
use crate::health::Probe;

use super::schema;
mod sharing;
mod tree;
mod uploads;

const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/files-postgres");

/// How many times a transaction runs when PostgreSQL reports a serialization failure.
const ATTEMPTS: u32 = 3;

/// The files service's PostgreSQL database.
#[derive(Debug, Clone)]
pub struct PostgresFileRepo {
    /// The pooled database.
    db: Postgres,
    /// Notified after every commit that wrote events, so the outbox relay sends them at once.
    wake: Arc<Notify>,
}

impl PostgresFileRepo {
    /// Connects to `url` and migrates the database. Never logs the URL (it may hold a
    /// password).
    pub async fn connect(url: &str, wake: Arc<Notify>) -> anyhow::Result<Self> {
        Ok(Self {
            db: Postgres::connect(url, MIGRATIONS).await?,
            wake,
        })
    }

    /// The outbox in this database, for the relay.
    pub fn outbox(&self) -> Arc<dyn Outbox> {
        Arc::new(PostgresOutbox::new(self.db.clone()))
    }

    /// Runs `work` in a transaction on the blocking pool and wakes the relay after it
    /// committed, since it wrote events.
    async fn write_with_events<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnMut(&mut PgConnection) -> Result<T> + Send + 'static,
    {
        let result = self.write(work).await;
        if result.is_ok() {
            self.wake.notify_one();
        }
        result
    }

    /// Runs `work` in a transaction on the blocking pool.
    async fn write<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnMut(&mut PgConnection) -> Result<T> + Send + 'static,
    {
        self.db.run(move |connection| write(connection, work)).await
    }
}

/// Why a transaction failed: the work's own error, or diesel's at begin or commit.
enum TransactionError {
    /// The work returned an error; it was rolled back.
    Work(Error),
    /// BEGIN, COMMIT or ROLLBACK failed.
    Database(DieselError),
}

impl From<DieselError> for TransactionError {
    fn from(error: DieselError) -> Self {
        Self::Database(error)
    }
}

/// Runs `work` inside `BEGIN ISOLATION LEVEL READ COMMITTED ... COMMIT`, again (up to
/// [`ATTEMPTS`] times) if PostgreSQL refused it with a serialization failure.
fn write<T>(
    connection: &mut PgConnection,
    mut work: impl FnMut(&mut PgConnection) -> Result<T>,
) -> Result<T> {
    let mut attempt = 1;
    loop {
        let result = connection
            .build_transaction()
            .read_committed()
            .run(|connection| work(connection).map_err(TransactionError::Work))
            .map_err(|error| match error {
                TransactionError::Work(error) => error,
                TransactionError::Database(error) => query_error(error),
            });
        match result {
            Err(error) if attempt < ATTEMPTS && is_serialization_failure(&error) => {
                tracing::debug!(
                    attempt,
                    "serialization failure; running the transaction again"
                );
                attempt += 1;
            }
            other => return other,
        }
    }
}

/// Whether `error` is PostgreSQL's "could not serialize access" (SQLSTATE 40001).
fn is_serialization_failure(error: &Error) -> bool {
    let Error::Unavailable(source) = error else {
        return false;
    };
    matches!(
        source.downcast_ref::<DieselError>(),
        Some(DieselError::DatabaseError(
            DatabaseErrorKind::SerializationFailure,
            _
        ))
    )
}

/// A diesel error inside a query: unreachable is `Unavailable`, anything else internal.
fn db_error(error: DieselError) -> Error {
    query_error(error)
}

/// A diesel error where a unique violation means the entry exists: a conflict saying
/// `message`.
fn conflict_or(error: DieselError, message: &str) -> Error {
    match error {
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
            Error::Conflict(message.to_owned())
        }
        other => query_error(other),
    }
}

/// Takes the one-shot events builder of a write; a retry after it ran cannot build them again
/// (it runs last, after every query, so a retry never gets there).
fn take_events<T>(events: &mut Option<EventsFor<T>>) -> Result<EventsFor<T>> {
    events.take().ok_or_else(|| {
        Error::internal(anyhow::anyhow!(
            "a transaction was retried after its events were built"
        ))
    })
}

#[async_trait]
impl FileRepo for PostgresFileRepo {
    #[tracing::instrument(skip(self))]
    async fn is_owner_deleted(&self, owner: Uuid) -> Result<bool> {
        self.db
            .run(move |connection| tree::is_owner_deleted(connection, owner))
            .await
    }

    #[tracing::instrument(skip(self))]
    async fn get(&self, owner: Uuid, path: &RemotePath) -> Result<Option<Node>> {
        let path = path.clone();
        self.db
            .run(move |connection| tree::get(connection, owner, &path))
            .await
    }

    #[tracing::instrument(skip(self))]
    async fn get_by_id(&self, owner: Uuid, id: Uuid) -> Result<Option<Node>> {
        self.db
            .run(move |connection| tree::get_by_id(connection, owner, id))
            .await
    }

    #[tracing::instrument(skip(self))]
    async fn list(
        &self,
        owner: Uuid,
        folder: &RemotePath,
        after: Option<String>,
        limit: u32,
    ) -> Result<Vec<Node>> {
        let folder = folder.clone();
        self.db
            .run(move |connection| tree::list(connection, owner, &folder, after.as_deref(), limit))
            .await
    }

    #[tracing::instrument(skip(self))]
    async fn mkdir(
        &self,
        owner: Uuid,
        path: &RemotePath,
        parents: bool,
        now: DateTime<Utc>,
    ) -> Result<Node> {
        let path = path.clone();
        self.write(move |connection| tree::mkdir(connection, owner, &path, parents, now))
            .await
    }

    #[tracing::instrument(skip(self, events))]
    async fn move_entry(
        &self,
        owner: Uuid,
        from: &RemotePath,
        to: &RemotePath,
        now: DateTime<Utc>,
        events: Vec<Outgoing>,
    ) -> Result<Node> {
        let (from, to) = (from.clone(), to.clone());
        self.write_with_events(move |connection| {
            tree::move_entry(connection, owner, &from, &to, now, &events)
        })
        .await
    }

    #[tracing::instrument(skip(self, events))]
    async fn delete(
        &self,
        owner: Uuid,
        path: &RemotePath,
        recursive: bool,
        events: EventsFor<Removal>,
    ) -> Result<Removal> {
        let path = path.clone();
        let mut events = Some(events);
        self.write_with_events(move |connection| {
            let removal = tree::delete(connection, owner, &path, recursive)?;
            outbox::enqueue(connection, &take_events(&mut events)?(&removal))?;
            Ok(removal)
        })
        .await
    }

    #[tracing::instrument(skip(self))]
    async fn usage(&self, owner: Uuid, now: DateTime<Utc>) -> Result<UsageCounts> {
        self.db
            .run(move |connection| tree::usage(connection, owner, now))
            .await
    }

    #[tracing::instrument(skip(self))]
    async fn resume_upload(
        &self,
        owner: Uuid,
        path: &RemotePath,
        size: u64,
        sha256: &Sha256Hex,
        overwrite: OverwritePolicy,
        now: DateTime<Utc>,
    ) -> Result<Option<Upload>> {
        let (path, sha256) = (path.clone(), sha256.clone());
        self.write(move |connection| {
            uploads::resume(connection, owner, &path, size, &sha256, overwrite, now)
        })
        .await
    }

    #[tracing::instrument(skip(self, upload), fields(upload = %upload.id, owner = %upload.owner))]
    async fn insert_upload(&self, upload: &Upload, quota: u64, now: DateTime<Utc>) -> Result<()> {
        let upload = upload.clone();
        self.write(move |connection| uploads::insert_session(connection, &upload, quota, now))
            .await
    }

    #[tracing::instrument(skip(self))]
    async fn get_upload(
        &self,
        owner: Uuid,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Option<Upload>> {
        self.db
            .run(move |connection| uploads::get_session(connection, owner, id, now))
            .await
    }

    #[tracing::instrument(skip(self, upload, file, events), fields(upload = %upload.id, owner = %upload.owner))]
    async fn finish_upload(
        &self,
        upload: &Upload,
        file: NewFile,
        events: Vec<Outgoing>,
    ) -> Result<(Node, Vec<Garbage>)> {
        let upload = upload.clone();
        self.write_with_events(move |connection| {
            uploads::finish(connection, &upload, &file, &events)
        })
        .await
    }

    #[tracing::instrument(skip(self))]
    async fn abort_upload(&self, owner: Uuid, id: Uuid) -> Result<Vec<Garbage>> {
        self.write(move |connection| uploads::abort(connection, owner, id))
            .await
    }

    #[tracing::instrument(skip(self))]
    async fn sweep_expired_uploads(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<(u64, Vec<Garbage>)> {
        self.write(move |connection| uploads::sweep_expired(connection, now, limit))
            .await
    }

    #[tracing::instrument(skip(self))]
    async fn pending_garbage(&self, limit: u32) -> Result<Vec<Garbage>> {
        self.db
            .run(move |connection| uploads::pending_garbage(connection, limit))
            .await
    }

    #[tracing::instrument(skip(self, ids), fields(n = ids.len()))]
    async fn forget_garbage(&self, ids: &[i64]) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let ids = ids.to_vec();
        self.db
            .run(move |connection| uploads::forget_garbage(connection, &ids))
            .await
    }

    #[tracing::instrument(skip(self, events))]
    async fn purge_owner(
        &self,
        owner: Uuid,
        consumer: &str,
        event_id: &str,
        now: DateTime<Utc>,
        events: EventsFor<Removal>,
    ) -> Result<Option<Removal>> {
        let (consumer, event_id) = (consumer.to_owned(), event_id.to_owned());
        let mut events = Some(events);
        self.write_with_events(move |connection| {
            let Some(removal) = tree::purge(connection, owner, &consumer, &event_id, now)? else {
                return Ok(None);
            };
            outbox::enqueue(connection, &take_events(&mut events)?(&removal))?;
            Ok(Some(removal))
        })
        .await
    }
}

#[async_trait]
impl Probe for PostgresFileRepo {
    async fn probe(&self) -> Result<()> {
        self.db.ping().await
    }
}

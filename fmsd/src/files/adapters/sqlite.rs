//! The embedded file repo: the tree and the upload sessions in one SQLite database, written with
//! `BEGIN IMMEDIATE` transactions that also hold the outbox rows of their events.
//!
//! Paths are unique per owner; a folder's children are listed through the index on
//! (owner, parent, name), whose BINARY collation is the byte order the API promises. A subtree
//! is a range scan on `path` (see [`RemotePath::descendant_range`]).
//!
//! `tree` holds the tree's queries, `uploads` the sessions' and the garbage's, `schema` the
//! tables.

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use common::events::Outgoing;
use diesel::prelude::*;
use diesel_migrations::{embed_migrations, EmbeddedMigrations};
use tokio::sync::Notify;
use uuid::Uuid;

use crate::db::outbox::SqliteOutbox;
use crate::db::Sqlite;
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

const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/files");

/// The files service's SQLite database.
#[derive(Debug, Clone)]
pub struct SqliteFileRepo {
    /// The pooled database.
    db: Sqlite,
    /// Notified after every commit that wrote events, so the outbox relay sends them at once.
    wake: Arc<Notify>,
}

impl SqliteFileRepo {
    /// Opens (creating and migrating if needed) the database at `path`.
    pub fn open(path: &Path, wake: Arc<Notify>) -> anyhow::Result<Self> {
        Ok(Self {
            db: Sqlite::open(path, MIGRATIONS)?,
            wake,
        })
    }

    /// The outbox in this database, for the relay.
    pub fn outbox(&self) -> SqliteOutbox {
        SqliteOutbox::new(self.db.clone())
    }

    /// Runs `work` in an immediate transaction on the blocking pool and wakes the relay after
    /// it committed, since it wrote events.
    async fn write_with_events<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut SqliteConnection) -> Result<T> + Send + 'static,
    {
        let result = self.db.run(move |connection| write(connection, work)).await;
        if result.is_ok() {
            self.wake.notify_one();
        }
        result
    }

    /// Runs `work` in an immediate transaction on the blocking pool.
    async fn write<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut SqliteConnection) -> Result<T> + Send + 'static,
    {
        self.db.run(move |connection| write(connection, work)).await
    }
}

/// Why a transaction failed: the work's own error, or diesel's at begin or commit.
enum TransactionError {
    /// The work returned an error; it was rolled back.
    Work(Error),
    /// BEGIN, COMMIT or ROLLBACK failed.
    Database(diesel::result::Error),
}

impl From<diesel::result::Error> for TransactionError {
    fn from(error: diesel::result::Error) -> Self {
        Self::Database(error)
    }
}

/// Runs `work` inside `BEGIN IMMEDIATE ... COMMIT`: it takes the write lock up front, so two
/// writers never both read and then collide at their first write.
fn write<T>(
    connection: &mut SqliteConnection,
    work: impl FnOnce(&mut SqliteConnection) -> Result<T>,
) -> Result<T> {
    connection
        .immediate_transaction(|connection| work(connection).map_err(TransactionError::Work))
        .map_err(|error| match error {
            TransactionError::Work(error) => error,
            TransactionError::Database(error) => Error::unavailable(error),
        })
}

/// A diesel error inside a query: a fault on our side.
fn db_error(error: diesel::result::Error) -> Error {
    Error::internal(error)
}

#[async_trait]
impl FileRepo for SqliteFileRepo {
    async fn is_owner_deleted(&self, owner: Uuid) -> Result<bool> {
        self.db
            .run(move |connection| tree::is_owner_deleted(connection, owner))
            .await
    }

    async fn get(&self, owner: Uuid, path: &RemotePath) -> Result<Option<Node>> {
        let path = path.clone();
        self.db
            .run(move |connection| tree::get(connection, owner, &path))
            .await
    }

    async fn get_by_id(&self, owner: Uuid, id: Uuid) -> Result<Option<Node>> {
        self.db
            .run(move |connection| tree::get_by_id(connection, owner, id))
            .await
    }

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

    async fn delete(
        &self,
        owner: Uuid,
        path: &RemotePath,
        recursive: bool,
        events: EventsFor<Removal>,
    ) -> Result<Removal> {
        let path = path.clone();
        self.write_with_events(move |connection| {
            tree::delete(connection, owner, &path, recursive, events)
        })
        .await
    }

    async fn usage(&self, owner: Uuid, now: DateTime<Utc>) -> Result<UsageCounts> {
        self.db
            .run(move |connection| tree::usage(connection, owner, now))
            .await
    }

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

    async fn insert_upload(&self, upload: &Upload, quota: u64, now: DateTime<Utc>) -> Result<()> {
        let upload = upload.clone();
        self.write(move |connection| uploads::insert_session(connection, &upload, quota, now))
            .await
    }

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

    async fn abort_upload(&self, owner: Uuid, id: Uuid) -> Result<Vec<Garbage>> {
        self.write(move |connection| uploads::abort(connection, owner, id))
            .await
    }

    async fn sweep_expired_uploads(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<(u64, Vec<Garbage>)> {
        self.write(move |connection| uploads::sweep_expired(connection, now, limit))
            .await
    }

    async fn pending_garbage(&self, limit: u32) -> Result<Vec<Garbage>> {
        self.db
            .run(move |connection| uploads::pending_garbage(connection, limit))
            .await
    }

    async fn forget_garbage(&self, ids: &[i64]) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let ids = ids.to_vec();
        self.db
            .run(move |connection| uploads::forget_garbage(connection, &ids))
            .await
    }

    async fn purge_owner(
        &self,
        owner: Uuid,
        consumer: &str,
        event_id: &str,
        now: DateTime<Utc>,
        events: EventsFor<Removal>,
    ) -> Result<Option<Removal>> {
        let (consumer, event_id) = (consumer.to_owned(), event_id.to_owned());
        self.write_with_events(move |connection| {
            tree::purge(connection, owner, &consumer, &event_id, now, events)
        })
        .await
    }
}

#[async_trait]
impl Probe for SqliteFileRepo {
    async fn probe(&self) -> Result<()> {
        self.db.ping().await
    }
}

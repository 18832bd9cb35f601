//! The file repo on SQL: the tree, the upload sessions and sharing's records in the files
//! service's own database, SQLite (embedded) or PostgreSQL (real stack), written once over
//! both through `crate::db`. Every write is one transaction that also holds the outbox rows
//! of its events.
//!
//! Concurrency: every write of an owner first takes the owner's lock
//! (`crate::db::dialect::lock_owner`) and then re-checks its rules, so two writes of one owner
//! run one after the other while, on PostgreSQL, different owners never wait for each other
//! (SQLite has one writer at a time anyway). That is what keeps a path unique under concurrent
//! mkdirs (besides the unique index), keeps concurrent upload sessions within the quota, and
//! keeps one owner's events in commit order in the outbox. The expired-session sweep, which
//! spans owners, locks the rows it ends and skips those another transaction holds.
//!
//! `tree` holds the tree's queries, `uploads` the sessions', `garbage` the blobs to let go of,
//! `trash` what a delete moved out of the tree (and the `TrashRepo` of this repo),
//! `sharing` the directory, shares and links; `schema`, `sharing_schema` and `trash_schema` the tables
//! (migrations in `migrations/files` and `migrations/files-postgres`, run at open).

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use common::events::Outgoing;
use diesel_migrations::embed_migrations;
use tokio::sync::Notify;
use uuid::Uuid;

use crate::bus::adapters::sql_outbox::SqlOutbox;
use crate::db::{Database, DbConnection, Migrations};
use crate::error::Result;
use crate::files::domain::{
    DavLockRecord, DeadProp, Garbage, Node, OverwritePolicy, RemotePath, Removal, Sha256Hex,
    Upload, UsageCounts,
};
use crate::files::ports::{DavRepo, EventsFor, FileRepo, NewFile, QuietUpload, UploadLimits};
use crate::health::Probe;
use crate::store_url::StoreUrl;

mod dav;
mod garbage;
mod schema;
mod sharing;
mod sharing_schema;
mod trash;
mod trash_schema;
mod tree;
mod uploads;

/// The files migrations for each engine.
const MIGRATIONS: Migrations = Migrations {
    sqlite: embed_migrations!("migrations/files"),
    #[cfg(feature = "postgres")]
    postgres: embed_migrations!("migrations/files-postgres"),
};

/// The files service's database.
#[derive(Debug, Clone)]
pub struct SqlFileRepo {
    /// The pooled database.
    db: Database,
    /// Notified after every commit that wrote events, so the outbox relay sends them at once.
    wake: Arc<Notify>,
}

impl SqlFileRepo {
    /// Opens (creating and migrating if needed) the database at `url`: `sqlite://` or
    /// `postgres://`. Never logs the URL (it may hold a password).
    pub async fn open(url: &StoreUrl, wake: Arc<Notify>) -> anyhow::Result<Self> {
        Ok(Self {
            db: Database::open("files", url, MIGRATIONS).await?,
            wake,
        })
    }

    /// The outbox in this database, for the relay.
    pub fn outbox(&self) -> SqlOutbox {
        SqlOutbox::new(self.db.clone())
    }

    /// Runs `work` in a write transaction and wakes the relay after it committed, since it
    /// wrote events.
    async fn write_with_events<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T> + Send + 'static,
    {
        let result = self.db.write(work).await;
        if result.is_ok() {
            self.wake.notify_one();
        }
        result
    }

    /// Runs `work` in a write transaction.
    async fn write<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T> + Send + 'static,
    {
        self.db.write(work).await
    }
}

#[async_trait]
impl FileRepo for SqlFileRepo {
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
        self.write_with_events(move |connection| {
            tree::delete(connection, owner, &path, recursive, events)
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
    async fn insert_upload(
        &self,
        upload: &Upload,
        limits: UploadLimits,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let upload = upload.clone();
        self.write(move |connection| uploads::insert_session(connection, &upload, limits, now))
            .await
    }

    #[tracing::instrument(skip(self, batch), fields(n_uploads = batch.len()))]
    async fn insert_uploads(
        &self,
        batch: Vec<Upload>,
        limits: UploadLimits,
        now: DateTime<Utc>,
    ) -> Result<Vec<Result<()>>> {
        self.write(move |connection| Ok(uploads::insert_sessions(connection, &batch, limits, now)))
            .await
    }

    #[tracing::instrument(skip(self))]
    async fn uploads(&self, owner: Uuid, now: DateTime<Utc>) -> Result<Vec<Upload>> {
        self.db
            .run(move |connection| uploads::owner_sessions(connection, owner, now))
            .await
    }

    #[tracing::instrument(skip(self))]
    async fn open_uploads(&self, now: DateTime<Utc>) -> Result<u64> {
        self.db
            .run(move |connection| uploads::count_open(connection, now))
            .await
    }

    #[tracing::instrument(skip(self))]
    async fn quiet_uploads(
        &self,
        quiet_since: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<QuietUpload>> {
        self.db
            .run(move |connection| uploads::quiet_sessions(connection, quiet_since, limit))
            .await
    }

    #[tracing::instrument(skip(self))]
    async fn note_upload_progress(
        &self,
        id: Uuid,
        stored_bytes: u64,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.write(move |connection| uploads::note_progress(connection, id, stored_bytes, now))
            .await
    }

    #[tracing::instrument(skip(self))]
    async fn abort_grant_uploads(&self, owner: Uuid, grant: Uuid) -> Result<Vec<Garbage>> {
        self.write(move |connection| uploads::abort_grant(connection, owner, grant))
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

    #[tracing::instrument(skip(self, batch), fields(n_uploads = batch.len()))]
    async fn finish_uploads(
        &self,
        batch: Vec<(Upload, NewFile, Vec<Outgoing>)>,
    ) -> Result<Vec<Result<(Node, Vec<Garbage>)>>> {
        self.write_with_events(move |connection| Ok(uploads::finish_each(connection, &batch)))
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
            .run(move |connection| garbage::pending_garbage(connection, limit))
            .await
    }

    #[tracing::instrument(skip(self, ids), fields(n = ids.len()))]
    async fn forget_garbage(&self, ids: &[i64]) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let ids = ids.to_vec();
        self.db
            .run(move |connection| garbage::forget_garbage(connection, &ids))
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
        self.write_with_events(move |connection| {
            tree::purge(connection, owner, &consumer, &event_id, now, events)
        })
        .await
    }
}

#[async_trait]
impl Probe for SqlFileRepo {
    async fn probe(&self) -> Result<()> {
        self.db.ping().await
    }
}

#[async_trait]
impl DavRepo for SqlFileRepo {
    #[tracing::instrument(skip(self))]
    async fn dead_props(&self, owner: Uuid, node: Uuid) -> Result<Vec<DeadProp>> {
        self.db
            .run(move |connection| dav::dead_props(connection, owner, node))
            .await
    }

    #[tracing::instrument(skip(self))]
    async fn nodes_with_dead_props(&self, owner: Uuid) -> Result<Vec<Uuid>> {
        self.db
            .run(move |connection| dav::nodes_with_dead_props(connection, owner))
            .await
    }

    #[tracing::instrument(skip(self, changes))]
    async fn patch_dead_props(
        &self,
        owner: Uuid,
        node: Uuid,
        changes: Vec<(bool, DeadProp)>,
    ) -> Result<()> {
        self.write(move |connection| dav::patch_dead_props(connection, owner, node, changes))
            .await
    }

    #[tracing::instrument(skip(self))]
    async fn dav_locks(&self, owner: Uuid, now: DateTime<Utc>) -> Result<Vec<DavLockRecord>> {
        self.db
            .run(move |connection| dav::dav_locks(connection, owner, now))
            .await
    }

    #[tracing::instrument(skip(self))]
    async fn add_dav_lock(
        &self,
        lock: DavLockRecord,
        now: DateTime<Utc>,
    ) -> Result<Option<DavLockRecord>> {
        self.write(move |connection| dav::add_dav_lock(connection, lock, now))
            .await
    }

    #[tracing::instrument(skip(self, token))]
    async fn refresh_dav_lock(
        &self,
        owner: Uuid,
        token: &str,
        expires_at: Option<DateTime<Utc>>,
        timeout_secs: Option<u64>,
        now: DateTime<Utc>,
    ) -> Result<Option<DavLockRecord>> {
        let token = token.to_owned();
        self.write(move |connection| {
            dav::refresh_dav_lock(connection, owner, &token, expires_at, timeout_secs, now)
        })
        .await
    }

    #[tracing::instrument(skip(self, token))]
    async fn remove_dav_lock(&self, owner: Uuid, token: &str) -> Result<bool> {
        let token = token.to_owned();
        self.write(move |connection| dav::remove_dav_lock(connection, owner, &token))
            .await
    }

    #[tracing::instrument(skip(self))]
    async fn remove_dav_locks_under(&self, owner: Uuid, path: &str) -> Result<()> {
        let path = path.to_owned();
        self.write(move |connection| dav::remove_dav_locks_under(connection, owner, &path))
            .await
    }
}

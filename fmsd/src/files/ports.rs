//! The stores the files service needs, in its own words: [`FileRepo`] for the tree and the
//! upload sessions, [`TrashRepo`] for what a delete moved out of the tree, [`BlobStore`] for
//! the bytes.
//!
//! The repo's writes are whole use-case steps, each one transaction that re-checks its own
//! preconditions, so a PostgreSQL adapter gives the same guarantees as the SQLite one. The blob
//! store speaks S3's multipart language (start, part URLs, list parts, complete, abort, presigned
//! GET), so an S3 adapter is a translation and the embedded store imitates it. A store whose
//! signed URLs point at fmsd itself (the embedded one) also checks those URLs when they come back
//! and takes or hands over the bytes ([`BlobStore::receive_part`], [`BlobStore::file_to_serve`]),
//! so the gateway serves them knowing no adapter.

use std::path::PathBuf;

use async_trait::async_trait;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use common::events::Outgoing;
use futures::stream::BoxStream;
use uuid::Uuid;

use super::domain::{
    AssembledBlob, BlobKey, Garbage, Node, OverwritePolicy, PartPlan, RemotePath, Removal,
    Sha256Hex, StagingId, StoredPart, Upload, UsageCounts,
};
use crate::error::{Error, Result};

mod dav;
mod sharing;
mod trash;

pub use dav::DavRepo;
pub use sharing::SharingRepo;
pub use trash::TrashRepo;

/// Builds the events of a change from its outcome, inside the change's transaction.
pub type EventsFor<T> = Box<dyn FnOnce(&T) -> Vec<Outgoing> + Send>;

/// The bytes of a request body as they arrive; a read error ends the part.
pub type ByteStream = BoxStream<'static, std::io::Result<Bytes>>;

/// The `expires` and `signature` of a signed URL as a request brought them, unchecked; either may
/// be missing (an unsigned URL), which the store refuses.
#[derive(Debug, Clone, Copy, Default)]
pub struct UrlSignature<'a> {
    /// Unix seconds after which the URL stops working, as text.
    pub expires: Option<&'a str>,
    /// The HMAC of method, path and expiry.
    pub signature: Option<&'a str>,
}

/// What a store whose URLs do not point at fmsd answers when one of fmsd's own blob URLs is used.
fn not_served_here() -> Error {
    Error::NotFound("the embedded blob store is not in use".into())
}

/// A file about to become visible at the end of an upload.
#[derive(Debug, Clone)]
pub struct NewFile {
    /// Its id.
    pub id: Uuid,
    /// Its size.
    pub size: u64,
    /// The checksum of the assembled bytes.
    pub sha256: Sha256Hex,
    /// When it appears.
    pub modified_at: DateTime<Utc>,
}

/// What a new upload session must fit in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UploadLimits {
    /// The owner's quota: used bytes plus every open session's reservation, this one included.
    pub quota: u64,
    /// For a session started through a link: what the link's open sessions may hold together.
    pub per_grant: Option<PendingCap>,
}

impl UploadLimits {
    /// The owner's quota alone.
    pub fn quota(quota: u64) -> Self {
        Self {
            quota,
            per_grant: None,
        }
    }
}

/// The most one share's or link's open sessions may hold at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PendingCap {
    /// Sessions, this one included.
    pub sessions: u32,
    /// Bytes they reserve together, this one included.
    pub bytes: u64,
}

/// A session started through a share or a link that made no progress for a while, with the
/// bytes its parts held when it was last seen to.
#[derive(Debug, Clone, PartialEq)]
pub struct QuietUpload {
    /// The session.
    pub upload: Upload,
    /// What its stored parts held when it last made progress.
    pub stored_bytes: u64,
}

/// Folders, files, upload sessions and the garbage they leave, per owner.
///
/// Every method is scoped by owner: another owner's entries are simply not there. Writes refuse
/// an owner that was purged ([`crate::error::Error::Unauthorized`]). Writes that take events add
/// them to the outbox in the same transaction.
#[async_trait]
pub trait FileRepo: Send + Sync {
    /// Whether `owner`'s account was deleted and purged.
    async fn is_owner_deleted(&self, owner: Uuid) -> Result<bool>;

    /// The entry at `path` (never the root, which is implicit).
    async fn get(&self, owner: Uuid, path: &RemotePath) -> Result<Option<Node>>;

    /// `owner`'s entry with id `id`, wherever it is now.
    async fn get_by_id(&self, owner: Uuid, id: Uuid) -> Result<Option<Node>>;

    /// Up to `limit` children of `folder` whose name sorts (bytewise) after `after`, in order,
    /// in one round trip to the store: a purged owner is unauthorized, a folder that is missing
    /// or is a file is not found.
    async fn list(
        &self,
        owner: Uuid,
        folder: &RemotePath,
        after: Option<String>,
        limit: u32,
    ) -> Result<Vec<Node>>;

    /// Creates the folder `path`. With `parents`, creates missing ancestors too and returns an
    /// existing folder as is. Otherwise an existing entry is a conflict and a missing parent is
    /// not found. A file in the way is always a conflict.
    async fn mkdir(
        &self,
        owner: Uuid,
        path: &RemotePath,
        parents: bool,
        now: DateTime<Utc>,
    ) -> Result<Node>;

    /// Moves the entry at `from` (with its subtree) to `to`, whose parent folder must exist and
    /// which must be free; `to` never lies inside `from` (the caller checked).
    async fn move_entry(
        &self,
        owner: Uuid,
        from: &RemotePath,
        to: &RemotePath,
        now: DateTime<Utc>,
        events: Vec<Outgoing>,
    ) -> Result<Node>;

    /// Deletes the entry at `path`; a non-empty folder only when `recursive` (else a conflict).
    /// The shares and links of every removed entry go with it, in the same transaction, and
    /// are returned in the [`Removal`] (so `events` can tell their end).
    async fn delete(
        &self,
        owner: Uuid,
        path: &RemotePath,
        recursive: bool,
        events: EventsFor<Removal>,
    ) -> Result<Removal>;

    /// Bytes and entries `owner` stores, and bytes reserved by sessions unexpired at `now`.
    async fn usage(&self, owner: Uuid, now: DateTime<Utc>) -> Result<UsageCounts>;

    /// An unexpired session of `owner` for the same path, size and checksum, switched to
    /// `overwrite`: what a re-run of the same upload resumes.
    async fn resume_upload(
        &self,
        owner: Uuid,
        path: &RemotePath,
        size: u64,
        sha256: &Sha256Hex,
        overwrite: OverwritePolicy,
        now: DateTime<Utc>,
    ) -> Result<Option<Upload>>;

    /// Stores a new session if the owner's used plus reserved bytes leave room for its size
    /// within the quota (else [`crate::error::Error::QuotaExceeded`]), and the sessions of its
    /// grant stay within `limits.per_grant` (else [`crate::error::Error::RateLimited`]).
    async fn insert_upload(
        &self,
        upload: &Upload,
        limits: UploadLimits,
        now: DateTime<Utc>,
    ) -> Result<()>;

    /// Stores each of `uploads` (of one owner, in order) as [`FileRepo::insert_upload`] would,
    /// in one transaction: each is checked against the quota with those before it counted, and
    /// one that does not fit is refused alone (its own result) while the others are stored.
    async fn insert_uploads(
        &self,
        uploads: Vec<Upload>,
        limits: UploadLimits,
        now: DateTime<Utc>,
    ) -> Result<Vec<Result<()>>>;

    /// Every session of `owner` unexpired at `now`, whoever started it, oldest first (by path
    /// among those started at once).
    async fn uploads(&self, owner: Uuid, now: DateTime<Utc>) -> Result<Vec<Upload>>;

    /// How many sessions of every owner are unexpired at `now`.
    async fn open_uploads(&self, now: DateTime<Utc>) -> Result<u64>;

    /// Up to `limit` sessions started through a share or a link whose last progress was at or
    /// before `quiet_since`, oldest first.
    async fn quiet_uploads(
        &self,
        quiet_since: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<QuietUpload>>;

    /// Records that session `id` made progress at `now`: its parts hold `stored_bytes`.
    async fn note_upload_progress(
        &self,
        id: Uuid,
        stored_bytes: u64,
        now: DateTime<Utc>,
    ) -> Result<()>;

    /// Ends every session of `owner` started through `grant`; their garbage.
    async fn abort_grant_uploads(&self, owner: Uuid, grant: Uuid) -> Result<Vec<Garbage>>;

    /// `owner`'s session `id`, unless it expired at `now`.
    async fn get_upload(&self, owner: Uuid, id: Uuid, now: DateTime<Utc>)
        -> Result<Option<Upload>>;

    /// Makes the uploaded file visible and ends the session, in one transaction: the parent
    /// folder must still exist, a folder at the path is a conflict, a file there is replaced
    /// only under [`OverwritePolicy::Replace`] (its blob becomes garbage, returned; the new file
    /// keeps the replaced file's id, so shares and links of it still lead to it).
    async fn finish_upload(
        &self,
        upload: &Upload,
        file: NewFile,
        events: Vec<Outgoing>,
    ) -> Result<(Node, Vec<Garbage>)>;

    /// [`FileRepo::finish_upload`] for each of `batch`, in one transaction: each file appears
    /// or fails alone (its own result), in order.
    async fn finish_uploads(
        &self,
        batch: Vec<(Upload, NewFile, Vec<Outgoing>)>,
    ) -> Result<Vec<Result<(Node, Vec<Garbage>)>>>;

    /// Ends `owner`'s session `id` without a file; its staging and blob become garbage.
    async fn abort_upload(&self, owner: Uuid, id: Uuid) -> Result<Vec<Garbage>>;

    /// Ends up to `limit` sessions expired at `now`; returns how many and their garbage.
    async fn sweep_expired_uploads(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<(u64, Vec<Garbage>)>;

    /// Up to `limit` garbage items not yet cleaned up (left by a crash or a failed clean-up).
    async fn pending_garbage(&self, limit: u32) -> Result<Vec<Garbage>>;

    /// Forgets garbage items once the blob store let go of them.
    async fn forget_garbage(&self, ids: &[i64]) -> Result<()>;

    /// Removes everything `owner` has and marks the owner deleted (at `now`), once per
    /// `event_id` of `consumer`: `None` if that event was already handled.
    async fn purge_owner(
        &self,
        owner: Uuid,
        consumer: &str,
        event_id: &str,
        now: DateTime<Utc>,
        events: EventsFor<Removal>,
    ) -> Result<Option<Removal>>;
}

/// Where file bytes live, uploaded in parts straight from the client.
///
/// An upload is staged under an id the store picks; the client `PUT`s each part to a URL the
/// store signs; `complete` turns the parts into the blob `key`. Deleting or aborting something
/// already gone succeeds, so clean-ups can be retried.
#[async_trait]
pub trait BlobStore: Send + Sync {
    /// Starts staging an upload that will become `key`, cut as `plan` says, at `started_at`
    /// (which [`BlobStore::sweep`] compares with; a store may keep its own time instead).
    async fn start_upload(
        &self,
        key: &BlobKey,
        plan: &PartPlan,
        started_at: DateTime<Utc>,
    ) -> Result<StagingId>;

    /// Starts staging an upload of at most one part whose SHA-256 the client gave up front and
    /// whose part it sends with the headers [`BlobStore::part_headers`] names: what a small
    /// file needs, with as little work in the store as it allows (on S3 no request at all: the
    /// part is one `PutObject` whose signed `x-amz-checksum-sha256` S3 checks). `complete`
    /// checks the bytes against `sha256` as it does any upload's.
    async fn start_whole(
        &self,
        key: &BlobKey,
        plan: &PartPlan,
        sha256: &Sha256Hex,
        started_at: DateTime<Utc>,
    ) -> Result<StagingId> {
        let _ = sha256;
        self.start_upload(key, plan, started_at).await
    }

    /// Starts staging an upload in parts whose client hashes each part and gets its URL from
    /// [`BlobStore::checked_part_url`]; a store that checks every part against its SHA-256 (S3)
    /// then completes without reading the file back. A store that does not check starts a
    /// plain staging.
    async fn start_checked(
        &self,
        key: &BlobKey,
        plan: &PartPlan,
        started_at: DateTime<Utc>,
    ) -> Result<StagingId> {
        self.start_upload(key, plan, started_at).await
    }

    /// Whether `staging` checks each part against the SHA-256 its URL was signed with, so its
    /// client should get part URLs from [`BlobStore::checked_part_url`].
    async fn checks_parts(&self, key: &BlobKey, staging: &StagingId) -> Result<bool> {
        let _ = (key, staging);
        Ok(false)
    }

    /// Where the client `PUT`s part `number`, whose bytes hash to `sha256`, and the headers
    /// the `PUT` carries (signed into the URL: a store that checks refuses other bytes).
    async fn checked_part_url(
        &self,
        key: &BlobKey,
        staging: &StagingId,
        number: u32,
        sha256: &Sha256Hex,
        expires_at: DateTime<Utc>,
    ) -> Result<(String, Vec<(String, String)>)> {
        let _ = sha256;
        let url = self.part_url(key, staging, number, expires_at).await?;
        Ok((url, self.part_headers(staging, number)))
    }

    /// The headers a `PUT` of part `number` must carry (they are signed into its URL), for a
    /// staging started with [`BlobStore::start_whole`]; none for others.
    fn part_headers(&self, staging: &StagingId, number: u32) -> Vec<(String, String)> {
        let _ = (staging, number);
        Vec::new()
    }

    /// Where the client `PUT`s part `number`, working until `expires_at`.
    async fn part_url(
        &self,
        key: &BlobKey,
        staging: &StagingId,
        number: u32,
        expires_at: DateTime<Utc>,
    ) -> Result<String>;

    /// The parts stored so far, by number.
    async fn stored_parts(&self, key: &BlobKey, staging: &StagingId) -> Result<Vec<StoredPart>>;

    /// Assembles the parts into the blob `key` and returns its size and SHA-256. If `expected`
    /// is given and differs, [`crate::error::Error::Integrity`]: nothing appears at `key`, and
    /// the staging stays with its parts forgotten, so they can be uploaded again.
    async fn complete(
        &self,
        key: &BlobKey,
        staging: &StagingId,
        plan: &PartPlan,
        expected: Option<&Sha256Hex>,
    ) -> Result<AssembledBlob>;

    /// Drops the staging and its parts.
    async fn abort(&self, key: &BlobKey, staging: &StagingId) -> Result<()>;

    /// A URL that serves the blob (with `Range`) until `expires_at`, suggesting `file_name`.
    async fn download_url(
        &self,
        key: &BlobKey,
        expires_at: DateTime<Utc>,
        file_name: &str,
    ) -> Result<String>;

    /// `len` bytes of blob `key` from `offset` (fewer at its end), streamed, for what fmsd
    /// serves or copies itself (WebDAV `GET`, a folder as one zip, a server-side copy);
    /// [`crate::error::Error::NotFound`] if it is not there. A read that fails midway ends the
    /// stream early or with an error: the caller checks the length.
    async fn read(&self, key: &BlobKey, offset: u64, len: u64) -> Result<ByteStream>;

    /// Deletes the blob.
    async fn delete(&self, key: &BlobKey) -> Result<()>;

    /// Stores part `number` of `staging` from `body`, bytes fmsd itself received or read (a
    /// WebDAV `PUT`, a copy): no URL, no signature. `body` must bring exactly `size` bytes, the
    /// part's size. A store that can streams them (memory stays at a chunk); S3 holds the part.
    async fn write_part(
        &self,
        key: &BlobKey,
        staging: &StagingId,
        number: u32,
        size: u64,
        body: ByteStream,
    ) -> Result<StoredPart>;

    /// Drops stagings started before `older_than` that nobody completed or aborted (left by a
    /// crash between starting one and recording its session); returns how many.
    async fn sweep(&self, older_than: DateTime<Utc>) -> Result<u64>;

    /// Stores part `number` of `staging` from `body`, sent to a part URL of this store that
    /// points at fmsd: the URL's `signature` must be valid at `now` (else
    /// [`Error::Forbidden`]), and the body exactly the part's size (`announced` is its
    /// `Content-Length`, if any). A store whose part URLs point elsewhere (S3) answers
    /// [`Error::NotFound`].
    async fn receive_part(
        &self,
        staging: &str,
        number: u32,
        signature: UrlSignature<'_>,
        now: DateTime<Utc>,
        announced: Option<u64>,
        body: ByteStream,
    ) -> Result<StoredPart> {
        let _ = (staging, number, signature, now, announced, body);
        Err(not_served_here())
    }

    /// The local file holding blob `key`, for a download URL of this store that points at fmsd
    /// (which serves it, `Range` included): the URL's `signature` must be valid at `now` (else
    /// [`Error::Forbidden`]). A store whose download URLs point elsewhere (S3) answers
    /// [`Error::NotFound`].
    async fn file_to_serve(
        &self,
        key: &str,
        signature: UrlSignature<'_>,
        now: DateTime<Utc>,
    ) -> Result<PathBuf> {
        let _ = (key, signature, now);
        Err(not_served_here())
    }
}

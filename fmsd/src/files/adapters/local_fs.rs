//! The embedded blob store: blobs as files in a folder, uploads staged the way S3 stages a
//! multipart upload, parts and downloads through URLs on fmsd signed with [`UrlSigner`] and
//! checked here when they come back ([`BlobStore::receive_part`], [`BlobStore::file_to_serve`]).
//!
//! Layout under the store's folder:
//! - `objects/<ab>/<key>`: a blob (`ab` = the key's first two characters, so no folder grows
//!   huge).
//! - `staging/<id>/meta.json`: the blob key and the part plan of an upload in progress; written
//!   last, so a staging without it does not exist.
//! - `staging/<id>/data`: one file of the final size; each part `PUT` writes its bytes at the
//!   part's offset, so parts arrive in any order, in parallel, and nothing is copied at the end.
//! - `staging/<id>/parts/<n>`: the size of part `n`, written after its bytes reached the disk,
//!   so the list of stored parts survives a restart and a half-written part is never listed.
//!
//! Complete syncs `data`, hashes it once (SHA-256, streaming) and renames it into `objects/`.
//!
//! A staging started whole ([`BlobStore::start_whole`]: one part, its SHA-256 given up front)
//! writes its `meta.json`, its part and its marker without waiting for the disk: nothing of it
//! needs to outlive a crash, because complete syncs `data` (and the folder it is renamed into)
//! and checks it against that SHA-256 before the file is recorded, so a part a crash lost or
//! damaged is refused there and sent again. That keeps a small file at two syncs (its bytes,
//! its folder) plus its share of the batch's database commit, where a staging in parts costs
//! five.
//! A per-staging lock lets part writes run together but never during complete or abort.
//! `disk` holds the folder plumbing (meta, markers, durable writes, the hash).

use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures::Stream;
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::files::domain::{AssembledBlob, BlobKey, PartPlan, Sha256Hex, StagingId, StoredPart};
use crate::files::ports::{BlobStore, ByteStream, UrlSignature};
use crate::health::Probe;
use crate::signing::UrlSigner;

mod disk;

use disk::{
    io_error, read_markers, read_meta, read_range, release_range, remove_dir_if_present,
    remove_if_present, staging_gone, sync_and_hash, sync_dir, write_part, write_through_rename,
    StagingLocks, StagingMeta,
};

/// The blob store in a local folder.
#[derive(Debug)]
pub struct LocalBlobStore {
    /// `<dir>/objects`: finished blobs.
    objects: PathBuf,
    /// `<dir>/staging`: uploads in progress.
    staging: PathBuf,
    /// Signs part and download URLs, and checks them when they come back.
    signer: UrlSigner,
    /// One read-write lock per staging in use.
    locks: StagingLocks,
    /// How long a part's body may go without a byte before the part is refused.
    part_idle_timeout: Duration,
}

/// How long a part may go without a byte unless the store is told otherwise.
const DEFAULT_PART_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// The URL path a part is `PUT` to.
fn part_url_path(staging_id: &str, number: u32) -> String {
    format!("/blobs/parts/{staging_id}/{number}")
}

/// The URL path a blob is served from.
fn file_url_path(key: &str) -> String {
    format!("/blobs/files/{key}")
}

impl LocalBlobStore {
    /// Opens (creating if needed) the store in `dir`.
    pub fn open(dir: &Path, signer: UrlSigner) -> anyhow::Result<Self> {
        let objects = dir.join("objects");
        let staging = dir.join("staging");
        for folder in [&objects, &staging] {
            std::fs::create_dir_all(folder)
                .with_context(|| format!("failed to create {}", folder.display()))?;
        }
        Ok(Self {
            objects,
            staging,
            signer,
            locks: StagingLocks::default(),
            part_idle_timeout: DEFAULT_PART_IDLE_TIMEOUT,
        })
    }

    /// The store with parts cut off after `timeout` without a byte.
    pub fn with_part_idle_timeout(mut self, timeout: Duration) -> Self {
        self.part_idle_timeout = timeout;
        self
    }

    /// The staging folder of `id`; an id that is not one of ours does not exist.
    fn staging_dir(&self, id: &str) -> Result<PathBuf> {
        if id.len() != 32 || !id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(staging_gone());
        }
        Ok(self.staging.join(id))
    }

    /// Where the blob `key` lives.
    fn object_path(&self, key: &BlobKey) -> PathBuf {
        self.objects.join(&key.as_str()[..2]).join(key.as_str())
    }

    /// Checks a signed URL: the signature must match `method` and `path` and not be expired
    /// at `now`; anything else is forbidden.
    fn verify(
        &self,
        method: &str,
        path: &str,
        signature: UrlSignature<'_>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let (Some(expires), Some(signature)) = (signature.expires, signature.signature) else {
            return Err(Error::Forbidden(
                "this URL is not signed; ask fmsd for a signed one".into(),
            ));
        };
        let expires = expires
            .parse::<i64>()
            .map_err(|_| Error::Forbidden("the URL's expiry is malformed".into()))?;
        self.signer.verify(method, path, expires, signature, now)
    }

    /// Writes part `number` of staging `staging_id` from `body`, straight to its place in the
    /// staging file. The body must be exactly the part's size (`announced` is the
    /// `Content-Length`, if any); otherwise the part is not stored.
    pub async fn store_part<S, E>(
        &self,
        staging_id: &str,
        number: u32,
        announced: Option<u64>,
        body: S,
    ) -> Result<StoredPart>
    where
        S: Stream<Item = std::result::Result<Bytes, E>> + Send + Unpin,
        E: std::fmt::Display,
    {
        let dir = self.staging_dir(staging_id)?;
        let lock = self.locks.get(staging_id);
        let _shared = lock.read().await;
        let meta = read_meta(&dir).await?;
        let (plan, durable) = (meta.plan(), !meta.is_whole());
        let (offset, size) = plan.part(number).ok_or_else(|| {
            Error::Invalid(format!(
                "this upload has parts 1 to {}, not part {number}",
                plan.n_parts()
            ))
        })?;
        if let Some(announced) = announced.filter(|announced| *announced != size) {
            return Err(Error::Invalid(format!(
                "part {number} must be exactly {size} bytes but Content-Length is {announced}"
            )));
        }
        // Forget the part before touching its bytes, so a failed rewrite is never listed.
        let marker = dir.join("parts").join(number.to_string());
        remove_if_present(&marker).await?;
        let data = dir.join("data");
        if let Err(error) = write_part(
            &data,
            (number, offset, size),
            body,
            self.part_idle_timeout,
            durable,
        )
        .await
        {
            // The part is not listed; give its bytes back to the disk rather than keep them
            // until the session ends.
            if let Err(punch) = release_range(&data, offset, size).await {
                tracing::warn!(error = %punch, "failed to free the bytes of a failed part");
            }
            return Err(error);
        }
        write_through_rename(&marker, size.to_string().as_bytes(), durable).await?;
        Ok(StoredPart { number, size })
    }

    /// Makes the staging folder `dir`: the sparse data file, then `meta.json` (synced, unless
    /// the staging is whole: its `sha256` is given).
    async fn create_staging(
        &self,
        dir: &Path,
        key: &BlobKey,
        plan: &PartPlan,
        started_at: DateTime<Utc>,
        sha256: Option<&Sha256Hex>,
    ) -> Result<()> {
        tokio::fs::create_dir_all(dir.join("parts"))
            .await
            .map_err(|error| io_error(error, "create a staging"))?;
        // A sparse file of the final size: each part writes into its own range of it.
        let data = tokio::fs::File::create(dir.join("data"))
            .await
            .map_err(|error| io_error(error, "create a staging"))?;
        data.set_len(plan.size)
            .await
            .map_err(|error| io_error(error, "size a staging file"))?;
        let meta = StagingMeta {
            key: key.as_str().to_owned(),
            size: plan.size,
            part_size: plan.part_size,
            started_at,
            sha256: sha256.map(|sha256| sha256.as_str().to_owned()),
        };
        write_through_rename(
            &dir.join("meta.json"),
            &serde_json::to_vec(&meta).map_err(Error::internal)?,
            !meta.is_whole(),
        )
        .await
    }

    /// Starts a staging (whole when `sha256` is given) under a fresh id.
    async fn start(
        &self,
        key: &BlobKey,
        plan: &PartPlan,
        started_at: DateTime<Utc>,
        sha256: Option<&Sha256Hex>,
    ) -> Result<StagingId> {
        let id = Uuid::new_v4().simple().to_string();
        let dir = self.staging.join(&id);
        let started = self
            .create_staging(&dir, key, plan, started_at, sha256)
            .await;
        if started.is_err() {
            // Half a staging (a full disk, say) would hold its room until the sweep.
            if let Err(error) = remove_dir_if_present(&dir).await {
                tracing::warn!(error = %error.report(), "failed to remove a half-made staging; the sweep will");
            }
        }
        started.map(|()| StagingId(id))
    }

    /// Removes staging `id` once no part is being written to it; an unknown id is gone already.
    async fn remove_staging(&self, id: &str) -> Result<()> {
        let Ok(dir) = self.staging_dir(id) else {
            return Ok(());
        };
        let lock = self.locks.get(id);
        let _exclusive = lock.write().await;
        remove_dir_if_present(&dir).await
    }

    /// The file holding blob `key`, for a verified download.
    async fn file_for_download(&self, key: &str) -> Result<PathBuf> {
        let path = self.object_path(&BlobKey::parse(key)?);
        match tokio::fs::metadata(&path).await {
            Ok(metadata) if metadata.is_file() => Ok(path),
            Ok(_) => Err(Error::NotFound("no such file".into())),
            Err(error) if error.kind() == ErrorKind::NotFound => {
                Err(Error::NotFound("no such file".into()))
            }
            Err(error) => Err(io_error(error, "look up a blob")),
        }
    }
}

#[async_trait]
impl BlobStore for LocalBlobStore {
    async fn start_upload(
        &self,
        key: &BlobKey,
        plan: &PartPlan,
        started_at: DateTime<Utc>,
    ) -> Result<StagingId> {
        self.start(key, plan, started_at, None).await
    }

    async fn start_whole(
        &self,
        key: &BlobKey,
        plan: &PartPlan,
        sha256: &Sha256Hex,
        started_at: DateTime<Utc>,
    ) -> Result<StagingId> {
        self.start(key, plan, started_at, Some(sha256)).await
    }

    async fn part_url(
        &self,
        _key: &BlobKey,
        staging: &StagingId,
        number: u32,
        expires_at: DateTime<Utc>,
    ) -> Result<String> {
        Ok(self
            .signer
            .sign("PUT", &part_url_path(staging.as_str(), number), expires_at)
            .to_string())
    }

    async fn stored_parts(&self, _key: &BlobKey, staging: &StagingId) -> Result<Vec<StoredPart>> {
        read_markers(&self.staging_dir(staging.as_str())?).await
    }

    async fn complete(
        &self,
        key: &BlobKey,
        staging: &StagingId,
        plan: &PartPlan,
        expected: Option<&Sha256Hex>,
    ) -> Result<AssembledBlob> {
        let dir = self.staging_dir(staging.as_str())?;
        let lock = self.locks.get(staging.as_str());
        let _exclusive = lock.write().await;
        let meta = read_meta(&dir).await?;
        // A whole staging is checked against the checksum it was started with, always.
        let announced = meta.sha256.as_deref().map(Sha256Hex::parse).transpose()?;
        let expected = expected.or(announced.as_ref());
        if meta.key != key.as_str() || meta.plan() != *plan {
            return Err(Error::internal(anyhow::anyhow!(
                "staging {} belongs to another upload",
                staging.as_str()
            )));
        }
        let stored = read_markers(&dir).await?;
        let complete = stored.len() == plan.n_parts() as usize
            && stored
                .iter()
                .all(|part| plan.part(part.number).map(|(_, size)| size) == Some(part.size));
        if !complete {
            return Err(Error::Conflict("not every part is uploaded yet".into()));
        }
        let data = dir.join("data");
        let hashed = data.clone();
        let (size, sha256) = tokio::task::spawn_blocking(move || sync_and_hash(&hashed))
            .await
            .map_err(Error::internal)?
            .map_err(|error| io_error(error, "hash an upload"))?;
        let mismatch = expected.filter(|expected| **expected != sha256);
        if size != plan.size || mismatch.is_some() {
            // Forget every part so the client sees them missing and sends them again.
            remove_dir_if_present(&dir.join("parts")).await?;
            tokio::fs::create_dir_all(dir.join("parts"))
                .await
                .map_err(|error| io_error(error, "reset a staging"))?;
            return Err(Error::Integrity(match mismatch {
                Some(expected) => format!(
                    "the uploaded bytes have SHA-256 {}, not the expected {}; upload the parts again",
                    sha256.as_str(),
                    expected.as_str()
                ),
                None => format!("{size} bytes arrived but the upload announced {}; upload the parts again", plan.size),
            }));
        }
        let object = self.object_path(key);
        tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            let folder = object.parent().unwrap_or(Path::new("."));
            std::fs::create_dir_all(folder)?;
            std::fs::rename(&data, &object)?;
            sync_dir(folder)
        })
        .await
        .map_err(Error::internal)?
        .map_err(|error| io_error(error, "move an upload into place"))?;
        remove_dir_if_present(&dir).await?;
        Ok(AssembledBlob { size, sha256 })
    }

    async fn abort(&self, _key: &BlobKey, staging: &StagingId) -> Result<()> {
        self.remove_staging(staging.as_str()).await
    }

    async fn download_url(
        &self,
        key: &BlobKey,
        expires_at: DateTime<Utc>,
        file_name: &str,
    ) -> Result<String> {
        let mut url = self
            .signer
            .sign("GET", &file_url_path(key.as_str()), expires_at);
        url.query_pairs_mut().append_pair("name", file_name);
        Ok(url.to_string())
    }

    async fn read(&self, key: &BlobKey, offset: u64, len: u64) -> Result<ByteStream> {
        match read_range(&self.object_path(key), offset, len).await {
            Ok(stream) => Ok(stream),
            Err(error) if error.kind() == ErrorKind::NotFound => {
                Err(Error::NotFound("no such file".into()))
            }
            Err(error) => Err(io_error(error, "open a blob")),
        }
    }

    async fn delete(&self, key: &BlobKey) -> Result<()> {
        remove_if_present(&self.object_path(key)).await
    }

    async fn write_part(
        &self,
        _key: &BlobKey,
        staging: &StagingId,
        number: u32,
        size: u64,
        body: ByteStream,
    ) -> Result<StoredPart> {
        self.store_part(staging.as_str(), number, Some(size), body)
            .await
    }

    async fn receive_part(
        &self,
        staging: &str,
        number: u32,
        signature: UrlSignature<'_>,
        now: DateTime<Utc>,
        announced: Option<u64>,
        body: ByteStream,
    ) -> Result<StoredPart> {
        self.verify("PUT", &part_url_path(staging, number), signature, now)?;
        self.store_part(staging, number, announced, body).await
    }

    async fn file_to_serve(
        &self,
        key: &str,
        signature: UrlSignature<'_>,
        now: DateTime<Utc>,
    ) -> Result<PathBuf> {
        // HEAD is answered by the same route and signed as a GET.
        self.verify("GET", &file_url_path(key), signature, now)?;
        self.file_for_download(key).await
    }

    async fn sweep(&self, older_than: DateTime<Utc>) -> Result<u64> {
        let mut entries = tokio::fs::read_dir(&self.staging)
            .await
            .map_err(|error| io_error(error, "list the stagings"))?;
        let mut n_swept = 0;
        while let Some(entry) = entries
            .next_entry()
            .await
            .map_err(|error| io_error(error, "list the stagings"))?
        {
            let id = entry.file_name().to_string_lossy().into_owned();
            let Ok(dir) = self.staging_dir(&id) else {
                continue;
            };
            let started_at = match read_meta(&dir).await {
                Ok(meta) => meta.started_at,
                // A staging whose start never finished: its folder's age is all there is.
                Err(Error::NotFound(_)) => match entry
                    .metadata()
                    .await
                    .and_then(|metadata| metadata.modified())
                {
                    Ok(modified) => DateTime::<Utc>::from(modified),
                    Err(_) => continue,
                },
                Err(error) => return Err(error),
            };
            if started_at < older_than {
                self.remove_staging(&id).await?;
                n_swept += 1;
            }
        }
        Ok(n_swept)
    }
}

#[async_trait]
impl Probe for LocalBlobStore {
    async fn probe(&self) -> Result<()> {
        for folder in [&self.objects, &self.staging] {
            tokio::fs::metadata(folder).await.map_err(|error| {
                Error::unavailable(
                    anyhow::Error::new(error)
                        .context(format!("{} is not reachable", folder.display())),
                )
            })?;
        }
        Ok(())
    }
}

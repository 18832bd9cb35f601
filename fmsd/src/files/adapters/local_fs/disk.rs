//! The local blob store's folder plumbing: a staging's `meta.json` and part markers, the
//! per-staging locks, durable writes (a part's bytes among them, and giving back those of a
//! failed part) and the streaming hash. Blocking work runs on the blocking
//! pool.

use std::collections::HashMap;
use std::io::ErrorKind;
use std::io::SeekFrom;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError, Weak};

use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures::{Stream, StreamExt};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncSeekExt, AsyncWriteExt};
use tokio::sync::RwLock;
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::files::domain::{PartPlan, Sha256Hex, StoredPart};

/// How many bytes complete reads at a time while hashing.
const HASH_BUFFER: usize = 1024 * 1024;

/// How many bytes of a part are gathered before they are written: large enough for few system
/// calls, small enough that parallel parts keep fmsd's memory flat (tokio's file adds a copy).
const WRITE_BUFFER: usize = 256 * 1024;

/// What `meta.json` says about a staging.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct StagingMeta {
    /// The blob the upload becomes.
    pub(super) key: String,
    /// The file's size.
    pub(super) size: u64,
    /// Size of every part but the last.
    pub(super) part_size: u64,
    /// When it was started, by the service's clock; the sweep compares with it.
    pub(super) started_at: DateTime<Utc>,
    /// For a staging started whole (one part, its SHA-256 given up front): that SHA-256. Its
    /// files are written without waiting for the disk; complete syncs the data and checks it
    /// against this checksum, so bytes a crash lost are caught there and sent again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) sha256: Option<String>,
}

impl StagingMeta {
    /// Whether the staging was started whole, its writes not synced one by one.
    pub(super) fn is_whole(&self) -> bool {
        self.sha256.is_some()
    }

    pub(super) fn plan(&self) -> PartPlan {
        PartPlan {
            size: self.size,
            part_size: self.part_size,
        }
    }
}

/// Per-staging locks: part writes share one, complete and abort take it alone.
#[derive(Debug, Default)]
pub(super) struct StagingLocks(Mutex<HashMap<String, Weak<RwLock<()>>>>);

impl StagingLocks {
    pub(super) fn get(&self, id: &str) -> Arc<RwLock<()>> {
        let mut locks = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(lock) = locks.get(id).and_then(Weak::upgrade) {
            return lock;
        }
        locks.retain(|_, lock| lock.strong_count() > 0);
        let lock = Arc::new(RwLock::new(()));
        locks.insert(id.to_owned(), Arc::downgrade(&lock));
        lock
    }
}

/// An I/O failure of the store's disk; a full disk (or a used-up disk quota) says so.
pub(super) fn io_error(error: std::io::Error, doing: &str) -> Error {
    if matches!(
        error.kind(),
        ErrorKind::StorageFull | ErrorKind::QuotaExceeded
    ) {
        tracing::warn!(error = %error, "failed to {doing}: the disk is full");
        return Error::disk_full();
    }
    Error::internal(anyhow::Error::new(error).context(format!("failed to {doing}")))
}

/// What a staging that is gone answers.
pub(super) fn staging_gone() -> Error {
    Error::NotFound("this upload no longer exists: it was completed, aborted or expired".into())
}

/// The staging's `meta.json`; a staging without one is gone.
pub(super) async fn read_meta(dir: &Path) -> Result<StagingMeta> {
    match tokio::fs::read(dir.join("meta.json")).await {
        // A whole staging's meta is written without a sync: after a crash it may be empty, and
        // that staging is gone (the sweep removes its folder by its age).
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|error| {
            tracing::warn!(%error, dir = %dir.display(), "a staging's meta.json is unreadable; taking the staging as gone");
            staging_gone()
        }),
        Err(error) if error.kind() == ErrorKind::NotFound => Err(staging_gone()),
        Err(error) => Err(io_error(error, "read a staging's meta.json")),
    }
}

/// The parts whose marker is written, by number.
pub(super) async fn read_markers(dir: &Path) -> Result<Vec<StoredPart>> {
    let mut entries = match tokio::fs::read_dir(dir.join("parts")).await {
        Ok(entries) => entries,
        Err(error) if error.kind() == ErrorKind::NotFound => return Err(staging_gone()),
        Err(error) => return Err(io_error(error, "list the stored parts")),
    };
    let mut parts = Vec::new();
    while let Some(entry) = entries
        .next_entry()
        .await
        .map_err(|error| io_error(error, "list the stored parts"))?
    {
        // Markers are named by number; anything else is a marker still being written.
        let Some(number) = entry
            .file_name()
            .to_str()
            .and_then(|name| name.parse::<u32>().ok())
        else {
            continue;
        };
        let text = match tokio::fs::read_to_string(entry.path()).await {
            Ok(text) => text,
            Err(error) if error.kind() == ErrorKind::NotFound => continue,
            Err(error) => return Err(io_error(error, "read a part marker")),
        };
        let size = text
            .trim()
            .parse()
            .map_err(|_| Error::internal(anyhow::anyhow!("a part marker is malformed")))?;
        parts.push(StoredPart { number, size });
    }
    parts.sort_by_key(|part| part.number);
    Ok(parts)
}

/// Removes a file, if it is there.
pub(super) async fn remove_if_present(path: &Path) -> Result<()> {
    match tokio::fs::remove_file(path).await {
        Err(error) if error.kind() != ErrorKind::NotFound => Err(io_error(error, "remove a file")),
        _ => Ok(()),
    }
}

/// Removes a folder with its content, if it is there.
pub(super) async fn remove_dir_if_present(path: &Path) -> Result<()> {
    match tokio::fs::remove_dir_all(path).await {
        Err(error) if error.kind() != ErrorKind::NotFound => {
            Err(io_error(error, "remove a folder"))
        }
        _ => Ok(()),
    }
}

/// Writes `bytes` to `path` through a temporary file and a rename, so no reader sees it half
/// written; with `durable`, synced before the rename.
pub(super) async fn write_through_rename(path: &Path, bytes: &[u8], durable: bool) -> Result<()> {
    let temporary = path.with_extension(format!("{}.tmp", Uuid::new_v4().simple()));
    let mut file = tokio::fs::File::create(&temporary)
        .await
        .map_err(|error| io_error(error, "create a file"))?;
    file.write_all(bytes)
        .await
        .map_err(|error| io_error(error, "write a file"))?;
    if durable {
        file.sync_all()
            .await
            .map_err(|error| io_error(error, "sync a file"))?;
    }
    tokio::fs::rename(&temporary, path)
        .await
        .map_err(|error| io_error(error, "rename a file"))
}

/// Syncs `path` and hashes it; blocking, for the blocking pool.
pub(super) fn sync_and_hash(path: &Path) -> std::io::Result<(u64, Sha256Hex)> {
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    file.sync_all()?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; HASH_BUFFER];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
        size += n as u64;
    }
    Ok((size, Sha256Hex::from_digest(&hasher.finalize())))
}

/// Makes a rename inside `dir` durable.
pub(super) fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

/// Writes the `size` bytes of part `number` from `body` at `offset` of the staging file `data`,
/// synced to the disk when `durable`; the body must be exactly the part's size.
pub(super) async fn write_part<S, E>(
    data: &Path,
    (number, offset, size): (u32, u64, u64),
    mut body: S,
    idle_timeout: std::time::Duration,
    durable: bool,
) -> Result<()>
where
    S: Stream<Item = std::result::Result<Bytes, E>> + Send + Unpin,
    E: std::fmt::Display,
{
    let mut file = tokio::fs::OpenOptions::new()
        .write(true)
        .open(data)
        .await
        .map_err(|error| match error.kind() {
            ErrorKind::NotFound => staging_gone(),
            _ => io_error(error, "open the staging file"),
        })?;
    file.seek(SeekFrom::Start(offset))
        .await
        .map_err(|error| io_error(error, "seek in the staging file"))?;
    // The body arrives in small chunks; writing them in large blocks saves system calls.
    let mut file = tokio::io::BufWriter::with_capacity(WRITE_BUFFER, file);
    let mut written = 0u64;
    loop {
        // A client that stops sending must not hold the staging's lock for ever.
        let next = tokio::time::timeout(idle_timeout, body.next())
            .await
            .map_err(|_| {
                Error::TimedOut(format!(
                    "no bytes of part {number} arrived for {} s; send it again",
                    idle_timeout.as_secs()
                ))
            })?;
        let Some(chunk) = next else { break };
        let chunk = chunk.map_err(|error| {
            Error::Invalid(format!("the part's body could not be read: {error}"))
        })?;
        if written + chunk.len() as u64 > size {
            return Err(Error::Integrity(format!(
                "part {number} must be exactly {size} bytes; more arrived"
            )));
        }
        file.write_all(&chunk)
            .await
            .map_err(|error| io_error(error, "write a part"))?;
        written += chunk.len() as u64;
    }
    if written != size {
        return Err(Error::Integrity(format!(
            "part {number} must be exactly {size} bytes; {written} arrived"
        )));
    }
    file.flush()
        .await
        .map_err(|error| io_error(error, "write a part"))?;
    if durable {
        file.get_ref()
            .sync_data()
            .await
            .map_err(|error| io_error(error, "sync a part"))?;
    }
    Ok(())
}

/// Frees the disk blocks of `len` bytes at `offset` of `data`, keeping its size (the range
/// reads as zeros).
pub(super) async fn release_range(data: &Path, offset: u64, len: u64) -> std::io::Result<()> {
    let data = data.to_owned();
    tokio::task::spawn_blocking(move || {
        let file = std::fs::OpenOptions::new().write(true).open(data)?;
        let flags = rustix::fs::FallocateFlags::PUNCH_HOLE | rustix::fs::FallocateFlags::KEEP_SIZE;
        rustix::fs::fallocate(&file, flags, offset, len)?;
        Ok(())
    })
    .await
    .map_err(std::io::Error::other)?
}

/// How much one read of a blob takes: the fewer, the faster a read goes, up to a point.
const READ_CHUNK: usize = 1024 * 1024;
/// Chunks read ahead of the consumer: enough to keep the disk busy while one is sent.
const READ_AHEAD: usize = 4;

/// Bytes `offset..offset + len` of the file at `path` as a stream, read by one blocking thread
/// in chunks of [`READ_CHUNK`] straight into the buffers the stream yields (no second copy,
/// one thread hop per read-ahead window instead of one per chunk). Memory: [`READ_AHEAD`] chunks.
/// Dropping the stream stops the thread at its next chunk.
pub(super) async fn read_range(
    path: &Path,
    offset: u64,
    len: u64,
) -> std::io::Result<crate::files::ports::ByteStream> {
    use std::io::{Read, Seek};
    let mut file = tokio::fs::File::open(path).await?.into_std().await;
    let (chunks, mut received) = tokio::sync::mpsc::channel(READ_AHEAD);
    tokio::task::spawn_blocking(move || {
        let mut left = len;
        if let Err(error) = file.seek(SeekFrom::Start(offset)) {
            let _ = chunks.blocking_send(Err(error));
            return;
        }
        while left > 0 {
            let mut chunk = vec![0; READ_CHUNK.min(usize::try_from(left).unwrap_or(READ_CHUNK))];
            let result = file.read(&mut chunk).and_then(|n| match n {
                0 => Err(std::io::Error::new(
                    ErrorKind::UnexpectedEof,
                    "the blob is shorter than its record says",
                )),
                n => {
                    chunk.truncate(n);
                    Ok(Bytes::from(chunk))
                }
            });
            let failed = result.is_err();
            if let Ok(chunk) = &result {
                left -= chunk.len() as u64;
            }
            if chunks.blocking_send(result).is_err() || failed {
                return;
            }
        }
    });
    Ok(Box::pin(futures::stream::poll_fn(move |context| {
        received.poll_recv(context)
    })))
}

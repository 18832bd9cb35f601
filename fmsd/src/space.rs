//! Room on the local disks fmsd writes to, so a full disk refuses what would fill it and never
//! locks fmsd.
//!
//! [`DiskSpace`] watches the file system of every local store (the SQLite files, the blob
//! folder, the maildir) and keeps two promises:
//! - **A floor** (`files.min_free_bytes`): an upload that would leave less free is refused at
//!   create and at each part with 507 `insufficient_storage`, so fmsd's own writes never fill
//!   the disk; `/readyz` reports `disk` as degraded while the floor is not met.
//! - **A reserve** (`files.reserve_bytes`): a file of that size, allocated beside the files
//!   database while there is room. When something else filled the disk and a write that
//!   frees room (a delete, an abort) fails for want of space, the reserve is given back and
//!   the write runs once more; it is put back once the disk has room again. So deleting never
//!   needs the room it is about to free.
//!
//! A deployment without local stores (PostgreSQL and S3) watches nothing and admits every write.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use common::size::human_bytes;

use crate::error::{Error, Result};
use crate::health::Probe;

/// The name of the reserve file, in the files database's folder.
pub const RESERVE_FILE: &str = "emergency-reserve";

/// The free-space floor and the reserve over the local file systems fmsd writes to; cheap to
/// share, the measuring runs on the blocking pool.
#[derive(Debug)]
pub struct DiskSpace(Arc<Watched>);

/// What [`DiskSpace`] watches, for the blocking pool.
#[derive(Debug)]
struct Watched {
    /// One folder per local store; their file systems are the ones measured.
    folders: Vec<PathBuf>,
    /// Writes that would leave fewer bytes free than this are refused.
    min_free_bytes: u64,
    /// The reserve file and its size; `None` when there is no local files database or the
    /// size is 0.
    reserve: Option<(PathBuf, u64)>,
    /// Serialises giving back and putting back the reserve.
    reserve_lock: Mutex<()>,
}

impl DiskSpace {
    /// Watches `folders` with a floor of `min_free_bytes`, keeping a reserve of
    /// `reserve_bytes` in `reserve_dir`; the reserve is made now if there is room.
    pub fn new(
        folders: Vec<PathBuf>,
        min_free_bytes: u64,
        reserve_dir: Option<&Path>,
        reserve_bytes: u64,
    ) -> Self {
        let reserve = reserve_dir
            .filter(|_| reserve_bytes > 0)
            .map(|dir| (dir.join(RESERVE_FILE), reserve_bytes));
        let watched = Watched {
            folders,
            min_free_bytes,
            reserve,
            reserve_lock: Mutex::new(()),
        };
        watched.restore_reserve();
        Self(Arc::new(watched))
    }

    /// Watches nothing and admits every write (tests of the services alone).
    pub fn unwatched() -> Self {
        Self::new(Vec::new(), 0, None, 0)
    }

    /// Runs `work` on the blocking pool (a stat of a remote file system may block).
    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Watched) -> T + Send + 'static,
    ) -> Result<T> {
        let watched = self.0.clone();
        tokio::task::spawn_blocking(move || work(&watched))
            .await
            .map_err(Error::internal)
    }

    /// Refuses with 507 a write of `bytes` that would leave less than the floor free.
    pub async fn admit(&self, bytes: u64) -> Result<()> {
        if self.0.folders.is_empty() {
            return Ok(());
        }
        let free = self.blocking(Watched::free_bytes).await?.map_err(|error| {
            Error::internal(
                anyhow::Error::new(error).context("failed to measure the free disk space"),
            )
        })?;
        let floor = self.0.min_free_bytes;
        match free {
            Some(free) if free.saturating_sub(bytes) < floor => {
                Err(Error::InsufficientStorage(format!(
                    "the server has no room for {} more: {} are free and it keeps {} free \
                     (files.min_free_bytes); delete files or ask the operator to free space",
                    human_bytes(bytes),
                    human_bytes(free),
                    human_bytes(floor)
                )))
            }
            _ => Ok(()),
        }
    }

    /// Runs `work`, a write that frees room; if it fails for want of space, gives back the
    /// reserve and runs it once more.
    pub async fn freeing<T, F, Fut>(&self, work: F) -> Result<T>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<T>>,
    {
        match work().await {
            Err(Error::InsufficientStorage(_))
                if self.blocking(Watched::release_reserve).await? =>
            {
                work().await
            }
            other => other,
        }
    }
}

impl Watched {
    /// The bytes free on the fullest watched file system (as an unprivileged process may use
    /// them), or `None` when nothing is watched.
    fn free_bytes(&self) -> std::io::Result<Option<u64>> {
        let mut least: Option<u64> = None;
        for folder in &self.folders {
            // A store's folder not made yet lives on its nearest existing ancestor's disk.
            let existing = folder
                .ancestors()
                .find(|ancestor| ancestor.exists())
                .unwrap_or(folder);
            let stats = rustix::fs::statvfs(existing)?;
            let free = stats.f_bavail.saturating_mul(stats.f_frsize);
            least = Some(least.map_or(free, |least| least.min(free)));
        }
        Ok(least)
    }

    /// Removes the reserve file so a write that frees room fits; false when there was none.
    fn release_reserve(&self) -> bool {
        let Some((path, size)) = &self.reserve else {
            return false;
        };
        let _guard = self
            .reserve_lock
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        match std::fs::remove_file(path) {
            Ok(()) => {
                tracing::warn!(
                    size,
                    "the disk is full: the emergency reserve was given back so that a delete can go through"
                );
                true
            }
            Err(_) => false,
        }
    }

    /// Allocates the reserve file if it is missing and the disk has room for it above the
    /// floor. Failures are logged; the next check tries again.
    fn restore_reserve(&self) {
        let Some((path, size)) = &self.reserve else {
            return;
        };
        let _guard = self
            .reserve_lock
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if path.exists() {
            return;
        }
        match self.free_bytes() {
            Ok(Some(free)) if free >= self.min_free_bytes.saturating_add(*size) => {}
            _ => return,
        }
        match allocate(path, *size) {
            Ok(()) => tracing::info!(size, path = %path.display(), "emergency reserve in place"),
            Err(error) => {
                let _ = std::fs::remove_file(path);
                tracing::warn!(%error, path = %path.display(), "could not allocate the emergency reserve");
            }
        }
    }

    /// Why the disk is degraded, when it is: fewer bytes free than the floor.
    fn degradation(&self) -> std::io::Result<Option<String>> {
        let floor = self.min_free_bytes;
        Ok(self.free_bytes()?.filter(|free| *free < floor).map(|free| {
            format!("{free} bytes free, below files.min_free_bytes ({floor}): uploads are refused")
        }))
    }
}

/// Makes `path` a file of `size` bytes that really occupy the disk (not a sparse one).
fn allocate(path: &Path, size: u64) -> std::io::Result<()> {
    let file = std::fs::File::create(path)?;
    rustix::fs::fallocate(&file, rustix::fs::FallocateFlags::empty(), 0, size)?;
    file.sync_all()
}

#[async_trait]
impl Probe for DiskSpace {
    /// The disk answers while its file systems can be measured; each check also puts the
    /// reserve back once there is room.
    async fn probe(&self) -> Result<()> {
        self.blocking(|watched| {
            watched.restore_reserve();
            watched.free_bytes()
        })
        .await?
        .map_err(|error| {
            Error::unavailable(
                anyhow::Error::new(error).context("failed to measure the free disk space"),
            )
        })?;
        Ok(())
    }

    async fn degraded(&self) -> Option<String> {
        self.blocking(|watched| watched.degradation().ok().flatten())
            .await
            .ok()
            .flatten()
    }
}

//! The SHA-256 of a local file, read in large blocks on a blocking thread in the background,
//! so an upload sends its parts while the file is hashed.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::Context;
use sha2::{Digest, Sha256};
use tokio::task::JoinHandle;

/// The hashing read size: bigger than [`super::CHUNK_SIZE`] because nothing waits on it.
const HASH_BLOCK: usize = 1024 * 1024;

/// A file being hashed on a blocking thread; dropping it before [`BackgroundHash::finish`]
/// stops the thread at its next block, so a failed upload does not wait for the hash.
pub struct BackgroundHash {
    /// The thread; returns the SHA-256 (lowercase hex) and the number of bytes read.
    thread: JoinHandle<anyhow::Result<(String, u64)>>,
    /// Tells the thread to stop when dropped.
    _stop: StopOnDrop,
}

/// Sets the flag when dropped.
struct StopOnDrop(Arc<AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

impl BackgroundHash {
    /// Starts hashing `path`.
    pub fn start(path: &Path) -> Self {
        let path: PathBuf = path.to_path_buf();
        let stop = Arc::new(AtomicBool::new(false));
        let thread_stop = Arc::clone(&stop);
        let thread = tokio::task::spawn_blocking(move || sha256_blocking(&path, &thread_stop));
        Self {
            thread,
            _stop: StopOnDrop(stop),
        }
    }

    /// Waits for the SHA-256 (lowercase hex) and the number of bytes read.
    pub async fn finish(self) -> anyhow::Result<(String, u64)> {
        let Self { thread, _stop } = self;
        thread.await.context("the hashing task failed")?
    }
}

/// The SHA-256 (lowercase hex) of the `len` bytes of `path` from `offset`: a part, hashed
/// before it is sent to a store that checks it.
pub async fn sha256_of_range(path: &Path, offset: u64, len: u64) -> anyhow::Result<String> {
    let path = path.to_path_buf();
    tokio::task::spawn_blocking(move || -> anyhow::Result<String> {
        use std::io::{Seek, SeekFrom};
        let mut file = std::fs::File::open(&path)
            .with_context(|| format!("failed to open {}", path.display()))?;
        file.seek(SeekFrom::Start(offset))
            .with_context(|| format!("failed to read {}", path.display()))?;
        let mut hasher = Sha256::new();
        let copied = std::io::copy(&mut file.take(len), &mut hasher)
            .with_context(|| format!("failed to read {}", path.display()))?;
        if copied != len {
            anyhow::bail!("{} is shorter than it was", path.display());
        }
        Ok(hex::encode(hasher.finalize()))
    })
    .await
    .context("the hashing task failed")?
}

fn sha256_blocking(path: &Path, stop: &AtomicBool) -> anyhow::Result<(String, u64)> {
    let mut file =
        std::fs::File::open(path).with_context(|| format!("failed to open {}", path.display()))?;
    let mut hasher = Sha256::new();
    let mut block = vec![0u8; HASH_BLOCK];
    let mut total = 0u64;
    loop {
        if stop.load(Ordering::Relaxed) {
            anyhow::bail!("hashing {} was stopped", path.display());
        }
        let n = match file.read(&mut block) {
            Ok(0) => break,
            Ok(n) => n,
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(error) => {
                return Err(error).with_context(|| format!("failed to read {}", path.display()))
            }
        };
        hasher.update(&block[..n]);
        total += n as u64;
    }
    Ok((hex::encode(hasher.finalize()), total))
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn sha256_file(path: &Path) -> anyhow::Result<(String, u64)> {
        BackgroundHash::start(path).finish().await
    }

    #[tokio::test]
    async fn hashes_known_content() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("abc");
        std::fs::write(&path, b"abc").unwrap();
        let (digest, size) = sha256_file(&path).await.unwrap();
        assert_eq!(
            digest,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(size, 3);

        let empty = dir.path().join("empty");
        std::fs::write(&empty, b"").unwrap();
        let (digest, size) = sha256_file(&empty).await.unwrap();
        assert_eq!(
            digest,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(size, 0);
    }

    #[test]
    fn a_stopped_hash_fails() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("abc");
        std::fs::write(&path, b"abc").unwrap();
        assert!(sha256_blocking(&path, &AtomicBool::new(true)).is_err());
    }
}

//! The SHA-256 of a local file, read in large blocks on a blocking thread.

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::Context;
use indicatif::ProgressBar;
use sha2::{Digest, Sha256};

/// The hashing read size: bigger than [`super::CHUNK_SIZE`] because nothing waits on it.
const HASH_BLOCK: usize = 1024 * 1024;

/// The file's SHA-256 (lowercase hex) and the number of bytes read, advancing `bar` as it goes.
pub async fn sha256_file(path: &Path, bar: ProgressBar) -> anyhow::Result<(String, u64)> {
    let path: PathBuf = path.to_path_buf();
    tokio::task::spawn_blocking(move || sha256_blocking(&path, &bar))
        .await
        .context("the hashing task failed")?
}

fn sha256_blocking(path: &Path, bar: &ProgressBar) -> anyhow::Result<(String, u64)> {
    let mut file =
        std::fs::File::open(path).with_context(|| format!("failed to open {}", path.display()))?;
    let mut hasher = Sha256::new();
    let mut block = vec![0u8; HASH_BLOCK];
    let mut total = 0u64;
    loop {
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
        bar.inc(n as u64);
    }
    Ok((hex::encode(hasher.finalize()), total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_known_content() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("abc");
        std::fs::write(&path, b"abc").unwrap();
        let (digest, size) = sha256_file(&path, ProgressBar::hidden()).await.unwrap();
        assert_eq!(
            digest,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(size, 3);

        let empty = dir.path().join("empty");
        std::fs::write(&empty, b"").unwrap();
        let (digest, size) = sha256_file(&empty, ProgressBar::hidden()).await.unwrap();
        assert_eq!(
            digest,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(size, 0);
    }
}

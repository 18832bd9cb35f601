//! The SHA-256 of local files, remembered across runs, so `sync` and `download -r` need not read
//! a file again to learn that it has not changed.
//!
//! The cache is one JSON file, `$XDG_CACHE_HOME/fmsctl/hashes.json` (else
//! `~/.cache/fmsctl/hashes.json`), mode 0600: a map from absolute path to size, modification
//! time (nanoseconds) and SHA-256. An entry counts only while the file's size and mtime are
//! still the recorded ones; any write to the file changes its mtime, so a changed file is read
//! again. It is read once when a command starts and written once (atomically) when it ends;
//! two commands running at once lose at most each other's new entries, never correctness.
//! A missing or damaged cache is an empty one.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant, UNIX_EPOCH};

use anyhow::Context;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// How often a long run saves what it learnt.
const SAVE_EVERY: Duration = Duration::from_secs(5);

/// What the cache knows of one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Known {
    /// The size the hash was taken at.
    size: u64,
    /// The modification time the hash was taken at, in nanoseconds since the epoch.
    modified_ns: u128,
    /// The SHA-256, lowercase hex.
    sha256: String,
}

/// The file's layout on disk.
#[derive(Debug, Default, Serialize, Deserialize)]
struct CacheFile {
    /// Absolute path → what is known.
    files: HashMap<String, Known>,
}

/// How often this run used the cache and how much it read instead.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct HashCounts {
    /// Files whose hash came from the cache.
    pub cache_hits: u64,
    /// Files read to hash them.
    pub files_read: u64,
    /// Bytes read to hash them.
    pub bytes_read: u64,
}

/// The cache of one command, shared by its tasks.
pub struct HashCache {
    /// The cache file; `None` without `XDG_CACHE_HOME` and `HOME`: nothing is kept.
    path: Option<PathBuf>,
    /// The entries, loaded at start.
    files: Mutex<HashMap<String, Known>>,
    /// Whether anything was added since loading.
    changed: Mutex<bool>,
    /// When [`HashCache::save_now_and_then`] last saved (or the cache was opened).
    last_saved: Mutex<Instant>,
    /// [`HashCounts::cache_hits`].
    hits: AtomicU64,
    /// [`HashCounts::files_read`].
    files_read: AtomicU64,
    /// [`HashCounts::bytes_read`].
    bytes_read: AtomicU64,
}

/// A local file's size and modification time, as the cache compares them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    /// Bytes.
    pub size: u64,
    /// Nanoseconds since the epoch (0 where the system has none).
    pub modified_ns: u128,
}

impl Stamp {
    /// The stamp of `metadata` (of the file itself, not of a symlink to it).
    pub fn of(metadata: &fs::Metadata) -> Self {
        let modified_ns = metadata
            .modified()
            .ok()
            .and_then(|time| time.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |since| since.as_nanos());
        Self {
            size: metadata.len(),
            modified_ns,
        }
    }
}

impl HashCache {
    /// The cache in the usual place, loaded.
    pub fn open() -> Self {
        Self::at(
            crate::dirs::fmsctl_dir("XDG_CACHE_HOME", ".cache").map(|dir| dir.join("hashes.json")),
        )
    }

    /// The cache kept in `path` (nothing kept with `None`), loaded.
    pub fn at(path: Option<PathBuf>) -> Self {
        let files = path
            .as_deref()
            .and_then(|path| fs::read(path).ok())
            .and_then(|bytes| serde_json::from_slice::<CacheFile>(&bytes).ok())
            .map(|file| file.files)
            .unwrap_or_default();
        Self {
            path,
            files: Mutex::new(files),
            changed: Mutex::new(false),
            last_saved: Mutex::new(Instant::now()),
            hits: AtomicU64::new(0),
            files_read: AtomicU64::new(0),
            bytes_read: AtomicU64::new(0),
        }
    }

    /// The SHA-256 of the file at `path` (absolute) whose metadata is `stamp`: from the cache
    /// when it is still valid, else read (on a blocking thread) and remembered.
    pub async fn sha256(&self, path: &Path, stamp: Stamp) -> anyhow::Result<String> {
        if let Some(known) = self.lookup(path, stamp) {
            self.hits.fetch_add(1, Ordering::Relaxed);
            return Ok(known);
        }
        let owned = path.to_path_buf();
        let (sha256, read) = tokio::task::spawn_blocking(move || sha256_of(&owned))
            .await
            .context("the hashing task failed")??;
        self.files_read.fetch_add(1, Ordering::Relaxed);
        self.bytes_read.fetch_add(read, Ordering::Relaxed);
        if read == stamp.size {
            self.remember(path, stamp, &sha256);
        }
        Ok(sha256)
    }

    /// Notes that the file at `path` with `stamp` has `sha256` (learnt from a transfer that
    /// checked it), so the next run need not read it.
    pub fn remember(&self, path: &Path, stamp: Stamp, sha256: &str) {
        let Some(key) = path.to_str() else { return };
        let known = Known {
            size: stamp.size,
            modified_ns: stamp.modified_ns,
            sha256: sha256.to_ascii_lowercase(),
        };
        if let Ok(mut files) = self.files.lock() {
            files.insert(key.to_owned(), known);
        }
        if let Ok(mut changed) = self.changed.lock() {
            *changed = true;
        }
    }

    /// How this run used the cache.
    pub fn counts(&self) -> HashCounts {
        HashCounts {
            cache_hits: self.hits.load(Ordering::Relaxed),
            files_read: self.files_read.load(Ordering::Relaxed),
            bytes_read: self.bytes_read.load(Ordering::Relaxed),
        }
    }

    /// Saves at most every [`SAVE_EVERY`], so that a long run that is killed keeps most of
    /// what it learnt (the next run need not read those files again).
    pub fn save_now_and_then(&self) {
        let due = match self.last_saved.lock() {
            Ok(mut last) if last.elapsed() >= SAVE_EVERY => {
                *last = Instant::now();
                true
            }
            _ => false,
        };
        if due {
            if let Err(error) = self.save() {
                tracing::warn!(error = %format!("{error:#}"), "could not save the hash cache");
            }
        }
    }

    /// Writes the cache back if anything was added; entries of files that no longer exist
    /// are dropped on the way, so the file does not grow without end.
    pub fn save(&self) -> anyhow::Result<()> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        if !self.changed.lock().map(|changed| *changed).unwrap_or(false) {
            return Ok(());
        }
        let files = match self.files.lock() {
            Ok(files) => files.clone(),
            Err(_) => return Ok(()),
        };
        let files: HashMap<String, Known> = files
            .into_iter()
            .filter(|(key, _)| Path::new(key).exists())
            .collect();
        let folder = path.parent().context("the cache file has a folder")?;
        fs::create_dir_all(folder)
            .with_context(|| format!("failed to create {}", folder.display()))?;
        let temporary = path.with_extension(format!("tmp.{}", std::process::id()));
        let text = serde_json::to_vec(&CacheFile { files })?;
        let written = crate::dirs::write_private(&temporary, &text)
            .and_then(|()| fs::rename(&temporary, path))
            .with_context(|| format!("failed to write {}", path.display()));
        if written.is_err() {
            let _ = fs::remove_file(&temporary);
        }
        written
    }

    fn lookup(&self, path: &Path, stamp: Stamp) -> Option<String> {
        let files = self.files.lock().ok()?;
        let known = files.get(path.to_str()?)?;
        (known.size == stamp.size
            && known.modified_ns == stamp.modified_ns
            && stamp.modified_ns > 0)
            .then(|| known.sha256.clone())
    }
}

/// Reads `path` whole: its SHA-256 and how many bytes it had.
fn sha256_of(path: &Path) -> anyhow::Result<(String, u64)> {
    let mut file =
        fs::File::open(path).with_context(|| format!("failed to open {}", path.display()))?;
    let mut hasher = Sha256::new();
    let read = std::io::copy(&mut file, &mut hasher)
        .with_context(|| format!("failed to read {}", path.display()))?;
    Ok((hex::encode(hasher.finalize()), read))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_known_file_is_not_read_again_and_a_changed_one_is() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.txt");
        fs::write(&file, b"abc").unwrap();
        let stamp = Stamp::of(&fs::metadata(&file).unwrap());
        let cache_path = dir.path().join("cache/hashes.json");

        let cache = HashCache::at(Some(cache_path.clone()));
        let abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assert_eq!(cache.sha256(&file, stamp).await.unwrap(), abc);
        assert_eq!(cache.counts().files_read, 1);
        cache.save().unwrap();

        let cache = HashCache::at(Some(cache_path.clone()));
        assert_eq!(cache.sha256(&file, stamp).await.unwrap(), abc);
        assert_eq!(
            cache.counts(),
            HashCounts {
                cache_hits: 1,
                files_read: 0,
                bytes_read: 0
            }
        );
        let changed = Stamp {
            modified_ns: stamp.modified_ns + 1,
            ..stamp
        };
        cache.sha256(&file, changed).await.unwrap();
        assert_eq!(cache.counts().files_read, 1);
    }

    #[test]
    fn a_damaged_cache_is_empty() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hashes.json");
        fs::write(&path, b"{not json").unwrap();
        let cache = HashCache::at(Some(path));
        assert!(cache.files.lock().unwrap().is_empty());
    }
}

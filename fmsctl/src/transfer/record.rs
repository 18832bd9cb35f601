//! The local record of an unfinished upload, so a re-run resumes it without hashing first.
//!
//! A record is `$XDG_STATE_HOME/fmsctl/uploads/<key>.json` (else `~/.local/state/fmsctl/...`)
//! holding the upload id. Its key is the SHA-256 of the server URL, the canonical local path,
//! the remote path, the size and the modification time: a file that changed since the
//! interrupted run has another key, so it starts a fresh upload. Records are written
//! atomically (temporary file, then rename) with mode 0600 and deleted once the upload ends.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use anyhow::Context;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// What a record file holds.
#[derive(Debug, Serialize, Deserialize)]
struct RecordFile {
    /// The server's upload session.
    upload_id: Uuid,
}

/// What identifies one local file at one moment: a change to it (size, mtime) changes this.
#[derive(Debug, Clone, PartialEq)]
pub struct LocalFile {
    /// The canonical path.
    pub path: PathBuf,
    /// The size in bytes.
    pub size: u64,
    /// The modification time, in nanoseconds since the epoch (0 if the system has none).
    pub modified_ns: u128,
}

impl LocalFile {
    /// Reads `path`'s identity from the file system.
    pub fn of(path: &Path) -> anyhow::Result<Self> {
        let context = || format!("failed to inspect {}", path.display());
        let canonical = fs::canonicalize(path).with_context(context)?;
        let metadata = fs::metadata(&canonical).with_context(context)?;
        let modified_ns = metadata
            .modified()
            .ok()
            .and_then(|time| time.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |since| since.as_nanos());
        Ok(Self {
            path: canonical,
            size: metadata.len(),
            modified_ns,
        })
    }
}

/// The record of one (server, local file, remote path) upload; it may not exist yet.
#[derive(Debug, Clone)]
pub struct UploadRecord {
    /// The record file; `None` when there is no state folder (no `HOME`): nothing is kept.
    path: Option<PathBuf>,
}

impl UploadRecord {
    /// The record for uploading `local` to `remote` on `server`, under the usual state folder.
    pub fn new(server: &str, local: &LocalFile, remote: &str) -> Self {
        Self::in_folder(
            crate::dirs::fmsctl_dir("XDG_STATE_HOME", ".local/state")
                .map(|dir| dir.join("uploads"))
                .as_deref(),
            server,
            local,
            remote,
        )
    }

    /// The record for uploading `local` to `remote` on `server`, under `folder`.
    pub fn in_folder(folder: Option<&Path>, server: &str, local: &LocalFile, remote: &str) -> Self {
        let mut hasher = Sha256::new();
        // Length-prefixed fields, so no two different tuples give the same bytes.
        let path_bytes = local.path.as_os_str().as_encoded_bytes();
        for field in [server.as_bytes(), path_bytes, remote.as_bytes()] {
            hasher.update((field.len() as u64).to_le_bytes());
            hasher.update(field);
        }
        hasher.update(local.size.to_le_bytes());
        hasher.update(local.modified_ns.to_le_bytes());
        let key = hex::encode(hasher.finalize());
        Self {
            path: folder.map(|folder| folder.join(format!("{key}.json"))),
        }
    }

    /// The recorded upload id, if there is a readable record.
    pub fn load(&self) -> Option<Uuid> {
        let text = fs::read(self.path.as_ref()?).ok()?;
        match serde_json::from_slice::<RecordFile>(&text) {
            Ok(record) => Some(record.upload_id),
            Err(_) => {
                // Damaged (say, by a full disk): useless, and harmless to drop.
                self.remove();
                None
            }
        }
    }

    /// Records `upload_id`, atomically and readable by the owner only.
    pub fn save(&self, upload_id: Uuid) -> anyhow::Result<()> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let folder = path.parent().context("a record has a folder")?;
        fs::create_dir_all(folder)
            .with_context(|| format!("failed to create {}", folder.display()))?;
        let temporary = path.with_extension(format!("tmp.{}", std::process::id()));
        let text = serde_json::to_vec(&RecordFile { upload_id })?;
        let written = crate::dirs::write_private(&temporary, &text)
            .and_then(|()| fs::rename(&temporary, path))
            .with_context(|| format!("failed to write {}", path.display()));
        if written.is_err() {
            let _ = fs::remove_file(&temporary);
        }
        written
    }

    /// Deletes the record, if any.
    pub fn remove(&self) {
        if let Some(path) = &self.path {
            let _ = fs::remove_file(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local(size: u64, modified_ns: u128) -> LocalFile {
        LocalFile {
            path: PathBuf::from("/data/a.bin"),
            size,
            modified_ns,
        }
    }

    #[test]
    fn records_round_trip_privately_and_go_away() {
        let dir = tempfile::tempdir().unwrap();
        let record = UploadRecord::in_folder(Some(dir.path()), "http://h", &local(3, 7), "/a");
        assert_eq!(record.load(), None);
        let id = Uuid::now_v7();
        record.save(id).unwrap();
        assert_eq!(record.load(), Some(id));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let path = record.path.as_ref().unwrap();
            let mode = fs::metadata(path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        record.remove();
        assert_eq!(record.load(), None);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn a_changed_file_has_another_record() {
        let dir = tempfile::tempdir().unwrap();
        let folder = Some(dir.path());
        let record = UploadRecord::in_folder(folder, "http://h", &local(3, 7), "/a");
        record.save(Uuid::now_v7()).unwrap();
        for other in [
            UploadRecord::in_folder(folder, "http://h", &local(3, 8), "/a"),
            UploadRecord::in_folder(folder, "http://h", &local(4, 7), "/a"),
            UploadRecord::in_folder(folder, "http://h", &local(3, 7), "/b"),
            UploadRecord::in_folder(folder, "http://g", &local(3, 7), "/a"),
        ] {
            assert_eq!(other.load(), None);
        }
    }

    #[test]
    fn a_damaged_record_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let record = UploadRecord::in_folder(Some(dir.path()), "http://h", &local(3, 7), "/a");
        let path = record.path.clone().unwrap();
        fs::write(&path, b"{not json").unwrap();
        assert_eq!(record.load(), None);
        assert!(!path.exists());
    }
}

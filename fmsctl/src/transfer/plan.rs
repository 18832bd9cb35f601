//! What an upload will do: which remote folders to create and which file goes where.
//!
//! `upload a.txt pics /backup` with `-r` plans `/backup/a.txt` and the tree of `pics` under
//! `/backup/pics`. Folders are walked without following symlinked folders (no loops); a
//! symlink to a file is uploaded as that file. Sockets, fifos and devices are skipped.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::error::UsageError;
use crate::remote_path;

/// One local file and where it goes.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedFile {
    /// The local file.
    pub local: PathBuf,
    /// Its remote path.
    pub remote: String,
    /// Its size when planned.
    pub size: u64,
}

/// Everything an upload will create.
#[derive(Debug, Default)]
pub struct UploadPlan {
    /// Remote folders to create (`mkdir -p`), only those not implied by a deeper one.
    pub folders: Vec<String>,
    /// The files, in the order given, folders walked in name order.
    pub files: Vec<PlannedFile>,
    /// Things skipped, to tell the user.
    pub skipped: Vec<String>,
}

impl UploadPlan {
    /// The bytes of all files together.
    pub fn total_bytes(&self) -> u64 {
        self.files.iter().map(|file| file.size).sum()
    }
}

/// Plans uploading `locals` into the remote folder `remote_dir`.
pub fn plan_upload(
    locals: &[PathBuf],
    remote_dir: &str,
    recursive: bool,
) -> anyhow::Result<UploadPlan> {
    let mut plan = UploadPlan::default();
    let mut folders = Vec::new();
    for local in locals {
        let metadata =
            fs::metadata(local).with_context(|| format!("cannot upload {}", local.display()))?;
        if metadata.is_dir() {
            if !recursive {
                return Err(UsageError(format!(
                    "{} is a folder; use -r to upload folders",
                    local.display()
                ))
                .into());
            }
            let remote = match folder_name(local)? {
                Some(name) => remote_path::join(remote_dir, &name),
                None => remote_path::normalize(remote_dir),
            };
            folders.push(remote.clone());
            walk(local, &remote, &mut plan, &mut folders)?;
        } else if metadata.is_file() {
            let name = utf8_name(local)?;
            plan.files.push(PlannedFile {
                local: local.clone(),
                remote: remote_path::join(remote_dir, &name),
                size: metadata.len(),
            });
        } else {
            return Err(UsageError(format!(
                "{} is neither a file nor a folder",
                local.display()
            ))
            .into());
        }
    }
    plan.folders = leaf_folders(folders);
    Ok(plan)
}

fn walk(
    dir: &Path,
    remote: &str,
    plan: &mut UploadPlan,
    folders: &mut Vec<String>,
) -> anyhow::Result<()> {
    let mut entries = fs::read_dir(dir)
        .with_context(|| format!("failed to list {}", dir.display()))?
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("failed to list {}", dir.display()))?;
    entries.sort_by_key(|entry| entry.file_name());
    for entry in entries {
        let path = entry.path();
        let remote_child = remote_path::join(remote, &utf8_name(&path)?);
        let file_type = entry
            .file_type()
            .with_context(|| format!("failed to inspect {}", path.display()))?;
        if file_type.is_dir() {
            folders.push(remote_child.clone());
            walk(&path, &remote_child, plan, folders)?;
            continue;
        }
        // Follow a symlink only to a file: a symlinked folder could loop.
        let metadata = match fs::metadata(&path) {
            Ok(metadata) => metadata,
            Err(_) if file_type.is_symlink() => {
                plan.skipped
                    .push(format!("{} (broken symlink)", path.display()));
                continue;
            }
            Err(error) => {
                return Err(error).with_context(|| format!("failed to inspect {}", path.display()))
            }
        };
        if metadata.is_file() {
            plan.files.push(PlannedFile {
                local: path,
                remote: remote_child,
                size: metadata.len(),
            });
        } else if metadata.is_dir() {
            plan.skipped
                .push(format!("{} (symlink to a folder)", path.display()));
        } else {
            plan.skipped
                .push(format!("{} (not a regular file)", path.display()));
        }
    }
    Ok(())
}

/// The name a local folder gets remotely; `None` for `/`, whose contents go straight in.
fn folder_name(local: &Path) -> anyhow::Result<Option<String>> {
    // `.` and `..` have no name of their own; the real path has.
    let real =
        fs::canonicalize(local).with_context(|| format!("cannot upload {}", local.display()))?;
    match real.file_name() {
        Some(_) => utf8_name(&real).map(Some),
        None => Ok(None),
    }
}

fn utf8_name(path: &Path) -> anyhow::Result<String> {
    let name = path
        .file_name()
        .with_context(|| format!("{} has no file name", path.display()))?;
    name.to_str()
        .map(str::to_string)
        .with_context(|| format!("{}: the name is not valid UTF-8", path.display()))
}

/// Drops every folder that a deeper one in the list implies (`mkdir -p` creates it anyway).
fn leaf_folders(mut folders: Vec<String>) -> Vec<String> {
    folders.sort();
    folders.dedup();
    let mut leaves: Vec<String> = Vec::new();
    for (index, folder) in folders.iter().enumerate() {
        let prefix = format!("{}/", folder.trim_end_matches('/'));
        let implied = folders[index + 1..]
            .iter()
            .any(|other| other.starts_with(&prefix));
        if !implied {
            leaves.push(folder.clone());
        }
    }
    leaves
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_files_and_trees() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::write(root.join("a.txt"), b"aa").unwrap();
        fs::create_dir_all(root.join("pics/2024")).unwrap();
        fs::create_dir_all(root.join("pics/empty")).unwrap();
        fs::write(root.join("pics/2024/x.jpg"), b"xxx").unwrap();
        fs::write(root.join("pics/top.jpg"), b"t").unwrap();

        let plan = plan_upload(&[root.join("a.txt"), root.join("pics")], "backup", true).unwrap();
        let remotes: Vec<&str> = plan.files.iter().map(|f| f.remote.as_str()).collect();
        assert_eq!(
            remotes,
            [
                "/backup/a.txt",
                "/backup/pics/2024/x.jpg",
                "/backup/pics/top.jpg"
            ]
        );
        assert_eq!(plan.folders, ["/backup/pics/2024", "/backup/pics/empty"]);
        assert_eq!(plan.total_bytes(), 6);
    }

    #[test]
    fn folders_need_the_recursive_flag() {
        let dir = tempfile::tempdir().unwrap();
        let error = plan_upload(&[dir.path().to_path_buf()], "/", false).unwrap_err();
        assert!(error.downcast_ref::<UsageError>().is_some());
    }

    #[test]
    fn leaf_folders_drop_implied_parents() {
        let folders = vec!["/a".into(), "/a/b".into(), "/ab".into(), "/a/b".into()];
        assert_eq!(leaf_folders(folders), ["/a/b", "/ab"]);
    }
}

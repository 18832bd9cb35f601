//! `fmsctl download REMOTE [LOCAL]`: fetch a file, resuming a previous partial download;
//! `LOCAL` `-` (and `fmsctl cat REMOTE`) writes it to stdout, and a device or fifo is written
//! through, never replaced by a regular file.
//!
//! With `-r` a folder comes whole, and a quoted pattern brings what it matches
//! ([`super::download_tree`]).
//!
//! `REMOTE` is one of my paths, a path inside a share (`shared:NAME/PATH`), a link to a file
//! (`https://HOST/s/TOKEN`, no login needed; its password is asked for when it has one), or
//! a file or folder inside a folder link (`https://HOST/s/TOKEN/PATH`; the whole link's folder
//! with `-r`). Each file fetched through a link counts as one of its downloads.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context};
use common::api::sharing::LinkMode;
use common::api::{DownloadLink, EntryKind};

use crate::cli::{CatArgs, DownloadArgs};
use crate::client::{AtPath, Client, DownloadSource};
use crate::error::{NotFoundError, UsageError};
use crate::output::{human_bytes, Output};
use crate::progress::Progress;
use crate::remote::{self, Place};
use crate::remote_path::{self, RemoteSpec};
use crate::walk;

use super::download_tree;
use crate::transfer::download::{download, download_to_stream};

/// `fmsctl cat REMOTE`: `fmsctl download REMOTE -`.
pub async fn cat(client: &Client, output: Output, args: CatArgs) -> anyhow::Result<()> {
    let args = DownloadArgs {
        remote: args.remote,
        local: Some(PathBuf::from("-")),
        recursive: false,
        parallel: 1,
        password_stdin: args.password_stdin,
    };
    run(client, output, args).await
}

/// Downloads `REMOTE` to `LOCAL` (a file, or an existing folder), or to its name here.
pub async fn run(client: &Client, output: Output, args: DownloadArgs) -> anyhow::Result<()> {
    let (source, label, link) = match remote_path::parse(&args.remote)? {
        RemoteSpec::Link { url, path } => match from_link(client, &url, &path, &args).await? {
            FromLink::File(source, label, link) => (source, label, link),
            FromLink::Tree(place, args) if walk::is_glob(&place.path) => {
                return download_tree::matches(client, output, place, &args).await;
            }
            FromLink::Tree(place, args) => {
                return download_tree::folder(client, output, place, &args).await;
            }
        },
        _ => {
            let located = remote::locate(client, &args.remote).await?;
            if walk::is_glob(&located.path) {
                return download_tree::matches(client, output, located.into(), &args).await;
            }
            let label = located.label();
            if args.recursive {
                let entry = client
                    .metadata(located.tree, &located.path)
                    .await
                    .at_path(&label)?;
                if entry.kind == EntryKind::Folder {
                    return download_tree::folder(client, output, located.into(), &args).await;
                }
            }
            let link = match client.download_link(located.tree, &located.path).await {
                Ok(link) => link,
                Err(error) if error.status() == Some(409) && is_folder(client, &located).await => {
                    return Err(anyhow::Error::new(error).context(format!(
                        "{label}: download a folder with -r (`fmsctl download -r {} LOCAL_DIR`)",
                        args.remote
                    )))
                }
                Err(error) => return Err(error).at_path(&label),
            };
            let source = DownloadSource::Tree {
                tree: located.tree,
                path: located.path,
            };
            (source, label, link)
        }
    };
    let progress = Progress::new(output);
    let bar = progress.file_bar(&link.name, link.size);
    let started = Instant::now();
    let target = match destination(args.local.as_deref(), &link.name)? {
        Destination::File(target) => target,
        Destination::Stream {
            out,
            label: to,
            stdout,
        } => {
            progress.start_transfer(&bar);
            let result = download_to_stream(client, &source, &label, link, out, &to, &bar).await;
            bar.finish_and_clear();
            let (size, sha256) = result?;
            // On stdout, the file is the output: nothing else goes there.
            if stdout {
                return Ok(());
            }
            return report(output, &label, &to, size, &sha256, started);
        }
    };
    progress.start_transfer(&bar);
    let result = download(client, &source, &label, link, &target, &bar).await;
    bar.finish_and_clear();
    let downloaded = result?;
    report(
        output,
        &label,
        &downloaded.path.display().to_string(),
        downloaded.size,
        &downloaded.sha256,
        started,
    )
}

/// Whether `located` is a folder (for a hint; an error in asking is a no).
async fn is_folder(client: &Client, located: &remote::Located) -> bool {
    client
        .metadata(located.tree, &located.path)
        .await
        .is_ok_and(|entry| entry.kind == EntryKind::Folder)
}

/// The summary line, or the JSON of what was written where.
fn report(
    output: Output,
    label: &str,
    to: &str,
    size: u64,
    sha256: &str,
    started: Instant,
) -> anyhow::Result<()> {
    if output.json {
        return output.print_json(&serde_json::json!({
            "path": to,
            "size": size,
            "sha256": sha256,
        }));
    }
    let seconds = started.elapsed().as_secs_f64();
    output.info(format_args!(
        "downloaded {label} to {to} ({} in {seconds:.1} s, {}/s)",
        human_bytes(size),
        human_bytes(rate(size, seconds))
    ))
}

/// What a link argument downloads.
enum FromLink {
    /// One file: where its URL comes from, how to name it, its first URL.
    File(DownloadSource, String, DownloadLink),
    /// Many, as `download -r` or a pattern does (with LOCAL filled in for the top of a link).
    Tree(Place, DownloadArgs),
}

/// Opens the link and sees what `path` inside it is: a link to a file, a file inside a folder
/// link (its URL, which the server counts as one download), or with `-r` (or as a pattern)
/// a folder inside it.
async fn from_link(
    client: &Client,
    url: &str,
    path: &str,
    args: &DownloadArgs,
) -> anyhow::Result<FromLink> {
    let (access, info) = remote::open_in_link(client, url, path, args.password_stdin).await?;
    if info.mode == LinkMode::Upload {
        return Err(UsageError(format!(
            "{url} is a file request: it takes files (`fmsctl upload FILE {url}`) and gives none"
        ))
        .into());
    }
    if info.kind == EntryKind::File {
        let label = format!("{} (link)", info.name);
        let link = client.link_download(&access, None).await.at_path(&label)?;
        let source = DownloadSource::Link {
            link: access,
            path: None,
        };
        return Ok(FromLink::File(source, label, link));
    }
    let place = Place::in_link(access, path);
    let pattern = walk::is_glob(path);
    let folder =
        !pattern && (path == "/" || (args.recursive && is_folder_in_link(client, &place).await?));
    if pattern || (args.recursive && folder) {
        let mut args = args.clone();
        if args.local.is_none() && path == "/" {
            crate::sync::local::check_name(&info.name)?;
            args.local = Some(PathBuf::from(&info.name));
        }
        return Ok(FromLink::Tree(place, args));
    }
    if folder {
        return Err(UsageError(format!(
            "{url} is a link to the folder {}: list it with `fmsctl ls {url}`, download it \
             with `fmsctl download -r {url} [LOCAL_DIR]`, or one file in it with \
             `fmsctl download {url}/PATH`",
            info.name
        ))
        .into());
    }
    let label = place.label();
    let source = DownloadSource::at(&place.origin, path);
    let link = match client.download_link_from(&source).await {
        Ok(link) => link,
        Err(error) if error.status() == Some(409) => {
            return Err(anyhow::Error::new(error).context(format!(
                "{label}: download a folder with -r (`fmsctl download -r {} LOCAL_DIR`)",
                args.remote
            )))
        }
        Err(error) => return Err(error).at_path(&label),
    };
    Ok(FromLink::File(source, label, link))
}

/// Whether `place`, inside a folder link, is a folder: its entry in its folder's listing.
async fn is_folder_in_link(client: &Client, place: &Place) -> anyhow::Result<bool> {
    let parent = remote_path::parent(&place.path);
    let entries = walk::folder(client, &place.origin, &parent)
        .await
        .at_path(&place.shown.path(&parent))?;
    match entries.iter().find(|entry| entry.path == place.path) {
        Some(entry) => Ok(entry.kind == EntryKind::Folder),
        None => Err(NotFoundError(format!(
            "{}: '{}' does not exist",
            place.label(),
            place.path
        ))
        .into()),
    }
}

/// Where the bytes go.
enum Destination {
    /// A regular file, written as `NAME.part` and renamed once checked.
    File(PathBuf),
    /// Written through as the bytes arrive: stdout (`-`), or something that exists and is no
    /// regular file (a device, a fifo, a symlink to one), which is never replaced.
    Stream {
        /// Where to.
        out: Box<dyn Write + Send>,
        /// How messages name it.
        label: String,
        /// Whether it is stdout, which then carries nothing else.
        stdout: bool,
    },
}

/// `-` is stdout; an existing device or fifo is written through; anything else is a file,
/// placed as [`target_path`] says.
fn destination(local: Option<&Path>, name: &str) -> anyhow::Result<Destination> {
    if local.is_some_and(|local| local == Path::new("-")) {
        return Ok(Destination::Stream {
            out: Box::new(std::io::stdout()),
            label: "stdout".to_owned(),
            stdout: true,
        });
    }
    let target = target_path(local, name)?;
    match fs::metadata(&target) {
        Ok(metadata) if !metadata.is_file() && !metadata.is_dir() => {
            let out = fs::OpenOptions::new()
                .write(true)
                .open(&target)
                .with_context(|| format!("failed to open {} for writing", target.display()))?;
            Ok(Destination::Stream {
                out: Box::new(out),
                label: target.display().to_string(),
                stdout: false,
            })
        }
        _ => Ok(Destination::File(target)),
    }
}

/// Where the file goes: `LOCAL`, inside `LOCAL` if it is a folder, or `NAME` here.
fn target_path(local: Option<&Path>, name: &str) -> anyhow::Result<PathBuf> {
    // The name comes from the server: never let it climb out of the chosen folder.
    if name.is_empty() || name == "." || name == ".." || name.contains('/') || name.contains('\0') {
        bail!("the server sent an unusable file name {name:?}");
    }
    Ok(match local {
        None => PathBuf::from(name),
        Some(local) if local.is_dir() || local.as_os_str().to_string_lossy().ends_with('/') => {
            local.join(name)
        }
        Some(local) => local.to_path_buf(),
    })
}

/// Bytes per second, for the summary line.
pub fn rate(bytes: u64, seconds: f64) -> u64 {
    if seconds <= 0.0 {
        return bytes;
    }
    (bytes as f64 / seconds) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_device_or_stdout_is_written_through_and_a_file_is_placed() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            destination(Some(Path::new("-")), "a.txt").unwrap(),
            Destination::Stream { stdout: true, .. }
        ));
        assert!(matches!(
            destination(Some(Path::new("/dev/null")), "a.txt").unwrap(),
            Destination::Stream { stdout: false, .. }
        ));
        let link = dir.path().join("null-link");
        std::os::unix::fs::symlink("/dev/null", &link).unwrap();
        assert!(matches!(
            destination(Some(&link), "a.txt").unwrap(),
            Destination::Stream { stdout: false, .. }
        ));
        assert!(matches!(
            destination(Some(dir.path()), "a.txt").unwrap(),
            Destination::File(path) if path == dir.path().join("a.txt")
        ));
    }

    #[test]
    fn the_target_follows_cp_rules() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(target_path(None, "a.txt").unwrap(), Path::new("a.txt"));
        assert_eq!(
            target_path(Some(dir.path()), "a.txt").unwrap(),
            dir.path().join("a.txt")
        );
        let file = dir.path().join("b.bin");
        assert_eq!(target_path(Some(&file), "a.txt").unwrap(), file);
        assert!(target_path(None, "../x").is_err());
        assert!(target_path(None, "..").is_err());
    }
}

//! `fmsctl download REMOTE [LOCAL]`: fetch a file, resuming a previous partial download.
//!
//! `REMOTE` is one of my paths, a path inside a share (`shared:NAME/PATH`), or a link to a
//! file (`https://HOST/s/TOKEN`, no login needed; its password is asked for when it has one).

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::bail;
use common::api::sharing::LinkMode;
use common::api::{DownloadLink, EntryKind};

use crate::cli::DownloadArgs;
use crate::client::{AtPath, Client, DownloadSource};
use crate::error::UsageError;
use crate::output::{human_bytes, Output};
use crate::progress::Progress;
use crate::remote;
use crate::remote_path::{self, RemoteSpec};
use crate::transfer::download::download;

/// Downloads `REMOTE` to `LOCAL` (a file, or an existing folder), or to its name here.
pub async fn run(client: &Client, output: Output, args: DownloadArgs) -> anyhow::Result<()> {
    let (source, label, link) = match remote_path::parse(&args.remote)? {
        RemoteSpec::Link(url) => from_link(client, &url, args.password_stdin).await?,
        _ => {
            let located = remote::locate(client, &args.remote).await?;
            let label = located.label();
            let link = client
                .download_link(located.tree, &located.path)
                .await
                .at_path(&label)?;
            let source = DownloadSource::Tree {
                tree: located.tree,
                path: located.path,
            };
            (source, label, link)
        }
    };
    let target = target_path(args.local.as_deref(), &link.name)?;

    let progress = Progress::new(output);
    let bar = progress.file_bar(&link.name, link.size);
    progress.start_transfer(&bar);
    let started = Instant::now();
    let result = download(client, &source, &label, link, &target, &bar).await;
    bar.finish_and_clear();
    let downloaded = result?;

    if output.json {
        return output.print_json(&serde_json::json!({
            "path": downloaded.path.to_string_lossy(),
            "size": downloaded.size,
            "sha256": downloaded.sha256,
        }));
    }
    let seconds = started.elapsed().as_secs_f64();
    output.info(format_args!(
        "downloaded {label} to {} ({} in {seconds:.1} s, {}/s)",
        downloaded.path.display(),
        human_bytes(downloaded.size),
        human_bytes(rate(downloaded.size, seconds))
    ))
}

/// Opens the link, checks that it leads to a file one may download, and asks for a download
/// URL (which the server counts as one download).
async fn from_link(
    client: &Client,
    url: &str,
    password_stdin: bool,
) -> anyhow::Result<(DownloadSource, String, DownloadLink)> {
    let (access, info) = remote::open_link(client, url, password_stdin).await?;
    if info.mode == LinkMode::Upload {
        return Err(UsageError(format!(
            "{url} is a file request: it takes files (`fmsctl upload FILE {url}`) and gives none"
        ))
        .into());
    }
    if info.kind == EntryKind::Folder {
        return Err(UsageError(format!(
            "{url} is a link to the folder {}: list it with `fmsctl ls {url}`; only a link to a \
             file can be downloaded",
            info.name
        ))
        .into());
    }
    let label = format!("{} (link)", info.name);
    let link = client.link_download(&access, None).await.at_path(&label)?;
    Ok((DownloadSource::Link(access), label, link))
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

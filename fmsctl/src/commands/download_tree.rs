//! `fmsctl download -r REMOTE_DIR [LOCAL]` and `fmsctl download 'PATTERN' [LOCAL]`: many
//! files at once, through the copy of `sync REMOTE LOCAL` without deletions
//! ([`super::sync::pull`]): files in parallel, each checked against the server's SHA-256; a
//! rerun skips files already there and checked (by the hash cache) and resumes partial ones.
//!
//! LOCAL becomes the copy of REMOTE_DIR (made if missing; by default the folder's name, here),
//! so running the same command again resumes rather than nesting a second copy. A pattern's
//! matches keep their paths below the pattern's fixed part (`'/photos/**/*.jpg' out` puts
//! `/photos/2024/a.jpg` at `out/2024/a.jpg`), so two matches of one name cannot collide.
//!
//! The folder may also be a folder link or a folder inside one (no login): each file fetched
//! counts as one download of the link, as a click on its Download button does.

use std::path::PathBuf;

use common::api::EntryKind;

use super::sync::{pull, Options, PullJob};
use crate::cli::DownloadArgs;
use crate::client::{AtPath, Client};
use crate::error::UsageError;
use crate::output::Output;
use crate::remote::Place;
use crate::remote_path::{self, Shown};
use crate::sync::exclude::Excludes;
use crate::sync::remote::{node, relative};
use crate::sync::{ancestors, Listing, Node};
use crate::walk;

fn options(args: &DownloadArgs) -> anyhow::Result<Options> {
    Ok(Options {
        delete: false,
        dry_run: false,
        parallel: usize::from(args.parallel),
        excludes: Excludes::new(&[])?,
    })
}

/// Downloads the remote folder `place` into LOCAL.
pub async fn folder(
    client: &Client,
    output: Output,
    place: Place,
    args: &DownloadArgs,
) -> anyhow::Result<()> {
    let label = place.label();
    let local = match &args.local {
        Some(local) => local.clone(),
        None => PathBuf::from(default_name(&place)?),
    };
    let entries = walk::tree(client, &place.origin, &place.path, None)
        .await
        .at_path(&label)?;
    let (source, refused) = relative(&place.path, entries);
    let job = PullJob {
        source_label: label,
        destination_label: local.display().to_string(),
        origin: place.origin,
        remote_root: place.path,
        shown: place.shown,
        source,
        refused,
        skipped: Vec::new(),
        local,
    };
    pull(client, output, job, &options(args)?).await
}

/// Downloads what the pattern `place.path` matches into LOCAL (default: here).
pub async fn matches(
    client: &Client,
    output: Output,
    place: Place,
    args: &DownloadArgs,
) -> anyhow::Result<()> {
    let pattern = walk::Pattern::parse(&place.path)?;
    let matched = walk::expand(client, &place.origin, &place.path).await?;
    let mut source = Listing::new();
    let mut refused = Vec::new();
    let mut skipped = Vec::new();
    for entry in matched {
        let (found, bad) = relative(&pattern.base, vec![entry.clone()]);
        refused.extend(bad);
        let Some(path) = found.keys().next().cloned() else {
            continue;
        };
        for parent in ancestors(&path) {
            source.insert(parent.to_owned(), Node::Folder);
        }
        if entry.kind == EntryKind::Folder {
            if !args.recursive {
                skipped.push(format!(
                    "{} (a folder: use -r to download folders)",
                    place.shown.path(&entry.path)
                ));
                continue;
            }
            let below = walk::tree(client, &place.origin, &entry.path, None)
                .await
                .at_path(&place.shown.path(&entry.path))?;
            let (found_below, bad) = relative(&pattern.base, below);
            refused.extend(bad);
            source.extend(found_below);
        }
        source.insert(path, node(&entry));
    }
    let local = args.local.clone().unwrap_or_else(|| PathBuf::from("."));
    let job = PullJob {
        source_label: place.label(),
        destination_label: local.display().to_string(),
        origin: place.origin,
        remote_root: pattern.base.clone(),
        shown: place.shown,
        source,
        refused,
        skipped,
        local,
    };
    pull(client, output, job, &options(args)?).await
}

/// The folder's own name, or the share's for the top of a share; `/` has none (the top of a
/// link is named by the caller, who knows the linked folder's name).
fn default_name(place: &Place) -> anyhow::Result<String> {
    let name = remote_path::file_name(&place.path);
    if !name.is_empty() {
        crate::sync::local::check_name(name)?;
        return Ok(name.to_owned());
    }
    match &place.shown {
        Shown::Shared(share) if crate::sync::local::check_name(share).is_ok() => Ok(share.clone()),
        _ => Err(UsageError(format!(
            "name the local folder the copy of {} goes into: `fmsctl download -r {} LOCAL_DIR`",
            place.label(),
            place.label()
        ))
        .into()),
    }
}

//! `fmsctl find [PATH] [--name GLOB] [--newer DURATION] [--larger SIZE] [--type f|d]`: the
//! entries under `PATH` that pass every test given, one path a line.

use chrono::{Duration, Utc};
use common::api::{Entry, EntryKind};
use globset::{GlobBuilder, GlobMatcher};

use crate::cli::{FindArgs, FindType};
use crate::client::{AtPath, Client};
use crate::error::UsageError;
use crate::output::Output;
use crate::remote;
use crate::walk;

/// Walks `PATH` and prints what passes.
pub async fn run(client: &Client, output: Output, args: FindArgs) -> anyhow::Result<()> {
    let name = args
        .name
        .as_deref()
        .map(|glob| {
            GlobBuilder::new(glob)
                .literal_separator(true)
                .build()
                .map(|glob| glob.compile_matcher())
                .map_err(|error| UsageError(format!("--name {glob}: {error}")))
        })
        .transpose()?;
    let located = remote::locate(client, &args.path).await?;
    let entries = walk::tree(client, located.tree, &located.path, None)
        .await
        .at_path(&located.label())?;
    let newer_than = args
        .newer
        .map(|secs| Utc::now() - Duration::seconds(i64::try_from(secs).unwrap_or(i64::MAX / 2)));
    let passes = |entry: &Entry| {
        name.as_ref()
            .is_none_or(|name: &GlobMatcher| name.is_match(&entry.name))
            && newer_than.is_none_or(|since| entry.modified_at > since)
            && args
                .larger
                .is_none_or(|size| entry.kind == EntryKind::File && entry.size > size)
            && args.kind.is_none_or(|kind| match kind {
                FindType::F => entry.kind == EntryKind::File,
                FindType::D => entry.kind == EntryKind::Folder,
            })
    };
    let found: Vec<Entry> = entries.into_iter().filter(passes).collect();
    if output.json {
        return output.print_json(&serde_json::json!({ "entries": found }));
    }
    for entry in &found {
        output.print_line(located.shown.path(&entry.path))?;
    }
    Ok(())
}

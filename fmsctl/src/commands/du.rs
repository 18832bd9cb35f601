//! `fmsctl du [-s] [PATH]`: how much each folder under `PATH` holds, files of its sub-folders
//! included, deepest first as du(1) prints it; `-s`: `PATH`'s total only.

use std::collections::BTreeMap;

use common::api::EntryKind;
use serde::Serialize;

use crate::cli::DuArgs;
use crate::client::{AtPath, Client};
use crate::output::{human_bytes, Output};
use crate::remote;
use crate::walk;

/// What a folder holds.
#[derive(Debug, Default, Clone, Serialize)]
struct Usage {
    /// The folder, as shown.
    path: String,
    /// Bytes of every file under it.
    bytes: u64,
    /// How many files.
    files: u64,
}

/// Walks `PATH` and prints the totals.
pub async fn run(client: &Client, output: Output, args: DuArgs) -> anyhow::Result<()> {
    let located = remote::locate(client, &args.path).await?;
    let entries = walk::tree(client, located.tree, &located.path, None)
        .await
        .at_path(&located.label())?;
    let root = located.path.clone();
    let mut folders: BTreeMap<String, Usage> = BTreeMap::new();
    folders.insert(root.clone(), Usage::default());
    for entry in entries
        .iter()
        .filter(|entry| entry.kind == EntryKind::Folder)
    {
        folders.insert(entry.path.clone(), Usage::default());
    }
    // Each file counts in its folder and in every folder above it, up to `PATH`.
    for file in entries.iter().filter(|entry| entry.kind == EntryKind::File) {
        let mut folder = parent(&file.path);
        loop {
            if let Some(usage) = folders.get_mut(folder) {
                usage.bytes += file.size;
                usage.files += 1;
            }
            if folder == root || folder == "/" {
                break;
            }
            folder = parent(folder);
        }
    }
    let mut rows: Vec<Usage> = folders
        .into_iter()
        .filter(|(path, _)| !args.summarize || *path == root)
        .map(|(path, usage)| Usage {
            path: located.shown.path(&path),
            ..usage
        })
        .collect();
    // Deepest first, then by name: what du prints, the total last.
    rows.sort_by(|a, b| {
        let depth = |usage: &Usage| usage.path.matches('/').count();
        depth(b).cmp(&depth(a)).then_with(|| a.path.cmp(&b.path))
    });
    if output.json {
        return output.print_json(&rows);
    }
    let lines: Vec<Vec<String>> = rows
        .iter()
        .map(|usage| vec![human_bytes(usage.bytes), usage.path.clone()])
        .collect();
    output.print_table(&lines)
}

/// The folder holding `path`: `/a` for `/a/b`, `/` for `/a`.
fn parent(path: &str) -> &str {
    match path.rsplit_once('/') {
        Some(("", _)) | None => "/",
        Some((folder, _)) => folder,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parents_climb_to_the_root() {
        assert_eq!(parent("/a/b/c.txt"), "/a/b");
        assert_eq!(parent("/a"), "/");
        assert_eq!(parent("/"), "/");
    }
}

//! `fmsctl rm [-r] [--permanent] PATH`: delete a file, or a folder and everything in it (also
//! inside a share, `shared:NAME/PATH`, as an editor), or everything a quoted pattern matches
//! (`fmsctl rm '/tmp/*.log'`). What it deletes goes into the trash (the owner's, inside a
//! share), unless `--permanent` deletes it for good.

use common::api::EntryKind;

use crate::cli::RmArgs;
use crate::client::{AtPath, Client, Tree};
use crate::output::{human_bytes, Output};
use crate::remote::{self, Located};
use crate::walk;

/// Deletes and says what went.
pub async fn run(client: &Client, output: Output, args: RmArgs) -> anyhow::Result<()> {
    let located = remote::locate(client, &args.path).await?;
    if walk::is_glob(&located.path) {
        return remove_matches(client, output, &located, args.recursive, args.permanent).await;
    }
    let path = located.label();
    let deleted = client
        .delete(located.tree, &located.path, args.recursive, args.permanent)
        .await
        .at_path(&path)?;
    if output.json {
        return output.print_json(&deleted);
    }
    if deleted.trashed {
        let restore = match located.tree {
            Tree::Own => format!("; `fmsctl trash restore {}` brings it back", located.path),
            Tree::Shared(_) => "; its owner can restore it".to_owned(),
        };
        return output.info(format_args!(
            "moved {path} to the trash ({} {}, {} {}, {}){restore}",
            deleted.n_files,
            plural(deleted.n_files, "file", "files"),
            deleted.n_folders,
            plural(deleted.n_folders, "folder", "folders"),
            human_bytes(deleted.bytes_trashed)
        ));
    }
    output.info(format_args!(
        "removed {path} ({} {}, {} {}, {} freed)",
        deleted.n_files,
        plural(deleted.n_files, "file", "files"),
        deleted.n_folders,
        plural(deleted.n_folders, "folder", "folders"),
        human_bytes(deleted.bytes_freed)
    ))
}

/// A quoted pattern: deletes everything it matches (an entry inside a matched folder goes
/// with the folder), reports each removal and each failure, and fails with the first failure.
async fn remove_matches(
    client: &Client,
    output: Output,
    located: &Located,
    recursive: bool,
    permanent: bool,
) -> anyhow::Result<()> {
    let matched = walk::expand(client, located.tree, &located.path).await?;
    let folders: Vec<&str> = matched
        .iter()
        .filter(|entry| entry.kind == EntryKind::Folder)
        .map(|entry| entry.path.as_str())
        .collect();
    let outermost = matched.iter().filter(|entry| {
        !folders
            .iter()
            .any(|folder| entry.path.starts_with(&format!("{folder}/")))
    });
    let (mut removed, mut failed) = (Vec::new(), Vec::new());
    let mut first_error = None;
    for entry in outermost {
        let shown = located.shown.path(&entry.path);
        match client
            .delete(located.tree, &entry.path, recursive, permanent)
            .await
            .at_path(&shown)
        {
            Ok(deleted) => {
                if !output.json {
                    if deleted.trashed {
                        output.info(format_args!("moved {shown} to the trash"))?;
                    } else {
                        output.info(format_args!("removed {shown}"))?;
                    }
                }
                removed.push(serde_json::json!({ "path": shown, "deleted": deleted }));
            }
            Err(error) => {
                output.notice(format_args!("{error:#}"));
                failed.push(serde_json::json!({ "path": shown, "error": format!("{error:#}") }));
                first_error.get_or_insert(error);
            }
        }
    }
    if output.json {
        output.print_json(&serde_json::json!({ "removed": removed, "failed": failed }))?;
    }
    match first_error {
        Some(error) => Err(error.context(format!(
            "{} of {} could not be removed",
            failed.len(),
            failed.len() + removed.len()
        ))),
        None => Ok(()),
    }
}

fn plural<'word>(n: u64, one: &'word str, many: &'word str) -> &'word str {
    if n == 1 {
        one
    } else {
        many
    }
}

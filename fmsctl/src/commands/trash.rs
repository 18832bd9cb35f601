//! `fmsctl trash [ls]`, `fmsctl trash restore PATH|ID [--to PATH]`, `fmsctl trash rm ID|PATH`,
//! `fmsctl trash empty`: what `rm` moved out of your files (and what editors deleted through
//! your shares), until it is restored or deleted for good.
//!
//! An item is named by its id (`trash ls` shows it) or by the path it was deleted from; when
//! several items came from one path, the path names the newest, and the others are named by id.

use chrono::{DateTime, Local, Utc};
use common::api::{EntryKind, TrashEntry};
use uuid::Uuid;

use crate::cli::{TrashAction, TrashArgs};
use crate::client::{AtPath, Client};
use crate::error::{NotFoundError, UsageError};
use crate::output::{human_bytes, Output};
use crate::remote_path;

/// Does what `args` says; `ls` when it says nothing.
pub async fn run(client: &Client, output: Output, args: TrashArgs) -> anyhow::Result<()> {
    match args.action.unwrap_or(TrashAction::Ls) {
        TrashAction::Ls => list(client, output).await,
        TrashAction::Restore { item, to } => restore(client, output, &item, to.as_deref()).await,
        TrashAction::Rm { item } => remove(client, output, &item).await,
        TrashAction::Empty => empty(client, output).await,
    }
}

async fn list(client: &Client, output: Output) -> anyhow::Result<()> {
    let listing = client.trash().await?;
    if output.json {
        return output.print_json(&listing);
    }
    if listing.items.is_empty() {
        return output.print_line("(the trash is empty)");
    }
    let mut rows = vec![["ID", "KIND", "SIZE", "DELETED", "PURGED", "BY", "PATH"]
        .map(str::to_owned)
        .to_vec()];
    rows.extend(listing.items.iter().map(|item| {
        vec![
            item.id.to_string(),
            match item.kind {
                EntryKind::File => "file".to_owned(),
                EntryKind::Folder => format!("folder ({} files)", item.n_files),
            },
            human_bytes(item.size),
            local(item.trashed_at),
            local(item.purge_at),
            item.trashed_by_email
                .clone()
                .unwrap_or_else(|| "you".to_owned()),
            item.path.clone(),
        ]
    }));
    output.print_table(&rows)
}

/// The item `named` names: an id, or the path of the newest item deleted from there; how many
/// older items came from that path too.
async fn find(client: &Client, named: &str) -> anyhow::Result<(TrashEntry, usize)> {
    let items = client.trash().await?.items;
    if let Ok(id) = Uuid::parse_str(named) {
        return items
            .into_iter()
            .find(|item| item.id == id)
            .map(|item| (item, 0))
            .ok_or_else(|| NotFoundError(format!("there is no item {id} in the trash")).into());
    }
    if !named.starts_with('/') {
        return Err(UsageError(format!(
            "'{named}' is neither an id nor a path (paths start with '/'); `fmsctl trash ls` \
             lists the trash"
        ))
        .into());
    }
    let path = remote_path::normalize(named);
    // Newest first, as the server lists them.
    let (from_there, others): (Vec<TrashEntry>, Vec<TrashEntry>) =
        items.into_iter().partition(|item| item.path == path);
    let mut from_there = from_there.into_iter();
    let Some(newest) = from_there.next() else {
        // A folder goes into the trash whole and comes back whole.
        let inside = others
            .iter()
            .find(|item| path.starts_with(&format!("{}/", item.path)));
        return Err(match inside {
            Some(folder) => NotFoundError(format!(
                "{path} is inside {}, which is in the trash as a whole; restore that \
                 (`fmsctl trash restore {}`)",
                folder.path, folder.id
            )),
            None => NotFoundError(format!(
                "nothing deleted from {path} is in the trash; `fmsctl trash ls` lists it"
            )),
        }
        .into());
    };
    Ok((newest, from_there.count()))
}

async fn restore(
    client: &Client,
    output: Output,
    named: &str,
    to: Option<&str>,
) -> anyhow::Result<()> {
    let (item, n_older) = find(client, named).await?;
    let to = to.map(remote_path::normalize);
    let restored = client
        .restore(item.id, to.as_deref())
        .await
        .at_path(&item.path)?;
    if output.json {
        return output.print_json(&restored);
    }
    let renamed = if restored.entry.path == restored.from {
        String::new()
    } else {
        format!(" as {}", restored.entry.path)
    };
    output.info(format_args!(
        "restored {}{renamed}{}",
        restored.from,
        older(n_older, &item.path)
    ))
}

async fn remove(client: &Client, output: Output, named: &str) -> anyhow::Result<()> {
    let (item, n_older) = find(client, named).await?;
    let purged = client
        .delete_from_trash(item.id)
        .await
        .at_path(&item.path)?;
    if output.json {
        return output.print_json(&purged);
    }
    output.info(format_args!(
        "deleted {} for good ({} freed){}",
        item.path,
        human_bytes(purged.bytes_freed),
        older(n_older, &item.path)
    ))
}

async fn empty(client: &Client, output: Output) -> anyhow::Result<()> {
    let purged = client.empty_trash().await?;
    if output.json {
        return output.print_json(&purged);
    }
    output.info(format_args!(
        "emptied the trash: {} {} deleted for good ({} freed)",
        purged.n_items,
        if purged.n_items == 1 { "item" } else { "items" },
        human_bytes(purged.bytes_freed)
    ))
}

/// What to say about the older items deleted from the same path, if any.
fn older(n_older: usize, path: &str) -> String {
    match n_older {
        0 => String::new(),
        1 => format!("; 1 older item from {path} is still in the trash (name it by its id)"),
        n => format!("; {n} older items from {path} are still in the trash (name them by id)"),
    }
}

fn local(at: DateTime<Utc>) -> String {
    at.with_timezone(&Local)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

//! `fmsctl ls [-l] [PATH]`: list a folder, every page of it.

use chrono::Local;
use common::api::{Entry, EntryKind, Listing};

use crate::cli::LsArgs;
use crate::client::{AtPath, Client, ClientError};
use crate::output::Output;
use crate::remote_path;

/// Lists `PATH`, following `next_cursor` to the end; a file is shown as itself, as ls(1) does.
pub async fn run(client: &Client, output: Output, args: LsArgs) -> anyhow::Result<()> {
    let path = remote_path::normalize(&args.path);
    let listing = match list_all(client, &path).await {
        Ok(listing) => listing,
        Err(error) => match file_instead(client, &path, &error).await {
            Some(entry) => Listing {
                path: path.clone(),
                entries: vec![entry],
                next_cursor: None,
            },
            None => return Err(error).at_path(&path),
        },
    };
    if output.json {
        return output.print_json(&listing);
    }
    if args.long {
        print_long(output, &listing.entries)
    } else {
        for entry in &listing.entries {
            output.print_line(display_name(entry))?;
        }
        Ok(())
    }
}

async fn list_all(client: &Client, path: &str) -> Result<Listing, ClientError> {
    let mut listing = client.list(path, None).await?;
    let mut cursor = listing.next_cursor.take();
    while let Some(next) = cursor {
        let mut page = client.list(path, Some(&next)).await?;
        listing.entries.append(&mut page.entries);
        cursor = page.next_cursor;
    }
    Ok(listing)
}

/// When listing fails because `path` is a file, the file's own entry. Only a server answer
/// other than an authentication failure is worth the extra call.
async fn file_instead(client: &Client, path: &str, error: &ClientError) -> Option<Entry> {
    match error.status() {
        Some(401 | 403) | None => return None,
        Some(_) => {}
    }
    match client.metadata(path).await {
        Ok(entry) if entry.kind == EntryKind::File => Some(entry),
        _ => None,
    }
}

fn display_name(entry: &Entry) -> String {
    match entry.kind {
        EntryKind::Folder => format!("{}/", entry.name),
        EntryKind::File => entry.name.clone(),
    }
}

fn print_long(output: Output, entries: &[Entry]) -> anyhow::Result<()> {
    let sizes: Vec<String> = entries
        .iter()
        .map(|entry| match entry.kind {
            EntryKind::Folder => "-".to_string(),
            EntryKind::File => entry.size.to_string(),
        })
        .collect();
    let width = sizes.iter().map(String::len).max().unwrap_or(1);
    for (entry, size) in entries.iter().zip(&sizes) {
        let kind = match entry.kind {
            EntryKind::Folder => 'd',
            EntryKind::File => '-',
        };
        let modified = entry
            .modified_at
            .with_timezone(&Local)
            .format("%Y-%m-%d %H:%M");
        output.print_line(format_args!(
            "{kind} {size:>width$} {modified} {}",
            display_name(entry)
        ))?;
    }
    Ok(())
}

//! `fmsctl ls [-lhR] [PATH]`: list a folder, every page of it: one of mine, one inside a share
//! (`shared:NAME/...`), or a folder link (its URL); `-R` every folder below too, and a quoted
//! pattern (`'/photos/*.jpg'`) what it matches. `fmsctl ls --shared` (or `ls shared:`)
//! lists what others shared with me.

use chrono::Local;
use common::api::sharing::{LinkMode, PublicLink, Share};
use common::api::{Entry, EntryKind, Listing};

use super::shares::kind;
use crate::cli::LsArgs;
use crate::client::{AtPath, Client, ClientError};
use crate::output::{human_bytes, Output};
use crate::remote::{self, Located};
use crate::remote_path::{self, RemoteSpec};
use crate::walk::{self, all_pages};

/// Lists `PATH`, following `next_cursor` to the end; a file is shown as itself, as ls(1) does.
pub async fn run(client: &Client, output: Output, args: LsArgs) -> anyhow::Result<()> {
    if args.shared {
        return list_shared(client, output, args.long).await;
    }
    match remote_path::parse(&args.path)? {
        RemoteSpec::Shared { name, .. } if name.is_empty() => {
            list_shared(client, output, args.long).await
        }
        RemoteSpec::Link(url) => list_link(client, output, &url, &args).await,
        _ => {
            let located = remote::locate(client, &args.path).await?;
            let style = Style::of(&args);
            if walk::is_glob(&located.path) {
                list_matches(client, output, &located, style).await
            } else if args.recursive {
                list_recursive(client, output, &located, style).await
            } else {
                list_tree(client, output, &located, style).await
            }
        }
    }
}

/// How entries are printed: `-l`, and with it `-h`.
#[derive(Debug, Clone, Copy)]
struct Style {
    /// `-l`.
    long: bool,
    /// `-h`.
    human: bool,
}

impl Style {
    fn of(args: &LsArgs) -> Self {
        Self {
            long: args.long,
            human: args.human,
        }
    }
}

/// A quoted pattern: what it matches, by full path.
async fn list_matches(
    client: &Client,
    output: Output,
    located: &Located,
    style: Style,
) -> anyhow::Result<()> {
    let mut matched = walk::expand(client, located.tree, &located.path).await?;
    if output.json {
        return output.print_json(&serde_json::json!({ "entries": matched }));
    }
    for entry in &mut matched {
        entry.name = located.shown.path(&entry.path);
    }
    print_entries(output, &matched, style)
}

/// `-R`: the folder, then every folder below it, each under its own heading.
async fn list_recursive(
    client: &Client,
    output: Output,
    located: &Located,
    style: Style,
) -> anyhow::Result<()> {
    let entries = walk::tree(client, located.tree, &located.path, None)
        .await
        .at_path(&located.label())?;
    if output.json {
        return output.print_json(&serde_json::json!({
            "path": located.path,
            "entries": entries,
        }));
    }
    let mut folders = vec![located.path.clone()];
    folders.extend(
        entries
            .iter()
            .filter(|entry| entry.kind == EntryKind::Folder)
            .map(|entry| entry.path.clone()),
    );
    for (index, folder) in folders.iter().enumerate() {
        if index > 0 {
            output.print_line("")?;
        }
        output.print_line(format_args!("{}:", located.shown.path(folder)))?;
        let inside: Vec<Entry> = entries
            .iter()
            .filter(|entry| parent_of(&entry.path) == folder)
            .cloned()
            .collect();
        print_entries(output, &inside, style)?;
    }
    Ok(())
}

/// The folder holding `path`.
fn parent_of(path: &str) -> &str {
    match path.rsplit_once('/') {
        Some(("", _)) | None => "/",
        Some((folder, _)) => folder,
    }
}

async fn list_tree(
    client: &Client,
    output: Output,
    located: &Located,
    style: Style,
) -> anyhow::Result<()> {
    let (tree, path) = (located.tree, located.path.as_str());
    let listing =
        match all_pages(|cursor| async move { client.list(tree, path, cursor.as_deref()).await })
            .await
        {
            Ok(listing) => listing,
            Err(error) => match file_instead(client, located, &error).await {
                Some(entry) => Listing {
                    path: path.to_string(),
                    entries: vec![entry],
                    next_cursor: None,
                },
                None => return Err(error).at_path(&located.label()),
            },
        };
    print_listing(output, &listing, style)
}

/// A folder link: its files; a file link: the file itself.
async fn list_link(
    client: &Client,
    output: Output,
    url: &str,
    args: &LsArgs,
) -> anyhow::Result<()> {
    let (link, info) = remote::open_link(client, url, args.password_stdin).await?;
    if info.kind == EntryKind::File {
        return print_file_link(output, &info, args.long);
    }
    let listing = all_pages(|cursor| {
        let link = &link;
        async move { client.link_list(link, "/", cursor.as_deref()).await }
    })
    .await;
    let listing = match listing {
        Err(error) if info.mode == LinkMode::Upload => {
            return Err(anyhow::Error::new(error).context(
                "this link is a file request: it takes files (`fmsctl upload FILE URL`) and \
                 shows none",
            ))
        }
        other => other.at_path("the link")?,
    };
    print_listing(output, &listing, Style::of(args))
}

async fn list_shared(client: &Client, output: Output, long: bool) -> anyhow::Result<()> {
    let incoming = client.incoming_shares().await?;
    if output.json {
        return output.print_json(&incoming);
    }
    let rows: Vec<Vec<String>> = incoming
        .shares
        .iter()
        .map(|share| shared_row(share, long))
        .collect();
    output.print_table(&rows)
}

/// `name/  owner@example.com  viewer  folder`; with `-l`, the id first and the date last.
fn shared_row(share: &Share, long: bool) -> Vec<String> {
    let name = match share.kind {
        EntryKind::Folder => format!("{}/", share.name),
        EntryKind::File => share.name.clone(),
    };
    let mut row = vec![
        name,
        share.owner.email.clone(),
        share.role.as_str().to_string(),
        kind(share.kind).to_string(),
    ];
    if long {
        row.insert(0, share.id.to_string());
        row.push(
            share
                .created_at
                .with_timezone(&Local)
                .format("%Y-%m-%d %H:%M")
                .to_string(),
        );
    }
    row
}

/// When listing fails because the path is a file, the file's own entry. Only a server answer
/// other than an authentication failure is worth the extra call.
async fn file_instead(client: &Client, located: &Located, error: &ClientError) -> Option<Entry> {
    match error.status() {
        Some(401 | 403) | None => return None,
        Some(_) => {}
    }
    match client.metadata(located.tree, &located.path).await {
        Ok(entry) if entry.kind == EntryKind::File => Some(entry),
        _ => None,
    }
}

fn print_listing(output: Output, listing: &Listing, style: Style) -> anyhow::Result<()> {
    if output.json {
        return output.print_json(listing);
    }
    print_entries(output, &listing.entries, style)
}

fn print_entries(output: Output, entries: &[Entry], style: Style) -> anyhow::Result<()> {
    if style.long {
        print_long(output, entries, style.human)
    } else {
        for entry in entries {
            output.print_line(display_name(entry))?;
        }
        Ok(())
    }
}

fn print_file_link(output: Output, info: &PublicLink, long: bool) -> anyhow::Result<()> {
    if output.json {
        return output.print_json(info);
    }
    if long {
        output.print_line(format_args!("- {} {}", info.size, info.name))
    } else {
        output.print_line(&info.name)
    }
}

fn display_name(entry: &Entry) -> String {
    match entry.kind {
        EntryKind::Folder => format!("{}/", entry.name),
        EntryKind::File => entry.name.clone(),
    }
}

fn print_long(output: Output, entries: &[Entry], human: bool) -> anyhow::Result<()> {
    let sizes: Vec<String> = entries
        .iter()
        .map(|entry| match entry.kind {
            EntryKind::Folder => "-".to_string(),
            EntryKind::File if human => human_bytes(entry.size),
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

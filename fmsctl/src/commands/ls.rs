//! `fmsctl ls [-lhR] [PATH]`: list a folder, every page of it: one of mine, one inside a share
//! (`shared:NAME/...`), or a folder link (its URL, or a folder inside it:
//! `https://HOST/s/TOKEN/photos`); `-R` every folder below too, and a quoted pattern
//! (`'/photos/*.jpg'`) what it matches. `fmsctl ls --shared` (or `ls shared:`) lists what
//! others shared with me.

use chrono::Local;
use common::api::sharing::{LinkMode, PublicLink, Share};
use common::api::{Entry, EntryKind, Listing};

use super::shares::kind;
use crate::cli::LsArgs;
use crate::client::{AtPath, Client, ClientError, Origin};
use crate::output::{human_bytes, Output};
use crate::remote::{self, Place};
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
        RemoteSpec::Link { url, path } => list_link(client, output, &url, &path, &args).await,
        _ => {
            let located = remote::locate(client, &args.path).await?;
            list_place(client, output, &located.into(), &args).await
        }
    }
}

/// A folder, a pattern's matches, or with `-R` a whole tree.
async fn list_place(
    client: &Client,
    output: Output,
    place: &Place,
    args: &LsArgs,
) -> anyhow::Result<()> {
    let style = Style::of(args);
    if walk::is_glob(&place.path) {
        list_matches(client, output, place, style).await
    } else if args.recursive {
        list_recursive(client, output, place, style).await
    } else {
        list_tree(client, output, place, style).await
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
    place: &Place,
    style: Style,
) -> anyhow::Result<()> {
    let mut matched = walk::expand(client, &place.origin, &place.path).await?;
    if output.json {
        return output.print_json(&serde_json::json!({ "entries": matched }));
    }
    for entry in &mut matched {
        entry.name = place.shown.path(&entry.path);
    }
    print_entries(output, &matched, style)
}

/// `-R`: the folder, then every folder below it, each under its own heading.
async fn list_recursive(
    client: &Client,
    output: Output,
    place: &Place,
    style: Style,
) -> anyhow::Result<()> {
    let entries = walk::tree(client, &place.origin, &place.path, None)
        .await
        .at_path(&place.label())?;
    if output.json {
        return output.print_json(&serde_json::json!({
            "path": place.path,
            "entries": entries,
        }));
    }
    let mut folders = vec![place.path.clone()];
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
        output.print_line(format_args!("{}:", place.shown.path(folder)))?;
        let inside: Vec<Entry> = entries
            .iter()
            .filter(|entry| remote_path::parent(&entry.path) == *folder)
            .cloned()
            .collect();
        print_entries(output, &inside, style)?;
    }
    Ok(())
}

async fn list_tree(
    client: &Client,
    output: Output,
    place: &Place,
    style: Style,
) -> anyhow::Result<()> {
    let (origin, path) = (&place.origin, place.path.as_str());
    let listing =
        match all_pages(
            |cursor| async move { client.list_in(origin, path, cursor.as_deref()).await },
        )
        .await
        {
            Ok(listing) => listing,
            Err(error) => match file_instead(client, place, &error).await {
                Some(entry) => Listing {
                    path: path.to_string(),
                    entries: vec![entry],
                    next_cursor: None,
                },
                None => return Err(error).at_path(&place.label()),
            },
        };
    print_listing(output, &listing, style)
}

/// A folder link, or a folder (or file) inside it: as `ls` lists a folder of mine. A file
/// link: the file itself.
async fn list_link(
    client: &Client,
    output: Output,
    url: &str,
    path: &str,
    args: &LsArgs,
) -> anyhow::Result<()> {
    let (access, info) = remote::open_in_link(client, url, path, args.password_stdin).await?;
    if info.kind == EntryKind::File {
        return print_file_link(output, &info, args.long);
    }
    match list_place(client, output, &Place::in_link(access, path), args).await {
        Err(error) if info.mode == LinkMode::Upload => Err(error.context(
            "this link is a file request: it takes files (`fmsctl upload FILE URL`) and shows \
             none",
        )),
        other => other,
    }
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

/// When listing fails because the path is a file, the file's own entry: from its metadata in
/// a tree, from its folder's listing inside a link. Only a server answer other than an
/// authentication failure is worth the extra call.
async fn file_instead(client: &Client, place: &Place, error: &ClientError) -> Option<Entry> {
    match error.status() {
        Some(401 | 403) | None => return None,
        Some(_) => {}
    }
    let entry = match &place.origin {
        Origin::Tree(tree) => client.metadata(*tree, &place.path).await.ok()?,
        Origin::Link(_) if place.path == "/" => return None,
        Origin::Link(_) => walk::folder(client, &place.origin, &remote_path::parent(&place.path))
            .await
            .ok()?
            .into_iter()
            .find(|entry| entry.path == place.path)?,
    };
    (entry.kind == EntryKind::File).then_some(entry)
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

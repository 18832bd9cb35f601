//! `fmsctl ls [-l] [PATH]`: list a folder, every page of it: one of mine, one inside a share
//! (`shared:NAME/...`), or a folder link (its URL). `fmsctl ls --shared` (or `ls shared:`)
//! lists what others shared with me.

use std::future::Future;

use chrono::Local;
use common::api::sharing::{LinkMode, PublicLink, Share};
use common::api::{Entry, EntryKind, Listing};

use super::shares::kind;
use crate::cli::LsArgs;
use crate::client::{AtPath, Client, ClientError};
use crate::output::Output;
use crate::remote::{self, Located};
use crate::remote_path::{self, RemoteSpec};

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
            list_tree(client, output, &located, args.long).await
        }
    }
}

async fn list_tree(
    client: &Client,
    output: Output,
    located: &Located,
    long: bool,
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
    print_listing(output, &listing, long)
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
    print_listing(output, &listing, args.long)
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

/// Every page of a listing, `page(cursor)` fetching one.
async fn all_pages<Page, Fetch>(page: Page) -> Result<Listing, ClientError>
where
    Page: Fn(Option<String>) -> Fetch,
    Fetch: Future<Output = Result<Listing, ClientError>>,
{
    let mut listing = page(None).await?;
    let mut cursor = listing.next_cursor.take();
    while let Some(next) = cursor {
        let mut more = page(Some(next)).await?;
        listing.entries.append(&mut more.entries);
        cursor = more.next_cursor;
    }
    Ok(listing)
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

fn print_listing(output: Output, listing: &Listing, long: bool) -> anyhow::Result<()> {
    if output.json {
        return output.print_json(listing);
    }
    if long {
        print_long(output, &listing.entries)
    } else {
        for entry in &listing.entries {
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

//! `fmsctl shares [--incoming] [--outgoing] [--links]`: what others shared with me, what I
//! shared, and my links, as tables (all three when no flag is given).

use chrono::Local;
use common::api::sharing::{Link, LinkMode, Share};
use common::api::EntryKind;
use serde_json::{Map, Value};

use crate::cli::SharesArgs;
use crate::client::Client;
use crate::output::Output;

/// Lists the sections asked for; `--json` prints `{"incoming": [...], "outgoing": [...],
/// "links": [...]}` with those sections only.
pub async fn run(client: &Client, output: Output, args: SharesArgs) -> anyhow::Result<()> {
    let all = !(args.incoming || args.outgoing || args.links);
    let incoming = if all || args.incoming {
        Some(client.incoming_shares().await?.shares)
    } else {
        None
    };
    let outgoing = if all || args.outgoing {
        Some(client.outgoing_shares().await?.shares)
    } else {
        None
    };
    let links = if all || args.links {
        Some(client.links().await?.links)
    } else {
        None
    };

    if output.json {
        let mut document = Map::new();
        if let Some(shares) = &incoming {
            document.insert("incoming".into(), serde_json::to_value(shares)?);
        }
        if let Some(shares) = &outgoing {
            document.insert("outgoing".into(), serde_json::to_value(shares)?);
        }
        if let Some(links) = &links {
            document.insert("links".into(), serde_json::to_value(links)?);
        }
        return output.print_json(&Value::Object(document));
    }

    let mut sections: Vec<(&str, Vec<Vec<String>>)> = Vec::new();
    if let Some(shares) = &incoming {
        sections.push(("Shared with me", incoming_rows(shares)));
    }
    if let Some(shares) = &outgoing {
        sections.push(("Shared by me", outgoing_rows(shares)));
    }
    if let Some(links) = &links {
        sections.push(("Links", link_rows(links)));
    }
    let headed = sections.len() > 1;
    for (index, (title, rows)) in sections.iter().enumerate() {
        if headed {
            if index > 0 {
                output.print_line("")?;
            }
            output.print_line(format_args!("{title}:"))?;
        }
        if rows.len() <= 1 {
            output.print_line(if headed { "  (none)" } else { "(none)" })?;
        } else {
            output.print_table(rows)?;
        }
    }
    Ok(())
}

fn incoming_rows(shares: &[Share]) -> Vec<Vec<String>> {
    let mut rows = vec![header(&["ID", "NAME", "KIND", "ROLE", "OWNER"])];
    rows.extend(shares.iter().map(|share| {
        vec![
            share.id.to_string(),
            share.name.clone(),
            kind(share.kind).to_string(),
            share.role.as_str().to_string(),
            format!("{} <{}>", share.owner.name, share.owner.email),
        ]
    }));
    rows
}

fn outgoing_rows(shares: &[Share]) -> Vec<Vec<String>> {
    let mut rows = vec![header(&["ID", "PATH", "KIND", "ROLE", "WITH"])];
    rows.extend(shares.iter().map(|share| {
        vec![
            share.id.to_string(),
            share.path.clone().unwrap_or_else(|| share.name.clone()),
            kind(share.kind).to_string(),
            share.role.as_str().to_string(),
            format!("{} <{}>", share.recipient.name, share.recipient.email),
        ]
    }));
    rows
}

fn link_rows(links: &[Link]) -> Vec<Vec<String>> {
    let mut rows = vec![header(&[
        "ID",
        "PATH",
        "MODE",
        "PASSWORD",
        "EXPIRES",
        "DOWNLOADS",
        "UPLOADS",
    ])];
    rows.extend(links.iter().map(|link| {
        let mode = match link.mode {
            LinkMode::Download => "download",
            LinkMode::Upload => "upload-only",
        };
        let downloads = match link.max_downloads {
            Some(max) => format!("{}/{max}", link.downloads),
            None => link.downloads.to_string(),
        };
        vec![
            link.id.to_string(),
            link.path.clone(),
            mode.to_string(),
            if link.has_password { "yes" } else { "no" }.to_string(),
            link.expires_at
                .with_timezone(&Local)
                .format("%Y-%m-%d %H:%M")
                .to_string(),
            downloads,
            link.uploads.to_string(),
        ]
    }));
    rows
}

fn header(names: &[&str]) -> Vec<String> {
    names.iter().map(|name| (*name).to_string()).collect()
}

/// `file` or `folder`.
pub fn kind(kind: EntryKind) -> &'static str {
    match kind {
        EntryKind::File => "file",
        EntryKind::Folder => "folder",
    }
}

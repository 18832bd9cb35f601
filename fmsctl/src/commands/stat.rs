//! `fmsctl stat PATH...`: what the server knows of a file or folder.

use chrono::Local;
use common::api::{Entry, EntryKind};

use crate::cli::StatArgs;
use crate::client::{AtPath, Client};
use crate::output::{human_bytes, Output};
use crate::remote;

/// Prints each entry; `--json`: one entry, or an array for several paths.
pub async fn run(client: &Client, output: Output, args: StatArgs) -> anyhow::Result<()> {
    let mut entries = Vec::new();
    for path in &args.paths {
        let located = remote::locate(client, path).await?;
        let entry = client
            .metadata(located.tree, &located.path)
            .await
            .at_path(&located.label())?;
        entries.push((located.label(), entry));
    }
    if output.json {
        return match entries.as_slice() {
            [(_, entry)] => output.print_json(entry),
            _ => output.print_json(&entries.iter().map(|(_, entry)| entry).collect::<Vec<_>>()),
        };
    }
    for (index, (label, entry)) in entries.iter().enumerate() {
        if index > 0 {
            output.print_line("")?;
        }
        print(output, label, entry)?;
    }
    Ok(())
}

fn print(output: Output, label: &str, entry: &Entry) -> anyhow::Result<()> {
    let modified = entry
        .modified_at
        .with_timezone(&Local)
        .format("%Y-%m-%d %H:%M:%S %Z");
    output.print_line(format_args!("    path: {label}"))?;
    match entry.kind {
        EntryKind::Folder => output.print_line("    kind: folder")?,
        EntryKind::File => {
            output.print_line("    kind: file")?;
            output.print_line(format_args!(
                "    size: {} ({} bytes)",
                human_bytes(entry.size),
                entry.size
            ))?;
        }
    }
    output.print_line(format_args!("modified: {modified}"))?;
    if let Some(sha256) = &entry.sha256 {
        output.print_line(format_args!("  sha256: {sha256}"))?;
    }
    Ok(())
}

//! `fmsctl cp FROM TO`: a copy made by the server (the bytes never come to this machine); like
//! cp(1), a folder as `TO` means "into it" and a folder needs `-r`. Inside a share (as an
//! editor) both paths name the same share.

use common::api::{EntryKind, Overwrite};

use super::mv::{destination, same_tree};
use crate::cli::CpArgs;
use crate::client::{AtPath, Client};
use crate::error::UsageError;
use crate::output::Output;
use crate::remote;

/// Copies `FROM` to `TO`, or into `TO` when it is a folder (or ends with `/`).
pub async fn run(client: &Client, output: Output, args: CpArgs) -> anyhow::Result<()> {
    let from = remote::locate(client, &args.from).await?;
    let to = same_tree(&from, &args.from, &args.to)?;
    let source = client
        .metadata(from.tree, &from.path)
        .await
        .at_path(&from.label())?;
    if source.kind == EntryKind::Folder && !args.recursive {
        return Err(UsageError(format!("{} is a folder; copy it with -r", from.label())).into());
    }
    let to = destination(client, &from, &to, &args.to).await?;
    let overwrite = if args.overwrite {
        Overwrite::Replace
    } else {
        Overwrite::Fail
    };
    let entry = client
        .copy_entry(from.tree, &from.path, &to, overwrite)
        .await
        .at_path(&from.shown.path(&to))?;
    if output.json {
        return output.print_json(&entry);
    }
    output.info(format_args!(
        "copied {} to {}",
        from.label(),
        from.shown.path(&entry.path)
    ))
}

//! `fmsctl mv FROM TO`: move or rename; like mv(1), a folder as `TO` means "into it".

use common::api::EntryKind;

use crate::cli::MvArgs;
use crate::client::{AtPath, Client, ClientError};
use crate::output::Output;
use crate::remote_path;

/// Moves `FROM` to `TO`, or into `TO` when it is a folder (or ends with `/`).
pub async fn run(client: &Client, output: Output, args: MvArgs) -> anyhow::Result<()> {
    let from = remote_path::normalize(&args.from);
    let to = destination(client, &from, &args.to).await?;
    let entry = client.move_entry(&from, &to).await.at_path(&from)?;
    if output.json {
        return output.print_json(&entry);
    }
    output.info(format_args!("moved {from} to {}", entry.path))
}

async fn destination(client: &Client, from: &str, raw_to: &str) -> anyhow::Result<String> {
    let to = remote_path::normalize(raw_to);
    let into = |folder: &str| remote_path::join(folder, remote_path::file_name(from));
    if remote_path::names_a_folder(raw_to) || to == "/" {
        return Ok(into(&to));
    }
    match client.metadata(&to).await {
        Ok(entry) if entry.kind == EntryKind::Folder && entry.path != from => Ok(into(&to)),
        Ok(_) => Ok(to),
        Err(ClientError::Api { status: 404, .. }) => Ok(to),
        Err(error) => Err(error).at_path(&to),
    }
}

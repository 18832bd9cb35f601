//! `fmsctl mkdir [-p] PATH`: create a folder.

use anyhow::Context;

use crate::cli::MkdirArgs;
use crate::client::Client;
use crate::output::Output;
use crate::remote_path;

/// Creates the folder (and its parents with `-p`).
pub async fn run(client: &Client, output: Output, args: MkdirArgs) -> anyhow::Result<()> {
    let path = remote_path::normalize(&args.path);
    let entry = client
        .mkdir(&path, args.parents)
        .await
        .with_context(|| path.clone())?;
    if output.json {
        return output.print_json(&entry);
    }
    output.info(format_args!("created {}", entry.path))
}

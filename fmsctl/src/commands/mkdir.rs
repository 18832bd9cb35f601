//! `fmsctl mkdir [-p] PATH`: create a folder.

use crate::cli::MkdirArgs;
use crate::client::{AtPath, Client};
use crate::output::Output;
use crate::remote_path;

/// Creates the folder (and its parents with `-p`).
pub async fn run(client: &Client, output: Output, args: MkdirArgs) -> anyhow::Result<()> {
    let path = remote_path::normalize(&args.path);
    let entry = client.mkdir(&path, args.parents).await.at_path(&path)?;
    if output.json {
        return output.print_json(&entry);
    }
    output.info(format_args!("created {}", entry.path))
}

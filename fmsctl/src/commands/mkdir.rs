//! `fmsctl mkdir [-p] PATH`: create a folder (also `shared:NAME/PATH` as an editor).

use crate::cli::MkdirArgs;
use crate::client::{AtPath, Client};
use crate::output::Output;
use crate::remote;

/// Creates the folder (and its parents with `-p`).
pub async fn run(client: &Client, output: Output, args: MkdirArgs) -> anyhow::Result<()> {
    let located = remote::locate(client, &args.path).await?;
    let entry = client
        .mkdir(located.tree, &located.path, args.parents)
        .await
        .at_path(&located.label())?;
    if output.json {
        return output.print_json(&entry);
    }
    output.info(format_args!("created {}", located.shown.path(&entry.path)))
}

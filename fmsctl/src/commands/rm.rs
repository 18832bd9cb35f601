//! `fmsctl rm [-r] PATH`: delete a file, or a folder and everything in it (also inside a share,
//! `shared:NAME/PATH`, as an editor).

use crate::cli::RmArgs;
use crate::client::{AtPath, Client};
use crate::output::{human_bytes, Output};
use crate::remote;

/// Deletes and says what went.
pub async fn run(client: &Client, output: Output, args: RmArgs) -> anyhow::Result<()> {
    let located = remote::locate(client, &args.path).await?;
    let path = located.label();
    let deleted = client
        .delete(located.tree, &located.path, args.recursive)
        .await
        .at_path(&path)?;
    if output.json {
        return output.print_json(&deleted);
    }
    output.info(format_args!(
        "removed {path} ({} {}, {} {}, {} freed)",
        deleted.n_files,
        plural(deleted.n_files, "file", "files"),
        deleted.n_folders,
        plural(deleted.n_folders, "folder", "folders"),
        human_bytes(deleted.bytes_freed)
    ))
}

fn plural<'word>(n: u64, one: &'word str, many: &'word str) -> &'word str {
    if n == 1 {
        one
    } else {
        many
    }
}

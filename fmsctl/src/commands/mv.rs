//! `fmsctl mv FROM TO`: move or rename; like mv(1), a folder as `TO` means "into it". Inside a
//! share (as an editor) both paths name the same share: `mv shared:D/a shared:D/b`.

use common::api::EntryKind;

use crate::cli::MvArgs;
use crate::client::{AtPath, Client, ClientError, Tree};
use crate::error::UsageError;
use crate::output::Output;
use crate::remote::{self, Located};
use crate::remote_path::{self, RemoteSpec};
use crate::walk;

/// Moves `FROM` to `TO`, or into `TO` when it is a folder (or ends with `/`).
pub async fn run(client: &Client, output: Output, args: MvArgs) -> anyhow::Result<()> {
    let from = remote::locate(client, &args.from).await?;
    let to = same_tree(&from, &args.from, &args.to)?;
    if walk::is_glob(&from.path) {
        return move_matches(client, output, &from, &to).await;
    }
    let to = destination(client, &from, &to, &args.to).await?;
    let entry = client
        .move_entry(from.tree, &from.path, &to)
        .await
        .at_path(&from.label())?;
    if output.json {
        return output.print_json(&entry);
    }
    output.info(format_args!(
        "moved {} to {}",
        from.label(),
        from.shown.path(&entry.path)
    ))
}

/// A quoted pattern: moves everything it matches into the folder `to`, reporting each move
/// and each failure; fails with the first failure.
async fn move_matches(
    client: &Client,
    output: Output,
    pattern: &Located,
    to: &str,
) -> anyhow::Result<()> {
    let folder = client
        .metadata(pattern.tree, to)
        .await
        .at_path(&pattern.shown.path(to))?;
    if folder.kind != EntryKind::Folder {
        return Err(UsageError(format!(
            "{}: a pattern moves into a folder, and this is a file",
            pattern.shown.path(to)
        ))
        .into());
    }
    let matched = walk::expand(client, pattern.tree, &pattern.path).await?;
    let (mut moved, mut failed) = (Vec::new(), Vec::new());
    let mut first_error = None;
    for entry in &matched {
        let target = remote_path::join(to, &entry.name);
        let shown = pattern.shown.path(&entry.path);
        match client
            .move_entry(pattern.tree, &entry.path, &target)
            .await
            .at_path(&shown)
        {
            Ok(done) => {
                let now = pattern.shown.path(&done.path);
                if !output.json {
                    output.info(format_args!("moved {shown} to {now}"))?;
                }
                moved.push(done);
            }
            Err(error) => {
                output.notice(format_args!("{error:#}"));
                failed.push(serde_json::json!({ "path": shown, "error": format!("{error:#}") }));
                first_error.get_or_insert(error);
            }
        }
    }
    if output.json {
        output.print_json(&serde_json::json!({ "moved": moved, "failed": failed }))?;
    }
    match first_error {
        Some(error) => Err(error.context(format!(
            "{} of {} could not be moved",
            failed.len(),
            matched.len()
        ))),
        None => Ok(()),
    }
}

/// `TO` as a path in `from`'s tree: moving between trees (mine and a share, two shares) is
/// not a move.
pub(crate) fn same_tree(from: &Located, raw_from: &str, raw_to: &str) -> anyhow::Result<String> {
    let across = || {
        UsageError(format!(
            "{raw_from} and {raw_to} are not in the same tree: a move or a copy stays within \
             your files or within one share"
        ))
    };
    match (remote_path::parse(raw_from)?, remote_path::parse(raw_to)?) {
        (RemoteSpec::Own(_), RemoteSpec::Own(to)) => Ok(to),
        (
            RemoteSpec::Shared {
                name: from_name, ..
            },
            RemoteSpec::Shared { name, path },
        ) if name == from_name || name == shared_id(from) => Ok(path),
        _ => Err(across().into()),
    }
}

fn shared_id(located: &Located) -> String {
    match located.tree {
        Tree::Shared(id) => id.to_string(),
        Tree::Own => String::new(),
    }
}

/// The path `TO` names: into it when it is a folder (or ends with `/`), else itself.
pub(crate) async fn destination(
    client: &Client,
    from: &Located,
    to: &str,
    raw_to: &str,
) -> anyhow::Result<String> {
    let into = |folder: &str| remote_path::join(folder, remote_path::file_name(&from.path));
    if remote_path::names_a_folder(raw_to) || to == "/" {
        return Ok(into(to));
    }
    match client.metadata(from.tree, to).await {
        Ok(entry) if entry.kind == EntryKind::Folder && entry.path != from.path => Ok(into(to)),
        Ok(_) => Ok(to.to_string()),
        Err(ClientError::Api { status: 404, .. }) => Ok(to.to_string()),
        Err(error) => Err(error).at_path(&from.shown.path(to)),
    }
}

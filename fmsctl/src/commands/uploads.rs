//! `fmsctl uploads`: the unfinished uploads that reserve part of my quota, mine and those
//! started through my shares and links; `fmsctl uploads abort ID...` ends them.

use chrono::Local;
use common::api::{HeldUpload, StartedThrough};
use uuid::Uuid;

use crate::cli::{UploadsAction, UploadsArgs};
use crate::client::{AtPath, Client};
use crate::output::{human_bytes, Output};

/// Lists the sessions, or ends the ones named.
pub async fn run(client: &Client, output: Output, args: UploadsArgs) -> anyhow::Result<()> {
    match args.action {
        None => list(client, output).await,
        Some(UploadsAction::Abort { ids }) => abort(client, output, &ids).await,
    }
}

async fn list(client: &Client, output: Output) -> anyhow::Result<()> {
    let held = client.held_uploads().await?;
    if output.json {
        return output.print_json(&held);
    }
    if held.uploads.is_empty() {
        return output.print_line("(no unfinished uploads)");
    }
    let mut rows = vec![["ID", "SIZE", "STARTED", "THROUGH", "PATH"]
        .map(str::to_owned)
        .to_vec()];
    rows.extend(held.uploads.iter().map(row));
    output.print_table(&rows)
}

fn row(held: &HeldUpload) -> Vec<String> {
    let through = match (held.started_through, held.grant_id) {
        (StartedThrough::Owner, _) => "you".to_owned(),
        (StartedThrough::Share, Some(id)) => format!("share {id}"),
        (StartedThrough::Link, Some(id)) => format!("link {id}"),
        (StartedThrough::Revoked, _) => "revoked".to_owned(),
        (StartedThrough::Share, None) => "a share".to_owned(),
        (StartedThrough::Link, None) => "a link".to_owned(),
    };
    vec![
        held.upload_id.to_string(),
        human_bytes(held.size),
        held.created_at
            .with_timezone(&Local)
            .format("%Y-%m-%d %H:%M")
            .to_string(),
        through,
        held.path.clone(),
    ]
}

async fn abort(client: &Client, output: Output, ids: &[Uuid]) -> anyhow::Result<()> {
    for id in ids {
        client
            .abort_upload(*id)
            .await
            .at_path(&format!("upload {id}"))?;
        if !output.json {
            output.info(format_args!("aborted upload {id}"))?;
        }
    }
    if output.json {
        return output.print_json(&serde_json::json!({ "aborted": ids }));
    }
    Ok(())
}

//! `fmsctl unshare SHARE_ID`, `fmsctl unshare PATH --with EMAIL`, `fmsctl unshare --link ID`:
//! revoke a share (or, as its recipient, leave it), or revoke a link.

use uuid::Uuid;

use crate::cli::UnshareArgs;
use crate::client::{AtPath, Client};
use crate::error::{NotFoundError, UsageError};
use crate::output::Output;
use crate::remote_path::{self, RemoteSpec};

/// Revokes what the arguments name and says so.
pub async fn run(client: &Client, output: Output, args: UnshareArgs) -> anyhow::Result<()> {
    if let Some(link_id) = args.link {
        client
            .delete_link(link_id)
            .await
            .at_path(&format!("link {link_id}"))?;
        return report(output, "link", link_id);
    }
    let Some(target) = args.target else {
        return Err(
            UsageError("name a share id, a path with --with EMAIL, or --link ID".into()).into(),
        );
    };
    let share_id = match &args.with {
        None => target.parse::<Uuid>().map_err(|_| {
            UsageError(format!(
                "{target} is not a share id; to revoke a share by its path, add --with EMAIL"
            ))
        })?,
        Some(email) => outgoing_share(client, &target, email).await?,
    };
    client
        .delete_share(share_id)
        .await
        .at_path(&format!("share {share_id}"))?;
    report(output, "share", share_id)
}

/// The id of my share of `input` (one of my paths) with `email`.
async fn outgoing_share(client: &Client, input: &str, email: &str) -> anyhow::Result<Uuid> {
    let path = match remote_path::parse(input)? {
        RemoteSpec::Own(path) => path,
        RemoteSpec::Shared { .. } | RemoteSpec::Link { .. } => {
            return Err(UsageError(format!(
                "{input}: --with takes one of your own paths; to leave a share made with you, \
                 pass its id (see `fmsctl shares --incoming`)"
            ))
            .into())
        }
    };
    let outgoing = client.outgoing_shares().await?;
    outgoing
        .shares
        .iter()
        .find(|share| {
            share.path.as_deref() == Some(path.as_str())
                && share.recipient.email.eq_ignore_ascii_case(email.trim())
        })
        .map(|share| share.id)
        .ok_or_else(|| NotFoundError(format!("{path} is not shared with {email}")).into())
}

fn report(output: Output, what: &str, id: Uuid) -> anyhow::Result<()> {
    if output.json {
        return output.print_json(&serde_json::json!({ "revoked": what, "id": id }));
    }
    output.info(format_args!("revoked {what} {id}"))
}

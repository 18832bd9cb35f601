//! `fmsctl share PATH --with EMAIL [--role R]`: share with a registered user;
//! `fmsctl share PATH --link [--expires D] [--password-stdin] [--max-downloads N]
//! [--upload-only]`: make a public link and print its URL (and nothing else, for pipes).

use common::api::sharing::{CreateLinkRequest, Share, ShareRequest};

use crate::cli::ShareArgs;
use crate::client::{AtPath, Client};
use crate::error::UsageError;
use crate::output::Output;
use crate::password::{read_password, Confirm};
use crate::remote_path::{self, RemoteSpec};

/// Shares the item, or makes a link to it, and prints the result.
pub async fn run(client: &Client, output: Output, args: ShareArgs) -> anyhow::Result<()> {
    let path = own_path(&args.path)?;
    if args.link {
        return make_link(client, output, path, &args).await;
    }
    let Some(email) = args.with else {
        return Err(
            UsageError("say whom to share with (--with EMAIL) or ask for --link".into()).into(),
        );
    };
    let request = ShareRequest {
        path: path.clone(),
        email,
        role: args.role.map(Into::into).unwrap_or_default(),
    };
    let (share, created) = client.share(&request).await.at_path(&path)?;
    if output.json {
        return output.print_json(&share);
    }
    output.print_line(describe(&share, &path, created))
}

async fn make_link(
    client: &Client,
    output: Output,
    path: String,
    args: &ShareArgs,
) -> anyhow::Result<()> {
    let password = if args.password_stdin {
        Some(read_password(true, Confirm::Once)?)
    } else {
        None
    };
    let request = CreateLinkRequest {
        path: path.clone(),
        expires_in_secs: args.expires,
        password,
        max_downloads: args.max_downloads,
        upload_only: args.upload_only,
    };
    let created = client.create_link(&request).await.at_path(&path)?;
    if output.json {
        return output.print_json(&created);
    }
    output.print_line(&created.url)
}

/// Only the caller's own items can be shared: not one inside a share, not a link.
fn own_path(input: &str) -> anyhow::Result<String> {
    match remote_path::parse(input)? {
        RemoteSpec::Own(path) => Ok(path),
        RemoteSpec::Shared { .. } | RemoteSpec::Link { .. } => Err(UsageError(format!(
            "{input}: only your own files and folders can be shared"
        ))
        .into()),
    }
}

/// `shared folder /docs with Bob <bob@example.com> as viewer`.
fn describe(share: &Share, path: &str, created: bool) -> String {
    let kind = super::shares::kind(share.kind);
    let path = share.path.as_deref().unwrap_or(path);
    let who = format!("{} <{}>", share.recipient.name, share.recipient.email);
    let role = share.role.as_str();
    if created {
        format!("shared {kind} {path} with {who} as {role}")
    } else {
        format!("{kind} {path} was already shared with {who}; the role is now {role}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_own_paths_can_be_shared() {
        assert_eq!(own_path("docs/").unwrap(), "/docs");
        assert!(own_path("shared:docs").is_err());
        assert!(own_path("https://h/s/t").is_err());
    }
}

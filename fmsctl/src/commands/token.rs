//! `fmsctl token create NAME [--read-only] [--expires 30d]`, `fmsctl token ls`,
//! `fmsctl token revoke ID...`: app tokens for scripts (`FMSCTL_TOKEN`) and WebDAV clients.
//!
//! `create` prints the secret alone on stdout (the rest goes to stderr), so
//! `FMSCTL_TOKEN=$(fmsctl token create ci)` works as it reads.

use chrono::{DateTime, Local, Utc};
use common::api::{AppToken, CreateAppTokenRequest, TokenScope};
use uuid::Uuid;

use crate::cli::TokenAction;
use crate::client::{AtPath, Client};
use crate::output::Output;

/// Does what `action` says.
pub async fn run(client: &Client, output: Output, action: TokenAction) -> anyhow::Result<()> {
    match action {
        TokenAction::Create {
            name,
            read_only,
            expires,
        } => create(client, output, name, read_only, expires).await,
        TokenAction::Ls => list(client, output).await,
        TokenAction::Revoke { ids } => revoke(client, output, &ids).await,
    }
}

async fn create(
    client: &Client,
    output: Output,
    name: String,
    read_only: bool,
    expires: Option<u64>,
) -> anyhow::Result<()> {
    let request = CreateAppTokenRequest {
        name,
        scope: if read_only {
            TokenScope::Read
        } else {
            TokenScope::ReadWrite
        },
        expires_in_secs: expires,
    };
    let created = client.create_app_token(&request).await?;
    if output.json {
        return output.print_json(&created);
    }
    let token = &created.token;
    output.notice(format_args!(
        "made app token '{}' ({}, {}, {}); its secret is shown only now:",
        token.name,
        token.id,
        token.scope.as_str(),
        expiry(token.expires_at),
    ));
    output.print_line(&created.secret)
}

async fn list(client: &Client, output: Output) -> anyhow::Result<()> {
    let list = client.app_tokens().await?;
    if output.json {
        return output.print_json(&list);
    }
    if list.tokens.is_empty() {
        return output.print_line("(no app tokens)");
    }
    let mut rows = vec![["ID", "NAME", "SCOPE", "CREATED", "LAST USED", "EXPIRES"]
        .map(str::to_owned)
        .to_vec()];
    rows.extend(list.tokens.iter().map(row));
    output.print_table(&rows)
}

fn row(token: &AppToken) -> Vec<String> {
    vec![
        token.id.to_string(),
        token.name.clone(),
        token.scope.as_str().to_owned(),
        local(token.created_at),
        token.last_used_at.map_or_else(|| "never".to_owned(), local),
        token.expires_at.map_or_else(|| "never".to_owned(), local),
    ]
}

async fn revoke(client: &Client, output: Output, ids: &[Uuid]) -> anyhow::Result<()> {
    for id in ids {
        client
            .revoke_app_token(*id)
            .await
            .at_path(&format!("app token {id}"))?;
        if !output.json {
            output.info(format_args!("revoked app token {id}"))?;
        }
    }
    if output.json {
        return output.print_json(&serde_json::json!({ "revoked": ids }));
    }
    Ok(())
}

/// `expires 2027-01-31 12:00` or `no expiry`.
fn expiry(at: Option<DateTime<Utc>>) -> String {
    at.map_or_else(
        || "no expiry".to_owned(),
        |at| format!("expires {}", local(at)),
    )
}

fn local(at: DateTime<Utc>) -> String {
    at.with_timezone(&Local)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

//! `fmsctl logout`: end the session on the server, then forget the stored tokens.

use anyhow::Context;

use crate::client::Client;
use crate::output::Output;

/// Revokes the refresh token and deletes the stored credentials, even when the server
/// cannot be told (that case still fails, so the user knows the session may live on).
pub async fn run(client: &Client, output: Output) -> anyhow::Result<()> {
    let Some(credentials) = client.stored_credentials().await? else {
        if output.json {
            return output.print_json(&serde_json::json!({ "logged_out": true }));
        }
        return output.info(format_args!("not logged in to {}", client.server()));
    };
    let revoked = client.revoke(&credentials.refresh_token).await;
    client.store().delete()?;
    match revoked {
        // 401: the session had already ended on the server.
        Err(error) if error.status() != Some(401) => {
            return Err(error)
                .context("credentials removed, but the server could not end the session");
        }
        _ => {}
    }
    if output.json {
        return output.print_json(&serde_json::json!({ "logged_out": true }));
    }
    output.info(format_args!(
        "logged out {} from {}",
        credentials.email,
        client.server()
    ))
}

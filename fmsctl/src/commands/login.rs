//! `fmsctl login [--email E] [--password-stdin]`: log in and store the token pair.

use std::path::Path;

use crate::cli::LoginArgs;
use crate::client::Client;
use crate::error::UsageError;
use crate::last_email;
use crate::output::Output;
use crate::password::{read_password, Confirm};

/// Logs in; the tokens go to the credential store and are never printed.
pub async fn run(
    client: &Client,
    output: Output,
    config_dir: Option<&Path>,
    args: LoginArgs,
) -> anyhow::Result<()> {
    let email = match args.email {
        Some(email) => email,
        // Logging in again to the same server: the last address is the likely one.
        None => match client.stored_credentials().await? {
            Some(credentials) => credentials.email,
            None => last_email::recall(config_dir, client.server()).ok_or_else(|| {
                UsageError(format!(
                    "no e-mail address was used with {} yet: pass --email",
                    client.server()
                ))
            })?,
        },
    };
    let password = read_password(args.password_stdin, Confirm::Once)?;
    log_in(client, output, config_dir, &email, &password).await
}

/// Logs `email` in with `password`, notes the address, and says so.
async fn log_in(
    client: &Client,
    output: Output,
    config_dir: Option<&Path>,
    email: &str,
    password: &str,
) -> anyhow::Result<()> {
    client.login(email, password).await?;
    last_email::remember(config_dir, client.server(), email);
    if output.json {
        return output.print_json(&serde_json::json!({ "email": email }));
    }
    output.info(format_args!("logged in to {} as {email}", client.server()))
}

//! `fmsctl login [--email E] [--password-stdin]`: log in and store the token pair.

use crate::cli::LoginArgs;
use crate::client::Client;
use crate::error::UsageError;
use crate::output::Output;
use crate::password::{read_password, Confirm};

/// Logs in; the tokens go to the credential store and are never printed.
pub async fn run(client: &Client, output: Output, args: LoginArgs) -> anyhow::Result<()> {
    let email = match args.email {
        Some(email) => email,
        // Logging in again to the same server: the last address is the likely one.
        None => client
            .stored_credentials()
            .await?
            .map(|credentials| credentials.email)
            .ok_or_else(|| UsageError("--email is required".into()))?,
    };
    let password = read_password(args.password_stdin, Confirm::Once)?;
    client.login(&email, &password).await?;
    if output.json {
        return output.print_json(&serde_json::json!({ "email": email }));
    }
    output.info(format_args!("logged in to {} as {email}", client.server()))
}

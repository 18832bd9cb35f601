//! `fmsctl account email ADDRESS`: ask to change the address (a code goes to the new one).
//! `fmsctl account delete [--yes] [--password-stdin]`: delete the account with its files,
//! shares and links, after the password and, unless `--yes`, the e-mail address typed out.

use std::io::{BufRead, IsTerminal, Write};

use anyhow::Context;
use common::api::UpdateProfileRequest;

use crate::cli::AccountAction;
use crate::client::Client;
use crate::error::UsageError;
use crate::output::Output;
use crate::password::{read_password, Confirm};

/// Does what `action` says.
pub async fn run(client: &Client, output: Output, action: AccountAction) -> anyhow::Result<()> {
    match action {
        AccountAction::Email { address } => change_email(client, output, &address).await,
        AccountAction::Delete {
            yes,
            password_stdin,
        } => delete(client, output, yes, password_stdin).await,
    }
}

async fn change_email(client: &Client, output: Output, address: &str) -> anyhow::Result<()> {
    let request = UpdateProfileRequest {
        email: Some(address.to_owned()),
        ..UpdateProfileRequest::default()
    };
    let profile = client.update_me(&request).await?;
    if output.json {
        return output.print_json(&profile);
    }
    output.info(format_args!(
        "a code is on its way to {address}; the account keeps {} until you run `fmsctl verify CODE` with it",
        profile.email
    ))
}

async fn delete(
    client: &Client,
    output: Output,
    yes: bool,
    password_stdin: bool,
) -> anyhow::Result<()> {
    let profile = client.me().await?;
    if !yes {
        confirm(&profile.email, client.server())?;
    }
    let password = read_password(password_stdin, Confirm::Once)?;
    client.delete_account(&password).await?;
    client.store().delete()?;
    if output.json {
        return output.print_json(&serde_json::json!({ "deleted": profile.email }));
    }
    output.info(format_args!(
        "deleted the account {} on {}, with its files, shares and links",
        profile.email,
        client.server()
    ))
}

/// Asks for `email` typed out on the terminal.
fn confirm(email: &str, server: &str) -> anyhow::Result<()> {
    if !std::io::stdin().is_terminal() {
        return Err(UsageError(
            "deleting the account asks for the e-mail address typed out, and there is no \
             terminal: pass --yes (with --password-stdin in scripts)"
                .into(),
        )
        .into());
    }
    let mut stderr = std::io::stderr();
    let _ = write!(
        stderr,
        "This deletes {email} on {server} with every file, share and link, for good.\n\
         Type the e-mail address to go on: "
    );
    let _ = stderr.flush();
    let mut typed = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut typed)
        .context("failed to read the confirmation")?;
    if typed.trim() != email {
        return Err(
            UsageError("that is not the account's address; nothing was deleted".into()).into(),
        );
    }
    Ok(())
}

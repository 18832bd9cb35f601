//! `fmsctl register --email E --name N [--password-stdin] [--no-login]`: create an account,
//! and log in with it unless told not to.

use std::path::Path;

use common::api::RegisterRequest;

use crate::cli::RegisterArgs;
use crate::client::{AtPath, Client};
use crate::last_email;
use crate::output::Output;
use crate::password::{read_password, Confirm};

/// Registers the account, then logs in (`--no-login`: only says how to); `--json` prints the
/// profile either way.
pub async fn run(
    client: &Client,
    output: Output,
    config_dir: Option<&Path>,
    args: RegisterArgs,
) -> anyhow::Result<()> {
    let password = read_password(args.password_stdin, Confirm::Twice)?;
    let request = RegisterRequest {
        email: args.email.clone(),
        password: password.clone(),
        name: args.name,
    };
    let profile = client.register(&request).await.at_path(&args.email)?;
    last_email::remember(config_dir, client.server(), &profile.email);
    if !args.no_login {
        client.login(&profile.email, &password).await?;
    }
    if output.json {
        return output.print_json(&profile);
    }
    if args.no_login {
        output.info(format_args!(
            "registered {} on {}; log in with `fmsctl login`",
            profile.email,
            client.server()
        ))?;
    } else {
        output.info(format_args!(
            "registered {} on {} and logged in",
            profile.email,
            client.server()
        ))?;
    }
    if !profile.email_verified {
        output.info(format_args!(
            "a code to confirm {} is on its way there: run `fmsctl verify CODE` with it to share and be shared with",
            profile.email
        ))?;
    }
    Ok(())
}

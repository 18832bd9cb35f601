//! `fmsctl register --email E --name N [--password-stdin]`: create an account.

use common::api::RegisterRequest;

use crate::cli::RegisterArgs;
use crate::client::{AtPath, Client};
use crate::output::Output;
use crate::password::{read_password, Confirm};

/// Registers the account and prints its profile.
pub async fn run(client: &Client, output: Output, args: RegisterArgs) -> anyhow::Result<()> {
    let password = read_password(args.password_stdin, Confirm::Twice)?;
    let request = RegisterRequest {
        email: args.email.clone(),
        password,
        name: args.name,
    };
    let profile = client.register(&request).await.at_path(&args.email)?;
    if output.json {
        return output.print_json(&profile);
    }
    output.info(format_args!(
        "registered {} on {}; now run `fmsctl login --email {}`",
        profile.email,
        client.server(),
        profile.email
    ))
}

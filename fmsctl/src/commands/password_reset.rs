//! `fmsctl password-reset --email E`: ask for a code by mail.
//! `fmsctl password-reset --token T [--password-stdin]`: set a new password with it.
//!
//! Neither needs a login. The first answers the same whether or not an account has the
//! address; the second ends every session and app token of the account.

use crate::cli::PasswordResetArgs;
use crate::client::Client;
use crate::output::Output;
use crate::password::{read_password, Confirm};

/// Does the step `args` names.
pub async fn run(client: &Client, output: Output, args: PasswordResetArgs) -> anyhow::Result<()> {
    if let Some(token) = args.token {
        let password = read_password(args.password_stdin, Confirm::Twice)?;
        client.confirm_password_reset(&token, &password).await?;
        if output.json {
            return output.print_json(&serde_json::json!({ "password_reset": true }));
        }
        return output.info(format_args!(
            "password set on {}; every session and app token ended: log in with `fmsctl login`",
            client.server()
        ));
    }
    let email = args.email.unwrap_or_default();
    let accepted = client.request_password_reset(&email).await?;
    if output.json {
        return output.print_json(&accepted);
    }
    output.info(format_args!(
        "{}; then run `fmsctl password-reset --token CODE`",
        accepted.message
    ))
}

//! `fmsctl passwd [--password-stdin]`: change the password. This session stays; every other
//! session and every app token of the account ends.

use crate::cli::PasswdArgs;
use crate::client::Client;
use crate::output::Output;
use crate::password::read_password_change;

/// Asks for the current and the new password, and changes it.
pub async fn run(client: &Client, output: Output, args: PasswdArgs) -> anyhow::Result<()> {
    let (current, new) = read_password_change(args.password_stdin)?;
    client.change_password(&current, &new).await?;
    if output.json {
        return output.print_json(&serde_json::json!({ "password_changed": true }));
    }
    output.info(format_args!(
        "password changed on {}; your other sessions and every app token were revoked",
        client.server()
    ))
}

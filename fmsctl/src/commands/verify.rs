//! `fmsctl verify CODE`: prove an address with the code mailed to it (the account's own, or
//! the new one it is changing to). `fmsctl verify --resend`: mail the code again.

use crate::cli::VerifyArgs;
use crate::client::Client;
use crate::output::Output;

/// Confirms the code, or asks for a new one.
pub async fn run(client: &Client, output: Output, args: VerifyArgs) -> anyhow::Result<()> {
    if args.resend {
        let accepted = client.resend_verification().await?;
        if output.json {
            return output.print_json(&accepted);
        }
        return output.info(format_args!("{}", accepted.message));
    }
    let code = args.code.unwrap_or_default();
    let profile = client.verify(&code).await?;
    if output.json {
        return output.print_json(&profile);
    }
    output.info(format_args!(
        "{} is verified on {}: you can share, make links and be shared with",
        profile.email,
        client.server()
    ))
}

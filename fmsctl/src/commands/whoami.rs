//! `fmsctl whoami`: the profile of the logged-in customer.

use crate::client::Client;
use crate::output::Output;

/// Prints the profile from `GET /v1/me`.
pub async fn run(client: &Client, output: Output) -> anyhow::Result<()> {
    let profile = client.me().await?;
    if output.json {
        return output.print_json(&profile);
    }
    output.print_line(format_args!("{} <{}>", profile.name, profile.email))?;
    output.print_line(format_args!("id:         {}", profile.id))?;
    output.print_line(format_args!(
        "registered: {}",
        profile.created_at.format("%Y-%m-%d %H:%M:%S UTC")
    ))?;
    output.print_line(format_args!("server:     {}", client.server()))?;
    if !profile.email_verified {
        output.print_line(format_args!(
            "address:    not verified: run `fmsctl verify CODE` with the code mailed to you \
             (`fmsctl verify --resend` sends another)"
        ))?;
    }
    if let Some(pending) = &profile.pending_email {
        output.print_line(format_args!(
            "changing to {pending}: run `fmsctl verify CODE` with the code mailed there"
        ))?;
    }
    Ok(())
}

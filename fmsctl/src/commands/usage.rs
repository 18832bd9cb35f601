//! `fmsctl usage`: storage used against the quota.

use crate::client::Client;
use crate::output::{human_bytes, Output};

/// Prints `GET /v1/usage` with sizes for people.
pub async fn run(client: &Client, output: Output) -> anyhow::Result<()> {
    let usage = client.usage().await?;
    if output.json {
        return output.print_json(&usage);
    }
    let percent = if usage.quota_bytes == 0 {
        100.0
    } else {
        usage.used_bytes as f64 * 100.0 / usage.quota_bytes as f64
    };
    output.print_line(format_args!(
        "used      {} of {} ({percent:.1}%)",
        human_bytes(usage.used_bytes),
        human_bytes(usage.quota_bytes)
    ))?;
    output.print_line(format_args!(
        "reserved  {} (uploads in progress)",
        human_bytes(usage.reserved_bytes)
    ))?;
    output.print_line(format_args!("files     {}", usage.n_files))?;
    output.print_line(format_args!("folders   {}", usage.n_folders))
}

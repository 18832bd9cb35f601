//! `fmsctl usage`: storage used against the quota, the trash included (it counts).

use crate::client::Client;
use crate::output::{human_bytes, Output};

/// Prints `GET /v1/usage` with sizes for people.
pub async fn run(client: &Client, output: Output) -> anyhow::Result<()> {
    let usage = client.usage().await?;
    if output.json {
        return output.print_json(&usage);
    }
    // The trash counts against the quota as the files do.
    let stored = usage.used_bytes.saturating_add(usage.trash_bytes);
    let percent = if usage.quota_bytes == 0 {
        100.0
    } else {
        stored as f64 * 100.0 / usage.quota_bytes as f64
    };
    output.print_line(format_args!(
        "used      {} of {} ({percent:.1}%)",
        human_bytes(stored),
        human_bytes(usage.quota_bytes)
    ))?;
    output.print_line(format_args!(
        "trash     {} in {} {} (counted in used; `fmsctl trash empty` frees it)",
        human_bytes(usage.trash_bytes),
        usage.n_trashed,
        if usage.n_trashed == 1 {
            "item"
        } else {
            "items"
        }
    ))?;
    output.print_line(format_args!(
        "reserved  {} (uploads in progress)",
        human_bytes(usage.reserved_bytes)
    ))?;
    output.print_line(format_args!("files     {}", usage.n_files))?;
    output.print_line(format_args!("folders   {}", usage.n_folders))
}

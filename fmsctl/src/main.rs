//! `fmsctl`, the command line of fms: log in, upload, download, list, move, delete.
//!
//! - [`cli`]: the raw command line (clap); [`config`]: flags, `config.toml` and defaults resolved.
//! - [`client`]: the typed HTTP client, with silent token refresh; [`credentials`]: where the
//!   tokens live (OS keyring, or a 0600 file).
//! - [`commands`]: one file per subcommand; [`transfer`]: the parallel, resumable upload and the
//!   resumable, checked download; [`progress`]: the bars; [`output`]: text or `--json`.
//! - [`sync`]: one-way tree copies (`sync`, `download -r`); [`hash_cache`]: the remembered
//!   SHA-256 of local files, so an unchanged file is not read again.
//! - [`remote_path`]: remote arguments as typed (own paths, `shared:NAME/...`, link URLs);
//!   [`remote`]: those resolved against the server; [`duration`]: `7d` and friends.
//! - [`error`]: the exit codes (documented in `--help`) and fmsctl's own errors, imported by
//!   every module and importing none; [`exit`]: an error's exit code, from its cause chain.
//!
//! `main` stays thin: [`run`] does the work and `main` turns its error into one line on stderr
//! (`fmsctl: <message>`) and an exit code. A closed stdout is not an error.

// Tests may unwrap: a panic there is a failed test with a clear location.
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod cli;
mod client;
mod commands;
mod config;
mod credentials;
mod dirs;
mod duration;
mod error;
mod exit;
mod hash_cache;
mod last_email;
mod output;
mod password;
mod progress;
mod remote;
mod remote_path;
mod size;
mod sync;
mod transfer;
mod walk;

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use common::telemetry::{self, LogFormat};

use crate::cli::Cli;
use crate::config::Config;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let json = cli.global.json;
    match run(cli) {
        Ok(code) => code,
        Err(error) if exit::is_broken_pipe(&error) => ExitCode::SUCCESS,
        Err(error) => {
            let exit = exit::classify(&error);
            let message = output::one_line(&format!("{error:#}"));
            let line = if json {
                // One JSON object, for scripts that read `--json` output: stdout keeps only
                // what succeeded.
                serde_json::json!({
                    "error": { "code": exit.name(), "exit_code": exit as u8, "message": message }
                })
                .to_string()
            } else {
                format!("fmsctl: {message}")
            };
            let _ = writeln!(std::io::stderr(), "{line}");
            exit.into()
        }
    }
}

/// Resolves the settings and runs the command on a tokio runtime.
fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    if let Some(done) = commands::run_offline(&cli.command) {
        done?;
        return Ok(ExitCode::SUCCESS);
    }
    let config = Config::resolve(&cli.global)?;
    match config.verbose {
        0 => {}
        1 => telemetry::init("fmsctl=debug", LogFormat::Pretty),
        _ => telemetry::init("debug", LogFormat::Pretty),
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("failed to start the async runtime")?;
    runtime.block_on(commands::run(config, cli.command))?;
    Ok(ExitCode::SUCCESS)
}

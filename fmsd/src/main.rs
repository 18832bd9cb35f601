//! `fmsd`: parses the flags, loads the settings, starts telemetry, builds the app and runs it
//! until SIGTERM or SIGINT.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use common::telemetry::{self, LogFormat};
use fmsd::app::App;
use fmsd::settings::{Overrides, Settings};
use tokio_util::sync::CancellationToken;

/// The fms daemon: gateway, customers, files and notifications in one process.
///
/// Settings come from built-in defaults, then the --config file, then FMSD_* environment
/// variables (FMSD_FILES__QUOTA_BYTES=...), then these flags.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Address to listen on (port 0 picks a free port) [default: 127.0.0.1:8080]
    #[arg(long, value_name = "ADDR")]
    listen: Option<SocketAddr>,
    /// Where data is kept [default: $XDG_DATA_HOME/fms or ~/.local/share/fms]
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// A TOML settings file
    #[arg(long, value_name = "FILE", env = "FMSD_CONFIG")]
    config: Option<PathBuf>,
}

fn main() -> ExitCode {
    // Before anything is created, and before any thread starts: fmsd's files are its user's.
    fmsd::permissions::restrict_umask();
    let args = Args::parse();
    // File and database work runs on the blocking pool; a modest cap keeps the thread count (and
    // with it the allocator's per-thread memory) bounded under load.
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(64)
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("fmsd: failed to start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(error = %format!("{error:#}"), "fmsd failed");
            eprintln!("fmsd: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> anyhow::Result<()> {
    let overrides = Overrides {
        listen: args.listen,
        data_dir: args.data_dir,
    };
    let settings = Settings::load(args.config.as_deref(), &overrides)?;
    let format = if settings.log_format == "json" {
        LogFormat::Json
    } else {
        LogFormat::Pretty
    };
    telemetry::init("info,fmsd=info", format);
    if let Some((from, to)) = fmsd::open_files::raise() {
        tracing::info!(from, to, "open-files limit raised to the system's maximum");
    }

    let app = App::build(settings).await?;
    // The one line on stdout: scripts and tests read the bound address from it.
    println!(
        "fmsd listening on {}",
        app.public_url().as_str().trim_end_matches('/')
    );
    tracing::info!(address = %app.address(), data_dir = %app.data_dir().display(), "fmsd started");

    let shutdown = CancellationToken::new();
    tokio::spawn(cancel_on_signal(shutdown.clone()));
    app.run(shutdown)
        .await
        .context("fmsd stopped with an error")
}

/// Cancels `shutdown` on the first SIGTERM or SIGINT.
async fn cancel_on_signal(shutdown: CancellationToken) {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "failed to listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT received"),
        () = terminate => tracing::info!("SIGTERM received"),
    }
    shutdown.cancel();
}

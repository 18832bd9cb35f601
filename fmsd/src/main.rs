//! `fmsd`: parses the flags, loads the settings, starts telemetry, builds the app and runs it
//! until SIGTERM or SIGINT, telling systemd how it goes; SIGHUP reloads what may change.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use common::telemetry;
use fmsd::app::App;
use fmsd::reload::{self, SettingsSource};
use fmsd::settings::{Overrides, Settings};
use fmsd::systemd;
use tokio_util::sync::CancellationToken;

/// glibc's malloc keeps what a thread freed in that thread's arena once blocks of that size have
/// been freed before (its mmap threshold rises with each free): a burst of logins, each hash
/// taking 19 MiB of argon2id memory, left 885 MiB behind for an idle figure of 27 MiB. jemalloc,
/// with its background thread, gives pages nobody has used for a few seconds back to the system.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// The fms daemon: gateway, customers, files and notifications in one process.
///
/// Settings come from built-in defaults, then the --config file, then FMSD_* environment
/// variables (FMSD_FILES__QUOTA_BYTES=...), then these flags.
#[derive(Debug, Parser)]
#[command(version = env!("FMS_VERSION"), about)]
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
    /// Write the man page `fmsd.1` into DIR and exit (scripts/man.sh)
    #[arg(long, value_name = "DIR", hide = true)]
    manpages: Option<PathBuf>,
}

fn main() -> ExitCode {
    // Before anything is created, and before any thread starts: fmsd's files are its user's.
    fmsd::permissions::restrict_umask();
    let args = Args::parse();
    if let Some(dir) = &args.manpages {
        return match write_manpage(dir) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => failed(&format!("{error:#}")),
        };
    }
    let source = SettingsSource {
        config: args.config,
        overrides: Overrides {
            listen: args.listen,
            data_dir: args.data_dir,
        },
    };
    let settings = match Settings::load(source.config.as_deref(), &source.overrides) {
        Ok(settings) => settings,
        Err(error) => return failed(&format!("{error:#}")),
    };
    // Lines go through a queue to a thread of their own: a stderr nobody reads never blocks
    // fmsd. Dropped last, so the last lines are written.
    let logging = match telemetry::init_daemon(&settings.log_filter, settings.log_format) {
        Ok(logging) => Arc::new(logging),
        Err(error) => return failed(&error),
    };
    // File and database work runs on the blocking pool; a modest cap keeps the thread count (and
    // with it the allocator's per-thread memory) bounded under load.
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(64)
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => return failed(&format!("failed to start the runtime: {error}")),
    };
    let result = runtime.block_on(run(source, settings, logging.clone()));
    // The grace is over: work still running (a blocking call stuck on a dead store) must not
    // keep the process alive.
    runtime.shutdown_timeout(RUNTIME_STOP);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(error = %format!("{error:#}"), "fmsd failed");
            failed(&format!("{error:#}"))
        }
    }
}

/// Writes `fmsd.1` into `dir`, from the clap definition that parses the command line.
fn write_manpage(dir: &std::path::Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("failed to create {}", dir.display()))?;
    clap_mangen::Man::new(<Args as clap::CommandFactory>::command())
        .generate_to(dir)
        .with_context(|| format!("failed to write the man page into {}", dir.display()))?;
    Ok(())
}

/// How long the runtime waits for blocking work after the grace, at exit.
const RUNTIME_STOP: Duration = Duration::from_secs(1);

/// Says why fmsd stops on stderr (if anyone reads it) and fails.
fn failed(message: &str) -> ExitCode {
    let _ = writeln!(std::io::stderr(), "fmsd: {message}");
    ExitCode::FAILURE
}

async fn run(
    source: SettingsSource,
    settings: Settings,
    logging: Arc<telemetry::Logging>,
) -> anyhow::Result<()> {
    if let Some((from, to)) = fmsd::open_files::raise() {
        tracing::info!(from, to, "open-files limit raised to the system's maximum");
    }
    let app = App::build(settings.clone()).await?;
    // The one line on stdout: scripts and tests read the bound address from it. Nobody reading
    // it is no reason to stop.
    let _ = writeln!(
        std::io::stdout(),
        "fmsd listening on {}",
        app.public_url().as_str().trim_end_matches('/')
    );
    tracing::info!(address = %app.address(), data_dir = %app.data_dir().display(), "fmsd started");

    let shutdown = CancellationToken::new();
    // The watchdog is fed until the process ends, through the grace too.
    let alive = CancellationToken::new();
    tokio::spawn(systemd::feed_watchdog(alive.clone()));
    tokio::spawn(systemd::ready_when_stores_answer(
        app.health(),
        shutdown.clone(),
    ));
    tokio::spawn(reload::on_hangup(
        source,
        settings,
        logging,
        shutdown.clone(),
    ));
    tokio::spawn(cancel_on_signal(shutdown.clone()));
    let result = app
        .run(shutdown)
        .await
        .context("fmsd stopped with an error");
    alive.cancel();
    result
}

/// Cancels `shutdown` on the first SIGTERM or SIGINT, and tells systemd.
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
    systemd::stopping();
    shutdown.cancel();
}

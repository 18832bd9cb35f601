//! One way to set up `tracing` for both binaries: `RUST_LOG`-style filters, human or JSON
//! lines on stderr, ANSI colours only when stderr is a terminal.
//!
//! The CLI writes its lines as they come ([`init`]). The daemon ([`init_daemon`]) hands them
//! to a writer thread through a bounded queue, so a slow, full or closed stderr (a pipe whose
//! reader went away) never blocks, panics or stops it: lines that do not fit are dropped. Its
//! filter can be changed while it runs ([`Logging::set_filter`]).

use std::io::IsTerminal;

use serde::{Deserialize, Serialize};
use tracing_appender::non_blocking::{NonBlockingBuilder, WorkerGuard};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, reload, EnvFilter, Layer, Registry};

/// Lines the daemon's queue holds before it drops new ones.
const QUEUED_LINES: usize = 16 * 1024;

/// How log lines are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One readable line per event, for a terminal.
    #[default]
    Pretty,
    /// One JSON object per line, for journald and log shippers.
    Json,
}

/// Installs the global subscriber, writing to stderr as lines come. `default_filter` applies
/// when `RUST_LOG` is unset. Calling it twice is harmless (the second call does nothing).
pub fn init(default_filter: &str, format: LogFormat) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    // A write to a closed stderr is dropped: tracing's own report of it would go to that same
    // stderr through `eprintln!`, which panics there (`fmsctl -vv … 2>&1 | head -1`).
    let builder = fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .log_internal_errors(false);
    let _ = match format {
        LogFormat::Pretty => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

/// The daemon's logging, while it lasts: dropping it writes what is queued (waiting at most a
/// second for a stuck stderr).
pub struct Logging {
    /// Changes the filter.
    filter: reload::Handle<EnvFilter, Registry>,
    /// Stops the writer thread when dropped, after it wrote what was queued.
    _writer: WorkerGuard,
}

impl std::fmt::Debug for Logging {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Logging").finish_non_exhaustive()
    }
}

impl Logging {
    /// Filters with `directives` (`info,fmsd=debug`) from now on.
    pub fn set_filter(&self, directives: &str) -> Result<(), String> {
        let filter = EnvFilter::try_new(directives)
            .map_err(|error| format!("the log filter {directives:?} is not valid: {error}"))?;
        self.filter
            .reload(filter)
            .map_err(|error| format!("failed to change the log filter: {error}"))
    }
}

/// Installs the global subscriber for a daemon: `RUST_LOG` if set, else `directives`, lines
/// written by a thread of their own (see the module's doc). Errs if `directives` is not a
/// valid filter or a subscriber is installed already.
pub fn init_daemon(directives: &str, format: LogFormat) -> Result<Logging, String> {
    let filter = match std::env::var("RUST_LOG") {
        Ok(from_env) if !from_env.is_empty() => EnvFilter::try_new(&from_env)
            .map_err(|error| format!("RUST_LOG={from_env:?} is not a valid filter: {error}"))?,
        _ => EnvFilter::try_new(directives)
            .map_err(|error| format!("the log filter {directives:?} is not valid: {error}"))?,
    };
    let (writer, guard) = NonBlockingBuilder::default()
        .lossy(true)
        .buffered_lines_limit(QUEUED_LINES)
        .thread_name("fms-log-writer")
        .finish(std::io::stderr());
    let (filter, handle) = reload::Layer::new(filter);
    let lines = match format {
        LogFormat::Pretty => fmt::layer()
            .with_ansi(std::io::stderr().is_terminal())
            .with_writer(writer)
            .boxed(),
        LogFormat::Json => fmt::layer()
            .json()
            .flatten_event(true)
            .with_writer(writer)
            .boxed(),
    };
    tracing_subscriber::registry()
        .with(filter)
        .with(lines)
        .try_init()
        .map_err(|error| format!("failed to install the logger: {error}"))?;
    Ok(Logging {
        filter: handle,
        _writer: guard,
    })
}

/// Whether `RUST_LOG` sets the filter (it then wins over any configured one).
pub fn filter_from_env() -> bool {
    std::env::var("RUST_LOG").is_ok_and(|value| !value.is_empty())
}

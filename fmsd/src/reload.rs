//! What SIGHUP does: the settings are loaded again, from the same file and environment, and
//! what can change safely while fmsd runs changes — the log filter. Every other setting that
//! differs is named in the log as taking effect at the next restart; settings that no longer
//! load change nothing and say why.

use std::path::PathBuf;
use std::sync::Arc;

use common::telemetry::{self, Logging};
use tokio::signal::unix::{signal, SignalKind};
use tokio_util::sync::CancellationToken;

use crate::settings::{Overrides, Settings};

/// Where the settings come from, to load them again.
#[derive(Debug, Clone)]
pub struct SettingsSource {
    /// The `--config` file, if any.
    pub config: Option<PathBuf>,
    /// The command-line flags.
    pub overrides: Overrides,
}

/// Reloads on every SIGHUP until shutdown, starting from the `running` settings.
pub async fn on_hangup(
    source: SettingsSource,
    mut running: Settings,
    logging: Arc<Logging>,
    shutdown: CancellationToken,
) {
    let mut hangups = match signal(SignalKind::hangup()) {
        Ok(hangups) => hangups,
        Err(error) => {
            tracing::error!(%error, "failed to listen for SIGHUP; it will stop fmsd");
            return;
        }
    };
    loop {
        tokio::select! {
            received = hangups.recv() => if received.is_none() { return },
            () = shutdown.cancelled() => return,
        }
        crate::systemd::reloading();
        reload(&source, &mut running, &logging);
        crate::systemd::reloaded();
    }
}

/// Loads the settings again and applies what may change to `running`, the settings in force.
fn reload(source: &SettingsSource, running: &mut Settings, logging: &Logging) {
    let loaded = match Settings::load(source.config.as_deref(), &source.overrides) {
        Ok(loaded) => loaded,
        Err(error) => {
            tracing::error!(error = %format!("{error:#}"), "SIGHUP: the settings do not load; nothing changed");
            return;
        }
    };
    let mut changed = changed_settings(running, &loaded);
    if changed.iter().any(|name| name == "log_filter") {
        changed.retain(|name| name != "log_filter");
        if telemetry::filter_from_env() {
            tracing::warn!("SIGHUP: RUST_LOG is set and keeps deciding the log filter");
        } else if let Err(error) = logging.set_filter(&loaded.log_filter) {
            tracing::error!(%error, "SIGHUP: the log filter is not valid; the old one stays");
        } else {
            running.log_filter = loaded.log_filter;
            tracing::info!(log_filter = %running.log_filter, "SIGHUP: log filter changed");
        }
    }
    // The rest keeps running as it is, so the next SIGHUP names it again.
    if !changed.is_empty() {
        tracing::warn!(
            settings = %changed.join(", "),
            "SIGHUP: these settings changed and take effect at the next restart"
        );
    }
    tracing::info!("reloaded on SIGHUP");
}

/// The dotted names of the settings that differ between `old` and `new` (names only: a value
/// may be a secret).
pub fn changed_settings(old: &Settings, new: &Settings) -> Vec<String> {
    let (Ok(old), Ok(new)) = (serde_json::to_value(old), serde_json::to_value(new)) else {
        return Vec::new();
    };
    let mut changed = Vec::new();
    differences("", &old, &new, &mut changed);
    changed
}

fn differences(
    prefix: &str,
    old: &serde_json::Value,
    new: &serde_json::Value,
    out: &mut Vec<String>,
) {
    match (old, new) {
        (serde_json::Value::Object(old), serde_json::Value::Object(new)) => {
            let mut keys: Vec<&String> = old.keys().chain(new.keys()).collect();
            keys.sort();
            keys.dedup();
            for key in keys {
                let name = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                let null = serde_json::Value::Null;
                differences(
                    &name,
                    old.get(key).unwrap_or(&null),
                    new.get(key).unwrap_or(&null),
                    out,
                );
            }
        }
        (old, new) if old != new => out.push(prefix.to_owned()),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changed_settings_are_named_by_their_dotted_path() {
        let old = Settings::default();
        let mut new = old.clone();
        new.log_filter = "debug".into();
        new.files.quota_bytes += 1;
        assert_eq!(
            changed_settings(&old, &new),
            ["files.quota_bytes", "log_filter"]
        );
        assert!(changed_settings(&old, &old).is_empty());
    }
}

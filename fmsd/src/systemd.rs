//! Telling systemd how fmsd is doing (`Type=notify`): `READY=1` once the port is bound and
//! every store answers, `WATCHDOG=1` from a task of the runtime (a runtime that stops running
//! tasks stops feeding it, and systemd restarts fmsd), `RELOADING=1` then `READY=1` around a
//! reload, `STOPPING=1` when shutdown begins. Outside systemd (no `NOTIFY_SOCKET`) every call
//! does nothing.

use std::sync::Arc;
use std::time::Duration;

use sd_notify::NotifyState;
use tokio_util::sync::CancellationToken;

use crate::health::Health;

/// How often the stores are asked again while one of them does not answer at start.
const READY_RECHECK: Duration = Duration::from_secs(1);

/// Sends `states`; a failure is logged, never fatal (systemd may be gone at shutdown).
fn notify(states: &[NotifyState<'_>]) {
    if let Err(error) = sd_notify::notify(false, states) {
        tracing::warn!(%error, "failed to notify the service manager");
    }
}

/// Says `READY=1` once every store answers (the port is bound already); until then asks
/// again every second.
pub async fn ready_when_stores_answer(health: Arc<Health>, shutdown: CancellationToken) {
    let mut told_waiting = false;
    loop {
        let down: Vec<&str> = health
            .check()
            .await
            .into_iter()
            .filter(|status| status.down_since.is_some())
            .map(|status| status.name)
            .collect();
        if down.is_empty() {
            notify(&[NotifyState::Ready]);
            tracing::info!("ready: every store answers");
            return;
        }
        if !told_waiting {
            tracing::warn!(down = ?down, "not ready yet: waiting for these stores to answer");
            told_waiting = true;
        }
        tokio::select! {
            () = tokio::time::sleep(READY_RECHECK) => {}
            () = shutdown.cancelled() => return,
        }
    }
}

/// Feeds the watchdog at half the interval systemd asks for (`WatchdogSec=`), until shutdown;
/// returns at once when systemd asks for none.
pub async fn feed_watchdog(shutdown: CancellationToken) {
    let mut usec = 0;
    if !sd_notify::watchdog_enabled(false, &mut usec) || usec == 0 {
        return;
    }
    let mut ticks = tokio::time::interval(Duration::from_micros(usec / 2));
    loop {
        tokio::select! {
            _ = ticks.tick() => notify(&[NotifyState::Watchdog]),
            () = shutdown.cancelled() => return,
        }
    }
}

/// `RELOADING=1`, with the time systemd needs to pair it with the `READY=1` that follows.
pub fn reloading() {
    match NotifyState::monotonic_usec_now() {
        Ok(now) => notify(&[NotifyState::Reloading, now]),
        Err(_) => notify(&[NotifyState::Reloading]),
    }
}

/// `READY=1` after a reload.
pub fn reloaded() {
    notify(&[NotifyState::Ready]);
}

/// `STOPPING=1`.
pub fn stopping() {
    notify(&[NotifyState::Stopping]);
}

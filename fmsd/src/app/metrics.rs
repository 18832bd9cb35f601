//! The metrics endpoint, when `[metrics] listen` is set: the recorder installed, its listener
//! bound, and the gauges read at each scrape (open upload sessions, each outbox's backlog).

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use async_trait::async_trait;
use tokio::net::TcpListener;

use crate::bus::ports::Outbox;
use crate::files::service::FileService;
use crate::gateway;
use crate::metrics::Gauges;

/// The metrics endpoint, bound and ready to serve.
pub struct MetricsEndpoint {
    /// Its own listener, apart from the public port.
    pub listener: TcpListener,
    /// `GET /metrics`.
    pub router: axum::Router,
}

/// The gauges that are asked of the stores when Prometheus scrapes.
struct StoreGauges {
    /// Counts the open upload sessions.
    files: Arc<FileService>,
    /// Each service's outbox, by the name the gauge gives it.
    outboxes: Vec<(&'static str, Arc<dyn Outbox>)>,
}

#[async_trait]
impl Gauges for StoreGauges {
    async fn refresh(&self) {
        match self.files.open_uploads().await {
            Ok(n_sessions) => crate::metrics::uploads_in_progress(n_sessions),
            Err(error) => {
                tracing::debug!(error = %error.report(), "failed to count upload sessions")
            }
        }
        for (service, outbox) in &self.outboxes {
            match outbox.backlog().await {
                Ok(n_events) => crate::metrics::outbox_backlog(service, n_events),
                Err(error) => {
                    tracing::debug!(service, error = %error.report(), "failed to count an outbox")
                }
            }
        }
    }
}

/// Installs the recorder and binds `listen`; `None` (nothing recorded) when it is unset.
pub async fn endpoint(
    listen: Option<SocketAddr>,
    files: Arc<FileService>,
    outboxes: Vec<(&'static str, Arc<dyn Outbox>)>,
) -> anyhow::Result<Option<MetricsEndpoint>> {
    let Some(listen) = listen else {
        return Ok(None);
    };
    let recorder = crate::metrics::install()?;
    let listener = TcpListener::bind(listen)
        .await
        .with_context(|| format!("failed to listen for metrics on {listen}"))?;
    let address = listener
        .local_addr()
        .context("failed to read the bound metrics address")?;
    tracing::info!(%address, "metrics at http://{address}/metrics");
    let gauges = Arc::new(StoreGauges { files, outboxes });
    Ok(Some(MetricsEndpoint {
        listener,
        router: gateway::metrics::router(recorder, gauges),
    }))
}

//! Wiring: picks the adapters, builds the services, binds the listener, and runs everything
//! until shutdown.
//!
//! [`wiring`] picks each port's adapter from its store URL; [`metrics`] binds the Prometheus
//! endpoint when `[metrics] listen` is set.
//!
//! `App::build` does all the I/O that can fail at start (opening stores, binding the port), so
//! a misconfiguration is reported before anything runs. `App::run` spawns the gateway, one
//! outbox relay per service and one consumer per event handler, and on shutdown lets in-flight
//! requests and the event being handled finish, then flushes the outboxes, within a deadline.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use futures::TryFutureExt;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::bus::consumer::{self, EventHandler};
use crate::bus::ports::{Outbox, Publisher, Subscriber};
use crate::bus::relay;
use crate::clock::{Clock, SystemClock};
use crate::customers::service::CustomerService;
use crate::customers::tokens::TokenIssuer;
use crate::files::service::{FileService, FileStores};
use crate::gateway::auth::TokenVerifier;
use crate::gateway::client::Forwarding;
use crate::gateway::server::ConnectionLimits;
use crate::gateway::{self, AppState};
use crate::health::{Health, Probe};
use crate::limits::{GuessLimiter, GuessRates};
use crate::notifications::service::NotificationService;
use crate::periodic::Periodic;
use crate::settings::Settings;
use crate::signing::UrlSigner;

pub mod metrics;
pub mod wiring;

/// A service's outbox and the signal its repo gives after writing to it.
struct RelaySource {
    /// For logs.
    name: &'static str,
    /// The outbox.
    outbox: Arc<dyn Outbox>,
    /// Notified after each commit that wrote events.
    wake: Arc<Notify>,
}

/// fmsd, built and bound, ready to run.
pub struct App {
    /// The bound listener (port 0 resolved).
    listener: TcpListener,
    /// Every route.
    router: axum::Router,
    /// Where clients reach us.
    public_url: Url,
    /// One relay per service outbox.
    relays: Vec<RelaySource>,
    /// One consumer per handler.
    handlers: Vec<Arc<dyn EventHandler>>,
    /// The bus, both halves.
    publisher: Arc<dyn Publisher>,
    /// The bus, both halves.
    subscriber: Arc<dyn Subscriber>,
    /// For the periodic sweep of abandoned uploads.
    files: Arc<FileService>,
    /// For the periodic flush of activity-mail digests.
    notifications: Arc<NotificationService>,
    /// Watched all along, so outages and recoveries are logged.
    health: Arc<Health>,
    /// `/metrics` on its own listener, if `[metrics] listen` is set.
    metrics: Option<metrics::MetricsEndpoint>,
    /// The header timeout and the cap on connections.
    connection_limits: ConnectionLimits,
    /// Settings, for intervals and the shutdown deadline.
    settings: Settings,
}

impl App {
    /// Builds fmsd on the system clock.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        Self::build_with_clock(settings, Arc::new(SystemClock)).await
    }

    /// Builds fmsd on `clock` (tests move a manual one).
    pub async fn build_with_clock(
        settings: Settings,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(settings.listen)
            .await
            .with_context(|| format!("failed to listen on {}", settings.listen))?;
        let address = listener
            .local_addr()
            .context("failed to read the bound address")?;
        let public_url = settings.public_url_for(address);
        let data_dir = settings.data_dir.clone();
        let keys = settings
            .keys_dir
            .clone()
            .unwrap_or_else(|| data_dir.join("keys"));
        // Nobody else on the machine reads what is inside, whatever the umask of this process.
        crate::permissions::private_dir(&data_dir)?;
        crate::permissions::private_dir(&keys)?;

        let bus = wiring::bus(&settings).await?;
        let limits = wiring::limits(&settings).await?;
        let limiter = Arc::new(GuessLimiter::new(
            limits.port.clone(),
            clock.clone(),
            GuessRates::from_settings(&settings.auth, &settings.files),
        ));

        // Customers.
        let customers_wake = Arc::new(Notify::new());
        let customer_store = wiring::customers(&settings, customers_wake.clone()).await?;
        let tokens = TokenIssuer::load_or_create(
            &keys.join("access-token-ed25519.pk8"),
            settings.auth.access_token_ttl_secs,
        )?;
        let customers = Arc::new(CustomerService::new(
            customer_store.port.clone(),
            tokens,
            clock.clone(),
            settings.auth.clone(),
            limiter.clone(),
        ));

        // Files.
        let files_wake = Arc::new(Notify::new());
        let (file_store, sharing_store, dav_store, trash_store) =
            wiring::files(&settings, files_wake.clone()).await?;
        let signer = UrlSigner::load_or_create(&keys.join("url-signing.key"), public_url.clone())?;
        let unlocks = gateway::pages::unlock::Unlocks::new(signer.clone());
        let blob_store = wiring::blobs(&settings, signer).await?;
        let disk = Arc::new(wiring::disk_space(&settings)?);
        let stores = FileStores {
            repo: file_store.port.clone(),
            sharing: sharing_store,
            dav: dav_store,
            trash: trash_store,
        };
        let files = Arc::new(
            FileService::new(
                stores,
                blob_store.port.clone(),
                clock.clone(),
                settings.files.clone(),
                disk.clone(),
            )
            .requiring_verified_addresses(
                settings.auth.email_verification == crate::settings::EmailVerification::Required,
            ),
        );

        // Notifications.
        let notification_store = wiring::notifications(&settings).await?;
        let mail = wiring::mailer(&settings).await?;
        let notifications = Arc::new(NotificationService::new(
            mail.port,
            notification_store.port.clone(),
            clock.clone(),
            Duration::from_secs(settings.mail.digest_window_secs),
            crate::notifications::domain::Server::new(public_url.as_str()),
        ));

        let handlers: Vec<Arc<dyn EventHandler>> = vec![
            Arc::new(crate::files::consumers::CustomerEvents::new(files.clone())),
            Arc::new(crate::notifications::consumers::CustomerEvents::new(
                notifications.clone(),
            )),
            Arc::new(crate::notifications::consumers::FileEvents::new(
                notifications.clone(),
            )),
        ];
        let mut relays = Vec::new();
        for (name, store_outbox, wake) in [
            ("customers", &customer_store.outbox, customers_wake),
            ("files", &file_store.outbox, files_wake),
        ] {
            if let Some(outbox) = store_outbox {
                relays.push(RelaySource {
                    name,
                    outbox: outbox.clone(),
                    wake,
                });
            }
        }
        let outboxes = relays
            .iter()
            .map(|source| (source.name, source.outbox.clone()))
            .collect();
        let metrics = metrics::endpoint(settings.metrics.listen, files.clone(), outboxes).await?;
        let probes: Vec<(&'static str, Arc<dyn Probe>)> = vec![
            ("customers", customer_store.probe),
            ("files", file_store.probe),
            ("blobs", blob_store.probe),
            ("notifications", notification_store.probe),
            ("mail", mail.probe),
            ("bus", bus.probe),
            ("limits", limits.probe),
            ("disk", disk),
        ];
        let health = Arc::new(Health::new(probes));
        let (publisher, subscriber) = (bus.publisher, bus.subscriber);

        let state = AppState {
            verifier: Arc::new(TokenVerifier::new(customers.public_key())),
            jwks: Arc::new(customers.jwks()),
            customers,
            files: files.clone(),
            limiter,
            health: health.clone(),
            public_url: public_url.clone(),
            forwarding: Forwarding::new(
                settings.gateway.trusted_proxies.clone(),
                public_url.clone(),
                settings.public_url.is_some(),
            ),
            clock,
            unlocks,
            upload_origin: wiring::upload_origin(&settings),
        };
        let router = gateway::router(state, &settings.gateway);
        let connection_limits = connection_limits(&settings)?;
        Ok(Self {
            listener,
            router,
            public_url,
            relays,
            handlers,
            publisher,
            subscriber,
            files,
            notifications,
            health,
            metrics,
            connection_limits,
            settings,
        })
    }

    /// What `/readyz` asks, for whoever must know when every store answers.
    pub fn health(&self) -> Arc<Health> {
        self.health.clone()
    }

    /// The address the gateway is bound to.
    pub fn address(&self) -> SocketAddr {
        self.listener.local_addr().unwrap_or(self.settings.listen)
    }

    /// The address `/metrics` is served at, if it is.
    pub fn metrics_address(&self) -> Option<SocketAddr> {
        let endpoint = self.metrics.as_ref()?;
        endpoint.listener.local_addr().ok()
    }

    /// Where clients reach fmsd.
    pub fn public_url(&self) -> &Url {
        &self.public_url
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.settings.data_dir
    }

    /// Runs until `shutdown` is cancelled, then stops in order within the grace period.
    pub async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let grace = Duration::from_secs(self.settings.shutdown_grace_secs);
        // Relays outlive the gateway so events of the last requests still leave.
        let relay_stop = CancellationToken::new();
        let mut relays = JoinSet::new();
        for source in self.relays {
            relays.spawn(relay::run(
                source.name,
                source.outbox,
                self.publisher.clone(),
                source.wake,
                relay_stop.clone(),
            ));
        }
        let mut workers = JoinSet::new();
        for handler in self.handlers {
            let (subscriber, publisher, stop) = (
                self.subscriber.clone(),
                self.publisher.clone(),
                shutdown.clone(),
            );
            workers.spawn(async move {
                if let Err(error) = consumer::run(handler, subscriber, publisher, stop).await {
                    tracing::error!(error = %format!("{error:#}"), "consumer failed to start");
                }
            });
        }
        workers.spawn(sweep_uploads(
            self.files,
            Duration::from_secs(self.settings.files.sweep_interval_secs),
            shutdown.clone(),
        ));
        workers.spawn(flush_digests(self.notifications, shutdown.clone()));
        workers.spawn(self.health.watch(shutdown.clone()));
        if let Some(endpoint) = self.metrics {
            let stop = shutdown.clone();
            workers.spawn(async move {
                if let Err(error) =
                    gateway::metrics::serve(endpoint.listener, endpoint.router, stop).await
                {
                    tracing::error!(error = %format!("{error:#}"), "metrics endpoint stopped");
                }
            });
        }

        let server = tokio::spawn(gateway::server::serve(
            self.listener,
            self.router,
            self.connection_limits,
            shutdown.clone(),
        ));
        shutdown.cancelled().await;
        tracing::info!(
            grace_secs = grace.as_secs(),
            "shutting down: finishing in-flight work"
        );
        let deadline = tokio::time::Instant::now() + grace;
        let mut result = Ok(());
        match tokio::time::timeout_at(deadline, server).await {
            Ok(Ok(served)) => result = served,
            Ok(Err(join_error)) => result = Err(join_error.into()),
            Err(_) => tracing::warn!("requests still running at the deadline were cut off"),
        }
        drain(&mut workers, deadline, "consumers").await;
        relay_stop.cancel();
        drain(&mut relays, deadline + Duration::from_secs(5), "relays").await;
        tracing::info!("stopped");
        result
    }
}

/// The gateway's limits on connections, the cap lowered to what the open-files limit allows.
fn connection_limits(settings: &Settings) -> anyhow::Result<ConnectionLimits> {
    let gateway = &settings.gateway;
    anyhow::ensure!(
        gateway.max_connections > 0,
        "gateway.max_connections must be at least 1"
    );
    anyhow::ensure!(
        gateway.header_timeout_secs > 0 && gateway.body_timeout_secs > 0,
        "gateway.header_timeout_secs and gateway.body_timeout_secs must be at least 1"
    );
    let max_connections = crate::open_files::connections_allowed(gateway.max_connections);
    if max_connections < gateway.max_connections {
        tracing::warn!(
            configured = gateway.max_connections,
            allowed = max_connections,
            "gateway.max_connections lowered to what the open-files limit allows; raise the \
             limit (LimitNOFILE= in the systemd unit) to serve more"
        );
    }
    Ok(ConnectionLimits {
        header_timeout: Duration::from_secs(gateway.header_timeout_secs),
        max_connections,
    })
}

/// Waits for `tasks` until `deadline`, then aborts what is left.
async fn drain(tasks: &mut JoinSet<()>, deadline: tokio::time::Instant, what: &str) {
    while !tasks.is_empty() {
        match tokio::time::timeout_at(deadline, tasks.join_next()).await {
            Ok(_) => {}
            Err(_) => {
                tracing::warn!(what, "still running at the deadline; aborted");
                tasks.abort_all();
                break;
            }
        }
    }
}

/// Sweeps expired upload sessions every `interval`.
async fn sweep_uploads(files: Arc<FileService>, interval: Duration, shutdown: CancellationToken) {
    let sweep = Periodic {
        interval,
        done: "expired upload sessions swept",
        failed: "failed to sweep upload sessions",
    };
    sweep.run(shutdown, || files.sweep_expired_uploads()).await;
}

/// How often queued activity mails are looked at; a digest is due when its customer's window
/// has passed, so this only bounds how late after that it goes.
const DIGEST_FLUSH_INTERVAL: Duration = Duration::from_secs(1);

/// Sends the activity-mail digests that are due, every [`DIGEST_FLUSH_INTERVAL`].
async fn flush_digests(notifications: Arc<NotificationService>, shutdown: CancellationToken) {
    let flush = Periodic {
        interval: DIGEST_FLUSH_INTERVAL,
        done: "activity-mail digests sent",
        failed: "failed to send activity-mail digests",
    };
    flush
        .run(shutdown, || {
            notifications.flush_digests().map_ok(|n_sent| n_sent as u64)
        })
        .await;
}

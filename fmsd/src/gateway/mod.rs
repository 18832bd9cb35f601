//! The HTTP front door, and the only code that knows HTTP.
//!
//! [`server`] accepts connections, with a header timeout and a cap on how many are served at
//! once; [`deadline`] gives a JSON body a deadline to arrive whole.
//! It checks access tokens ([`auth`]), limits login attempts and link passwords
//! (`crate::limits`, in process or shared by every instance of a stack), caps JSON bodies,
//! tags every request with a correlation id ([`correlation`]), counts and times it by route
//! ([`metrics`], which also serves `/metrics` on its own listener) and turns every error into one
//! JSON shape ([`error`]). The routes ([`routes`]) translate HTTP into service calls and back. Every
//! answer says `X-Content-Type-Options: nosniff`, and every answer of the JSON API
//! `Cache-Control: no-store`. A browser at a link gets web pages instead ([`pages`]).

pub mod auth;
pub mod client;
pub mod correlation;
pub mod dav;
pub mod deadline;
pub mod error;
pub mod metrics;
pub mod openapi;
pub mod pages;
pub mod routes;
pub mod scope;
pub mod server;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::http::header::{CACHE_CONTROL, X_CONTENT_TYPE_OPTIONS};
use axum::http::HeaderValue;
use axum::{middleware, Router};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use utoipa_axum::router::OpenApiRouter;

use crate::clock::Clock;
use crate::customers::service::CustomerService;
use crate::files::service::FileService;
use crate::health::Health;
use crate::limits::GuessLimiter;
use crate::settings::GatewaySettings;

/// What every handler can reach; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// Registration, login, tokens, profile.
    pub customers: Arc<CustomerService>,
    /// Folders, uploads, downloads, and the bytes behind the embedded store's signed URLs.
    pub files: Arc<FileService>,
    /// Checks access tokens.
    pub verifier: Arc<auth::TokenVerifier>,
    /// The public keys, as served at `/.well-known/jwks.json`.
    pub jwks: Arc<serde_json::Value>,
    /// Logins per IP and per account, wrong link passwords per link and per IP.
    pub limiter: Arc<GuessLimiter>,
    /// What `/readyz` checks, by name, and since when what fails has failed.
    pub health: Arc<Health>,
    /// Where clients reach fmsd (link URLs start with it).
    pub public_url: url::Url,
    /// Which proxies are believed about the client's address and the URL it reached.
    pub forwarding: client::Forwarding,
    /// Time, injectable for tests.
    pub clock: Arc<dyn Clock>,
    /// The cookies that spare a browser a link's password for a while.
    pub unlocks: pages::unlock::Unlocks,
    /// The blob store's origin when part uploads go elsewhere than fmsd (S3), which the file
    /// request page's script may send to.
    pub upload_origin: Option<String>,
}

/// Every route, with the layers every request passes through.
pub fn router(state: AppState, settings: &GatewaySettings) -> Router {
    let json_body = deadline::BodyDeadline {
        within: Duration::from_secs(settings.body_timeout_secs),
        limit: settings.json_body_limit_bytes,
    };
    let (api, _) = api_routes().split_for_parts();
    let api = api
        .layer(DefaultBodyLimit::max(settings.json_body_limit_bytes))
        .layer(middleware::from_fn_with_state(
            json_body,
            deadline::read_body_within,
        ))
        // Every answer here carries a token, a link's secret, a signed URL or a customer's own
        // data: no cache, shared or the browser's, may keep one.
        .layer(SetResponseHeaderLayer::if_not_present(
            CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ));
    let (public, _) = public_routes().split_for_parts();
    // Part uploads stream bytes to disk; their size is checked against the part, not a cap.
    let blobs = routes::blobs::router().layer(DefaultBodyLimit::disable());
    // A WebDAV PUT streams its body into an upload session, checked against the quota.
    let dav = dav::router().layer(DefaultBodyLimit::disable());
    Router::new()
        .merge(api)
        .merge(blobs)
        .merge(dav)
        .merge(pages::router())
        .merge(public)
        .fallback(error::not_found)
        // After every route is in: it reaches only the routes registered before it.
        .method_not_allowed_fallback(error::method_not_allowed)
        // Inside the router's matching, so it sees the route template of the request.
        .layer(middleware::from_fn(metrics::record_request))
        .layer(middleware::from_fn_with_state(
            state.forwarding.clone(),
            correlation::tag_request,
        ))
        .layer(CatchPanicLayer::custom(|_| {
            error::ApiError(crate::error::Error::internal(anyhow::anyhow!(
                "a request handler panicked"
            )))
            .into_response_boxed()
        }))
        // JSON is JSON and a download is bytes: no browser may take either for HTML or script.
        .layer(SetResponseHeaderLayer::overriding(
            X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .with_state(state)
}

/// The JSON API: `/v1/...` and `/s/{token}/...`.
fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(routes::auth::router())
        .merge(routes::me::router())
        .merge(routes::files::router())
        .merge(routes::uploads::router())
        .merge(routes::upload_batches::router())
        .merge(routes::shares::router())
        .merge(routes::links::router())
        .merge(routes::tokens::router())
        .merge(routes::trash::router())
        .merge(routes::public_links::router())
}

/// Health, the keys and the OpenAPI document: public, and cacheable where they say so.
fn public_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(routes::health::router())
        .merge(openapi::router())
}

/// Every route the OpenAPI document describes: all but the embedded blob store's signed URLs.
pub fn documented_routes() -> OpenApiRouter<AppState> {
    api_routes().merge(public_routes())
}

impl error::ApiError {
    /// The response, for layers that need a concrete body type.
    fn into_response_boxed(self) -> axum::response::Response {
        axum::response::IntoResponse::into_response(self)
    }
}

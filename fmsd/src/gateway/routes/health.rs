//! `/healthz` (the process answers), `/readyz` (every store answers, and since when those
//! that do not have not; a degraded store, such as a disk below its floor, keeps fmsd ready
//! and says why) and the JWKS.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::gateway::AppState;

/// The routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(jwks))
}

/// The process answers.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "health",
    responses((status = 200, description = "`{\"status\": \"ok\"}`", body = Object))
)]
async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// Every store answers: `status`, each store's state, since when the failing ones fail and
/// why the degraded ones are.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "health",
    responses(
        (status = 200, description = "Ready (or degraded)", body = Object),
        (status = 503, description = "A store does not answer", body = Object),
    )
)]
async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let statuses = state.health.check().await;
    let ready = statuses.iter().all(|status| status.down_since.is_none());
    let stores: serde_json::Map<String, Value> = statuses
        .iter()
        .map(|status| {
            let answer = match (status.down_since, &status.degraded) {
                (Some(_), _) => "unavailable",
                (None, Some(_)) => "degraded",
                (None, None) => "ok",
            };
            (status.name.to_owned(), json!(answer))
        })
        .collect();
    let down_since: serde_json::Map<String, Value> = statuses
        .iter()
        .filter_map(|status| Some((status.name.to_owned(), json!(status.down_since?))))
        .collect();
    let degraded: serde_json::Map<String, Value> = statuses
        .iter()
        .filter_map(|status| Some((status.name.to_owned(), json!(status.degraded.as_ref()?))))
        .collect();
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let summary = match (ready, degraded.is_empty()) {
        (false, _) => "not ready",
        (true, false) => "degraded",
        (true, true) => "ready",
    };
    let body = json!({
        "status": summary,
        "stores": stores,
        "down_since": down_since,
        "degraded": degraded,
    });
    (status, Json(body))
}

/// The public keys of the access tokens (RFC 7517).
#[utoipa::path(
    get,
    path = "/.well-known/jwks.json",
    tag = "health",
    responses((status = 200, description = "The JSON Web Key Set", body = Object))
)]
async fn jwks(
    State(state): State<AppState>,
) -> ([(axum::http::HeaderName, &'static str); 1], Json<Value>) {
    (
        [(axum::http::header::CACHE_CONTROL, "public, max-age=300")],
        Json(state.jwks.as_ref().clone()),
    )
}

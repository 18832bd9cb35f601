//! `/healthz` (the process answers), `/readyz` (every store answers, and since when those
//! that do not have not; a degraded store, such as a disk below its floor, keeps fmsd ready
//! and says why) and the JWKS.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::gateway::AppState;

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/.well-known/jwks.json", get(jwks))
}

async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

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

async fn jwks(
    State(state): State<AppState>,
) -> ([(axum::http::HeaderName, &'static str); 1], Json<Value>) {
    (
        [(axum::http::header::CACHE_CONTROL, "public, max-age=300")],
        Json(state.jwks.as_ref().clone()),
    )
}

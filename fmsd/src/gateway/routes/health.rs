//! `/healthz` (the process answers), `/readyz` (every store answers) and the JWKS.

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
    let checks = futures::future::join_all(state.probes.iter().map(|(name, probe)| async move {
        let result = tokio::time::timeout(std::time::Duration::from_secs(3), probe.probe()).await;
        let ok = matches!(result, Ok(Ok(())));
        if !ok {
            tracing::warn!(store = name, "readiness check failed");
        }
        (*name, ok)
    }))
    .await;
    let ready = checks.iter().all(|(_, ok)| *ok);
    let stores: serde_json::Map<String, Value> = checks
        .into_iter()
        .map(|(name, ok)| {
            (
                name.to_owned(),
                json!(if ok { "ok" } else { "unavailable" }),
            )
        })
        .collect();
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(json!({"status": if ready { "ready" } else { "not ready" }, "stores": stores})),
    )
}

async fn jwks(
    State(state): State<AppState>,
) -> ([(axum::http::HeaderName, &'static str); 1], Json<Value>) {
    (
        [(axum::http::header::CACHE_CONTROL, "public, max-age=300")],
        Json(state.jwks.as_ref().clone()),
    )
}

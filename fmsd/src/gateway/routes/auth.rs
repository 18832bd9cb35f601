//! `/v1/auth/*`: register, login, refresh, logout. No token needed; login is rate-limited.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use common::api::{LoginRequest, Profile, RefreshRequest, RegisterRequest, TokenPair};

use crate::gateway::client::Client;
use crate::gateway::error::{ApiError, JsonBody};
use crate::gateway::AppState;

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/auth/register", post(register))
        .route("/v1/auth/login", post(login))
        .route("/v1/auth/refresh", post(refresh))
        .route("/v1/auth/logout", post(logout))
}

async fn register(
    State(state): State<AppState>,
    JsonBody(request): JsonBody<RegisterRequest>,
) -> Result<(StatusCode, Json<Profile>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(state.customers.register(request).await?),
    ))
}

async fn login(
    State(state): State<AppState>,
    client: Client,
    JsonBody(request): JsonBody<LoginRequest>,
) -> Result<Json<TokenPair>, ApiError> {
    state.limiter.login(client.ip, &request.email).await?;
    Ok(Json(state.customers.login(request).await?))
}

async fn refresh(
    State(state): State<AppState>,
    JsonBody(request): JsonBody<RefreshRequest>,
) -> Result<Json<TokenPair>, ApiError> {
    Ok(Json(state.customers.refresh(&request.refresh_token).await?))
}

async fn logout(
    State(state): State<AppState>,
    JsonBody(request): JsonBody<RefreshRequest>,
) -> Result<StatusCode, ApiError> {
    state.customers.logout(&request.refresh_token).await?;
    Ok(StatusCode::NO_CONTENT)
}

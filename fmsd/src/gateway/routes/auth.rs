//! `/v1/auth/*`: register, login, refresh, logout. No token needed; login is rate-limited.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use common::api::{ErrorBody, LoginRequest, Profile, RefreshRequest, RegisterRequest, TokenPair};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::gateway::client::Client;
use crate::gateway::error::{ApiError, JsonBody};
use crate::gateway::AppState;

/// The routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register))
        .routes(routes!(login))
        .routes(routes!(refresh))
        .routes(routes!(logout))
}

/// Register a customer.
#[utoipa::path(
    post,
    path = "/v1/auth/register",
    tag = "auth",
    request_body = RegisterRequest,
    responses(
        (status = 201, description = "Registered", body = Profile),
        (status = 409, description = "The e-mail address is taken (`conflict`)", body = ErrorBody),
    )
)]
async fn register(
    State(state): State<AppState>,
    JsonBody(request): JsonBody<RegisterRequest>,
) -> Result<(StatusCode, Json<Profile>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(state.customers.register(request).await?),
    ))
}

/// Log in: an access token and a refresh token.
#[utoipa::path(
    post,
    path = "/v1/auth/login",
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in", body = TokenPair),
        (status = 401, description = "Wrong e-mail or password (`unauthorized`)", body = ErrorBody),
        (status = 429, description = "Too many logins from this IP or for this account (`rate_limited`)",
            body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
async fn login(
    State(state): State<AppState>,
    client: Client,
    JsonBody(request): JsonBody<LoginRequest>,
) -> Result<Json<TokenPair>, ApiError> {
    state.limiter.login(client.ip, &request.email).await?;
    Ok(Json(state.customers.login(request).await?))
}

/// Trade a refresh token for a new pair; the old one is used up.
#[utoipa::path(
    post,
    path = "/v1/auth/refresh",
    tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "A new pair", body = TokenPair),
        (status = 401, description = "An unknown, used or expired refresh token (`unauthorized`)", body = ErrorBody),
    )
)]
async fn refresh(
    State(state): State<AppState>,
    JsonBody(request): JsonBody<RefreshRequest>,
) -> Result<Json<TokenPair>, ApiError> {
    Ok(Json(state.customers.refresh(&request.refresh_token).await?))
}

/// End the session of a refresh token.
#[utoipa::path(
    post,
    path = "/v1/auth/logout",
    tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 204, description = "Logged out"),
        (status = 401, description = "An unknown refresh token (`unauthorized`)", body = ErrorBody),
    )
)]
async fn logout(
    State(state): State<AppState>,
    JsonBody(request): JsonBody<RefreshRequest>,
) -> Result<StatusCode, ApiError> {
    state.customers.logout(&request.refresh_token).await?;
    Ok(StatusCode::NO_CONTENT)
}

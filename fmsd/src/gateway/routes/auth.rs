//! `/v1/auth/*`: register, login, refresh, logout, password reset and address verification. No
//! token needed; logins and mails with a code are rate-limited.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use common::api::{
    Accepted, ErrorBody, LoginRequest, PasswordResetConfirm, PasswordResetRequest, Profile,
    RefreshRequest, RegisterRequest, TokenPair, VerifyRequest,
};
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
        .routes(routes!(password_reset))
        .routes(routes!(password_reset_confirm))
        .routes(routes!(verify))
}

/// What a password-reset request answers, whatever the server found.
const RESET_ACCEPTED: &str = "if an account has this address, a code to reset its password is                               on its way there; it works once, for 30 minutes";

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

/// Ask for a code to reset a forgotten password. The answer is the same whether or not an
/// account has the address; if one does, the code goes there by mail.
#[utoipa::path(
    post,
    path = "/v1/auth/password-reset",
    tag = "auth",
    request_body = PasswordResetRequest,
    responses(
        (status = 202, description = "Accepted: a code goes to the address if an account has it", body = Accepted),
        (status = 429, description = "Too many codes asked for this address or from this IP (`rate_limited`)",
            body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
async fn password_reset(
    State(state): State<AppState>,
    client: Client,
    JsonBody(request): JsonBody<PasswordResetRequest>,
) -> Result<(StatusCode, Json<Accepted>), ApiError> {
    state
        .limiter
        .mail_code(Some(client.ip), &[&request.email])
        .await?;
    state.customers.request_password_reset(&request.email)?;
    Ok((
        StatusCode::ACCEPTED,
        Json(Accepted {
            message: RESET_ACCEPTED.into(),
        }),
    ))
}

/// Set a new password with the code from the mail; every session and app token ends.
#[utoipa::path(
    post,
    path = "/v1/auth/password-reset/confirm",
    tag = "auth",
    request_body = PasswordResetConfirm,
    responses(
        (status = 204, description = "Set; every session and app token is revoked"),
        (status = 400, description = "The new password is too weak (`invalid`)", body = ErrorBody),
        (status = 401, description = "The code is not valid: unknown, expired, used or replaced (`unauthorized`)", body = ErrorBody),
        (status = 429, description = "Too many attempts from this IP (`rate_limited`)",
            body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
async fn password_reset_confirm(
    State(state): State<AppState>,
    client: Client,
    JsonBody(request): JsonBody<PasswordResetConfirm>,
) -> Result<StatusCode, ApiError> {
    state.limiter.token_guess(client.ip).await?.wrong();
    state
        .customers
        .confirm_password_reset(&request.token, &request.new_password)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Prove an address with the code mailed to it: the account's own, or the new address it asked
/// to change to (the account switches to it now).
#[utoipa::path(
    post,
    path = "/v1/auth/verify",
    tag = "auth",
    request_body = VerifyRequest,
    responses(
        (status = 200, description = "Verified; the profile as it is now", body = Profile),
        (status = 401, description = "The code is not valid: unknown, expired, used or replaced (`unauthorized`)", body = ErrorBody),
        (status = 409, description = "Another account took the new address meanwhile, or the account left the address the code proves (`conflict`)", body = ErrorBody),
        (status = 429, description = "Too many attempts from this IP (`rate_limited`)",
            body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
async fn verify(
    State(state): State<AppState>,
    client: Client,
    JsonBody(request): JsonBody<VerifyRequest>,
) -> Result<Json<Profile>, ApiError> {
    state.limiter.token_guess(client.ip).await?.wrong();
    Ok(Json(state.customers.verify(&request.token).await?))
}

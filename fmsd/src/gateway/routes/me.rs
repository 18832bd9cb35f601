//! `/v1/me`: the caller's own account.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use common::api::{
    ChangePasswordRequest, DeleteAccountRequest, ErrorBody, Profile, UpdateProfileRequest,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::gateway::auth::Caller;
use crate::gateway::error::{ApiError, JsonBody};
use crate::gateway::AppState;

/// The routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(show, update, delete))
        .routes(routes!(change_password))
}

/// The caller's profile.
#[utoipa::path(
    get,
    path = "/v1/me",
    tag = "me",
    security(("bearer" = [])),
    responses((status = 200, description = "The profile", body = Profile))
)]
async fn show(State(state): State<AppState>, caller: Caller) -> Result<Json<Profile>, ApiError> {
    Ok(Json(state.customers.profile(caller.customer_id).await?))
}

/// Change the display name or the mail preferences.
#[utoipa::path(
    patch,
    path = "/v1/me",
    tag = "me",
    security(("bearer" = [])),
    request_body = UpdateProfileRequest,
    responses((status = 200, description = "The changed profile", body = Profile))
)]
async fn update(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(request): JsonBody<UpdateProfileRequest>,
) -> Result<Json<Profile>, ApiError> {
    Ok(Json(
        state
            .customers
            .update_profile(caller.customer_id, request)
            .await?,
    ))
}

/// Change the password; every other session ends.
#[utoipa::path(
    post,
    path = "/v1/me/password",
    tag = "me",
    security(("bearer" = [])),
    request_body = ChangePasswordRequest,
    responses(
        (status = 204, description = "Changed; every other session and every app token is revoked"),
        (status = 401, description = "No valid token, or the current password is wrong (`unauthorized`)", body = ErrorBody),
        (status = 403, description = "An app token: only a login may change the password (`forbidden`)", body = ErrorBody),
        (status = 429, description = "Too many wrong current passwords (`rate_limited`)",
            body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
async fn change_password(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(request): JsonBody<ChangePasswordRequest>,
) -> Result<StatusCode, ApiError> {
    let session_id = caller.login_session("changing the password")?;
    state
        .customers
        .change_password(caller.customer_id, session_id, request)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Delete the account, its files, shares and links.
#[utoipa::path(
    delete,
    path = "/v1/me",
    tag = "me",
    security(("bearer" = [])),
    request_body = DeleteAccountRequest,
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No valid token, or the password is wrong (`unauthorized`)", body = ErrorBody),
        (status = 403, description = "An app token: only a login may delete the account (`forbidden`)", body = ErrorBody),
        (status = 429, description = "Too many wrong passwords (`rate_limited`)",
            body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(request): JsonBody<DeleteAccountRequest>,
) -> Result<StatusCode, ApiError> {
    caller.login_session("deleting the account")?;
    state
        .customers
        .delete_account(caller.customer_id, request)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

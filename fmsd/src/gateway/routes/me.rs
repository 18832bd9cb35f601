//! `/v1/me`: the caller's own account.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use common::api::{
    Accepted, ChangePasswordRequest, DeleteAccountRequest, ErrorBody, Profile, UpdateProfileRequest,
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
        .routes(routes!(resend_verification))
}

/// The caller's profile.
#[utoipa::path(
    get,
    path = "/v1/me",
    operation_id = "show_me",
    tag = "me",
    security(("bearer" = [])),
    responses((status = 200, description = "The profile", body = Profile))
)]
async fn show(State(state): State<AppState>, caller: Caller) -> Result<Json<Profile>, ApiError> {
    Ok(Json(state.customers.profile(caller.customer_id).await?))
}

/// Change the display name, the mail preferences, or the e-mail address (a code goes to the new
/// address, and the account switches once it is confirmed; the current address is told).
#[utoipa::path(
    patch,
    path = "/v1/me",
    operation_id = "update_me",
    tag = "me",
    security(("bearer" = [])),
    request_body = UpdateProfileRequest,
    responses(
        (status = 200, description = "The changed profile (`pending_email` until the new address is proved)", body = Profile),
        (status = 403, description = "An app token: only a login may change the address (`forbidden`)", body = ErrorBody),
        (status = 409, description = "Another account has the address, or it is the account's already (`conflict`)", body = ErrorBody),
        (status = 429, description = "Too many codes mailed to this address (`rate_limited`)",
            body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
async fn update(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(request): JsonBody<UpdateProfileRequest>,
) -> Result<Json<Profile>, ApiError> {
    if request.email.is_some() {
        caller.login_session("changing the e-mail address")?;
    }
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
    operation_id = "delete_me",
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

/// Mail the verification code again: to the new address a change waits for, else to the
/// account's own unverified address.
#[utoipa::path(
    post,
    path = "/v1/me/verification",
    tag = "me",
    security(("bearer" = [])),
    responses(
        (status = 202, description = "A new code is on its way; the older one no longer works", body = Accepted),
        (status = 409, description = "Nothing waits for a code: the address is verified and no change is pending (`conflict`)", body = ErrorBody),
        (status = 429, description = "Too many codes mailed to this address (`rate_limited`)",
            body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
async fn resend_verification(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<(StatusCode, Json<Accepted>), ApiError> {
    state
        .customers
        .resend_verification(caller.customer_id)
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(Accepted {
            message: "a new code is on its way; the one sent before no longer works".into(),
        }),
    ))
}

//! `/v1/me`: the caller's own account.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use common::api::{ChangePasswordRequest, DeleteAccountRequest, Profile, UpdateProfileRequest};

use crate::gateway::auth::Caller;
use crate::gateway::error::{ApiError, JsonBody};
use crate::gateway::AppState;

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/me", get(show).patch(update).delete(delete))
        .route("/v1/me/password", post(change_password))
}

async fn show(State(state): State<AppState>, caller: Caller) -> Result<Json<Profile>, ApiError> {
    Ok(Json(state.customers.profile(caller.customer_id).await?))
}

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

async fn change_password(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(request): JsonBody<ChangePasswordRequest>,
) -> Result<StatusCode, ApiError> {
    state
        .customers
        .change_password(caller.customer_id, caller.session_id, request)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(request): JsonBody<DeleteAccountRequest>,
) -> Result<StatusCode, ApiError> {
    state
        .customers
        .delete_account(caller.customer_id, request)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

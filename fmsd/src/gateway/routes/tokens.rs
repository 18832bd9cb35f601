//! `/v1/tokens`: make, list and revoke app tokens. Only a login may manage them, so a leaked
//! app token cannot make itself a successor or hide its siblings.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use common::api::{AppTokenList, CreateAppTokenRequest, CreatedAppToken, ErrorBody};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::gateway::auth::Caller;
use crate::gateway::error::{ApiError, JsonBody, PathParams};
use crate::gateway::AppState;

/// What an app token answers on these routes.
const NEEDS_LOGIN: &str = "managing app tokens";

/// The app-token routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(revoke))
}

/// Make an app token: for scripts (`Authorization: Bearer`) and WebDAV clients (the password
/// of HTTP Basic). The secret is in this answer only.
#[utoipa::path(
    post,
    path = "/v1/tokens",
    operation_id = "create_token",
    tag = "tokens",
    security(("bearer" = [])),
    request_body = CreateAppTokenRequest,
    responses(
        (status = 201, description = "The token, with its secret (shown only now)", body = CreatedAppToken),
        (status = 403, description = "An app token: only a login may make one (`forbidden`)", body = ErrorBody),
        (status = 409, description = "The account holds the most app tokens it may (`conflict`)", body = ErrorBody),
    )
)]
async fn create(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(request): JsonBody<CreateAppTokenRequest>,
) -> Result<(StatusCode, Json<CreatedAppToken>), ApiError> {
    caller.login_session(NEEDS_LOGIN)?;
    let created = state
        .customers
        .create_app_token(caller.customer_id, request)
        .await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// The caller's app tokens, never their secrets.
#[utoipa::path(
    get,
    path = "/v1/tokens",
    operation_id = "list_tokens",
    tag = "tokens",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Newest first", body = AppTokenList),
        (status = 403, description = "An app token: only a login may list them (`forbidden`)", body = ErrorBody),
    )
)]
async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<AppTokenList>, ApiError> {
    caller.login_session(NEEDS_LOGIN)?;
    let tokens = state.customers.app_tokens(caller.customer_id).await?;
    Ok(Json(AppTokenList { tokens }))
}

/// Revoke an app token: it stops working at once.
#[utoipa::path(
    delete,
    path = "/v1/tokens/{id}",
    operation_id = "revoke_token",
    tag = "tokens",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The token's id")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 403, description = "An app token: only a login may revoke one (`forbidden`)", body = ErrorBody),
        (status = 404, description = "No such token of the caller's (`not_found`)", body = ErrorBody),
    )
)]
async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    PathParams(id): PathParams<Uuid>,
) -> Result<StatusCode, ApiError> {
    caller.login_session(NEEDS_LOGIN)?;
    state
        .customers
        .revoke_app_token(caller.customer_id, id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

//! `/v1/shares`: share an item with another customer, change the role, revoke or leave, and
//! list what was shared with me and by me.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use common::api::{
    ErrorBody, Person as ApiPerson, Share as ApiShare, ShareList, ShareRequest, ShareRole,
    UpdateShareRequest,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::files::entry_kind;
use crate::files::domain::{Person, RemotePath, Role};
use crate::files::service::ShareView;
use crate::gateway::auth::Caller;
use crate::gateway::error::{ApiError, JsonBody, PathParams};
use crate::gateway::AppState;

/// The share routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create))
        .routes(routes!(incoming))
        .routes(routes!(outgoing))
        .routes(routes!(update, remove))
}

/// The domain role of an API role.
fn role(role: ShareRole) -> Role {
    match role {
        ShareRole::Viewer => Role::Viewer,
        ShareRole::Editor => Role::Editor,
    }
}

fn person(person: &Person) -> ApiPerson {
    ApiPerson {
        email: person.email.clone(),
        name: person.name.clone(),
    }
}

/// A share as the API shows it; `with_path` for its owner only.
fn share(view: &ShareView, with_path: bool) -> ApiShare {
    ApiShare {
        id: view.share.id,
        owner: person(&view.owner),
        recipient: person(&view.recipient),
        name: view.node.path.name().to_owned(),
        kind: entry_kind(&view.node),
        size: view.node.size,
        path: with_path.then(|| view.node.path.to_string()),
        role: match view.share.role {
            Role::Viewer => ShareRole::Viewer,
            Role::Editor => ShareRole::Editor,
        },
        created_at: view.share.created_at,
    }
}

/// Share a file or folder with a registered customer, or change the role of an existing share.
#[utoipa::path(
    post,
    path = "/v1/shares",
    operation_id = "create_share",
    tag = "shares",
    security(("bearer" = [])),
    request_body = ShareRequest,
    responses(
        (status = 201, description = "Shared", body = ApiShare),
        (status = 200, description = "Already shared: the role changed", body = ApiShare),
        (status = 404, description = "No such entry, or no customer with that e-mail (`not_found`)", body = ErrorBody),
        (status = 409, description = "The e-mail address is the caller's own (`conflict`)", body = ErrorBody),
    )
)]
async fn create(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(request): JsonBody<ShareRequest>,
) -> Result<(StatusCode, Json<ApiShare>), ApiError> {
    let path = RemotePath::parse(&request.path)?;
    let (view, created) = state
        .files
        .share(
            caller.customer_id,
            &path,
            &request.email,
            role(request.role),
        )
        .await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(share(&view, true))))
}

/// What others shared with the caller.
#[utoipa::path(
    get,
    path = "/v1/shares/incoming",
    tag = "shares",
    security(("bearer" = [])),
    responses((status = 200, description = "Newest first", body = ShareList))
)]
async fn incoming(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<ShareList>, ApiError> {
    let views = state.files.shares_received(caller.customer_id).await?;
    Ok(Json(ShareList {
        shares: views.iter().map(|view| share(view, false)).collect(),
    }))
}

/// What the caller shared.
#[utoipa::path(
    get,
    path = "/v1/shares/outgoing",
    tag = "shares",
    security(("bearer" = [])),
    responses((status = 200, description = "Newest first", body = ShareList))
)]
async fn outgoing(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<ShareList>, ApiError> {
    let views = state.files.shares_given(caller.customer_id).await?;
    Ok(Json(ShareList {
        shares: views.iter().map(|view| share(view, true)).collect(),
    }))
}

/// Change a share's role (its owner only).
#[utoipa::path(
    patch,
    path = "/v1/shares/{id}",
    operation_id = "update_share",
    tag = "shares",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The share's id")),
    request_body = UpdateShareRequest,
    responses(
        (status = 200, description = "Changed", body = ApiShare),
        (status = 404, description = "No such share of the caller's (`not_found`)", body = ErrorBody),
    )
)]
async fn update(
    State(state): State<AppState>,
    caller: Caller,
    PathParams(id): PathParams<Uuid>,
    JsonBody(request): JsonBody<UpdateShareRequest>,
) -> Result<Json<ApiShare>, ApiError> {
    let view = state
        .files
        .change_share(caller.customer_id, id, role(request.role))
        .await?;
    Ok(Json(share(&view, true)))
}

/// Revoke a share (its owner) or leave it (its recipient).
#[utoipa::path(
    delete,
    path = "/v1/shares/{id}",
    tag = "shares",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The share's id")),
    responses(
        (status = 204, description = "Gone"),
        (status = 404, description = "No such share for the caller (`not_found`)", body = ErrorBody),
    )
)]
async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    PathParams(id): PathParams<Uuid>,
) -> Result<StatusCode, ApiError> {
    state.files.unshare(caller.customer_id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

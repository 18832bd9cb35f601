//! `/v1/shares`: share an item with another customer, change the role, revoke or leave, and
//! list what was shared with me and by me.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use common::api::{
    Person as ApiPerson, Share as ApiShare, ShareList, ShareRequest, ShareRole, UpdateShareRequest,
};
use uuid::Uuid;

use super::files::entry_kind;
use crate::files::domain::{Person, RemotePath, Role};
use crate::files::service::ShareView;
use crate::gateway::auth::Caller;
use crate::gateway::error::{ApiError, JsonBody, PathParams};
use crate::gateway::AppState;

/// The share routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/shares", post(create))
        .route("/v1/shares/incoming", get(incoming))
        .route("/v1/shares/outgoing", get(outgoing))
        .route("/v1/shares/{id}", patch(update).delete(remove))
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

async fn incoming(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<ShareList>, ApiError> {
    let views = state.files.shares_received(caller.customer_id).await?;
    Ok(Json(ShareList {
        shares: views.iter().map(|view| share(view, false)).collect(),
    }))
}

async fn outgoing(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<ShareList>, ApiError> {
    let views = state.files.shares_given(caller.customer_id).await?;
    Ok(Json(ShareList {
        shares: views.iter().map(|view| share(view, true)).collect(),
    }))
}

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

async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    PathParams(id): PathParams<Uuid>,
) -> Result<StatusCode, ApiError> {
    state.files.unshare(caller.customer_id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

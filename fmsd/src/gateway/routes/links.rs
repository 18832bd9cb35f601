//! `/v1/links`: make, list and revoke links. What a link leads to is `routes::public_links`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, post};
use axum::{Json, Router};
use common::api::{CreateLinkRequest, CreatedLink, Link, LinkList, LinkMode};
use uuid::Uuid;

use super::files::entry_kind;
use crate::files::domain::{self, RemotePath};
use crate::files::service::{LinkView, NewLink};
use crate::gateway::auth::Caller;
use crate::gateway::client::Client;
use crate::gateway::error::{ApiError, JsonBody, PathParams};
use crate::gateway::AppState;

/// The link routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/links", post(create).get(list))
        .route("/v1/links/{id}", delete(revoke))
}

/// A link's mode as the API says it.
pub fn link_mode(mode: domain::LinkMode) -> LinkMode {
    match mode {
        domain::LinkMode::Download => LinkMode::Download,
        domain::LinkMode::Upload => LinkMode::Upload,
    }
}

/// A link as the API shows it to its owner.
fn link(view: &LinkView) -> Link {
    let link = &view.link;
    Link {
        id: link.id,
        path: view.node.path.to_string(),
        name: view.node.path.name().to_owned(),
        kind: entry_kind(&view.node),
        mode: link_mode(link.mode),
        has_password: link.password_hash.is_some(),
        expires_at: link.expires_at,
        max_downloads: link.max_downloads,
        downloads: link.downloads,
        uploads: link.uploads,
        created_at: link.created_at,
    }
}

async fn create(
    State(state): State<AppState>,
    caller: Caller,
    client: Client,
    JsonBody(request): JsonBody<CreateLinkRequest>,
) -> Result<(StatusCode, Json<CreatedLink>), ApiError> {
    let request = NewLink {
        path: RemotePath::parse(&request.path)?,
        expires_in_secs: request.expires_in_secs,
        password: request.password,
        max_downloads: request.max_downloads,
        upload_only: request.upload_only,
    };
    let (view, token) = state.files.create_link(caller.customer_id, request).await?;
    let url = format!("{}/s/{}", client.base(), token.expose());
    Ok((
        StatusCode::CREATED,
        Json(CreatedLink {
            link: link(&view),
            token: token.expose().to_owned(),
            url,
        }),
    ))
}

async fn list(State(state): State<AppState>, caller: Caller) -> Result<Json<LinkList>, ApiError> {
    let views = state.files.links(caller.customer_id).await?;
    Ok(Json(LinkList {
        links: views.iter().map(link).collect(),
    }))
}

async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    PathParams(id): PathParams<Uuid>,
) -> Result<StatusCode, ApiError> {
    state.files.revoke_link(caller.customer_id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

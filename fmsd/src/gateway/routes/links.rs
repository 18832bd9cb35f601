//! `/v1/links`: make, list and revoke links. What a link leads to is `routes::public_links`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use common::api::{CreateLinkRequest, CreatedLink, ErrorBody, Link, LinkList, LinkMode};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::files::entry_kind;
use crate::files::domain::{self, RemotePath};
use crate::files::service::{LinkView, NewLink};
use crate::gateway::auth::Caller;
use crate::gateway::client::Client;
use crate::gateway::error::{ApiError, JsonBody, PathParams};
use crate::gateway::AppState;

/// The link routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(revoke))
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

/// Make a link to a file or folder, or a file request (`upload_only`) for a folder.
#[utoipa::path(
    post,
    path = "/v1/links",
    operation_id = "create_link",
    tag = "links",
    security(("bearer" = [])),
    request_body = CreateLinkRequest,
    responses(
        (status = 201, description = "The link, with its token (shown only now)", body = CreatedLink),
        (status = 404, description = "No such entry (`not_found`)", body = ErrorBody),
        (status = 409, description = "A file request (`upload_only`) for a file (`conflict`)", body = ErrorBody),
    )
)]
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

/// The caller's links.
#[utoipa::path(
    get,
    path = "/v1/links",
    operation_id = "list_links",
    tag = "links",
    security(("bearer" = [])),
    responses((status = 200, description = "Newest first", body = LinkList))
)]
async fn list(State(state): State<AppState>, caller: Caller) -> Result<Json<LinkList>, ApiError> {
    let views = state.files.links(caller.customer_id).await?;
    Ok(Json(LinkList {
        links: views.iter().map(link).collect(),
    }))
}

/// Revoke a link; its open upload sessions end.
#[utoipa::path(
    delete,
    path = "/v1/links/{id}",
    operation_id = "revoke_link",
    tag = "links",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The link's id")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 404, description = "No such link of the caller's (`not_found`)", body = ErrorBody),
    )
)]
async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    PathParams(id): PathParams<Uuid>,
) -> Result<StatusCode, ApiError> {
    state.files.revoke_link(caller.customer_id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

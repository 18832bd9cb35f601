//! The OpenAPI 3.1 document of the HTTP API, served at `GET /openapi.json`.
//!
//! It is generated from the code: the bodies are `common::api`'s types (their schemas derived
//! under `common`'s `openapi` feature), and each operation is the `#[utoipa::path]` of its
//! handler, registered in the router through `utoipa_axum::routes!`, so a route exists in the
//! router exactly when it exists in the document. The answers every operation of a kind can
//! give (503 when a store is down; 400, 408 and 413 for a request body; 401 behind a token,
//! and 403 for a read-only app token on a method that writes;
//! under `/s/{token}` the link password header and 401, 404, 410 and 429) are added here,
//! once, by [`CommonAnswers`]; each handler lists the ones that are its own.
//!
//! An operation's `operationId` is its handler's name unless the handler names one: handlers
//! in different modules share names (`create`, `list`, `show`, ...), so those name an id of
//! their own. Ids must be unique: a link names its target by id, and a client (schemathesis's
//! inferred links among them) takes a shared id for whichever operation it meets last.

use std::sync::LazyLock;

use axum::Json;
use utoipa::openapi::header::Header;
use utoipa::openapi::path::{Operation, Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{
    AllOfBuilder, AnyOfBuilder, ObjectBuilder, Schema, SchemaType, Type,
};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Required, Response, ResponseBuilder};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use common::api::sharing::LINK_PASSWORD_HEADER;
use common::api::{ErrorBody, ErrorDetail};

/// The name of the bearer security scheme the authenticated operations name.
pub const BEARER: &str = "bearer";

/// The document's fixed parts: what it is, its security scheme and the error body.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "fms",
        description = "The HTTP API of fmsd, the fms file-management daemon.\n\n\
            Every error answer is `{\"error\": {\"code\": \"...\", \"message\": \"...\"}}` \
            (`ErrorBody`). A method an endpoint does not take is answered 405 with that body \
            and an `Allow` header; a path that is no endpoint, 404. Logins are limited per \
            client IP and per account, link passwords per link and per client IP: past a limit \
            the answer is 429 with `Retry-After`.\n\n\
            The parts of an upload and the bytes of a download go to the signed URLs that the \
            upload session and the download link hand out (with the embedded blob store, under \
            `/blobs/...` on fmsd itself; with S3, presigned S3 URLs). Their signature is their \
            permission; they are not part of this document."
    ),
    modifiers(&SecuritySchemes, &CommonAnswers, &CrossFieldRules),
    components(schemas(ErrorBody, ErrorDetail)),
    tags(
        (name = "auth", description = "Registration, login and tokens"),
        (name = "me", description = "The caller's own account"),
        (name = "files", description = "The caller's tree, or a share's with `share=`"),
        (name = "uploads", description = "Upload sessions"),
        (name = "shares", description = "Items shared with other customers"),
        (name = "links", description = "Links, as their owner manages them"),
        (name = "tokens", description = "App tokens for scripts and WebDAV clients"),
        (name = "trash", description = "What deletes moved out of the caller's tree: restore, delete for good, empty"),
        (name = "public links", description = "What a link leads to, without login"),
        (name = "health", description = "Liveness, readiness, keys and this document"),
    )
)]
pub struct ApiDoc;

/// The document, built once from the routes.
static DOCUMENT: LazyLock<utoipa::openapi::OpenApi> =
    LazyLock::new(|| document(super::documented_routes()));

/// The whole document of `routes`: the fixed parts and every operation of the routes.
pub fn document(routes: OpenApiRouter<AppState>) -> utoipa::openapi::OpenApi {
    let mut document = ApiDoc::openapi().merge_from(routes.into_openapi());
    SecuritySchemes.modify(&mut document);
    CommonAnswers.modify(&mut document);
    CrossFieldRules.modify(&mut document);
    document
}

/// `GET /openapi.json`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(serve))
}

/// This document.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "health",
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json"))
)]
async fn serve() -> Json<&'static utoipa::openapi::OpenApi> {
    Json(&DOCUMENT)
}

/// Adds the bearer scheme: an access token from `POST /v1/auth/login`.
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, document: &mut utoipa::openapi::OpenApi) {
        let components = document.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            BEARER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "The `access_token` of `POST /v1/auth/login` or `/v1/auth/refresh` (a \
                         JWT), or the secret of an app token from `POST /v1/tokens` (`fms_…`)",
                    ))
                    .build(),
            ),
        );
    }
}

/// Adds the answers every operation of a kind gives, where its handler does not list them.
struct CommonAnswers;

impl Modify for CommonAnswers {
    fn modify(&self, document: &mut utoipa::openapi::OpenApi) {
        for (path, item) in document.paths.paths.iter_mut() {
            let link = path.starts_with("/s/");
            let api = path.starts_with("/v1/") || link;
            let operations = [
                (&mut item.get, false),
                (&mut item.put, true),
                (&mut item.post, true),
                (&mut item.delete, true),
                (&mut item.patch, true),
            ];
            for (operation, writes) in operations {
                let Some(operation) = operation else {
                    continue;
                };
                add_common_answers(operation, api, writes);
                if link {
                    add_link_answers(operation);
                }
            }
        }
    }
}

fn add_common_answers(operation: &mut Operation, api: bool, writes: bool) {
    let with_body = operation.request_body.is_some();
    let with_parameters = operation
        .parameters
        .as_ref()
        .is_some_and(|parameters| !parameters.is_empty());
    let with_token = operation
        .security
        .as_ref()
        .is_some_and(|security| !security.is_empty());
    let answers = [
        (
            with_body || with_parameters,
            "400",
            "The request is malformed or breaks a rule (`invalid`); the message names the rule",
        ),
        (
            with_token,
            "401",
            "No token, or a bad, expired or revoked one (`unauthorized`)",
        ),
        (
            with_token && writes,
            "403",
            "An app token of scope `read` (`forbidden`)",
        ),
        (
            with_body,
            "408",
            "The body did not arrive whole in time (`request_timeout`)",
        ),
        (
            with_body,
            "413",
            "The body is larger than allowed (`payload_too_large`)",
        ),
        (
            api,
            "503",
            "A backing store is unavailable; try again (`unavailable`)",
        ),
    ];
    for (applies, status, description) in answers {
        if applies {
            operation
                .responses
                .responses
                .entry(status.to_owned())
                .or_insert_with(|| RefOr::T(error_answer(description)));
        }
    }
}

/// The header a link's password travels in, and the answers every `/s/{token}` operation can
/// give because it opens a link: a missing or wrong password, no such link, a used-up one, too
/// many wrong guesses.
fn add_link_answers(operation: &mut Operation) {
    let parameters = operation.parameters.get_or_insert_with(Vec::new);
    if !parameters
        .iter()
        .any(|parameter| parameter.name == LINK_PASSWORD_HEADER)
    {
        parameters.push(
            ParameterBuilder::new()
                .name(LINK_PASSWORD_HEADER)
                .parameter_in(ParameterIn::Header)
                .required(Required::False)
                .description(Some("The link's password, if it has one"))
                .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                .build(),
        );
    }
    let answers = [
        (
            "401",
            "The link asks for a password and it is missing or wrong (`unauthorized`)",
        ),
        ("404", "No such link, or revoked (`not_found`)"),
        ("410", "The link expired or has no downloads left (`gone`)"),
    ];
    let responses = &mut operation.responses.responses;
    for (status, description) in answers {
        responses
            .entry(status.to_owned())
            .or_insert_with(|| RefOr::T(error_answer(description)));
    }
    responses.entry("429".to_owned()).or_insert_with(|| {
        RefOr::T(limited_answer(
            "Too many wrong passwords for this link or from this IP (`rate_limited`)",
        ))
    });
}

/// A 429 answer: `description` over the JSON [`ErrorBody`], with `Retry-After`.
fn limited_answer(description: &str) -> Response {
    let mut answer = error_answer(description);
    let mut retry_after = Header::new(ObjectBuilder::new().schema_type(Type::Integer));
    retry_after.description = Some("Seconds to wait".to_owned());
    answer.headers.insert("Retry-After".to_owned(), retry_after);
    answer
}

/// Adds the rules that tie one field to another, which a field's own schema cannot say.
struct CrossFieldRules;

impl Modify for CrossFieldRules {
    fn modify(&self, document: &mut utoipa::openapi::OpenApi) {
        let Some(components) = document.components.as_mut() else {
            return;
        };
        // A file request serves no downloads: `upload_only` and `max_downloads` exclude each
        // other (either may be absent or empty).
        let name = "CreateLinkRequest";
        if let Some(fields) = components.schemas.remove(name) {
            let not_upload_only = ObjectBuilder::new().property(
                "upload_only",
                ObjectBuilder::new().enum_values(Some([false])),
            );
            let no_max_downloads = ObjectBuilder::new().property(
                "max_downloads",
                ObjectBuilder::new().schema_type(SchemaType::Type(Type::Null)),
            );
            let rule = AnyOfBuilder::new()
                .item(not_upload_only)
                .item(no_max_downloads)
                .description(Some("`upload_only` links take no `max_downloads`"));
            let schema = AllOfBuilder::new().item(fields).item(rule).build();
            components
                .schemas
                .insert(name.to_owned(), RefOr::T(Schema::AllOf(schema)));
        }
    }
}

/// A query parameter the request must carry, with its schema.
pub fn required_query(name: &str, schema: utoipa::openapi::Object) -> Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Query)
        .required(Required::True)
        .schema(Some(schema))
        .build()
}

/// An error answer: `description` over the JSON [`ErrorBody`].
pub fn error_answer(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build()
}

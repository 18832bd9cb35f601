//! What the sharing tests share: customers with names of their own, shares (made once the
//! directory of customers has learnt of a new customer), requests through a share or a link,
//! the events on the embedded bus, and mails taken apart into their subject, text and HTML.

use std::time::Duration;

use common::api::sharing::{LinkUploadSession, ReceivedFile, LINK_PASSWORD_HEADER};
use common::api::{CreatedLink, Entry, LinkList, Profile, Share, UploadPart, UploadSession, Usage};
use common::events::Envelope;
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::fixtures::{fetch, put_part_of, sha256_hex, url};
use crate::helpers::{TestApp, TestUser};

/// Registers and logs in a customer called `name`, with a fresh e-mail address.
pub async fn register_named(app: &TestApp, name: &str) -> TestUser {
    let email = format!(
        "{}-{}@example.com",
        name.to_lowercase().replace(' ', "-"),
        Uuid::new_v4().simple()
    );
    let password = "correct horse battery".to_owned();
    let response = app
        .post(
            "/v1/auth/register",
            None,
            &json!({"email": email, "password": password, "name": name}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let tokens = app.login(&email, &password).await;
    let profile: Profile = app
        .get("/v1/me", Some(&tokens.access_token))
        .await
        .json()
        .await
        .unwrap();
    TestUser {
        token: tokens.access_token,
        refresh_token: tokens.refresh_token,
        email,
        password,
        id: profile.id,
    }
}

/// `POST /v1/shares`, asked again for up to 5 s while it answers 404: the directory of
/// customers learns of a new customer through an event, a moment after they registered.
pub async fn post_share(
    app: &TestApp,
    owner: &TestUser,
    path: &str,
    email: &str,
    role: &str,
) -> Response {
    let body = json!({"path": path, "email": email, "role": role});
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let response = app.post("/v1/shares", Some(&owner.token), &body).await;
        if response.status() != StatusCode::NOT_FOUND || tokio::time::Instant::now() > deadline {
            return response;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Shares `path` of `owner` with `recipient` as `role`; panics unless the share is new (201).
pub async fn share(
    app: &TestApp,
    owner: &TestUser,
    path: &str,
    recipient: &TestUser,
    role: &str,
) -> Share {
    let response = post_share(app, owner, path, &recipient.email, role).await;
    let (status, text) = status_and_text(response).await;
    assert_eq!(status, StatusCode::CREATED, "{text}");
    serde_json::from_str(&text).unwrap()
}

/// `endpoint?share=<id>&key=value&...`.
pub fn in_share(endpoint: &str, share_id: Uuid, pairs: &[(&str, &str)]) -> String {
    let id = share_id.to_string();
    let mut all = vec![("share", id.as_str())];
    all.extend_from_slice(pairs);
    url(endpoint, &all)
}

/// The status and body of `response`.
pub async fn status_and_text(response: Response) -> (StatusCode, String) {
    let status = response.status();
    (status, response.text().await.unwrap())
}

/// Sends every part of `bytes` to the part URLs `parts` (a session's).
pub async fn put_parts(app: &TestApp, parts: &[UploadPart], bytes: &[u8]) {
    for part in parts {
        let response = put_part_of(app, part, bytes).await;
        assert_eq!(response.status(), StatusCode::OK);
    }
}

/// Uploads `bytes` to `path` inside share `share_id` and returns the entry (relative path).
pub async fn upload_in_share(
    app: &TestApp,
    user: &TestUser,
    share_id: Uuid,
    path: &str,
    bytes: &[u8],
) -> Entry {
    let response = app
        .post(
            &in_share("/v1/uploads", share_id, &[]),
            Some(&user.token),
            &json!({"path": path, "size": bytes.len(), "sha256": sha256_hex(bytes)}),
        )
        .await;
    let (status, text) = status_and_text(response).await;
    assert_eq!(status, StatusCode::CREATED, "{text}");
    let session: UploadSession = serde_json::from_str(&text).unwrap();
    assert_eq!(session.path, path);
    put_parts(app, &session.parts, bytes).await;
    let response = app
        .post(
            &in_share(
                &format!("/v1/uploads/{}/complete", session.upload_id),
                share_id,
                &[],
            ),
            Some(&user.token),
            &json!({}),
        )
        .await;
    let (status, text) = status_and_text(response).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    serde_json::from_str(&text).unwrap()
}

/// The bytes of the file at `path` inside share `share_id`, through a download URL.
pub async fn download_in_share(
    app: &TestApp,
    user: &TestUser,
    share_id: Uuid,
    path: &str,
) -> Vec<u8> {
    let response = app
        .get(
            &in_share("/v1/downloads", share_id, &[("path", path)]),
            Some(&user.token),
        )
        .await;
    let (status, text) = status_and_text(response).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let link: common::api::DownloadLink = serde_json::from_str(&text).unwrap();
    let response = fetch(app, &link.url, None).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.bytes().await.unwrap().to_vec()
}

/// `GET /v1/usage`.
pub async fn usage(app: &TestApp, user: &TestUser) -> Usage {
    app.get("/v1/usage", Some(&user.token))
        .await
        .json()
        .await
        .unwrap()
}

/// `POST /v1/links` with `body`; panics unless it answers 201.
pub async fn create_link(app: &TestApp, owner: &TestUser, body: Value) -> CreatedLink {
    let response = app.post("/v1/links", Some(&owner.token), &body).await;
    let (status, text) = status_and_text(response).await;
    assert_eq!(status, StatusCode::CREATED, "{text}");
    serde_json::from_str(&text).unwrap()
}

/// `GET /v1/links`.
pub async fn links(app: &TestApp, owner: &TestUser) -> LinkList {
    app.get("/v1/links", Some(&owner.token))
        .await
        .json()
        .await
        .unwrap()
}

/// A request without login to `/s/{token}{rest}`, with the link's password if given.
pub fn public(
    app: &TestApp,
    method: Method,
    token: &str,
    rest: &str,
    password: Option<&str>,
) -> RequestBuilder {
    let builder = app.request(method, &format!("/s/{token}{rest}"), None);
    match password {
        Some(password) => builder.header(LINK_PASSWORD_HEADER, password),
        None => builder,
    }
}

/// Sends `builder`.
pub async fn send(builder: RequestBuilder) -> Response {
    builder.send().await.expect("the request is sent")
}

/// Opens an upload of `bytes` as `name` through the file-request link `token` and sends its
/// parts; panics unless the session is made.
pub async fn open_link_upload(
    app: &TestApp,
    token: &str,
    name: &str,
    bytes: &[u8],
) -> LinkUploadSession {
    let body = json!({"name": name, "size": bytes.len(), "sha256": sha256_hex(bytes)});
    let response = send(public(app, Method::POST, token, "/uploads", None).json(&body)).await;
    let (status, text) = status_and_text(response).await;
    assert_eq!(status, StatusCode::CREATED, "{text}");
    let session: LinkUploadSession = serde_json::from_str(&text).unwrap();
    put_parts(app, &session.parts, bytes).await;
    let again = send(public(
        app,
        Method::GET,
        token,
        &format!("/uploads/{}", session.upload_id),
        None,
    ))
    .await;
    let (status, text) = status_and_text(again).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let again: LinkUploadSession = serde_json::from_str(&text).unwrap();
    assert_eq!(
        (again.upload_id, again.size),
        (session.upload_id, session.size)
    );
    session
}

/// Completes `session` through the link `token`; the status and body of the answer.
pub async fn complete_link_upload(
    app: &TestApp,
    token: &str,
    session: &LinkUploadSession,
) -> (StatusCode, String) {
    let response = send(
        public(
            app,
            Method::POST,
            token,
            &format!("/uploads/{}/complete", session.upload_id),
            None,
        )
        .json(&json!({})),
    )
    .await;
    status_and_text(response).await
}

/// Uploads `bytes` as `name` through the file-request link `token`; the status and body of
/// the complete answer, which says the file was received (its size and checksum).
pub async fn upload_through_link(
    app: &TestApp,
    token: &str,
    name: &str,
    bytes: &[u8],
) -> (StatusCode, String) {
    let session = open_link_upload(app, token, name, bytes).await;
    let (status, text) = complete_link_upload(app, token, &session).await;
    if status == StatusCode::OK {
        let received: ReceivedFile = serde_json::from_str(&text).unwrap();
        assert_eq!(
            (received.size, received.sha256.as_str()),
            (bytes.len() as u64, sha256_hex(bytes).as_str()),
            "{name}"
        );
    }
    (status, text)
}

/// Waits (up to 10 s) for an event of `event_type` on the bus matching `predicate`.
pub async fn wait_for_event(
    app: &TestApp,
    event_type: &str,
    predicate: impl Fn(&Envelope) -> bool,
) -> Envelope {
    crate::helpers::eventually(|| {
        app.bus_envelopes()
            .into_iter()
            .find(|envelope| envelope.event_type == event_type && predicate(envelope))
    })
    .await
    .unwrap_or_else(|| panic!("no {event_type} event on the bus"))
}

/// How long to watch for a mail that must not come.
pub const QUIET: Duration = Duration::from_millis(2000);

/// A mail taken apart.
#[derive(Debug, Clone)]
pub struct ParsedMail {
    /// The `To:` header.
    pub to: String,
    /// The decoded subject.
    pub subject: String,
    /// The decoded `text/plain` part, if any.
    pub text: Option<String>,
    /// The decoded `text/html` part, if any.
    pub html: Option<String>,
}

impl ParsedMail {
    /// Whether it goes to `email`.
    pub fn is_to(&self, email: &str) -> bool {
        self.to.to_lowercase().contains(&email.to_lowercase())
    }

    /// Subject, text and HTML in one string, to look for words in.
    pub fn all_text(&self) -> String {
        format!(
            "{}\n{}\n{}",
            self.subject,
            self.text.as_deref().unwrap_or_default(),
            self.html.as_deref().unwrap_or_default()
        )
    }

    /// Whether it is the welcome mail every customer gets.
    pub fn is_welcome(&self) -> bool {
        self.subject == "Welcome to fms"
    }
}

/// Every mail written so far, taken apart.
pub fn parsed_mails(app: &TestApp) -> Vec<ParsedMail> {
    app.mails()
        .iter()
        .map(|raw| crate::mail_parts::parse(raw))
        .collect()
}

/// The mails to `email` but the welcome mail.
pub fn mails_to(app: &TestApp, email: &str) -> Vec<ParsedMail> {
    parsed_mails(app)
        .into_iter()
        .filter(|mail| mail.is_to(email) && !mail.is_welcome())
        .collect()
}

/// Waits (up to 10 s) until the mails to `email` (but the welcome mail) satisfy `predicate`.
pub async fn wait_for_mails_to(
    app: &TestApp,
    email: &str,
    predicate: impl Fn(&[ParsedMail]) -> bool,
) -> Vec<ParsedMail> {
    crate::helpers::eventually(|| {
        let mails = mails_to(app, email);
        predicate(&mails).then_some(mails)
    })
    .await
    .unwrap_or_else(|| {
        panic!(
            "the expected mails to {email} did not arrive; got {:#?}",
            mails_to(app, email)
        )
    })
}

//! App tokens: made by a login, shown once, stored as a hash, working as a bearer token with
//! their scope enforced, and revoked on delete, on a password change and with the account.

use common::api::{AppTokenList, CreatedAppToken, DownloadLink};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::fixtures::{download_link, upload, url};
use crate::helpers::{error_code, spawn_app, TestApp, TestUser};

/// Makes an app token with `body`; panics unless it is 201.
pub async fn create_token(app: &TestApp, user: &TestUser, body: Value) -> CreatedAppToken {
    let response = app.post("/v1/tokens", Some(&user.token), &body).await;
    assert_eq!(
        response.status(),
        StatusCode::CREATED,
        "{}",
        response.text().await.unwrap_or_default()
    );
    response.json().await.expect("a created token")
}

async fn tokens(app: &TestApp, user: &TestUser) -> AppTokenList {
    let response = app.get("/v1/tokens", Some(&user.token)).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("a token list")
}

#[tokio::test]
async fn an_app_token_is_shown_once_and_works_until_revoked() {
    let app = spawn_app().await;
    let ann = app.register_and_login().await;
    let created = create_token(&app, &ann, json!({"name": "backup on nas"})).await;
    assert!(created.secret.starts_with("fms_"), "{}", created.secret);
    assert_eq!(created.secret.len(), 4 + 43);
    assert_eq!(created.token.name, "backup on nas");
    assert_eq!(created.token.scope.as_str(), "read-write");
    assert_eq!(created.token.expires_at, None);

    // It works where an access token does, and its use is noted.
    let me = app.get("/v1/me", Some(&created.secret)).await;
    assert_eq!(me.status(), StatusCode::OK);
    upload(&app, &created.secret, "/from-script.txt", b"hello").await;

    // The list never holds a secret, not even its hash.
    let raw: Value = app
        .get("/v1/tokens", Some(&ann.token))
        .await
        .json()
        .await
        .unwrap();
    let text = raw.to_string();
    assert!(!text.contains(&created.secret[4..]), "{text}");
    assert!(!text.contains("hash"), "{text}");
    let listed = tokens(&app, &ann).await.tokens;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, created.token.id);
    assert!(listed[0].last_used_at.is_some(), "{listed:?}");

    // Another customer can neither see nor revoke it.
    let bob = app.register_and_login().await;
    assert!(tokens(&app, &bob).await.tokens.is_empty());
    let path = format!("/v1/tokens/{}", created.token.id);
    let (status, _, _) = error_code(app.delete(&path, Some(&bob.token), None).await).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.get("/v1/me", Some(&created.secret)).await.status(),
        StatusCode::OK
    );

    // Revoked: refused at once.
    let revoked = app.delete(&path, Some(&ann.token), None).await;
    assert_eq!(revoked.status(), StatusCode::NO_CONTENT);
    let (status, code, message) = error_code(app.get("/v1/me", Some(&created.secret)).await).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::UNAUTHORIZED, "unauthorized")
    );
    assert!(message.contains("app token"), "{message}");
    assert!(tokens(&app, &ann).await.tokens.is_empty());
    let again = app.delete(&path, Some(&ann.token), None).await;
    assert_eq!(again.status(), StatusCode::NOT_FOUND);

    // A made-up secret of the right shape is refused the same way.
    let forged = format!("fms_{}", "A".repeat(43));
    let (status, _, _) = error_code(app.get("/v1/me", Some(&forged)).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_read_token_reads_and_changes_nothing() {
    let app = spawn_app().await;
    let ann = app.register_and_login().await;
    upload(&app, &ann.token, "/a.txt", b"some bytes").await;
    let read = create_token(&app, &ann, json!({"name": "reader", "scope": "read"}))
        .await
        .secret;

    for path in [
        url("/v1/files", &[("path", "/")]),
        url("/v1/files/metadata", &[("path", "/a.txt")]),
        "/v1/usage".to_owned(),
        "/v1/me".to_owned(),
        "/v1/shares/outgoing".to_owned(),
        "/v1/links".to_owned(),
        "/v1/uploads".to_owned(),
    ] {
        assert_eq!(
            app.get(&path, Some(&read)).await.status(),
            StatusCode::OK,
            "{path}"
        );
    }
    let link = download_link(&app, &read, "/a.txt").await;
    assert_eq!(link.status(), StatusCode::OK);
    let link: DownloadLink = link.json().await.unwrap();
    let bytes = app
        .client
        .get(&link.url)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(bytes.as_ref(), b"some bytes");

    let bob = app.register_and_login().await;
    let writes = [
        (
            Method::POST,
            "/v1/folders".to_owned(),
            json!({"path": "/new"}),
        ),
        (
            Method::POST,
            "/v1/files/move".to_owned(),
            json!({"from": "/a.txt", "to": "/b.txt"}),
        ),
        (
            Method::DELETE,
            url("/v1/files", &[("path", "/a.txt")]),
            Value::Null,
        ),
        (
            Method::POST,
            "/v1/uploads".to_owned(),
            json!({"path": "/c.txt", "size": 1}),
        ),
        (
            Method::POST,
            "/v1/shares".to_owned(),
            json!({"path": "/a.txt", "email": bob.email}),
        ),
        (
            Method::POST,
            "/v1/links".to_owned(),
            json!({"path": "/a.txt"}),
        ),
        (
            Method::PATCH,
            "/v1/me".to_owned(),
            json!({"name": "Mallory"}),
        ),
    ];
    for (method, path, body) in writes {
        let mut request = app.request(method.clone(), &path, Some(&read));
        if !body.is_null() {
            request = request.json(&body);
        }
        let (status, code, message) = error_code(request.send().await.unwrap()).await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::FORBIDDEN, "forbidden"),
            "{method} {path}: {message}"
        );
        assert!(message.contains("may only read"), "{message}");
    }
    // Nothing changed.
    let names: Value = app
        .get(&url("/v1/files", &[("path", "/")]), Some(&ann.token))
        .await
        .json()
        .await
        .unwrap();
    let entries = names["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{names}");
    assert_eq!(entries[0]["name"], "a.txt");
}

#[tokio::test]
async fn only_a_login_manages_tokens_and_the_account() {
    let app = spawn_app().await;
    let ann = app.register_and_login().await;
    let token = create_token(&app, &ann, json!({"name": "all powers"}))
        .await
        .secret;
    let id = Uuid::now_v7();
    let attempts = [
        (
            Method::POST,
            "/v1/tokens".to_owned(),
            json!({"name": "successor"}),
        ),
        (Method::GET, "/v1/tokens".to_owned(), Value::Null),
        (Method::DELETE, format!("/v1/tokens/{id}"), Value::Null),
        (
            Method::POST,
            "/v1/me/password".to_owned(),
            json!({"current_password": ann.password, "new_password": "an entirely new one"}),
        ),
        (
            Method::DELETE,
            "/v1/me".to_owned(),
            json!({"password": ann.password}),
        ),
    ];
    for (method, path, body) in attempts {
        let mut request = app.request(method.clone(), &path, Some(&token));
        if !body.is_null() {
            request = request.json(&body);
        }
        let (status, _, message) = error_code(request.send().await.unwrap()).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path}: {message}");
        assert!(message.contains("needs a login"), "{message}");
    }
    assert_eq!(tokens(&app, &ann).await.tokens.len(), 1);
    assert_eq!(
        app.get("/v1/me", Some(&token)).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_password_change_and_the_account_deletion_end_every_token() {
    let app = spawn_app().await;
    let ann = app.register_and_login().await;
    let first = create_token(&app, &ann, json!({"name": "one"}))
        .await
        .secret;
    let second = create_token(&app, &ann, json!({"name": "two", "scope": "read"}))
        .await
        .secret;
    let changed = app
        .post(
            "/v1/me/password",
            Some(&ann.token),
            &json!({"current_password": ann.password, "new_password": "an entirely new one"}),
        )
        .await;
    assert_eq!(changed.status(), StatusCode::NO_CONTENT);
    for token in [&first, &second] {
        assert_eq!(
            app.get("/v1/me", Some(token)).await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    assert!(tokens(&app, &ann).await.tokens.is_empty());

    let third = create_token(&app, &ann, json!({"name": "three"}))
        .await
        .secret;
    let deleted = app
        .delete(
            "/v1/me",
            Some(&ann.token),
            Some(&json!({"password": "an entirely new one"})),
        )
        .await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.get("/v1/me", Some(&third)).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.get(&url("/v1/files", &[("path", "/")]), Some(&third))
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_token_stops_working_when_it_expires() {
    let app = spawn_app().await;
    let ann = app.register_and_login().await;
    let created = create_token(
        &app,
        &ann,
        json!({"name": "a day", "expires_in_secs": 86_400}),
    )
    .await;
    let expires_at = created.token.expires_at.expect("an expiry");
    assert_eq!(
        (expires_at - created.token.created_at).num_seconds(),
        86_400
    );
    assert_eq!(
        app.get("/v1/me", Some(&created.secret)).await.status(),
        StatusCode::OK
    );
    app.clock.advance(chrono::Duration::seconds(86_401));
    let ann = crate::helpers::TestUser {
        token: app.login(&ann.email, &ann.password).await.access_token,
        ..ann
    };
    let (status, _, message) = error_code(app.get("/v1/me", Some(&created.secret)).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(message.contains("expired"), "{message}");
    // Listed still, with its expiry, so its owner sees why it stopped.
    assert_eq!(
        tokens(&app, &ann).await.tokens[0].expires_at,
        Some(expires_at)
    );
}

#[tokio::test]
async fn bad_token_requests_are_refused_with_what_is_wrong() {
    let app = spawn_app().await;
    let ann = app.register_and_login().await;
    for body in [
        json!({}),
        json!({"name": ""}),
        json!({"name": "   "}),
        json!({"name": "x".repeat(101)}),
        json!({"name": "tab\there"}),
        json!({"name": "ok", "scope": "admin"}),
        json!({"name": "ok", "expires_in_secs": 0}),
        json!({"name": "ok", "expires_in_secs": 59}),
        json!({"name": "ok", "expires_in_secs": 315_360_001_u64}),
        json!({"name": "ok", "expires_in_secs": -1}),
        json!({"name": "ok", "secret": "fms_mine"}),
    ] {
        let (status, code, message) =
            error_code(app.post("/v1/tokens", Some(&ann.token), &body).await).await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::BAD_REQUEST, "invalid"),
            "{body}: {message}"
        );
    }
    let (status, _, _) = error_code(
        app.delete("/v1/tokens/not-a-uuid", Some(&ann.token), None)
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(tokens(&app, &ann).await.tokens.is_empty());

    // At most 100 per account.
    for n in 0..100 {
        create_token(&app, &ann, json!({"name": format!("token {n}")})).await;
    }
    let (status, code, message) = error_code(
        app.post(
            "/v1/tokens",
            Some(&ann.token),
            &json!({"name": "one too many"}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::CONFLICT, "conflict"),
        "{message}"
    );
    let listed = tokens(&app, &ann).await.tokens;
    assert_eq!(listed.len(), 100);
    assert_eq!(listed[0].name, "token 99", "newest first");
}

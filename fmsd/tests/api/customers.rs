//! Registration, login, tokens, profile, password change and account deletion.

mod password_checks;
mod preferences;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{error_code, spawn_app};

#[tokio::test]
async fn register_answers_201_with_the_profile_and_never_the_password() {
    let app = spawn_app().await;
    let response = app
        .post(
            "/v1/auth/register",
            None,
            &json!({"email": "Ann@Example.com", "password": "0123456789", "name": " Ann "}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["email"], "Ann@example.com");
    assert_eq!(body["name"], "Ann");
    assert!(body.get("password").is_none() && body.get("password_hash").is_none());
}

#[tokio::test]
async fn a_duplicate_email_is_409_whatever_its_case() {
    let app = spawn_app().await;
    let (email, _) = app.register().await;
    let response = app
        .post(
            "/v1/auth/register",
            None,
            &json!({"email": email.to_uppercase(), "password": "0123456789", "name": "B"}),
        )
        .await;
    let (status, code, message) = error_code(response).await;
    assert_eq!((status, code.as_str()), (StatusCode::CONFLICT, "conflict"));
    assert!(message.contains("exists"), "{message}");
}

#[tokio::test]
async fn bad_registrations_are_400_with_a_clear_message() {
    let app = spawn_app().await;
    let cases = [
        (
            json!({"email": "not-an-email", "password": "0123456789", "name": "A"}),
            "e-mail",
        ),
        (
            json!({"email": "a@example.com", "password": "short", "name": "A"}),
            "at least 10 characters",
        ),
        (
            json!({"email": "a@example.com", "password": "0123456789", "name": "  "}),
            "name",
        ),
        (
            json!({"email": "a@example.com", "password": "0123456789"}),
            "name",
        ),
        (
            json!({"email": "a@example.com", "password": "0123456789", "name": "A", "admin": true}),
            "admin",
        ),
    ];
    for (body, needle) in cases {
        let (status, code, message) =
            error_code(app.post("/v1/auth/register", None, &body).await).await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::BAD_REQUEST, "invalid"),
            "{body}"
        );
        assert!(
            message.contains(needle),
            "{message:?} should mention {needle:?}"
        );
    }
    let response = app
        .request(reqwest::Method::POST, "/v1/auth/register", None)
        .body("{not json")
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(response).await.0, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_email_answer_the_same() {
    let app = spawn_app().await;
    let (email, _) = app.register().await;
    let wrong = error_code(
        app.post(
            "/v1/auth/login",
            None,
            &json!({"email": email, "password": "wrong password"}),
        )
        .await,
    )
    .await;
    let unknown = error_code(
        app.post(
            "/v1/auth/login",
            None,
            &json!({"email": "nobody@example.com", "password": "wrong password"}),
        )
        .await,
    )
    .await;
    assert_eq!(wrong.0, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong, unknown);
}

#[tokio::test]
async fn a_refresh_token_rotates_a_second_use_within_seconds_is_forgiven_and_a_later_one_revokes_the_session(
) {
    let app = spawn_app().await;
    let user = app.register_and_login().await;
    let first: common::api::TokenPair = app
        .post(
            "/v1/auth/refresh",
            None,
            &json!({"refresh_token": user.refresh_token}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_ne!(first.refresh_token, user.refresh_token);
    assert_eq!(
        app.get("/v1/me", Some(&first.access_token)).await.status(),
        StatusCode::OK
    );

    // The old token again within seconds: a client racing itself, not a thief. It gets a
    // successor of its own in the same session, and both successors work.
    let raced: common::api::TokenPair = app
        .post(
            "/v1/auth/refresh",
            None,
            &json!({"refresh_token": user.refresh_token}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_ne!(raced.refresh_token, first.refresh_token);
    assert_eq!(
        app.get("/v1/me", Some(&raced.access_token)).await.status(),
        StatusCode::OK
    );

    // Later than that: theft is assumed and the whole family goes.
    app.clock.advance(chrono::Duration::seconds(11));
    let reuse = app
        .post(
            "/v1/auth/refresh",
            None,
            &json!({"refresh_token": user.refresh_token}),
        )
        .await;
    assert_eq!(reuse.status(), StatusCode::UNAUTHORIZED);
    for successor in [&first.refresh_token, &raced.refresh_token] {
        let after = app
            .post(
                "/v1/auth/refresh",
                None,
                &json!({"refresh_token": successor}),
            )
            .await;
        assert_eq!(after.status(), StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn a_refresh_token_expires() {
    let app = spawn_app().await;
    let user = app.register_and_login().await;
    app.clock.advance(chrono::Duration::days(31));
    let (status, _, message) = error_code(
        app.post(
            "/v1/auth/refresh",
            None,
            &json!({"refresh_token": user.refresh_token}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(message.contains("expired"), "{message}");
}

#[tokio::test]
async fn logout_revokes_the_refresh_token() {
    let app = spawn_app().await;
    let user = app.register_and_login().await;
    let response = app
        .post(
            "/v1/auth/logout",
            None,
            &json!({"refresh_token": user.refresh_token}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let refresh = app
        .post(
            "/v1/auth/refresh",
            None,
            &json!({"refresh_token": user.refresh_token}),
        )
        .await;
    assert_eq!(refresh.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn me_shows_and_changes_the_profile() {
    let app = spawn_app().await;
    let user = app.register_and_login().await;
    let me: Value = app
        .get("/v1/me", Some(&user.token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["email"], user.email.as_str());
    let patched: Value = app
        .patch("/v1/me", Some(&user.token), &json!({"name": "New Name"}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(patched["name"], "New Name");
    let (status, ..) = error_code(
        app.patch("/v1/me", Some(&user.token), &json!({"name": ""}))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // A new address waits for the code mailed to it (`recovery::verify` follows it through).
    let asked: Value = app
        .patch(
            "/v1/me",
            Some(&user.token),
            &json!({"email": "x@example.com"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(asked["email"], user.email.as_str());
    assert_eq!(asked["pending_email"], "x@example.com");
}

#[tokio::test]
async fn changing_the_password_revokes_other_sessions_and_mails_the_customer() {
    let app = spawn_app().await;
    let user = app.register_and_login().await;
    let other_session = app.login(&user.email, &user.password).await;

    let wrong = app
        .post(
            "/v1/me/password",
            Some(&user.token),
            &json!({"current_password": "not it at all", "new_password": "a new password"}),
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let short = app
        .post(
            "/v1/me/password",
            Some(&user.token),
            &json!({"current_password": user.password, "new_password": "short"}),
        )
        .await;
    assert_eq!(short.status(), StatusCode::BAD_REQUEST);
    let changed = app
        .post(
            "/v1/me/password",
            Some(&user.token),
            &json!({"current_password": user.password, "new_password": "a new password"}),
        )
        .await;
    assert_eq!(changed.status(), StatusCode::NO_CONTENT);

    let old = app
        .post(
            "/v1/auth/login",
            None,
            &json!({"email": user.email, "password": user.password}),
        )
        .await;
    assert_eq!(old.status(), StatusCode::UNAUTHORIZED);
    app.login(&user.email, "a new password").await;
    let revoked = app
        .post(
            "/v1/auth/refresh",
            None,
            &json!({"refresh_token": other_session.refresh_token}),
        )
        .await;
    assert_eq!(revoked.status(), StatusCode::UNAUTHORIZED);
    let kept = app
        .post(
            "/v1/auth/refresh",
            None,
            &json!({"refresh_token": user.refresh_token}),
        )
        .await;
    assert_eq!(kept.status(), StatusCode::OK);

    app.wait_for_mails(|mails| {
        mails
            .iter()
            .any(|m| m.contains("password was changed") && m.contains(&user.email))
    })
    .await;
}

#[tokio::test]
async fn deleting_the_account_needs_the_password_purges_the_files_and_says_goodbye() {
    let app = spawn_app().await;
    let user = app.register_and_login().await;
    let mkdir = app
        .post("/v1/folders", Some(&user.token), &json!({"path": "/keep"}))
        .await;
    assert_eq!(mkdir.status(), StatusCode::CREATED);

    let wrong = app
        .delete(
            "/v1/me",
            Some(&user.token),
            Some(&json!({"password": "not the password"})),
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let deleted = app
        .delete(
            "/v1/me",
            Some(&user.token),
            Some(&json!({"password": user.password})),
        )
        .await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);

    let login = app
        .post(
            "/v1/auth/login",
            None,
            &json!({"email": user.email, "password": user.password}),
        )
        .await;
    assert_eq!(login.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.get("/v1/me", Some(&user.token)).await.status(),
        StatusCode::UNAUTHORIZED
    );
    // The files service hears of it through the event, purges, and refuses the old token.
    let mut purged = false;
    for _ in 0..100 {
        if app
            .get("/v1/files?path=/", Some(&user.token))
            .await
            .status()
            == StatusCode::UNAUTHORIZED
        {
            purged = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(purged, "the files service still serves a deleted account");
    app.wait_for_mails(|mails| {
        mails
            .iter()
            .any(|m| m.contains("account was deleted") && m.contains(&user.email))
    })
    .await;
}

#[tokio::test]
async fn an_access_token_verifies_with_the_published_jwks() {
    use base64::Engine;
    let app = spawn_app().await;
    let user = app.register_and_login().await;
    let jwks: Value = app
        .get("/.well-known/jwks.json", None)
        .await
        .json()
        .await
        .unwrap();
    let key = &jwks["keys"][0];
    assert_eq!(
        (
            key["kty"].as_str(),
            key["crv"].as_str(),
            key["alg"].as_str()
        ),
        (Some("OKP"), Some("Ed25519"), Some("EdDSA"))
    );
    let x = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(key["x"].as_str().unwrap())
        .unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::EdDSA);
    validation.set_audience(&["fms"]);
    let claims = jsonwebtoken::decode::<Value>(
        &user.token,
        &jsonwebtoken::DecodingKey::from_ed_der(&x),
        &validation,
    )
    .unwrap()
    .claims;
    assert_eq!(claims["sub"], user.id.to_string());
    let header = jsonwebtoken::decode_header(&user.token).unwrap();
    assert_eq!(header.kid.as_deref(), key["kid"].as_str());
}

#[tokio::test]
async fn an_access_token_expires_after_its_lifetime() {
    let app = spawn_app().await;
    let user = app.register_and_login().await;
    app.clock.advance(chrono::Duration::minutes(14));
    assert_eq!(
        app.get("/v1/me", Some(&user.token)).await.status(),
        StatusCode::OK
    );
    app.clock.advance(chrono::Duration::minutes(2));
    let (status, code, message) = error_code(app.get("/v1/me", Some(&user.token)).await).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::UNAUTHORIZED, "unauthorized")
    );
    assert!(message.contains("expired"), "{message}");
}

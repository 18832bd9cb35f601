//! Addresses to prove: an unverified account keeps its own files but may not share, make
//! links or be shared with; the mailed code proves it; a change of address switches once the
//! new address is proved, and the old one is told.

use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use super::{code_from_mail, error_of, new_code_from_mail, register, spawn_verifying_app};
use crate::fixtures::{mkdir, upload};
use crate::helpers::{spawn_app, TestApp};
use crate::sharing_support::wait_for_mails_to;

const PASSWORD: &str = "correct horse battery";

/// Registers and logs in `name` at a fresh address; the address and the access token.
async fn newcomer(app: &TestApp, name: &str) -> (String, String) {
    let email = format!("{name}-{}@example.com", Uuid::new_v4().simple());
    register(app, &email, PASSWORD).await;
    let token = app.login(&email, PASSWORD).await.access_token;
    (email, token)
}

/// Proves `email` with the code of its verification mail; the profile answered.
async fn verify(app: &TestApp, email: &str) -> Value {
    let code = code_from_mail(app, email, "Confirm your e-mail address", " verify ").await;
    let response = app
        .post("/v1/auth/verify", None, &json!({"token": code}))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

/// `POST /v1/shares` of `path` with `email` as viewer.
async fn share(app: &TestApp, token: &str, path: &str, email: &str) -> reqwest::Response {
    app.post(
        "/v1/shares",
        Some(token),
        &json!({"path": path, "email": email, "role": "viewer"}),
    )
    .await
}

#[tokio::test]
async fn an_unverified_account_keeps_its_files_but_neither_shares_nor_is_shared_with() {
    let app = spawn_verifying_app().await;
    let (ann, ann_token) = newcomer(&app, "ann").await;
    let (bob, bob_token) = newcomer(&app, "bob").await;
    let me: Value = app
        .get("/v1/me", Some(&ann_token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["email_verified"], json!(false));

    // Their own files work.
    assert_eq!(
        mkdir(&app, &ann_token, "/docs", false).await.status(),
        StatusCode::CREATED
    );
    upload(&app, &ann_token, "/docs/plan.txt", b"the plan").await;

    // Sharing and links are refused until the address is proved.
    let (status, error, message) = error_of(share(&app, &ann_token, "/docs", &bob).await).await;
    assert_eq!(
        (status, error.as_str()),
        (StatusCode::FORBIDDEN, "forbidden")
    );
    assert!(message.contains("fmsctl verify"), "{message}");
    let link = app
        .post("/v1/links", Some(&ann_token), &json!({"path": "/docs"}))
        .await;
    assert_eq!(link.status(), StatusCode::FORBIDDEN);

    // Once Ann is verified she shares; an unverified Bob answers as an unknown address would.
    let profile = verify(&app, &ann).await;
    assert_eq!(profile["email_verified"], json!(true));
    let (status, _, message) = error_of(share(&app, &ann_token, "/docs", &bob).await).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, _, unknown) =
        error_of(share(&app, &ann_token, "/docs", "nobody-here@example.com").await).await;
    assert_eq!(
        message.replace(&bob, "ADDRESS"),
        unknown.replace("nobody-here@example.com", "ADDRESS")
    );

    // Once Bob is verified too, the share goes through (the directory learns of it shortly).
    verify(&app, &bob).await;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let response = share(&app, &ann_token, "/docs", &bob).await;
        if response.status() == StatusCode::CREATED {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{}",
            response.status()
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let incoming: Value = app
        .get("/v1/shares/incoming", Some(&bob_token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        incoming["shares"].as_array().map(Vec::len),
        Some(1),
        "{incoming}"
    );
    let link = app
        .post("/v1/links", Some(&ann_token), &json!({"path": "/docs"}))
        .await;
    assert_eq!(link.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn a_code_is_sent_again_on_request_and_works_once() {
    let app = spawn_verifying_app().await;
    let (email, token) = newcomer(&app, "cleo").await;
    let first = code_from_mail(&app, &email, "Confirm your e-mail address", " verify ").await;
    let resent = app
        .request(reqwest::Method::POST, "/v1/me/verification", Some(&token))
        .send()
        .await
        .unwrap();
    assert_eq!(resent.status(), StatusCode::ACCEPTED);
    let second = new_code_from_mail(
        &app,
        &email,
        "Confirm your e-mail address",
        " verify ",
        &[&first],
    )
    .await;
    let stale = app
        .post("/v1/auth/verify", None, &json!({"token": first}))
        .await;
    assert_eq!(
        stale.status(),
        StatusCode::UNAUTHORIZED,
        "the older code is replaced"
    );
    let fresh = app
        .post("/v1/auth/verify", None, &json!({"token": second}))
        .await;
    assert_eq!(fresh.status(), StatusCode::OK);
    let again = app
        .post("/v1/auth/verify", None, &json!({"token": second}))
        .await;
    assert_eq!(again.status(), StatusCode::UNAUTHORIZED);
    // Nothing waits for a code any more.
    let (status, error, _) = error_of(
        app.request(reqwest::Method::POST, "/v1/me/verification", Some(&token))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, error.as_str()), (StatusCode::CONFLICT, "conflict"));
}

#[tokio::test]
async fn a_new_address_is_taken_once_proved_and_the_old_one_is_told() {
    let app = spawn_verifying_app().await;
    let (old, token) = newcomer(&app, "dora").await;
    verify(&app, &old).await;
    let (taken, _) = newcomer(&app, "erin").await;
    let new = format!("dora-new-{}@example.com", Uuid::new_v4().simple());

    // An address another account has, or the own one, is refused.
    let conflict = app
        .patch("/v1/me", Some(&token), &json!({"email": taken}))
        .await;
    assert_eq!(conflict.status(), StatusCode::CONFLICT);
    let same = app
        .patch(
            "/v1/me",
            Some(&token),
            &json!({"email": old.to_uppercase()}),
        )
        .await;
    assert_eq!(same.status(), StatusCode::CONFLICT);

    let asked = app
        .patch("/v1/me", Some(&token), &json!({"email": new}))
        .await;
    assert_eq!(asked.status(), StatusCode::OK);
    let profile: Value = asked.json().await.unwrap();
    assert_eq!(
        profile["email"],
        json!(old),
        "the address stays until proved"
    );
    assert_eq!(profile["pending_email"], json!(new));

    // The old address is told; the code goes to the new one.
    wait_for_mails_to(&app, &old, |mails| {
        mails.iter().any(|mail| {
            mail.subject.contains("changing its e-mail address") && mail.all_text().contains(&new)
        })
    })
    .await;
    let code = code_from_mail(&app, &new, "Confirm your new e-mail address", " verify ").await;
    let verified = app
        .post("/v1/auth/verify", None, &json!({"token": code}))
        .await;
    assert_eq!(verified.status(), StatusCode::OK);
    let profile: Value = verified.json().await.unwrap();
    assert_eq!(profile["email"], json!(new));
    assert!(profile.get("pending_email").is_none(), "{profile}");

    // The account logs in at its new address only.
    app.login(&new, PASSWORD).await;
    let old_login = app
        .post(
            "/v1/auth/login",
            None,
            &json!({"email": old, "password": PASSWORD}),
        )
        .await;
    assert_eq!(old_login.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn an_app_token_cannot_change_the_address() {
    let app = spawn_verifying_app().await;
    let (_, token) = newcomer(&app, "finn").await;
    let created: Value = app
        .post("/v1/tokens", Some(&token), &json!({"name": "script"}))
        .await
        .json()
        .await
        .unwrap();
    let secret = created["secret"].as_str().expect("the secret").to_owned();
    let refused = app
        .patch(
            "/v1/me",
            Some(&secret),
            &json!({"email": "elsewhere@example.com"}),
        )
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn with_verification_off_every_address_counts_as_proved() {
    let app = spawn_app().await;
    let (email, token) = newcomer(&app, "gus").await;
    let me: Value = app.get("/v1/me", Some(&token)).await.json().await.unwrap();
    assert_eq!(me["email_verified"], json!(true));
    assert_eq!(me["email"], json!(email));
    let resend = app
        .request(reqwest::Method::POST, "/v1/me/verification", Some(&token))
        .send()
        .await
        .unwrap();
    assert_eq!(resend.status(), StatusCode::CONFLICT);
}

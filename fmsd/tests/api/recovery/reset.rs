//! A forgotten password: asked for without enumeration, set with the mailed code once, every
//! session ended, limited per address.

use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use super::{code_from_mail, error_of, new_code_from_mail, register, spawn_verifying_app};
use crate::sharing_support::{mails_to, wait_for_mails_to, QUIET};

const OLD: &str = "correct horse battery";
const NEW: &str = "a new and better passphrase";

#[tokio::test]
async fn a_reset_by_the_mailed_code_sets_the_password_once_and_ends_every_session() {
    let app = spawn_verifying_app().await;
    let email = format!("ann-{}@example.com", Uuid::new_v4().simple());
    register(&app, &email, OLD).await;
    let tokens = app.login(&email, OLD).await;

    // A known and an unknown address get the same answer.
    let known = app
        .post("/v1/auth/password-reset", None, &json!({"email": email}))
        .await;
    assert_eq!(known.status(), StatusCode::ACCEPTED);
    let known: Value = known.json().await.unwrap();
    let unknown = app
        .post(
            "/v1/auth/password-reset",
            None,
            &json!({"email": "nobody-at-all@example.com"}),
        )
        .await;
    assert_eq!(unknown.status(), StatusCode::ACCEPTED);
    assert_eq!(unknown.json::<Value>().await.unwrap(), known);

    let code = code_from_mail(&app, &email, "Reset your fms password", "--token ").await;
    assert!(code.len() >= 43, "{code}");

    // A weak password is refused and leaves the code usable; a wrong code is refused.
    let weak = app
        .post(
            "/v1/auth/password-reset/confirm",
            None,
            &json!({"token": code, "new_password": "short"}),
        )
        .await;
    assert_eq!(weak.status(), StatusCode::BAD_REQUEST);
    let (status, error, _) = error_of(
        app.post(
            "/v1/auth/password-reset/confirm",
            None,
            &json!({"token": "not-a-code", "new_password": NEW}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, error.as_str()),
        (StatusCode::UNAUTHORIZED, "unauthorized")
    );

    // A second later, as a real reset would come (a token tells its time to the second).
    app.clock.advance(chrono::Duration::seconds(1));
    let confirmed = app
        .post(
            "/v1/auth/password-reset/confirm",
            None,
            &json!({"token": code, "new_password": NEW}),
        )
        .await;
    assert_eq!(confirmed.status(), StatusCode::NO_CONTENT);

    // The old password and the old session are gone; the new password works.
    let old_login = app
        .post(
            "/v1/auth/login",
            None,
            &json!({"email": email, "password": OLD}),
        )
        .await;
    assert_eq!(old_login.status(), StatusCode::UNAUTHORIZED);
    let refresh = app
        .post(
            "/v1/auth/refresh",
            None,
            &json!({"refresh_token": tokens.refresh_token}),
        )
        .await;
    assert_eq!(refresh.status(), StatusCode::UNAUTHORIZED);
    // An access token handed out before the reset ends with it, not when it expires.
    let stale = app.get("/v1/me", Some(&tokens.access_token)).await;
    assert_eq!(stale.status(), StatusCode::UNAUTHORIZED);
    app.login(&email, NEW).await;

    // The code worked once.
    let again = app
        .post(
            "/v1/auth/password-reset/confirm",
            None,
            &json!({"token": code, "new_password": "yet another passphrase"}),
        )
        .await;
    assert_eq!(again.status(), StatusCode::UNAUTHORIZED);

    // The "password changed" mail went, and the reset proved the address.
    wait_for_mails_to(&app, &email, |mails| {
        mails
            .iter()
            .any(|mail| mail.subject == "Your fms password was changed")
    })
    .await;
    let me: Value = app
        .get("/v1/me", Some(&app.login(&email, NEW).await.access_token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["email_verified"], json!(true));
}

#[tokio::test]
async fn a_newer_code_replaces_the_older_and_an_unknown_address_gets_no_mail() {
    let app = spawn_verifying_app().await;
    let email = format!("bob-{}@example.com", Uuid::new_v4().simple());
    register(&app, &email, OLD).await;
    let body = json!({"email": email});
    let ask = || app.post("/v1/auth/password-reset", None, &body);
    assert_eq!(ask().await.status(), StatusCode::ACCEPTED);
    let first = code_from_mail(&app, &email, "Reset your fms password", "--token ").await;
    assert_eq!(ask().await.status(), StatusCode::ACCEPTED);
    let second = new_code_from_mail(
        &app,
        &email,
        "Reset your fms password",
        "--token ",
        &[&first],
    )
    .await;
    let stale = app
        .post(
            "/v1/auth/password-reset/confirm",
            None,
            &json!({"token": first, "new_password": NEW}),
        )
        .await;
    assert_eq!(
        stale.status(),
        StatusCode::UNAUTHORIZED,
        "the older code is replaced"
    );
    let fresh = app
        .post(
            "/v1/auth/password-reset/confirm",
            None,
            &json!({"token": second, "new_password": NEW}),
        )
        .await;
    assert_eq!(fresh.status(), StatusCode::NO_CONTENT);

    // An address no account has gets nothing at all.
    let stranger = format!("stranger-{}@example.com", Uuid::new_v4().simple());
    assert_eq!(
        app.post("/v1/auth/password-reset", None, &json!({"email": stranger}))
            .await
            .status(),
        StatusCode::ACCEPTED
    );
    tokio::time::sleep(QUIET).await;
    assert!(mails_to(&app, &stranger).is_empty());
}

#[tokio::test]
async fn reset_codes_are_limited_per_address_and_malformed_addresses_refused() {
    let app = spawn_verifying_app().await;
    let email = format!("carol-{}@example.com", Uuid::new_v4().simple());
    for _ in 0..5 {
        let response = app
            .post("/v1/auth/password-reset", None, &json!({"email": email}))
            .await;
        assert_eq!(response.status(), StatusCode::ACCEPTED);
    }
    let limited = app
        .post("/v1/auth/password-reset", None, &json!({"email": email}))
        .await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(limited.headers().contains_key("retry-after"));
    // Another address from the same client still gets in (the per-IP budget is larger).
    let other = app
        .post(
            "/v1/auth/password-reset",
            None,
            &json!({"email": format!("dan-{}@example.com", Uuid::new_v4().simple())}),
        )
        .await;
    assert_eq!(other.status(), StatusCode::ACCEPTED);

    let (status, error, message) = error_of(
        app.post(
            "/v1/auth/password-reset",
            None,
            &json!({"email": "not an address"}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, error.as_str()),
        (StatusCode::BAD_REQUEST, "invalid")
    );
    assert!(message.contains("e-mail address"), "{message}");
}

//! The current-password checks of `POST /v1/me/password` and `DELETE /v1/me` count against
//! the account's password attempts, together with its logins: a stolen access token cannot be
//! used to guess the password faster than logins can, and is answered like a login, 429 with
//! `Retry-After` and the JSON error body.

use chrono::Duration;
use reqwest::{Response, StatusCode};
use serde_json::json;

use crate::helpers::{error_code, spawn_app_with, TestApp, TestUser};

/// Password attempts per account per minute in these tests: one interval is 20 s.
const PER_MINUTE: u32 = 3;

async fn change_password(app: &TestApp, user: &TestUser, current: &str) -> Response {
    app.post(
        "/v1/me/password",
        Some(&user.token),
        &json!({"current_password": current, "new_password": "a brand new password"}),
    )
    .await
}

/// Asserts a 429 with a `Retry-After` of at most one interval and the JSON error body.
async fn assert_limited(response: Response, what: &str) {
    let retry_after: u64 = response
        .headers()
        .get("retry-after")
        .unwrap_or_else(|| panic!("{what}: no Retry-After with {}", response.status()))
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=20).contains(&retry_after), "{what}: {retry_after}");
    let (status, code, _) = error_code(response).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
        "{what}"
    );
}

#[tokio::test]
async fn a_stolen_token_cannot_guess_the_current_password_faster_than_logins() {
    let app = spawn_app_with(|settings| {
        settings.auth.login_attempts_per_minute_per_account = PER_MINUTE;
    })
    .await;
    // The login counts: one of the three.
    let user = app.register_and_login().await;
    for guess in ["guess one", "guess two"] {
        let response = change_password(&app, &user, guess).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{guess}");
    }

    // Used up: even the right password is not checked, whichever door it comes through.
    assert_limited(
        change_password(&app, &user, &user.password).await,
        "change password",
    )
    .await;
    let delete = app
        .delete(
            "/v1/me",
            Some(&user.token),
            Some(&json!({"password": user.password})),
        )
        .await;
    assert_limited(delete, "delete the account").await;
    let login = app
        .post(
            "/v1/auth/login",
            None,
            &json!({"email": user.email, "password": user.password}),
        )
        .await;
    assert_limited(login, "log in").await;

    // Another account is not held back by this one's limit.
    let other = app.register_and_login().await;
    let response = change_password(&app, &other, "a wrong guess").await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);

    // One interval later one attempt is back, and the right password goes through.
    app.clock.advance(Duration::seconds(20));
    let response = change_password(&app, &user, &user.password).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_limited(
        change_password(&app, &user, "a brand new password").await,
        "change password again",
    )
    .await;
}

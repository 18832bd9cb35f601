//! Access tokens signed with the server's own key but dated in the future: one issued (`iat`)
//! or valid from (`nbf`) an hour ahead is refused; a minute of clock skew is tolerated.

use fmsd::clock::Clock;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::StatusCode;
use serde_json::json;
use uuid::Uuid;

use crate::helpers::{error_code, spawn_app, TestApp, TestUser};

#[tokio::test]
async fn a_token_from_the_future_is_refused() {
    let app = spawn_app().await;
    let user = app.register_and_login().await;
    let now = app.clock.now().timestamp();
    let hour = 3600;

    for (iat, nbf) in [(now + hour, None), (now, Some(now + hour))] {
        let token = sign(&app, &user, iat, nbf);
        let (status, code, message) = error_code(app.get("/v1/me", Some(&token)).await).await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::UNAUTHORIZED, "unauthorized"),
            "iat {iat}, nbf {nbf:?}: {message}"
        );
    }
    // Within the tolerated skew, and dated now: accepted, so the key and claims are right.
    for (iat, nbf) in [(now + 30, Some(now + 30)), (now, Some(now))] {
        let token = sign(&app, &user, iat, nbf);
        assert_eq!(
            app.get("/v1/me", Some(&token)).await.status(),
            StatusCode::OK,
            "iat {iat}, nbf {nbf:?}"
        );
    }
}

/// A token for `user` signed with the app's key, issued at `iat`, valid from `nbf`, expiring
/// 15 minutes after `iat`.
fn sign(app: &TestApp, user: &TestUser, iat: i64, nbf: Option<i64>) -> String {
    let key = std::fs::read(app.data_dir.join("keys/access-token-ed25519.pk8")).unwrap();
    let mut claims = json!({
        "sub": user.id,
        "sid": Uuid::now_v7(),
        "iat": iat,
        "exp": iat + 900,
        "iss": "fms",
        "aud": "fms",
    });
    if let Some(nbf) = nbf {
        claims["nbf"] = json!(nbf);
    }
    jsonwebtoken::encode(
        &Header::new(Algorithm::EdDSA),
        &claims,
        &EncodingKey::from_ed_der(&key),
    )
    .unwrap()
}

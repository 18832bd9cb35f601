//! WebDAV at `/dav/`: who gets in (an app token as the Basic password, never the account
//! password), what their token's scope and a share's role allow, and what bytes come back.
//! The conformance suites (litmus) and rclone run against the real binaries in
//! `fmsctl/tests/webdav.rs`.

use reqwest::{Method, Response, StatusCode};
use serde_json::json;

use crate::app_tokens::create_token;
use crate::helpers::{spawn_app, TestApp, TestUser};
use crate::sharing_support::{post_share, share};

/// `method` on `/dav{path}` with Basic credentials whose password is `password`.
pub async fn dav(
    app: &TestApp,
    method: &str,
    path: &str,
    password: &str,
    body: Option<Vec<u8>>,
) -> Response {
    dav_with(app, method, path, password, &[], body).await
}

/// [`dav`] with `headers`.
pub async fn dav_with(
    app: &TestApp,
    method: &str,
    path: &str,
    password: &str,
    headers: &[(&str, &str)],
    body: Option<Vec<u8>>,
) -> Response {
    let method = Method::from_bytes(method.as_bytes()).unwrap();
    let mut request = app
        .client
        .request(method, format!("{}/dav{path}", app.address))
        .basic_auth("anyone", Some(password));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if let Some(body) = body {
        request = request.body(body);
    }
    request.send().await.expect("fmsd answers")
}

/// A read-write app token of `user`.
pub async fn app_token(app: &TestApp, user: &TestUser, scope: &str) -> String {
    create_token(
        app,
        user,
        json!({"name": format!("dav {scope}"), "scope": scope}),
    )
    .await
    .secret
}

#[tokio::test]
async fn only_an_app_token_opens_webdav_and_its_scope_holds() {
    let app = spawn_app().await;
    let ann = app.register_and_login().await;

    // No credentials, the account password, a made-up token: 401 with a Basic challenge.
    let none = app
        .client
        .request(
            Method::from_bytes(b"PROPFIND").unwrap(),
            format!("{}/dav/", app.address),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(none.status(), StatusCode::UNAUTHORIZED);
    assert!(none.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Basic "));
    for wrong in [ann.password.as_str(), "fms_notatokenatall"] {
        let refused = dav(&app, "PROPFIND", "/", wrong, None).await;
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
        let body: serde_json::Value = refused.json().await.unwrap();
        assert_eq!(body["error"]["code"], "unauthorized", "{body}");
    }

    // A read-write token writes and reads back, byte for byte and by range.
    let token = app_token(&app, &ann, "read-write").await;
    assert_eq!(
        dav(&app, "MKCOL", "/docs", &token, None).await.status(),
        StatusCode::CREATED
    );
    let bytes: Vec<u8> = (0..3_000_000u32).map(|n| (n % 251) as u8).collect();
    let put = dav(
        &app,
        "PUT",
        "/docs/a%20file.bin",
        &token,
        Some(bytes.clone()),
    )
    .await;
    assert_eq!(put.status(), StatusCode::CREATED);
    let got = dav(&app, "GET", "/docs/a%20file.bin", &token, None).await;
    assert_eq!(got.status(), StatusCode::OK);
    let etag = got.headers()["etag"].to_str().unwrap().to_owned();
    assert_eq!(got.bytes().await.unwrap().as_ref(), bytes.as_slice());
    let range = [("range", "bytes=1000-1999")];
    let ranged = dav_with(&app, "GET", "/docs/a%20file.bin", &token, &range, None).await;
    assert_eq!(ranged.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(ranged.bytes().await.unwrap().as_ref(), &bytes[1000..2000]);

    // The ETag follows the content; the quota is served (RFC 4331).
    let changed = dav(
        &app,
        "PUT",
        "/docs/a%20file.bin",
        &token,
        Some(b"new".to_vec()),
    )
    .await;
    assert!(changed.status().is_success(), "{}", changed.status());
    let got = dav(&app, "GET", "/docs/a%20file.bin", &token, None).await;
    assert_ne!(got.headers()["etag"].to_str().unwrap(), etag);
    let asked = r#"<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:quota-used-bytes/><D:quota-available-bytes/></D:prop></D:propfind>"#;
    let quota = dav_with(
        &app,
        "PROPFIND",
        "/",
        &token,
        &[("depth", "0")],
        Some(asked.into()),
    )
    .await;
    let text = quota.text().await.unwrap();
    assert!(text.contains("quota-used-bytes>3<"), "{text}");
    assert!(text.contains("quota-available-bytes>"), "{text}");

    // A read token reads but writes nothing.
    let read = app_token(&app, &ann, "read").await;
    let got = dav(&app, "GET", "/docs/a%20file.bin", &read, None).await;
    assert_eq!(got.status(), StatusCode::OK);
    for (method, path) in [
        ("PUT", "/docs/b.txt"),
        ("DELETE", "/docs/a%20file.bin"),
        ("MKCOL", "/new"),
    ] {
        let refused = dav(&app, method, path, &read, Some(b"x".to_vec())).await;
        assert_eq!(refused.status(), StatusCode::FORBIDDEN, "{method} {path}");
    }
}

#[tokio::test]
async fn shared_items_appear_under_shared_with_their_role_and_nothing_else_shows() {
    let app = spawn_app().await;
    let (ann, bob, eve) = (
        app.register_and_login().await,
        app.register_and_login().await,
        app.register_and_login().await,
    );
    let ann_token = app_token(&app, &ann, "read-write").await;
    dav(&app, "MKCOL", "/team", &ann_token, None).await;
    dav(
        &app,
        "PUT",
        "/team/plan.txt",
        &ann_token,
        Some(b"plan".to_vec()),
    )
    .await;
    dav(
        &app,
        "PUT",
        "/private.txt",
        &ann_token,
        Some(b"mine".to_vec()),
    )
    .await;
    share(&app, &ann, "/team", &bob, "viewer").await;

    // Bob sees the share under /shared, reads it, and cannot write as a viewer.
    let bob_token = app_token(&app, &bob, "read-write").await;
    let listing = dav_with(
        &app,
        "PROPFIND",
        "/shared/",
        &bob_token,
        &[("depth", "1")],
        None,
    )
    .await
    .text()
    .await
    .unwrap();
    assert!(listing.contains("/dav/shared/team/"), "{listing}");
    let got = dav(&app, "GET", "/shared/team/plan.txt", &bob_token, None).await;
    assert_eq!(got.bytes().await.unwrap().as_ref(), b"plan");
    let put = dav(
        &app,
        "PUT",
        "/shared/team/new.txt",
        &bob_token,
        Some(b"x".to_vec()),
    )
    .await;
    assert_eq!(put.status(), StatusCode::FORBIDDEN);

    // As an editor he writes into Ann's tree, but never deletes the shared item itself.
    let changed = post_share(&app, &ann, "/team", &bob.email, "editor").await;
    assert_eq!(changed.status(), StatusCode::OK);
    let put = dav(
        &app,
        "PUT",
        "/shared/team/new.txt",
        &bob_token,
        Some(b"x".to_vec()),
    )
    .await;
    assert_eq!(put.status(), StatusCode::CREATED);
    let got = dav(&app, "GET", "/team/new.txt", &ann_token, None).await;
    assert_eq!(got.bytes().await.unwrap().as_ref(), b"x");
    let itself = dav(&app, "DELETE", "/shared/team", &bob_token, None).await;
    assert_eq!(itself.status(), StatusCode::FORBIDDEN);

    // Nobody else's paths exist for a caller.
    let eve_token = app_token(&app, &eve, "read-write").await;
    for path in ["/private.txt", "/team/plan.txt", "/shared/team/plan.txt"] {
        let got = dav(&app, "GET", path, &eve_token, None).await;
        assert_eq!(got.status(), StatusCode::NOT_FOUND, "{path}");
    }
}

#[tokio::test]
async fn a_put_over_the_quota_is_refused_and_leaves_nothing() {
    let app = crate::helpers::spawn_app_with(|settings| settings.files.quota_bytes = 1000).await;
    let ann = app.register_and_login().await;
    let token = app_token(&app, &ann, "read-write").await;
    let put = dav(&app, "PUT", "/big.bin", &token, Some(vec![7; 2000])).await;
    assert_eq!(put.status(), StatusCode::INSUFFICIENT_STORAGE);
    let got = dav(&app, "GET", "/big.bin", &token, None).await;
    assert_eq!(got.status(), StatusCode::NOT_FOUND);
    let usage: serde_json::Value = app
        .get("/v1/usage", Some(&ann.token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(usage["used_bytes"], 0, "{usage}");
    assert_eq!(usage["reserved_bytes"], 0, "{usage}");
    // Malformed XML is a 400, never a 500.
    let bad = dav(&app, "PROPFIND", "/", &token, Some(b"<not xml".to_vec())).await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn what_rfc_4918_refuses_is_refused_with_its_status() {
    let app = spawn_app().await;
    let ann = app.register_and_login().await;
    let token = app_token(&app, &ann, "read-write").await;
    dav(&app, "PUT", "/a.txt", &token, Some(b"a".to_vec())).await;
    // A whole tree in one answer: 403 with the precondition named.
    let infinite = dav_with(
        &app,
        "PROPFIND",
        "/a.txt",
        &token,
        &[("depth", "infinity")],
        None,
    )
    .await;
    assert_eq!(infinite.status(), StatusCode::FORBIDDEN);
    assert!(infinite
        .text()
        .await
        .unwrap()
        .contains("propfind-finite-depth"));

    // A Destination on another server: 502, and nothing copied; on this one it works.
    let elsewhere = [("destination", "http://elsewhere.example/dav/b.txt")];
    let elsewhere = dav_with(&app, "COPY", "/a.txt", &token, &elsewhere, None).await;
    assert_eq!(elsewhere.status(), StatusCode::BAD_GATEWAY);
    let destination = format!("{}/dav/b.txt", app.address);
    let here = [("destination", destination.as_str())];
    let here = dav_with(&app, "COPY", "/a.txt", &token, &here, None).await;
    assert_eq!(here.status(), StatusCode::CREATED);

    // A lock token nobody holds unlocks nothing.
    let nobody = [(
        "lock-token",
        "<urn:uuid:00000000-0000-0000-0000-000000000000>",
    )];
    let unheld = dav_with(&app, "UNLOCK", "/a.txt", &token, &nobody, None).await;
    assert_eq!(unheld.status(), StatusCode::CONFLICT);
}

#[tokio::test]
async fn wrong_basic_passwords_are_limited_like_logins_and_a_right_token_costs_nothing() {
    let app = crate::helpers::spawn_app_with(|settings| {
        settings.auth.login_attempts_per_minute_per_ip = 3;
    })
    .await;
    let ann = app.register_and_login().await;
    let token = app_token(&app, &ann, "read-write").await;
    // Right tokens are given back: any number of requests.
    for _ in 0..6 {
        let fine = dav(&app, "PROPFIND", "/", &token, None).await;
        assert_eq!(fine.status().as_u16(), 207);
    }
    let mut statuses = Vec::new();
    for n in 0..5 {
        let wrong = dav(&app, "PROPFIND", "/", &format!("fms_wrong{n}"), None).await;
        statuses.push(wrong.status());
        if wrong.status() == StatusCode::TOO_MANY_REQUESTS {
            let retry: u64 = wrong.headers()["retry-after"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!((1..=60).contains(&retry), "{retry}");
        }
    }
    // The login that got Ann's session was one of the address's three attempts.
    assert_eq!(
        statuses,
        [
            StatusCode::UNAUTHORIZED,
            StatusCode::UNAUTHORIZED,
            StatusCode::TOO_MANY_REQUESTS,
            StatusCode::TOO_MANY_REQUESTS,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );
}

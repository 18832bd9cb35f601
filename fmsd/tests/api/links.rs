//! Links as their owner makes them (defaults, bad requests, listing, revoking) and what
//! `GET /s/{token}` answers without login: metadata, expiry, revocation, passwords.

use common::api::{CreatedLink, DownloadLink, EntryKind, LinkMode, PublicLink};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::fixtures::{fetch, mkdir, sha256_hex, upload};
use crate::helpers::{error_code, spawn_app, TestApp};
use crate::sharing_support::{create_link, links, public, register_named, send, status_and_text};

/// The raw bytes of the files database and its write-ahead log.
fn files_db_bytes(app: &TestApp) -> Vec<u8> {
    ["files.db", "files.db-wal"]
        .iter()
        .filter_map(|name| std::fs::read(app.data_dir.join(name)).ok())
        .flatten()
        .collect()
}

#[tokio::test]
async fn a_link_expires_in_seven_days_by_default_and_leads_to_its_file() {
    let app = spawn_app().await;
    let ann = register_named(&app, "Ann Owner").await;
    mkdir(&app, &ann.token, "/docs", false).await;
    let bytes = b"the quarterly report".to_vec();
    upload(&app, &ann.token, "/docs/report.pdf", &bytes).await;

    let created = create_link(&app, &ann, json!({"path": "/docs/report.pdf"})).await;
    let now = fmsd::clock::Clock::now(&app.clock);
    let link = &created.link;
    assert_eq!(
        (link.path.as_str(), link.name.as_str(), link.kind, link.mode),
        (
            "/docs/report.pdf",
            "report.pdf",
            EntryKind::File,
            LinkMode::Download
        )
    );
    assert_eq!(
        (
            link.has_password,
            link.max_downloads,
            link.downloads,
            link.uploads
        ),
        (false, None, 0, 0)
    );
    let lifetime = link.expires_at - now;
    assert!(
        (lifetime - chrono::Duration::days(7)).num_seconds().abs() <= 1,
        "expires in {lifetime}"
    );
    assert_eq!(created.token.len(), 43, "{}", created.token);
    assert!(created
        .token
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    assert_eq!(created.url, format!("{}/s/{}", app.address, created.token));
    // Only a hash of the token is kept.
    let stored = files_db_bytes(&app);
    assert!(!stored
        .windows(43)
        .any(|window| window == created.token.as_bytes()));

    // Anyone with the URL sees what it leads to, then downloads it.
    let response = app.client.get(&created.url).send().await.unwrap();
    let (status, text) = status_and_text(response).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert!(!text.contains("/docs"), "{text}");
    let shown: PublicLink = serde_json::from_str(&text).unwrap();
    assert_eq!(
        shown,
        PublicLink {
            name: "report.pdf".into(),
            kind: EntryKind::File,
            mode: LinkMode::Download,
            size: bytes.len() as u64,
            sha256: Some(sha256_hex(&bytes)),
            owner_name: "Ann Owner".into(),
            expires_at: link.expires_at,
            downloads_left: None,
        }
    );
    for body in [json!({}), json!({"path": "/"})] {
        let response =
            send(public(&app, Method::POST, &created.token, "/download", None).json(&body)).await;
        let (status, text) = status_and_text(response).await;
        assert_eq!(status, StatusCode::OK, "{text}");
        let download: DownloadLink = serde_json::from_str(&text).unwrap();
        assert_eq!(download.name, "report.pdf");
        // As short-lived as a URL handed out through a share.
        assert!(download.expires_at <= now + chrono::Duration::seconds(60));
        assert_eq!(
            fetch(&app, &download.url, None)
                .await
                .bytes()
                .await
                .unwrap()
                .as_ref(),
            bytes.as_slice()
        );
    }
    let listed = links(&app, &ann).await.links;
    assert_eq!(listed.len(), 1);
    assert_eq!((listed[0].id, listed[0].downloads), (link.id, 2));

    // A second link to the same file has a token of its own, and is listed first.
    app.clock.advance(chrono::Duration::seconds(1));
    let second = create_link(&app, &ann, json!({"path": "/docs"})).await;
    assert_ne!(second.token, created.token);
    let listed = links(&app, &ann).await.links;
    assert_eq!(
        listed.iter().map(|l| l.id).collect::<Vec<_>>(),
        [second.link.id, link.id]
    );
    assert_eq!(listed[0].kind, EntryKind::Folder);
    // Nobody else sees them.
    let bob = register_named(&app, "Bob").await;
    assert!(links(&app, &bob).await.links.is_empty());
    assert_eq!(
        app.get("/v1/links", None).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn bad_link_requests_are_400_each_with_a_json_error() {
    let app = spawn_app().await;
    let ann = register_named(&app, "Ann Owner").await;
    mkdir(&app, &ann.token, "/inbox", false).await;
    upload(&app, &ann.token, "/a.txt", b"a").await;
    let ninety_days = 90 * 24 * 3600;

    let cases = [
        json!({"path": "/a.txt", "expires_in_secs": 0}),
        json!({"path": "/a.txt", "expires_in_secs": ninety_days + 1}),
        json!({"path": "/a.txt", "password": "short"}),
        json!({"path": "/a.txt", "password": ""}),
        json!({"path": "/a.txt", "max_downloads": 0}),
        json!({"path": "/inbox", "upload_only": true, "max_downloads": 3}),
        json!({"path": "/"}),
        json!({"path": "/", "upload_only": true}),
        json!({"path": "a.txt"}),
        json!({"path": "/a/../a.txt"}),
        json!({"path": "/a.txt", "forever": true}),
        json!({"expires_in_secs": 60}),
        json!({"path": "/a.txt", "max_downloads": -1}),
    ];
    for body in cases {
        let response = app.post("/v1/links", Some(&ann.token), &body).await;
        let (status, code, message) = error_code(response).await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::BAD_REQUEST, "invalid"),
            "{body}: {message}"
        );
    }
    let (status, code, _) = error_code(
        app.post(
            "/v1/links",
            Some(&ann.token),
            &json!({"path": "/missing.txt"}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::NOT_FOUND, "not_found")
    );
    // A file request needs a folder: what is stored decides, so it is a conflict.
    let (status, code, _) = error_code(
        app.post(
            "/v1/links",
            Some(&ann.token),
            &json!({"path": "/a.txt", "upload_only": true}),
        )
        .await,
    )
    .await;
    assert_eq!((status, code.as_str()), (StatusCode::CONFLICT, "conflict"));
    let anonymous = app
        .post("/v1/links", None, &json!({"path": "/a.txt"}))
        .await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert!(links(&app, &ann).await.links.is_empty());

    // The edges themselves are fine.
    let longest = create_link(
        &app,
        &ann,
        json!({"path": "/a.txt", "expires_in_secs": ninety_days}),
    )
    .await;
    let now = fmsd::clock::Clock::now(&app.clock);
    assert!(((longest.link.expires_at - now).num_seconds() - ninety_days as i64).abs() <= 1);
    let limited = create_link(
        &app,
        &ann,
        json!({"path": "/a.txt", "expires_in_secs": 1, "password": "8 chars!", "max_downloads": 1}),
    )
    .await;
    assert_eq!(
        (limited.link.has_password, limited.link.max_downloads),
        (true, Some(1))
    );
    let request = create_link(&app, &ann, json!({"path": "/inbox", "upload_only": true})).await;
    assert_eq!(request.link.mode, LinkMode::Upload);
}

#[tokio::test]
async fn the_max_lifetime_is_a_setting() {
    let app =
        crate::helpers::spawn_app_with(|settings| settings.files.link_max_ttl_secs = 3600).await;
    let ann = register_named(&app, "Ann").await;
    upload(&app, &ann.token, "/a.txt", b"a").await;
    let too_long = app
        .post(
            "/v1/links",
            Some(&ann.token),
            &json!({"path": "/a.txt", "expires_in_secs": 3601}),
        )
        .await;
    assert_eq!(error_code(too_long).await.0, StatusCode::BAD_REQUEST);
    create_link(
        &app,
        &ann,
        json!({"path": "/a.txt", "expires_in_secs": 3600}),
    )
    .await;
}

#[tokio::test]
async fn an_expired_link_is_410() {
    let app = spawn_app().await;
    let ann = register_named(&app, "Ann").await;
    upload(&app, &ann.token, "/a.txt", b"a").await;
    let created = create_link(
        &app,
        &ann,
        json!({"path": "/a.txt", "expires_in_secs": 3600}),
    )
    .await;
    app.clock.advance(chrono::Duration::seconds(3599));
    assert_eq!(
        send(public(&app, Method::GET, &created.token, "", None))
            .await
            .status(),
        StatusCode::OK
    );
    app.clock.advance(chrono::Duration::seconds(2));
    let (status, code, _) =
        error_code(send(public(&app, Method::GET, &created.token, "", None)).await).await;
    assert_eq!((status, code.as_str()), (StatusCode::GONE, "gone"));
    let download =
        send(public(&app, Method::POST, &created.token, "/download", None).json(&json!({}))).await;
    let (status, code, _) = error_code(download).await;
    assert_eq!((status, code.as_str()), (StatusCode::GONE, "gone"));
}

#[tokio::test]
async fn a_revoked_or_unknown_link_is_404_and_only_its_owner_revokes_it() {
    let app = spawn_app().await;
    let ann = register_named(&app, "Ann").await;
    let bob = register_named(&app, "Bob").await;
    upload(&app, &ann.token, "/a.txt", b"a").await;
    let created = create_link(&app, &ann, json!({"path": "/a.txt"})).await;
    let path = format!("/v1/links/{}", created.link.id);

    assert_eq!(
        app.delete(&path, Some(&bob.token), None).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.delete(&path, None, None).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let unknown = format!("/v1/links/{}", uuid::Uuid::now_v7());
    assert_eq!(
        app.delete(&unknown, Some(&ann.token), None).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        send(public(&app, Method::GET, &created.token, "", None))
            .await
            .status(),
        StatusCode::OK
    );

    assert_eq!(
        app.delete(&path, Some(&ann.token), None).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.delete(&path, Some(&ann.token), None).await.status(),
        StatusCode::NOT_FOUND
    );
    for rest in ["", "/files"] {
        let (status, code, _) =
            error_code(send(public(&app, Method::GET, &created.token, rest, None)).await).await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::NOT_FOUND, "not_found"),
            "{rest}"
        );
    }
    let download =
        send(public(&app, Method::POST, &created.token, "/download", None).json(&json!({}))).await;
    assert_eq!(error_code(download).await.0, StatusCode::NOT_FOUND);
    assert!(links(&app, &ann).await.links.is_empty());

    // Tokens nobody made: well formed, malformed, empty-ish.
    let made_up = "A".repeat(43);
    for token in [made_up.as_str(), "short", "not%20a%20token"] {
        let (status, code, _) =
            error_code(send(public(&app, Method::GET, token, "", None)).await).await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::NOT_FOUND, "not_found"),
            "{token}"
        );
    }
}

/// A file link with the password `open sesame`.
async fn password_link(app: &TestApp) -> CreatedLink {
    let ann = register_named(app, "Ann").await;
    upload(app, &ann.token, "/a.txt", b"protected").await;
    create_link(
        app,
        &ann,
        json!({"path": "/a.txt", "password": "open sesame"}),
    )
    .await
}

#[tokio::test]
async fn a_password_link_needs_its_password_on_every_request() {
    let app = spawn_app().await;
    let created = password_link(&app).await;
    assert!(created.link.has_password);
    let token = created.token.as_str();

    let (status, code, _) =
        error_code(send(public(&app, Method::GET, token, "", None)).await).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::UNAUTHORIZED, "unauthorized")
    );
    let (status, code, _) =
        error_code(send(public(&app, Method::GET, token, "", Some("open sesamE"))).await).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::UNAUTHORIZED, "unauthorized")
    );
    let shown = send(public(&app, Method::GET, token, "", Some("open sesame"))).await;
    assert_eq!(shown.status(), StatusCode::OK);
    let shown: PublicLink = shown.json().await.unwrap();
    assert_eq!(shown.name, "a.txt");

    let without = send(public(&app, Method::POST, token, "/download", None).json(&json!({}))).await;
    assert_eq!(error_code(without).await.0, StatusCode::UNAUTHORIZED);
    let with =
        send(public(&app, Method::POST, token, "/download", Some("open sesame")).json(&json!({})))
            .await;
    assert_eq!(with.status(), StatusCode::OK);
    let download: DownloadLink = with.json().await.unwrap();
    assert_eq!(
        fetch(&app, &download.url, None)
            .await
            .bytes()
            .await
            .unwrap()
            .as_ref(),
        b"protected"
    );
}

#[tokio::test]
async fn more_than_five_wrong_passwords_a_minute_are_429_even_with_the_right_one() {
    let app = spawn_app().await;
    let created = password_link(&app).await;
    let token = created.token.as_str();

    for attempt in 1..=5 {
        let guess = format!("wrong guess {attempt}");
        let response = send(public(&app, Method::GET, token, "", Some(&guess))).await;
        assert_eq!(
            response.status(),
            StatusCode::UNAUTHORIZED,
            "attempt {attempt}"
        );
    }
    for password in ["wrong guess 6", "open sesame"] {
        let response = send(public(&app, Method::GET, token, "", Some(password))).await;
        let retry_after: u64 = response
            .headers()
            .get("retry-after")
            .unwrap_or_else(|| panic!("no Retry-After with {}", response.status()))
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=60).contains(&retry_after), "{retry_after}");
        let (status, code, _) = error_code(response).await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
            "{password}"
        );
    }
    let download =
        send(public(&app, Method::POST, token, "/download", Some("open sesame")).json(&json!({})))
            .await;
    assert_eq!(download.status(), StatusCode::TOO_MANY_REQUESTS);
}

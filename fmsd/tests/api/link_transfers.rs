//! Moving bytes through a link: a download limit that holds under concurrency, a folder link
//! that lists and serves the files inside, and a file request that takes uploads (never
//! overwriting, never listing) into its owner's folder and on its owner's quota.

use common::api::{DownloadLink, EntryKind, LinkMode, Listing, PublicLink};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::fixtures::{fetch, mkdir, names, sample_bytes, spawn_app_with_quota, upload, url, MIB};
use crate::helpers::{error_code, spawn_app};
use crate::sharing_support::{
    complete_link_upload, create_link, links, open_link_upload, public, register_named, send,
    status_and_text, upload_through_link, usage,
};

#[tokio::test]
async fn exactly_max_downloads_succeed_under_concurrency() {
    let app = spawn_app().await;
    let ann = register_named(&app, "Ann").await;
    upload(&app, &ann.token, "/a.txt", b"limited").await;
    let created = create_link(&app, &ann, json!({"path": "/a.txt", "max_downloads": 3})).await;
    let token = created.token.as_str();
    let shown: PublicLink = send(public(&app, Method::GET, token, "", None))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(shown.downloads_left, Some(3));

    let attempts = (0..10)
        .map(|_| send(public(&app, Method::POST, token, "/download", None).json(&json!({}))));
    let responses = futures::future::join_all(attempts).await;
    let mut urls = Vec::new();
    let mut gone = 0;
    for response in responses {
        match response.status() {
            StatusCode::OK => urls.push(response.json::<DownloadLink>().await.unwrap().url),
            StatusCode::GONE => {
                assert_eq!(error_code(response).await.1, "gone");
                gone += 1;
            }
            other => panic!(
                "unexpected {other}: {}",
                response.text().await.unwrap_or_default()
            ),
        }
    }
    assert_eq!((urls.len(), gone), (3, 7));
    for url in urls {
        assert_eq!(
            fetch(&app, &url, None)
                .await
                .bytes()
                .await
                .unwrap()
                .as_ref(),
            b"limited"
        );
    }
    let (status, code, _) =
        error_code(send(public(&app, Method::GET, token, "", None)).await).await;
    assert_eq!((status, code.as_str()), (StatusCode::GONE, "gone"));
    let listed = links(&app, &ann).await.links;
    assert_eq!((listed[0].downloads, listed[0].max_downloads), (3, Some(3)));
}

#[tokio::test]
async fn downloads_left_counts_down() {
    let app = spawn_app().await;
    let ann = register_named(&app, "Ann").await;
    upload(&app, &ann.token, "/a.txt", b"twice").await;
    let created = create_link(&app, &ann, json!({"path": "/a.txt", "max_downloads": 2})).await;
    let token = created.token.as_str();
    for left in [2, 1] {
        let shown: PublicLink = send(public(&app, Method::GET, token, "", None))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(shown.downloads_left, Some(left));
        let response =
            send(public(&app, Method::POST, token, "/download", None).json(&json!({}))).await;
        assert_eq!(response.status(), StatusCode::OK);
    }
    assert_eq!(
        send(public(&app, Method::GET, token, "", None))
            .await
            .status(),
        StatusCode::GONE
    );
    let response =
        send(public(&app, Method::POST, token, "/download", None).json(&json!({}))).await;
    assert_eq!(response.status(), StatusCode::GONE);
    assert_eq!(links(&app, &ann).await.links[0].downloads, 2);
}

#[tokio::test]
async fn a_folder_link_lists_and_downloads_a_file_inside() {
    let app = spawn_app().await;
    let ann = register_named(&app, "Ann").await;
    mkdir(&app, &ann.token, "/ann-hidden-parent/album/sub", true).await;
    upload(
        &app,
        &ann.token,
        "/ann-hidden-parent/album/a.jpg",
        b"jpeg a",
    )
    .await;
    let deep = sample_bytes(MIB + 3, 4);
    upload(
        &app,
        &ann.token,
        "/ann-hidden-parent/album/sub/b.jpg",
        &deep,
    )
    .await;
    upload(
        &app,
        &ann.token,
        "/ann-hidden-parent/outside.txt",
        b"not linked",
    )
    .await;
    let created = create_link(&app, &ann, json!({"path": "/ann-hidden-parent/album"})).await;
    let token = created.token.as_str();

    let shown: PublicLink = send(public(&app, Method::GET, token, "", None))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (shown.name.as_str(), shown.kind, shown.mode),
        ("album", EntryKind::Folder, LinkMode::Download)
    );
    let mut bodies = Vec::new();
    for (path, expected) in [("/", vec!["/a.jpg", "/sub"]), ("/sub", vec!["/sub/b.jpg"])] {
        let response = send(public(
            &app,
            Method::GET,
            token,
            &url("/files", &[("path", path)]),
            None,
        ))
        .await;
        let (status, text) = status_and_text(response).await;
        assert_eq!(status, StatusCode::OK, "{text}");
        let listing: Listing = serde_json::from_str(&text).unwrap();
        assert_eq!(listing.path, path);
        assert_eq!(
            listing
                .entries
                .iter()
                .map(|e| e.path.as_str())
                .collect::<Vec<_>>(),
            expected
        );
        bodies.push(text);
    }
    let paged = send(public(
        &app,
        Method::GET,
        token,
        &url("/files", &[("path", "/"), ("limit", "1")]),
        None,
    ))
    .await;
    let paged: Listing = paged.json().await.unwrap();
    assert_eq!(paged.entries.len(), 1);
    assert!(paged.next_cursor.is_some());

    let response = send(
        public(&app, Method::POST, token, "/download", None).json(&json!({"path": "/sub/b.jpg"})),
    )
    .await;
    let (status, text) = status_and_text(response).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    bodies.push(text.clone());
    let download: DownloadLink = serde_json::from_str(&text).unwrap();
    assert_eq!(download.name, "b.jpg");
    assert_eq!(
        fetch(&app, &download.url, None)
            .await
            .bytes()
            .await
            .unwrap()
            .as_ref(),
        deep.as_slice()
    );
    for body in &bodies {
        assert!(!body.contains("ann-hidden-parent"), "{body}");
    }

    let cases = [
        (json!({"path": "/sub"}), StatusCode::CONFLICT),
        (json!({"path": "/missing.jpg"}), StatusCode::NOT_FOUND),
        (json!({"path": "/../outside.txt"}), StatusCode::BAD_REQUEST),
    ];
    for (body, expected) in cases {
        let response = send(public(&app, Method::POST, token, "/download", None).json(&body)).await;
        assert_eq!(error_code(response).await.0, expected, "{body}");
    }
    // Not a file request: no uploads.
    let upload_attempt = send(
        public(&app, Method::POST, token, "/uploads", None)
            .json(&json!({"name": "x.txt", "size": 1})),
    )
    .await;
    assert_eq!(error_code(upload_attempt).await.0, StatusCode::FORBIDDEN);
    // A file link has nothing to list.
    app.clock.advance(chrono::Duration::seconds(1));
    let file_link = create_link(
        &app,
        &ann,
        json!({"path": "/ann-hidden-parent/outside.txt"}),
    )
    .await;
    let listing = send(public(
        &app,
        Method::GET,
        &file_link.token,
        "/files?path=/",
        None,
    ))
    .await;
    assert_eq!(error_code(listing).await.0, StatusCode::CONFLICT);
    assert_eq!(links(&app, &ann).await.links[1].downloads, 1);
}

#[tokio::test]
async fn a_file_request_takes_uploads_but_shows_nothing() {
    let app = spawn_app().await;
    let ann = register_named(&app, "Ann").await;
    mkdir(&app, &ann.token, "/inbox", false).await;
    upload(&app, &ann.token, "/inbox/report.pdf", b"ann's own report").await;
    let created = create_link(&app, &ann, json!({"path": "/inbox", "upload_only": true})).await;
    assert_eq!(created.link.mode, LinkMode::Upload);
    let token = created.token.as_str();

    let shown = send(public(&app, Method::GET, token, "", None)).await;
    assert_eq!(shown.status(), StatusCode::OK);
    let shown: PublicLink = shown.json().await.unwrap();
    assert_eq!(
        (shown.name.as_str(), shown.kind, shown.mode),
        ("inbox", EntryKind::Folder, LinkMode::Upload)
    );
    let listing = send(public(&app, Method::GET, token, "/files?path=/", None)).await;
    let (status, code, _) = error_code(listing).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::FORBIDDEN, "forbidden")
    );
    let download = send(
        public(&app, Method::POST, token, "/download", None).json(&json!({"path": "/report.pdf"})),
    )
    .await;
    assert_eq!(error_code(download).await.0, StatusCode::FORBIDDEN);

    let before = usage(&app, &ann).await.used_bytes;
    let notes = sample_bytes(MIB + 10, 5);
    let mut sent = notes.len() as u64;
    let (status, text) = upload_through_link(&app, token, "notes.txt", &notes).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    // A taken name gets a number (the owner sees it below), and nothing is overwritten.
    for n in [1u8, 2] {
        let bytes = vec![n; 10];
        sent += bytes.len() as u64;
        let (status, text) = upload_through_link(&app, token, "report.pdf", &bytes).await;
        assert_eq!(status, StatusCode::OK, "{text}");
    }
    for _ in 0..2 {
        let (status, text) = upload_through_link(&app, token, "README", b"no extension").await;
        assert_eq!(status, StatusCode::OK, "{text}");
        sent += 12;
    }

    assert_eq!(
        names(&app, &ann.token, "/inbox").await,
        [
            "README",
            "README (2)",
            "notes.txt",
            "report (2).pdf",
            "report (3).pdf",
            "report.pdf"
        ]
    );
    let own = app
        .get(
            &url("/v1/downloads", &[("path", "/inbox/report.pdf")]),
            Some(&ann.token),
        )
        .await;
    let own: DownloadLink = own.json().await.unwrap();
    assert_eq!(
        fetch(&app, &own.url, None)
            .await
            .bytes()
            .await
            .unwrap()
            .as_ref(),
        b"ann's own report"
    );
    assert_eq!(usage(&app, &ann).await.used_bytes, before + sent);
    let listed = links(&app, &ann).await.links;
    assert_eq!((listed[0].uploads, listed[0].downloads), (5, 0));

    for body in [
        json!({"name": "a/b.txt", "size": 1}),
        json!({"name": "..", "size": 1}),
        json!({"name": "", "size": 1}),
        json!({"name": "x.txt"}),
        json!({"name": "x.txt", "size": 1, "path": "/elsewhere"}),
    ] {
        let response = send(public(&app, Method::POST, token, "/uploads", None).json(&body)).await;
        assert_eq!(
            error_code(response).await.0,
            StatusCode::BAD_REQUEST,
            "{body}"
        );
    }
}

#[tokio::test]
async fn a_file_request_upload_counts_against_the_owners_quota() {
    let app = spawn_app_with_quota(1000).await;
    let ann = register_named(&app, "Ann").await;
    mkdir(&app, &ann.token, "/inbox", false).await;
    upload(&app, &ann.token, "/inbox/a.bin", &[0u8; 900]).await;
    let created = create_link(&app, &ann, json!({"path": "/inbox", "upload_only": true})).await;
    let response = send(
        public(&app, Method::POST, &created.token, "/uploads", None)
            .json(&json!({"name": "big.bin", "size": 101})),
    )
    .await;
    let (status, code, _) = error_code(response).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, "quota_exceeded")
    );
    let (status, text) = upload_through_link(&app, &created.token, "fits.bin", &[1u8; 100]).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert_eq!(usage(&app, &ann).await.used_bytes, 1000);
}

#[tokio::test]
async fn two_uploads_of_one_name_at_once_both_land_and_overwrite_nothing() {
    let app = spawn_app().await;
    let ann = register_named(&app, "Ann").await;
    mkdir(&app, &ann.token, "/inbox", false).await;
    upload(&app, &ann.token, "/inbox/scan.png", b"original").await;
    let created = create_link(&app, &ann, json!({"path": "/inbox", "upload_only": true})).await;
    let token = created.token.as_str();

    // For a taken name and for a free one, both sessions are open before either completes.
    for (name, expected) in [
        ("scan.png", vec!["scan (2).png", "scan (3).png", "scan.png"]),
        (
            "fresh.png",
            vec![
                "fresh (2).png",
                "fresh.png",
                "scan (2).png",
                "scan (3).png",
                "scan.png",
            ],
        ),
    ] {
        let first = open_link_upload(&app, token, name, b"first").await;
        let second = open_link_upload(&app, token, name, b"second").await;
        for session in [&second, &first] {
            let (status, text) = complete_link_upload(&app, token, session).await;
            assert_eq!(status, StatusCode::OK, "{name}: {text}");
        }
        assert_eq!(names(&app, &ann.token, "/inbox").await, expected);
    }
    let own = app
        .get(
            &url("/v1/downloads", &[("path", "/inbox/scan.png")]),
            Some(&ann.token),
        )
        .await;
    let own: DownloadLink = own.json().await.unwrap();
    let bytes = fetch(&app, &own.url, None).await.bytes().await.unwrap();
    assert_eq!(bytes.as_ref(), b"original");
}

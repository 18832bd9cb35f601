//! [`put_part`] against a scripted HTTP server: expired URLs are renewed, failures retried.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use chrono::{Duration, Utc};
use common::api::{UploadPart, UploadSession};
use indicatif::ProgressBar;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use super::{put_part, PartJob, PartUrls};
use crate::client::{Client, Tree, UploadTarget};
use crate::config::Config;
use crate::credentials::{CredentialStore, CredentialStoreKind, Credentials};
use crate::output::Output;

const PART_SIZE: u64 = 4 * 1024 * 1024;

/// What the scripted server does with one request.
struct Reply {
    status: u16,
    body: String,
    /// Whether to read the request body before answering (a server refusing early does not).
    read_body: bool,
}

/// Serves one request per connection with `script(method, path, n_th request)`.
async fn serve(script: impl Fn(&str, &str, usize) -> Reply + Send + Sync + 'static) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let script = Arc::new(script);
    let counter = Arc::new(AtomicUsize::new(0));
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let script = Arc::clone(&script);
            let n = counter.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut stream = BufReader::new(stream);
                let mut request_line = String::new();
                stream.read_line(&mut request_line).await.unwrap();
                let mut content_length = 0u64;
                loop {
                    let mut header = String::new();
                    stream.read_line(&mut header).await.unwrap();
                    if header.trim().is_empty() {
                        break;
                    }
                    let lower = header.to_ascii_lowercase();
                    if let Some(value) = lower.strip_prefix("content-length:") {
                        content_length = value.trim().parse().unwrap();
                    }
                }
                let mut parts = request_line.split_whitespace();
                let method = parts.next().unwrap_or_default().to_string();
                let path = parts.next().unwrap_or_default().to_string();
                let reply = script(&method, &path, n);
                if reply.read_body {
                    let mut body = vec![0u8; usize::try_from(content_length).unwrap()];
                    stream.read_exact(&mut body).await.unwrap();
                }
                let answer = format!(
                    "HTTP/1.1 {} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
                     connection: close\r\n\r\n{}",
                    reply.status,
                    reply.body.len(),
                    reply.body
                );
                let mut stream = stream.into_inner();
                let _ = stream.write_all(answer.as_bytes()).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    format!("http://{address}")
}

fn session(server: &str, generation: u32) -> UploadSession {
    UploadSession {
        upload_id: uuid::Uuid::nil(),
        path: "/f.bin".into(),
        size: PART_SIZE,
        sha256: None,
        part_size: PART_SIZE,
        parts: vec![UploadPart {
            number: 1,
            offset: 0,
            size: PART_SIZE,
            stored: false,
            url: format!("{server}/part/1?gen={generation}"),
            headers: Default::default(),
        }],
        urls_expire_at: Utc::now() + Duration::hours(1),
        expires_at: Utc::now() + Duration::hours(24),
        part_checksums: false,
    }
}

/// A logged-in client for `server`, its credentials in a temporary file store.
fn client(server: &str, config_dir: &std::path::Path) -> Client {
    let config = Config {
        server: server.to_string(),
        output: Output {
            json: false,
            quiet: true,
        },
        verbose: 0,
        credential_store: CredentialStoreKind::File,
        config_dir: Some(config_dir.to_path_buf()),
        app_token: None,
    };
    CredentialStore::new(CredentialStoreKind::File, server, Some(config_dir), true)
        .save(&Credentials {
            access_token: "access".into(),
            refresh_token: "refresh".into(),
            access_expires_at: Utc::now() + Duration::hours(1),
            email: "a@example.com".into(),
        })
        .unwrap();
    Client::new(&config).unwrap()
}

async fn run_part(server: &str) -> anyhow::Result<()> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("f.bin");
    std::fs::write(&file, vec![7u8; usize::try_from(PART_SIZE).unwrap()]).unwrap();
    let client = Arc::new(client(server, dir.path()));
    let first = session(server, 0);
    let urls = PartUrls::new(Arc::clone(&client), UploadTarget::Tree(Tree::Own), &first);
    let file_bar = ProgressBar::hidden();
    let total_bar = ProgressBar::hidden();
    let job = PartJob {
        client: &client,
        urls: &urls,
        path: &file,
        file_bar: &file_bar,
        total_bar: &total_bar,
    };
    let result = put_part(&job, &first.parts[0]).await;
    if result.is_ok() {
        assert_eq!(
            file_bar.position(),
            PART_SIZE,
            "the bar counts the part once"
        );
    }
    result
}

fn stored() -> Reply {
    Reply {
        status: 200,
        body: format!("{{\"number\":1,\"size\":{PART_SIZE}}}"),
        read_body: true,
    }
}

#[tokio::test]
async fn an_expired_url_refused_before_the_body_is_renewed() {
    let renewals = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&renewals);
    let server = Arc::new(std::sync::OnceLock::<String>::new());
    let base = Arc::clone(&server);
    let url = serve(move |method, path, _| match (method, path) {
        ("PUT", "/part/1?gen=0") => Reply {
            status: 403,
            body: r#"{"error":{"code":"forbidden","message":"expired"}}"#.into(),
            read_body: false,
        },
        ("GET", "/v1/uploads/00000000-0000-0000-0000-000000000000") => {
            seen.fetch_add(1, Ordering::SeqCst);
            Reply {
                status: 200,
                body: serde_json::to_string(&session(base.get().unwrap(), 1)).unwrap(),
                read_body: false,
            }
        }
        ("PUT", "/part/1?gen=1") => stored(),
        _ => Reply {
            status: 404,
            body: String::new(),
            read_body: false,
        },
    })
    .await;
    server.set(url.clone()).unwrap();
    run_part(&url).await.unwrap();
    assert!(renewals.load(Ordering::SeqCst) >= 1);
}

#[tokio::test]
async fn server_errors_are_retried_then_given_up() {
    let url = serve(|_, _, n| match n {
        0 => Reply {
            status: 503,
            body: r#"{"error":{"code":"unavailable","message":"busy"}}"#.into(),
            read_body: true,
        },
        _ => stored(),
    })
    .await;
    run_part(&url).await.unwrap();

    let url = serve(|method, _, _| Reply {
        status: if method == "PUT" { 500 } else { 404 },
        body: r#"{"error":{"code":"internal","message":"broken"}}"#.into(),
        read_body: true,
    })
    .await;
    let error = run_part(&url).await.unwrap_err();
    assert!(format!("{error:#}").contains("failed 4 times"), "{error:#}");
}

#[tokio::test]
async fn a_refusal_is_final() {
    let url = serve(|_, _, _| Reply {
        status: 422,
        body: r#"{"error":{"code":"integrity","message":"wrong size"}}"#.into(),
        read_body: true,
    })
    .await;
    let error = run_part(&url).await.unwrap_err();
    assert_eq!(format!("{error:#}"), "wrong size");
}

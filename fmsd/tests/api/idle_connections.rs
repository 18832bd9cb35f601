//! Connections that hold fmsd without using it: silent, with half-sent headers, with a stalled
//! JSON body, a part upload that stops sending, idle after an answer. Each is closed after its
//! timeout; thousands at once, under the open-files limit a service manager gives by default,
//! leave `/healthz` answering; at the cap new connections wait for a slot instead of failing.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::fixtures::create_upload;
use crate::helpers::spawn_app_with;
use crate::process::spawn_fmsd_after;

/// Ways a client can hold a connection without finishing a request.
#[derive(Debug, Clone, Copy)]
enum Idle {
    /// Connects and sends nothing.
    Silent,
    /// Sends part of a request's headers.
    HalfHeaders,
    /// Sends a JSON request's headers and a few bytes of its body.
    StalledBody,
    /// Makes one request, reads the answer, then sends nothing more.
    KeptAlive,
}

const KINDS: [Idle; 4] = [
    Idle::Silent,
    Idle::HalfHeaders,
    Idle::StalledBody,
    Idle::KeptAlive,
];

/// A connection to `address` held in the way `kind` says.
async fn hold(address: SocketAddr, kind: Idle) -> TcpStream {
    let mut stream = TcpStream::connect(address).await.unwrap();
    let sent: &[u8] = match kind {
        Idle::Silent => b"",
        Idle::HalfHeaders => b"GET /healthz HTTP/1.1\r\nHost: fms\r\n",
        Idle::StalledBody => {
            b"POST /v1/auth/login HTTP/1.1\r\nHost: fms\r\nContent-Type: application/json\r\n\
              Content-Length: 100\r\n\r\n{\"email\":"
        }
        Idle::KeptAlive => b"GET /healthz HTTP/1.1\r\nHost: fms\r\n\r\n",
    };
    stream.write_all(sent).await.unwrap();
    if let Idle::KeptAlive = kind {
        let answer = read_answer(&mut stream).await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    }
    stream
}

/// One answer's head and body (by its `Content-Length`).
async fn read_answer(stream: &mut TcpStream) -> String {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let text = String::from_utf8_lossy(&buffer).into_owned();
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|line| {
                    let (name, value) = line.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            if buffer.len() >= end + 4 + length {
                return text;
            }
        }
        let read = stream.read(&mut chunk).await.unwrap();
        assert!(read > 0, "the connection closed mid-answer: {text}");
        buffer.extend_from_slice(&chunk[..read]);
    }
}

/// What the server sends until it closes the connection, or `None` if it is still open after
/// `wait`.
async fn until_closed(stream: &mut TcpStream, wait: Duration) -> Option<String> {
    let mut received = Vec::new();
    let closed = tokio::time::timeout(wait, async {
        let mut chunk = [0u8; 4096];
        loop {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(read) => received.extend_from_slice(&chunk[..read]),
            }
        }
    })
    .await;
    closed
        .ok()
        .map(|()| String::from_utf8_lossy(&received).into_owned())
}

/// The `host:port` of an `http://host:port` base URL.
fn socket_of(base: &str) -> SocketAddr {
    base.trim_start_matches("http://").parse().unwrap()
}

#[tokio::test]
async fn two_thousand_idle_connections_leave_healthz_answering_within_a_second() {
    // The soft limit a service manager gives by default; fmsd raises it to the hard limit.
    let fmsd = spawn_fmsd_after("umask 077 && ulimit -Sn 1024", &[], |_| {});
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", fmsd.pid())).unwrap();
    let open_files = limits
        .lines()
        .find(|line| line.starts_with("Max open files"))
        .unwrap()
        .split_whitespace()
        .skip(3)
        .take(2)
        .collect::<Vec<_>>();
    assert_eq!(open_files[0], open_files[1], "soft = hard: {limits}");
    assert!(
        fmsd.log().contains("open-files limit raised"),
        "{}",
        fmsd.log()
    );

    let address = socket_of(&fmsd.address);
    let mut held = Vec::new();
    for round in 0..500 {
        for kind in KINDS {
            held.push(hold(address, kind).await);
        }
        assert_eq!(held.len(), (round + 1) * KINDS.len());
    }
    let client = reqwest::Client::new();
    for _ in 0..5 {
        let started = Instant::now();
        let answer = tokio::time::timeout(
            Duration::from_secs(1),
            client.get(fmsd.url("/healthz")).send(),
        )
        .await
        .expect("/healthz answers within a second")
        .unwrap();
        assert_eq!(answer.status(), StatusCode::OK);
        assert!(started.elapsed() < Duration::from_secs(1));
    }
    drop(held);
}

#[tokio::test]
async fn each_kind_of_idle_connection_is_closed_after_its_timeout() {
    let app = spawn_app_with(|settings| {
        settings.gateway.header_timeout_secs = 1;
        settings.gateway.body_timeout_secs = 1;
    })
    .await;
    let address = socket_of(&app.address);
    let mut held = Vec::new();
    for kind in KINDS {
        held.push((kind, hold(address, kind).await));
    }
    for (kind, stream) in &mut held {
        let sent = until_closed(stream, Duration::from_secs(10))
            .await
            .unwrap_or_else(|| panic!("{kind:?}: still open 10 s after a 1 s timeout"));
        if let Idle::StalledBody = kind {
            assert!(sent.starts_with("HTTP/1.1 408"), "{kind:?}: {sent}");
            assert!(sent.contains("\"request_timeout\""), "{kind:?}: {sent}");
        }
    }
    // A client that keeps sending is not cut off: the timeouts bound idleness, not use.
    let user = app.register_and_login().await;
    assert!(!user.token.is_empty());
}

#[tokio::test]
async fn a_part_upload_that_stops_sending_is_cut_off_with_408() {
    let app = spawn_app_with(|settings| settings.files.part_idle_timeout_secs = 1).await;
    let user = app.register_and_login().await;
    let (status, session) = create_upload(
        &app,
        &user.token,
        json!({"path": "/slow.bin", "size": 1000}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let part = url::Url::parse(&session.parts[0].url).unwrap();
    let target = match part.query() {
        Some(query) => format!("{}?{query}", part.path()),
        None => part.path().to_owned(),
    };
    let mut stream = TcpStream::connect(socket_of(&app.address)).await.unwrap();
    let head = format!("PUT {target} HTTP/1.1\r\nHost: fms\r\nContent-Length: 1000\r\n\r\n");
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&[7u8; 100]).await.unwrap();
    let sent = until_closed(&mut stream, Duration::from_secs(10))
        .await
        .expect("closed after the part's idle timeout");
    assert!(sent.starts_with("HTTP/1.1 408"), "{sent}");
    assert!(sent.contains("\"request_timeout\""), "{sent}");
}

#[tokio::test]
async fn at_the_connection_cap_new_connections_wait_for_a_slot_and_the_log_says_so() {
    let fmsd = spawn_fmsd_after(
        "umask 077",
        &[
            ("FMSD_GATEWAY__MAX_CONNECTIONS", "8"),
            ("FMSD_GATEWAY__HEADER_TIMEOUT_SECS", "2"),
        ],
        |_| {},
    );
    let address = socket_of(&fmsd.address);
    let mut held = Vec::new();
    for _ in 0..8 {
        held.push(hold(address, Idle::Silent).await);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    let answer = reqwest::Client::new()
        .get(fmsd.url("/healthz"))
        .timeout(Duration::from_secs(15))
        .send()
        .await
        .expect("served once a held connection timed out");
    assert_eq!(answer.status(), StatusCode::OK);
    let waited = started.elapsed();
    assert!(
        waited > Duration::from_millis(800),
        "answered after {waited:?}: the cap did not hold"
    );
    assert!(
        fmsd.log().contains("connection limit reached"),
        "{}",
        fmsd.log()
    );
    drop(held);
}

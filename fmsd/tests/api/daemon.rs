//! fmsd as a daemon: what it tells systemd (ready, alive, reloading, stopping), what SIGHUP
//! does, that a stderr nobody reads (or whose reader went away) never blocks or stops it, and
//! that the shipped unit is locked down.

use std::io::{BufRead, BufReader};
use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use rustix::process::Signal;

use crate::process::{spawn_fmsd_after, spawn_fmsd_piped, FmsdProcess};

/// The datagrams fmsd sends to `socket` until one contains `wanted` (or 10 s pass).
fn notifications_until(socket: &UnixDatagram, wanted: &str) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut seen = Vec::new();
    let mut buffer = [0u8; 4096];
    while Instant::now() < deadline {
        let Ok(n) = socket.recv(&mut buffer) else {
            continue;
        };
        let message = String::from_utf8_lossy(&buffer[..n]).into_owned();
        let done = message.lines().any(|line| line == wanted);
        seen.push(message);
        if done {
            return seen;
        }
    }
    panic!("no {wanted} within 10 s; got {seen:?}");
}

/// `/healthz` answers 200 within a second.
async fn answers(fmsd: &FmsdProcess) {
    let answer = tokio::time::timeout(
        Duration::from_secs(1),
        fmsd.client.get(fmsd.url("/healthz")).send(),
    )
    .await
    .expect("/healthz answers within a second")
    .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
}

/// SIGTERM: fmsd exits 0 within its 5 s grace (10 s allowed).
fn stops_on_sigterm(fmsd: &mut FmsdProcess) {
    fmsd.signal(Signal::TERM);
    exits_cleanly(fmsd);
}

/// fmsd, told to stop, exits 0 within 10 s.
fn exits_cleanly(fmsd: &mut FmsdProcess) {
    let status = fmsd
        .exit_within(Duration::from_secs(10))
        .expect("stopped within the grace");
    assert!(status.success(), "{status:?}");
}

/// Opens a connection, sends half a request and hangs up: fmsd logs that at debug level.
async fn cut_a_request_short(fmsd: &FmsdProcess) {
    use tokio::io::AsyncWriteExt;
    let address = fmsd.address.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\n")
        .await
        .unwrap();
    drop(stream);
    tokio::time::sleep(Duration::from_millis(300)).await;
}

#[tokio::test]
async fn fmsd_tells_systemd_it_is_ready_alive_reloading_and_stopping() {
    let dir = tempfile::tempdir().unwrap();
    let socket_path = dir.path().join("notify.sock");
    let socket = UnixDatagram::bind(&socket_path).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let config = dir.path().join("fmsd.toml");
    std::fs::write(&config, "log_filter = \"info\"\n").unwrap();
    let mut fmsd = spawn_fmsd_after(
        // systemd names the process it watches; the shell's pid is fmsd's once it execs.
        "umask 077 && export WATCHDOG_PID=$$",
        &[
            ("NOTIFY_SOCKET", socket_path.to_str().unwrap()),
            ("WATCHDOG_USEC", "400000"),
            ("FMSD_CONFIG", config.to_str().unwrap()),
            ("FMSD_SHUTDOWN_GRACE_SECS", "5"),
        ],
        |_| {},
    );
    notifications_until(&socket, "READY=1");
    answers(&fmsd).await;
    // Fed at half the 0.4 s systemd asks for.
    let started = Instant::now();
    let fed = notifications_until(&socket, "WATCHDOG=1").len()
        + notifications_until(&socket, "WATCHDOG=1").len();
    assert!(fed >= 2 && started.elapsed() < Duration::from_secs(2));
    cut_a_request_short(&fmsd).await;
    assert!(!fmsd.log().contains("connection ended with an error"));

    // SIGHUP: the settings are read again, the log filter changes, fmsd goes on.
    std::fs::write(
        &config,
        "log_filter = \"debug\"\n[files]\nquota_bytes = 5\n",
    )
    .unwrap();
    fmsd.signal(Signal::HUP);
    let reload = notifications_until(&socket, "READY=1");
    assert!(
        reload
            .iter()
            .any(|message| message.contains("RELOADING=1") && message.contains("MONOTONIC_USEC=")),
        "{reload:?}"
    );
    answers(&fmsd).await;
    cut_a_request_short(&fmsd).await;
    let log = fmsd.log();
    assert!(log.contains("SIGHUP: log filter changed"), "{log}");
    assert!(log.contains("files.quota_bytes"), "{log}");
    assert!(log.contains("take effect at the next restart"), "{log}");
    assert!(
        log.contains("connection ended with an error"),
        "a debug line after the reload: {log}"
    );
    // stderr is a file here, not a terminal: no colour codes.
    assert!(!log.contains('\u{1b}'), "ANSI codes in a log file");

    fmsd.signal(Signal::TERM);
    notifications_until(&socket, "STOPPING=1");
    exits_cleanly(&mut fmsd);
}

#[tokio::test]
async fn fmsd_keeps_serving_and_stops_on_sigterm_when_the_reader_of_its_stderr_goes_away() {
    let (mut fmsd, stderr) =
        spawn_fmsd_piped(&[("RUST_LOG", "debug"), ("FMSD_SHUTDOWN_GRACE_SECS", "5")]);
    // Like `fmsd 2>&1 | head -2`: two lines read, then the reader is gone.
    let mut lines = BufReader::new(stderr).lines();
    lines.next().unwrap().unwrap();
    lines.next().unwrap().unwrap();
    drop(lines);
    for _ in 0..50 {
        answers(&fmsd).await;
    }
    fmsd.register_and_login().await;
    stops_on_sigterm(&mut fmsd);
}

#[tokio::test]
async fn fmsd_keeps_serving_and_stops_on_sigterm_when_nobody_reads_its_stderr() {
    let (mut fmsd, stderr) =
        spawn_fmsd_piped(&[("RUST_LOG", "debug"), ("FMSD_SHUTDOWN_GRACE_SECS", "5")]);
    // The pipe stays open and unread: its 64 KiB fill after a few hundred requests.
    for _ in 0..2000 {
        answers(&fmsd).await;
    }
    fmsd.register_and_login().await;
    stops_on_sigterm(&mut fmsd);
    drop(stderr);
}

#[test]
fn the_shipped_unit_is_rated_at_most_2_5_by_systemd_analyze() {
    let unit = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/fmsd.service");
    let output = std::process::Command::new("systemd-analyze")
        .args(["security", "--offline=true", "--no-pager"])
        .arg(&unit)
        .output()
        .expect("systemd-analyze runs (Debian package systemd)");
    let text = String::from_utf8_lossy(&output.stdout);
    let exposure: f64 = text
        .lines()
        .find_map(|line| {
            line.split("Overall exposure level for fmsd.service: ")
                .nth(1)
        })
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|number| number.parse().ok())
        .unwrap_or_else(|| panic!("no exposure level in: {text}"));
    assert!(exposure <= 2.5, "exposure {exposure}: {text}");
}

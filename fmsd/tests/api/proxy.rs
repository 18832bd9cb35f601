//! fmsd behind Debian's nginx with the shipped `config/nginx.conf`: each client's own address
//! counts for the rate limits (nginx is a trusted proxy), the URLs fmsd hands out lead back
//! through nginx, and an upload and a download through it are byte-identical. A peer that is
//! not trusted cannot pick its address with `X-Forwarded-For`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use reqwest::{Client, StatusCode};
use serde_json::json;

use crate::fixtures::{sample_bytes, sha256_hex};
use crate::helpers::{spawn_app_with, TestApp};
use crate::process::{register_and_login_at, round_trip};

/// nginx, running the shipped site config in front of an fmsd; stopped when dropped.
struct Nginx {
    /// `http://127.0.0.1:PORT`.
    url: String,
    process: Child,
    /// Its prefix: config, logs, temp files.
    _dir: tempfile::TempDir,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // SIGTERM: the master stops its workers before it exits (a SIGKILL would orphan them).
        if let Some(pid) = rustix::process::Pid::from_raw(self.process.id() as i32) {
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
        }
        for _ in 0..100 {
            if matches!(self.process.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

/// The nginx the test servers' script installed (`FMS_TEST_NGINX`); fails if there is none.
fn nginx_binary() -> PathBuf {
    let path = std::env::var("FMS_TEST_NGINX").unwrap_or_else(|_| {
        panic!(
            "FMS_TEST_NGINX is not set: run `scripts/services.sh start` (or `scripts/test.sh`), \
             which installs Debian's nginx"
        )
    });
    assert!(
        Path::new(&path).is_file(),
        "FMS_TEST_NGINX={path} is not a file"
    );
    PathBuf::from(path)
}

/// A free port on 127.0.0.1.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts nginx on `port` with `config/nginx.conf`, pointed at `upstream` (`127.0.0.1:P`).
async fn start_nginx(port: u16, upstream: &str) -> Nginx {
    let dir = tempfile::tempdir().unwrap();
    let shipped =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/nginx.conf"))
            .unwrap();
    assert!(shipped.contains("server 127.0.0.1:8080;") && shipped.contains("listen 80;"));
    let site = shipped
        .replace("server 127.0.0.1:8080;", &format!("server {upstream};"))
        .replace("listen 80;", &format!("listen 127.0.0.1:{port};"));
    let prefix = dir.path().to_owned();
    let prefix = prefix.as_path();
    std::fs::write(prefix.join("fms.conf"), site).unwrap();
    let main = format!(
        "worker_processes 1;\npid {p}/nginx.pid;\nerror_log {p}/error.log;\nevents {{}}\nhttp {{\n  access_log {p}/access.log;\n  \
         client_body_temp_path {p}/body;\n  proxy_temp_path {p}/proxy;\n  fastcgi_temp_path {p}/fastcgi;\n  \
         uwsgi_temp_path {p}/uwsgi;\n  scgi_temp_path {p}/scgi;\n  include {p}/fms.conf;\n}}\n",
        p = prefix.display()
    );
    std::fs::write(prefix.join("nginx.conf"), main).unwrap();
    let process = Command::new(nginx_binary())
        .arg("-p")
        .arg(prefix)
        .arg("-e")
        .arg(prefix.join("error.log"))
        .arg("-c")
        .arg(prefix.join("nginx.conf"))
        .args(["-g", "daemon off;"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("nginx starts");
    let nginx = Nginx {
        url: format!("http://127.0.0.1:{port}"),
        process,
        _dir: dir,
    };
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return nginx;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let log = std::fs::read_to_string(prefix.join("error.log")).unwrap_or_default();
    panic!("nginx did not listen on {port}: {log}");
}

/// fmsd believing 127.0.0.1 (where nginx connects from), 3 logins per IP per minute.
async fn fmsd_behind_nginx() -> (TestApp, Nginx) {
    let port = free_port();
    let app = spawn_app_with(|settings| {
        settings.gateway.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
        settings.auth.login_attempts_per_minute_per_ip = 3;
        settings.files.part_size_bytes = 8 * 1024 * 1024;
    })
    .await;
    let upstream = app.address.trim_start_matches("http://").to_owned();
    let nginx = start_nginx(port, &upstream).await;
    (app, nginx)
}

/// A client whose connections come from `ip` (any of 127.0.0.0/8).
fn client_from(ip: [u8; 4]) -> Client {
    Client::builder()
        .local_address(std::net::IpAddr::from(ip))
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

/// A wrong login for a fresh address through `base`; its status.
async fn wrong_login(client: &Client, base: &str, n: usize) -> StatusCode {
    client
        .post(format!("{base}/v1/auth/login"))
        .json(&json!({"email": format!("nobody-{n}@example.com"), "password": "wrong password"}))
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn behind_nginx_each_client_address_has_its_own_login_limit() {
    let (_app, nginx) = fmsd_behind_nginx().await;
    let (first, second) = (client_from([127, 0, 0, 2]), client_from([127, 0, 0, 3]));
    let mut statuses = Vec::new();
    for n in 0..4 {
        statuses.push(wrong_login(&first, &nginx.url, n).await);
    }
    assert_eq!(
        statuses,
        [
            StatusCode::UNAUTHORIZED,
            StatusCode::UNAUTHORIZED,
            StatusCode::UNAUTHORIZED,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );
    // Another client behind the same proxy is not held back by the first one's guesses.
    assert_eq!(
        wrong_login(&second, &nginx.url, 10).await,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_peer_that_is_not_a_trusted_proxy_cannot_pick_its_address() {
    let app = spawn_app_with(|settings| settings.auth.login_attempts_per_minute_per_ip = 3).await;
    let mut statuses = Vec::new();
    for n in 0..4 {
        let response = app
            .client
            .post(format!("{}/v1/auth/login", app.address))
            .header("x-forwarded-for", format!("203.0.113.{n}"))
            .header("forwarded", format!("for=198.51.100.{n}"))
            .json(
                &json!({"email": format!("nobody-{n}@example.com"), "password": "wrong password"}),
            )
            .send()
            .await
            .unwrap();
        statuses.push(response.status());
    }
    assert_eq!(statuses[3], StatusCode::TOO_MANY_REQUESTS, "{statuses:?}");
}

#[tokio::test]
async fn an_upload_and_a_download_through_nginx_are_byte_identical() {
    let (_app, nginx) = fmsd_behind_nginx().await;
    let client = client_from([127, 0, 0, 4]);
    let base = nginx.url.as_str();
    let token = register_and_login_at(&client, base).await;
    let bytes = sample_bytes(20 * 1024 * 1024 + 123, 7);
    let trip = round_trip(&client, base, &token, "/big.bin", &bytes).await;
    assert_eq!(trip.session.parts.len(), 3);
    // The part and download URLs lead back through nginx, not to fmsd's own port.
    for part in &trip.session.parts {
        assert!(part.url.starts_with(base), "{}", part.url);
    }
    assert!(trip.link.url.starts_with(base), "{}", trip.link.url);
    assert_eq!(trip.downloaded.len(), bytes.len());
    assert_eq!(sha256_hex(&trip.downloaded), sha256_hex(&bytes));
}

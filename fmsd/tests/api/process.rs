//! `spawn_fmsd`: the real `fmsd` binary in a process of its own, for what only a process shows:
//! its log on stderr and the modes of the files it makes under a given umask.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStderr, Command, Stdio};
use std::time::Duration;

use common::api::{DownloadLink, Entry, TokenPair, UploadSession};
use reqwest::StatusCode;
use serde_json::json;
use uuid::Uuid;

use crate::fixtures::sha256_hex;

/// A running `fmsd` process; killed when dropped.
pub struct FmsdProcess {
    /// `http://127.0.0.1:PORT`.
    pub address: String,
    /// Its data dir.
    pub data_dir: PathBuf,
    /// Where its stderr goes.
    pub log_path: PathBuf,
    /// A client with no token.
    pub client: reqwest::Client,
    /// The process.
    child: Child,
    /// Holds the data dir and the log.
    _root: tempfile::TempDir,
}

/// Starts `fmsd --listen 127.0.0.1:0` on a new data dir under `umask` (octal, as the shell
/// takes it), with `environment` added; waits for the address it prints.
pub fn spawn_fmsd(umask: &str, environment: &[(&str, &str)]) -> FmsdProcess {
    spawn_fmsd_on(umask, environment, |_| {})
}

/// [`spawn_fmsd`], with `prepare` called on the data dir's path first (it does not exist yet).
pub fn spawn_fmsd_on(
    umask: &str,
    environment: &[(&str, &str)],
    prepare: impl FnOnce(&Path),
) -> FmsdProcess {
    spawn_fmsd_after(&format!("umask {umask}"), environment, prepare)
}

/// [`spawn_fmsd`] with `setup` run by the shell first (`umask 022`, `ulimit -Sn 1024`: what a
/// caller's login shell or a service manager sets), and `prepare` called on the data dir's
/// path (it does not exist yet).
pub fn spawn_fmsd_after(
    setup: &str,
    environment: &[(&str, &str)],
    prepare: impl FnOnce(&Path),
) -> FmsdProcess {
    spawn(setup, environment, prepare, None)
}

/// [`spawn_fmsd`] with stderr on a pipe (returned) instead of a file: for what fmsd does when
/// nobody reads its log, or the reader goes away.
pub fn spawn_fmsd_piped(environment: &[(&str, &str)]) -> (FmsdProcess, ChildStderr) {
    let mut fmsd = spawn("umask 077", environment, |_| {}, Some(Stdio::piped()));
    let stderr = fmsd.child.stderr.take().expect("a stderr pipe");
    (fmsd, stderr)
}

fn spawn(
    setup: &str,
    environment: &[(&str, &str)],
    prepare: impl FnOnce(&Path),
    stderr: Option<Stdio>,
) -> FmsdProcess {
    let root = tempfile::tempdir().expect("a temp dir");
    let data_dir = root.path().join("data");
    prepare(&data_dir);
    let log_path = root.path().join("fmsd.log");
    let log = match stderr {
        Some(stderr) => stderr,
        None => std::fs::File::create(&log_path).expect("a log file").into(),
    };
    // The shell sets the umask or the limits the way a caller's login shell would, then
    // becomes fmsd.
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg(format!("{setup} && exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_fmsd"))
        .args(["--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&data_dir)
        .env_remove("RUST_LOG")
        // Addresses count as proved unless a test asks for verification.
        .env("FMSD_AUTH__EMAIL_VERIFICATION", "off")
        .envs(environment.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log);
    let mut child = command.spawn().expect("fmsd starts");
    let stdout = child.stdout.take().expect("a stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("fmsd prints its address");
    let address = line
        .trim()
        .strip_prefix("fmsd listening on ")
        .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
        .to_owned();
    FmsdProcess {
        address,
        data_dir,
        log_path,
        client: reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .expect("a client"),
        child,
        _root: root,
    }
}

impl FmsdProcess {
    /// `address` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// Registers a fresh customer and logs them in; their access token.
    pub async fn register_and_login(&self) -> String {
        register_and_login_at(&self.client, &self.address).await
    }

    /// The process id of fmsd (the shell became it).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends `signal` to fmsd.
    pub fn signal(&self, signal: rustix::process::Signal) {
        let pid = rustix::process::Pid::from_raw(self.pid() as i32).expect("a pid");
        rustix::process::kill_process(pid, signal).expect("the signal is sent");
    }

    /// How fmsd exited, if it did within `within`.
    pub fn exit_within(&mut self, within: Duration) -> Option<std::process::ExitStatus> {
        let deadline = std::time::Instant::now() + within;
        while std::time::Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().expect("the status is readable") {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    /// Everything fmsd wrote to stderr so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).expect("the log is readable")
    }
}

impl Drop for FmsdProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Registers a fresh customer through `base` (fmsd, or a proxy in front of it) with `client`
/// and logs them in; their access token.
pub async fn register_and_login_at(client: &reqwest::Client, base: &str) -> String {
    let email = format!("user-{}@example.com", Uuid::new_v4().simple());
    let password = "correct horse battery";
    let registered = client
        .post(format!("{base}/v1/auth/register"))
        .json(&json!({"email": email, "password": password, "name": "P"}))
        .send()
        .await
        .unwrap();
    assert_eq!(registered.status(), StatusCode::CREATED);
    let tokens: TokenPair = client
        .post(format!("{base}/v1/auth/login"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    tokens.access_token
}

/// What [`round_trip`] saw: the session it uploaded through, the download link it got, and
/// the bytes that came back.
pub struct RoundTrip {
    /// The upload session, with its part URLs.
    pub session: UploadSession,
    /// The download link of the finished file.
    pub link: DownloadLink,
    /// The downloaded bytes.
    pub downloaded: bytes::Bytes,
}

/// Uploads `bytes` to `path` through `base` as the holder of `token` (every part to its URL,
/// then complete), then downloads the file again.
pub async fn round_trip(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    path: &str,
    bytes: &[u8],
) -> RoundTrip {
    let session: UploadSession = client
        .post(format!("{base}/v1/uploads"))
        .bearer_auth(token)
        .json(&json!({"path": path, "size": bytes.len(), "sha256": sha256_hex(bytes)}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for part in &session.parts {
        let range = part.offset as usize..(part.offset + part.size) as usize;
        let stored = client
            .put(&part.url)
            .body(bytes[range].to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(stored.status(), StatusCode::OK);
    }
    let entry: Entry = client
        .post(format!("{base}/v1/uploads/{}/complete", session.upload_id))
        .bearer_auth(token)
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(entry.size, bytes.len() as u64);
    let link: DownloadLink = client
        .get(format!("{base}/v1/downloads"))
        .query(&[("path", path)])
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let answer = client.get(&link.url).send().await.unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    let downloaded = answer.bytes().await.unwrap();
    RoundTrip {
        session,
        link,
        downloaded,
    }
}

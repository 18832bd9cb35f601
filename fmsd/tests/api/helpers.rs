//! `spawn_app`: the real fmsd on 127.0.0.1:0 with a temporary data dir and a manual clock, and
//! small helpers to call it.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use common::api::{Profile, TokenPair};
use common::events::Envelope;
use diesel::prelude::*;
use diesel::sql_types::Text;
use fmsd::app::App;
use fmsd::clock::ManualClock;
use fmsd::settings::{EmailVerification, Settings};
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// A running fmsd.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`.
    pub address: String,
    /// `http://127.0.0.1:PORT/metrics`, when `[metrics] listen` is set.
    pub metrics_url: Option<String>,
    /// A client with no cookies and no token.
    pub client: reqwest::Client,
    /// The app's data dir (removed when the app is dropped).
    pub data_dir: PathBuf,
    /// The app's clock; advance it instead of sleeping.
    pub clock: ManualClock,
    /// Stops the app.
    pub shutdown: CancellationToken,
    /// The app's task, to await a clean stop.
    pub task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    /// Keeps the data dir alive.
    _dir: Arc<tempfile::TempDir>,
}

/// A registered, logged-in user.
#[derive(Debug, Clone)]
pub struct TestUser {
    /// Their access token.
    pub token: String,
    /// Their refresh token.
    pub refresh_token: String,
    /// Their e-mail address.
    pub email: String,
    /// Their password.
    pub password: String,
    /// Their id.
    pub id: Uuid,
}

/// The app with default settings (small parts so multi-part uploads stay quick).
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// The app with settings changed by `configure`.
pub async fn spawn_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    let dir = Arc::new(tempfile::tempdir().expect("a temp dir"));
    start(dir, ManualClock::new(), configure).await
}

/// The app with its data dir in `dir` (a folder the test prepared, a small file system say)
/// and settings changed by `configure`.
pub async fn spawn_app_in(
    dir: Arc<tempfile::TempDir>,
    configure: impl FnOnce(&mut Settings),
) -> TestApp {
    start(dir, ManualClock::new(), configure).await
}

async fn start(
    dir: Arc<tempfile::TempDir>,
    clock: ManualClock,
    configure: impl FnOnce(&mut Settings),
) -> TestApp {
    let mut settings = Settings {
        listen: "127.0.0.1:0".parse().expect("an address"),
        data_dir: dir.path().to_owned(),
        shutdown_grace_secs: 5,
        ..Settings::default()
    };
    settings.files.part_size_bytes = 1024 * 1024;
    // Addresses count as proved unless a test asks for verification (`verification.rs`).
    settings.auth.email_verification = EmailVerification::Off;
    configure(&mut settings);
    let app = App::build_with_clock(settings, Arc::new(clock.clone()))
        .await
        .expect("the app builds");
    let address = format!("http://{}", app.address());
    let metrics_url = app
        .metrics_address()
        .map(|address| format!("http://{address}/metrics"));
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(app.run(shutdown.clone()));
    TestApp {
        address,
        metrics_url,
        client: reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .expect("a client"),
        data_dir: dir.path().to_owned(),
        clock,
        shutdown,
        task: Some(task),
        _dir: dir,
    }
}

/// A row of the embedded bus's event log.
#[derive(QueryableByName)]
struct EnvelopeRow {
    #[diesel(sql_type = Text)]
    envelope: String,
}

impl TestApp {
    /// Every envelope on the embedded bus, in order.
    pub fn bus_envelopes(&self) -> Vec<Envelope> {
        let mut connection =
            SqliteConnection::establish(&self.data_dir.join("bus.db").to_string_lossy()).unwrap();
        diesel::sql_query("SELECT envelope FROM events ORDER BY position")
            .load::<EnvelopeRow>(&mut connection)
            .unwrap()
            .into_iter()
            .map(|row| serde_json::from_str(&row.envelope).unwrap())
            .collect()
    }

    /// Stops the app cleanly and starts a new one on the same data dir (a restart).
    pub async fn restart(self) -> TestApp {
        self.restart_with(|_| {}).await
    }

    /// [`Self::restart`] with settings changed by `configure`.
    pub async fn restart_with(mut self, configure: impl FnOnce(&mut Settings)) -> TestApp {
        self.stop().await;
        let clock = self.clock.clone();
        start(self._dir.clone(), clock, configure).await
    }

    /// Stops the app and waits until it has.
    pub async fn stop(&mut self) {
        self.shutdown.cancel();
        if let Some(task) = self.task.take() {
            task.await
                .expect("the app task joins")
                .expect("the app stops cleanly");
        }
    }

    /// A request to `path` (relative to the app), with `token` as bearer if given.
    pub fn request(&self, method: Method, path: &str, token: Option<&str>) -> RequestBuilder {
        let builder = self
            .client
            .request(method, format!("{}{}", self.address, path));
        match token {
            Some(token) => builder.bearer_auth(token),
            None => builder,
        }
    }

    /// GET `path`.
    pub async fn get(&self, path: &str, token: Option<&str>) -> Response {
        self.request(Method::GET, path, token)
            .send()
            .await
            .expect("the request is sent")
    }

    /// POST `body` as JSON to `path`.
    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> Response {
        self.request(Method::POST, path, token)
            .json(body)
            .send()
            .await
            .expect("the request is sent")
    }

    /// PATCH `body` as JSON to `path`.
    pub async fn patch(&self, path: &str, token: Option<&str>, body: &Value) -> Response {
        self.request(Method::PATCH, path, token)
            .json(body)
            .send()
            .await
            .expect("the request is sent")
    }

    /// DELETE `path`, with an optional JSON body.
    pub async fn delete(&self, path: &str, token: Option<&str>, body: Option<&Value>) -> Response {
        let builder = self.request(Method::DELETE, path, token);
        let builder = match body {
            Some(body) => builder.json(body),
            None => builder,
        };
        builder.send().await.expect("the request is sent")
    }

    /// Registers a user with a fresh e-mail address.
    pub async fn register(&self) -> (String, String) {
        let email = format!("user-{}@example.com", Uuid::new_v4().simple());
        let password = "correct horse battery".to_owned();
        let response = self
            .post(
                "/v1/auth/register",
                None,
                &json!({"email": email, "password": password, "name": "Test User"}),
            )
            .await;
        assert_eq!(
            response.status(),
            StatusCode::CREATED,
            "{}",
            response.text().await.unwrap_or_default()
        );
        (email, password)
    }

    /// Logs in; panics unless it works.
    pub async fn login(&self, email: &str, password: &str) -> TokenPair {
        let response = self
            .post(
                "/v1/auth/login",
                None,
                &json!({"email": email, "password": password}),
            )
            .await;
        assert_eq!(
            response.status(),
            StatusCode::OK,
            "{}",
            response.text().await.unwrap_or_default()
        );
        response.json().await.expect("a token pair")
    }

    /// Registers and logs in a fresh user.
    pub async fn register_and_login(&self) -> TestUser {
        let (email, password) = self.register().await;
        let tokens = self.login(&email, &password).await;
        let profile: Profile = self
            .get("/v1/me", Some(&tokens.access_token))
            .await
            .json()
            .await
            .expect("a profile");
        TestUser {
            token: tokens.access_token,
            refresh_token: tokens.refresh_token,
            email,
            password,
            id: profile.id,
        }
    }

    /// The `.eml` files written so far.
    pub fn mails(&self) -> Vec<String> {
        read_mails(&self.data_dir.join("mail"))
    }

    /// Waits (up to 10 s) until `predicate` holds for the mails written, and returns them.
    pub async fn wait_for_mails(&self, predicate: impl Fn(&[String]) -> bool) -> Vec<String> {
        eventually(|| {
            let mails = self.mails();
            predicate(&mails).then_some(mails)
        })
        .await
        .unwrap_or_else(|| panic!("the expected mails did not arrive; got {:#?}", self.mails()))
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// The contents of every `.eml` file in `dir`.
pub fn read_mails(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter(|entry| entry.path().extension().is_some_and(|ext| ext == "eml"))
        .filter_map(|entry| std::fs::read_to_string(entry.path()).ok())
        .collect()
}

/// Polls `check` every 50 ms for up to 10 s.
pub async fn eventually<T>(mut check: impl FnMut() -> Option<T>) -> Option<T> {
    for _ in 0..200 {
        if let Some(value) = check() {
            return Some(value);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    None
}

/// The error code of a JSON error answer, checking its shape.
pub async fn error_code(response: Response) -> (StatusCode, String, String) {
    let status = response.status();
    let body: Value = response.json().await.expect("an error answer is JSON");
    let code = body["error"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no error.code in {body}"))
        .to_owned();
    let message = body["error"]["message"]
        .as_str()
        .unwrap_or_else(|| panic!("no error.message in {body}"))
        .to_owned();
    (status, code, message)
}

//! The typed HTTP client of the fms API: one method per endpoint `fmsctl` uses.
//!
//! Every non-2xx answer becomes a [`ClientError::Api`] with the status and the server's
//! `{"error": {"code", "message"}}`. Authenticated calls load the stored [`Credentials`] once,
//! refresh the access token before a request when it is (about to be) expired, and once more
//! when the server answers 401; a refreshed pair is saved at once, because refresh tokens are
//! single-use. Signed part and download URLs are fetched with [`Client::http`] and no
//! `Authorization` header; [`crate::transfer`] does that. With `FMSCTL_TOKEN` set, every
//! authenticated call sends that app token instead, and nothing is loaded, refreshed or saved.
//!
//! - [`account`]: the caller's password and the account's deletion.
//! - [`files`]: the file endpoints, in the caller's own [`Tree`] or inside a share.
//! - [`sharing`]: shares with other customers and public links, as their owner manages them.
//! - [`public`]: what anyone holding a link may do (`/s/{token}`), with no login.
//! - [`targets`]: where an upload goes and where a download's fresh URL comes from.
//! - [`tokens`]: app tokens.

mod account;
mod error;
mod files;
mod public;
mod session;
mod sharing;
mod targets;
mod tokens;
mod trash;

use std::time::Duration;

use chrono::Utc;
use common::api::{
    LoginRequest, Profile, RefreshRequest, RegisterRequest, TokenPair, UpdateProfileRequest,
};
use reqwest::{RequestBuilder, Response};
use serde::de::DeserializeOwned;
use tokio::sync::Mutex;
use uuid::Uuid;

pub use self::error::{check_status, error_from_response, in_flags, AtPath, ClientError};
pub use self::public::LinkAccess;
use self::session::SessionState;
pub use self::targets::{DownloadSource, Origin, UploadTarget};
use crate::config::Config;
use crate::credentials::{CredentialStore, Credentials};

/// How long a plain API call may take.
const API_TIMEOUT: Duration = Duration::from_secs(60);

/// How long `complete` may take: the server re-reads and checks the whole file.
const COMPLETE_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// Whose tree a path is in: the caller's own, or an item someone shared with the caller, where
/// paths are relative to the shared item (`/` being the item itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Tree {
    /// The caller's own files.
    #[default]
    Own,
    /// Inside the share with this id (`share=<id>` on every call).
    Shared(Uuid),
}

impl Tree {
    /// The query parameter that selects this tree; none for the caller's own.
    fn query(self) -> Vec<(&'static str, String)> {
        match self {
            Self::Own => Vec::new(),
            Self::Shared(share_id) => vec![("share", share_id.to_string())],
        }
    }
}

/// The fms API client for one server.
pub struct Client {
    /// One connection pool for API calls and signed URLs alike.
    http: reqwest::Client,
    /// The base URL without a trailing slash.
    server: String,
    /// Where the token pair is kept between commands.
    store: CredentialStore,
    /// The token pair in use; a mutex so concurrent calls refresh it only once.
    session: Mutex<SessionState>,
    /// `FMSCTL_TOKEN`: used instead of the stored pair, never refreshed.
    app_token: Option<String>,
}

impl Client {
    /// A client for `config.server`, with credentials from `config`'s store.
    pub fn new(config: &Config) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("fmsctl/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .read_timeout(Duration::from_secs(300))
            .tcp_nodelay(true)
            .build()
            .map_err(|error| anyhow::anyhow!("failed to set up the HTTP client: {error}"))?;
        let store = CredentialStore::new(
            config.credential_store,
            &config.server,
            config.config_dir.as_deref(),
            config.output.quiet,
        );
        Ok(Self {
            http,
            server: config.server.clone(),
            store,
            session: Mutex::new(SessionState::Unloaded),
            app_token: config.app_token.clone(),
        })
    }

    /// The HTTP client, for signed URLs (which take no `Authorization` header).
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// The server's base URL.
    pub fn server(&self) -> &str {
        &self.server
    }

    /// Where the credentials are kept.
    pub fn store(&self) -> &CredentialStore {
        &self.store
    }

    /// `POST /v1/auth/register`.
    pub async fn register(&self, request: &RegisterRequest) -> Result<Profile, ClientError> {
        let request = self
            .http
            .post(self.endpoint("/v1/auth/register"))
            .json(request);
        self.decode(self.send(request).await?).await
    }

    /// `POST /v1/auth/login`; saves and returns the new credentials.
    pub async fn login(&self, email: &str, password: &str) -> Result<Credentials, ClientError> {
        let body = LoginRequest {
            email: email.to_string(),
            password: password.to_string(),
        };
        let request = self.http.post(self.endpoint("/v1/auth/login")).json(&body);
        let pair: TokenPair = self.decode(self.send(request).await?).await?;
        let credentials = Credentials::from_token_pair(&pair, email, Utc::now());
        self.store.save(&credentials)?;
        *self.session.lock().await = SessionState::Loaded(credentials.clone());
        Ok(credentials)
    }

    /// `POST /v1/auth/logout` with `refresh_token`, so the server ends the session.
    pub async fn revoke(&self, refresh_token: &str) -> Result<(), ClientError> {
        let body = RefreshRequest {
            refresh_token: refresh_token.to_string(),
        };
        let request = self.http.post(self.endpoint("/v1/auth/logout")).json(&body);
        self.send(request).await.map(drop)
    }

    /// `GET /v1/me`.
    pub async fn me(&self) -> Result<Profile, ClientError> {
        self.get_json("/v1/me", Tree::Own, &[]).await
    }

    /// `PATCH /v1/me`.
    pub async fn update_me(&self, request: &UpdateProfileRequest) -> Result<Profile, ClientError> {
        let url = self.endpoint("/v1/me");
        let response = self
            .send_authed(|http| http.patch(&url).json(request).timeout(API_TIMEOUT))
            .await?;
        self.decode(response).await
    }

    /// Turns a failed `reqwest` call into a [`ClientError`] that names the server.
    pub fn transport_error(&self, error: reqwest::Error) -> ClientError {
        error::from_reqwest(&self.server, error)
    }

    fn endpoint(&self, path: &str) -> String {
        format!("{}{path}", self.server)
    }

    /// An authenticated `GET` in `tree`, decoded.
    async fn get_json<T: DeserializeOwned>(
        &self,
        path: &str,
        tree: Tree,
        query: &[(&str, &str)],
    ) -> Result<T, ClientError> {
        let url = self.endpoint(path);
        let tree_query = tree.query();
        let response = self
            .send_authed(|http| {
                http.get(&url)
                    .query(query)
                    .query(&tree_query)
                    .timeout(API_TIMEOUT)
            })
            .await?;
        self.decode(response).await
    }

    /// An authenticated `POST` of a JSON body in `tree`, decoded.
    async fn post_json<B: serde::Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        tree: Tree,
        body: &B,
    ) -> Result<T, ClientError> {
        let url = self.endpoint(path);
        let tree_query = tree.query();
        let response = self
            .send_authed(|http| {
                http.post(&url)
                    .query(&tree_query)
                    .json(body)
                    .timeout(API_TIMEOUT)
            })
            .await?;
        self.decode(response).await
    }

    /// Sends an unauthenticated request; a non-2xx answer becomes an error.
    async fn send(&self, request: RequestBuilder) -> Result<Response, ClientError> {
        let response = request
            .timeout(API_TIMEOUT)
            .send()
            .await
            .map_err(|error| self.transport_error(error))?;
        check_status(response).await
    }

    async fn decode<T: DeserializeOwned>(&self, response: Response) -> Result<T, ClientError> {
        let body = response
            .bytes()
            .await
            .map_err(|error| self.transport_error(error))?;
        serde_json::from_slice(&body).map_err(|error| ClientError::Decode {
            server: self.server.clone(),
            reason: error.to_string(),
        })
    }
}

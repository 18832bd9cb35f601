//! The typed HTTP client of the fms API: one method per endpoint `fmsctl` uses.
//!
//! Every non-2xx answer becomes a [`ClientError::Api`] with the status and the server's
//! `{"error": {"code", "message"}}`. Authenticated calls load the stored [`Credentials`] once,
//! refresh the access token before a request when it is (about to be) expired, and once more
//! when the server answers 401; a refreshed pair is saved at once, because refresh tokens are
//! single-use. Signed part and download URLs are fetched with [`Client::http`] and no
//! `Authorization` header; [`crate::transfer`] does that.

use std::time::Duration;

use chrono::Utc;
use common::api::{
    codes, CompleteUploadRequest, CreateUploadRequest, Deleted, DownloadLink, Entry, ErrorBody,
    Listing, LoginRequest, MkdirRequest, MoveRequest, Profile, RefreshRequest, RegisterRequest,
    TokenPair, UploadSession, Usage,
};
use reqwest::{RequestBuilder, Response, StatusCode};
use serde::de::DeserializeOwned;
use tokio::sync::Mutex;
use uuid::Uuid;

use crate::config::Config;
use crate::credentials::{CredentialStore, Credentials};

/// How long a plain API call may take.
const API_TIMEOUT: Duration = Duration::from_secs(60);

/// How long `complete` may take: the server re-reads and checks the whole file.
const COMPLETE_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// Why a call failed, in terms a caller (and [`crate::exit`]) can act on.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server answered with an error status.
    #[error("{message}")]
    Api {
        /// The HTTP status.
        status: u16,
        /// The server's error code (one of [`codes`]).
        code: String,
        /// The server's sentence for people.
        message: String,
    },
    /// No credentials are stored for this server.
    #[error("not logged in to {server}; run `fmsctl login --email <EMAIL>`")]
    NotLoggedIn {
        /// The server URL.
        server: String,
    },
    /// The refresh token was refused: the session ended or was revoked.
    #[error("the session with {server} has expired; run `fmsctl login` again")]
    SessionExpired {
        /// The server URL.
        server: String,
    },
    /// The server could not be reached at all.
    #[error("cannot reach {server}: {reason}")]
    Connect {
        /// The server URL.
        server: String,
        /// The underlying cause, e.g. `connection refused`.
        reason: String,
    },
    /// The connection broke or timed out during a call.
    #[error("request to {server} failed: {reason}")]
    Transport {
        /// The server URL.
        server: String,
        /// The underlying cause.
        reason: String,
    },
    /// The server answered 2xx with a body that is not what the API promises.
    #[error("unexpected answer from {server}: {reason}")]
    Decode {
        /// The server URL.
        server: String,
        /// What did not parse.
        reason: String,
    },
    /// The credential store failed.
    #[error(transparent)]
    Store(#[from] anyhow::Error),
}

impl ClientError {
    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Api { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// What is known about the stored credentials; loaded on first use.
enum SessionState {
    /// Not read from the store yet.
    Unloaded,
    /// Read, and there are none.
    Missing,
    /// The current pair.
    Loaded(Credentials),
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
        self.get_json("/v1/me", &[]).await
    }

    /// `GET /v1/files`: one page of a folder.
    pub async fn list(&self, path: &str, cursor: Option<&str>) -> Result<Listing, ClientError> {
        let mut query = vec![("path", path)];
        if let Some(cursor) = cursor {
            query.push(("cursor", cursor));
        }
        self.get_json("/v1/files", &query).await
    }

    /// `GET /v1/files/metadata`.
    pub async fn metadata(&self, path: &str) -> Result<Entry, ClientError> {
        self.get_json("/v1/files/metadata", &[("path", path)]).await
    }

    /// `DELETE /v1/files`.
    pub async fn delete(&self, path: &str, recursive: bool) -> Result<Deleted, ClientError> {
        let url = self.endpoint("/v1/files");
        let recursive = if recursive { "true" } else { "false" };
        let response = self
            .send_authed(|http| {
                http.delete(&url)
                    .query(&[("path", path), ("recursive", recursive)])
            })
            .await?;
        self.decode(response).await
    }

    /// `POST /v1/folders`.
    pub async fn mkdir(&self, path: &str, parents: bool) -> Result<Entry, ClientError> {
        let body = MkdirRequest {
            path: path.to_string(),
            parents,
        };
        self.post_json("/v1/folders", &body).await
    }

    /// `POST /v1/files/move`.
    pub async fn move_entry(&self, from: &str, to: &str) -> Result<Entry, ClientError> {
        let body = MoveRequest {
            from: from.to_string(),
            to: to.to_string(),
        };
        self.post_json("/v1/files/move", &body).await
    }

    /// `GET /v1/usage`.
    pub async fn usage(&self) -> Result<Usage, ClientError> {
        self.get_json("/v1/usage", &[]).await
    }

    /// `POST /v1/uploads`; the flag says whether the server resumed an unfinished session (200).
    pub async fn create_upload(
        &self,
        request: &CreateUploadRequest,
    ) -> Result<(UploadSession, bool), ClientError> {
        let url = self.endpoint("/v1/uploads");
        let response = self
            .send_authed(|http| http.post(&url).json(request).timeout(API_TIMEOUT))
            .await?;
        let resumed = response.status() == StatusCode::OK;
        Ok((self.decode(response).await?, resumed))
    }

    /// `GET /v1/uploads/{id}`: the session with fresh part URLs.
    pub async fn upload_session(&self, upload_id: Uuid) -> Result<UploadSession, ClientError> {
        self.get_json(&format!("/v1/uploads/{upload_id}"), &[])
            .await
    }

    /// `POST /v1/uploads/{id}/complete`.
    pub async fn complete_upload(
        &self,
        upload_id: Uuid,
        sha256: &str,
    ) -> Result<Entry, ClientError> {
        let url = self.endpoint(&format!("/v1/uploads/{upload_id}/complete"));
        let body = CompleteUploadRequest {
            sha256: Some(sha256.to_string()),
        };
        let response = self
            .send_authed(|http| http.post(&url).json(&body).timeout(COMPLETE_TIMEOUT))
            .await?;
        self.decode(response).await
    }

    /// `GET /v1/downloads`.
    pub async fn download_link(&self, path: &str) -> Result<DownloadLink, ClientError> {
        self.get_json("/v1/downloads", &[("path", path)]).await
    }

    /// The stored credentials for this server, if any (no network).
    pub async fn stored_credentials(&self) -> Result<Option<Credentials>, ClientError> {
        let mut state = self.session.lock().await;
        match self.loaded(&mut state) {
            Ok(credentials) => Ok(Some(credentials.clone())),
            Err(ClientError::NotLoggedIn { .. }) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// Turns a failed `reqwest` call into a [`ClientError`] that names the server.
    pub fn transport_error(&self, error: reqwest::Error) -> ClientError {
        let reason = root_cause(&error);
        if error.is_connect() {
            ClientError::Connect {
                server: self.server.clone(),
                reason,
            }
        } else if error.is_timeout() {
            ClientError::Transport {
                server: self.server.clone(),
                reason: "timed out".into(),
            }
        } else {
            ClientError::Transport {
                server: self.server.clone(),
                reason,
            }
        }
    }

    fn endpoint(&self, path: &str) -> String {
        format!("{}{path}", self.server)
    }

    async fn get_json<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<T, ClientError> {
        let url = self.endpoint(path);
        let response = self
            .send_authed(|http| http.get(&url).query(query).timeout(API_TIMEOUT))
            .await?;
        self.decode(response).await
    }

    async fn post_json<B: serde::Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, ClientError> {
        let url = self.endpoint(path);
        let response = self
            .send_authed(|http| http.post(&url).json(body).timeout(API_TIMEOUT))
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

    /// Sends the request built by `make` with a valid access token, refreshing once on 401.
    async fn send_authed(
        &self,
        make: impl Fn(&reqwest::Client) -> RequestBuilder,
    ) -> Result<Response, ClientError> {
        let token = self.access_token().await?;
        let response = make(&self.http)
            .bearer_auth(&token)
            .send()
            .await
            .map_err(|error| self.transport_error(error))?;
        if response.status() != StatusCode::UNAUTHORIZED {
            return check_status(response).await;
        }
        tracing::debug!("access token refused; refreshing it once");
        let token = self.refresh_after_rejection(&token).await?;
        let response = make(&self.http)
            .bearer_auth(&token)
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

    fn loaded<'state>(
        &self,
        state: &'state mut SessionState,
    ) -> Result<&'state Credentials, ClientError> {
        if matches!(state, SessionState::Unloaded) {
            *state = match self.store.load()? {
                Some(credentials) => SessionState::Loaded(credentials),
                None => SessionState::Missing,
            };
        }
        match state {
            SessionState::Loaded(credentials) => Ok(credentials),
            _ => Err(ClientError::NotLoggedIn {
                server: self.server.clone(),
            }),
        }
    }

    /// A usable access token, refreshed first if it expires within the margin.
    async fn access_token(&self) -> Result<String, ClientError> {
        let mut state = self.session.lock().await;
        let credentials = self.loaded(&mut state)?;
        if !credentials.access_expires_soon(Utc::now()) {
            return Ok(credentials.access_token.clone());
        }
        tracing::debug!("access token expired; refreshing it");
        Ok(self.refresh_locked(&mut state).await?.access_token)
    }

    /// After a 401 for `rejected`: refresh, unless another task already did.
    async fn refresh_after_rejection(&self, rejected: &str) -> Result<String, ClientError> {
        let mut state = self.session.lock().await;
        let current = self.loaded(&mut state)?;
        if current.access_token != rejected {
            return Ok(current.access_token.clone());
        }
        Ok(self.refresh_locked(&mut state).await?.access_token)
    }

    /// Trades the refresh token for a new pair and saves it; the caller holds the lock.
    async fn refresh_locked(&self, state: &mut SessionState) -> Result<Credentials, ClientError> {
        let old = self.loaded(state)?.clone();
        let body = RefreshRequest {
            refresh_token: old.refresh_token.clone(),
        };
        let request = self
            .http
            .post(self.endpoint("/v1/auth/refresh"))
            .json(&body);
        match self.send(request).await {
            Ok(response) => {
                let pair: TokenPair = self.decode(response).await?;
                let fresh = Credentials::from_token_pair(&pair, &old.email, Utc::now());
                self.store.save(&fresh)?;
                *state = SessionState::Loaded(fresh.clone());
                Ok(fresh)
            }
            Err(error) if error.status() == Some(401) => {
                // Another fmsctl may have spent the refresh token first and saved its new pair.
                if let Ok(Some(stored)) = self.store.load() {
                    if stored.refresh_token != old.refresh_token {
                        *state = SessionState::Loaded(stored.clone());
                        return Ok(stored);
                    }
                }
                Err(ClientError::SessionExpired {
                    server: self.server.clone(),
                })
            }
            Err(error) => Err(error),
        }
    }
}

/// Puts the path (or other subject) a server error is about in front of its message.
pub trait AtPath<T> {
    /// `/a.txt: no such file or folder` for a server answer; other errors (not logged in,
    /// unreachable) are not about the path and pass unchanged, as does a message that
    /// already names it.
    fn at_path(self, subject: &str) -> anyhow::Result<T>;
}

impl<T> AtPath<T> for Result<T, ClientError> {
    fn at_path(self, subject: &str) -> anyhow::Result<T> {
        self.map_err(|error| match &error {
            ClientError::Api { message, .. } if !message.contains(subject) => {
                anyhow::Error::new(error).context(subject.to_string())
            }
            _ => anyhow::Error::new(error),
        })
    }
}

/// Passes a 2xx answer through and turns any other into [`ClientError::Api`].
pub async fn check_status(response: Response) -> Result<Response, ClientError> {
    if response.status().is_success() {
        Ok(response)
    } else {
        Err(error_from_response(response).await)
    }
}

/// Reads an error answer's `{"error": {...}}` body, or describes the status when there is none.
pub async fn error_from_response(response: Response) -> ClientError {
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    match serde_json::from_str::<ErrorBody>(&text) {
        Ok(body) => ClientError::Api {
            status: status.as_u16(),
            code: body.error.code,
            message: body.error.message,
        },
        Err(_) => ClientError::Api {
            status: status.as_u16(),
            code: code_for_status(status).to_string(),
            message: format!("the server answered {status}"),
        },
    }
}

/// The error code a status implies, for answers without a JSON body (a proxy's, say).
fn code_for_status(status: StatusCode) -> &'static str {
    match status.as_u16() {
        401 => codes::UNAUTHORIZED,
        403 => codes::FORBIDDEN,
        404 => codes::NOT_FOUND,
        409 => codes::CONFLICT,
        413 => codes::PAYLOAD_TOO_LARGE,
        422 => codes::INTEGRITY,
        429 => codes::RATE_LIMITED,
        503 => codes::UNAVAILABLE,
        400..=499 => codes::INVALID,
        _ => codes::INTERNAL,
    }
}

/// The innermost cause of a `reqwest` error, as people read it: `connection refused`.
fn root_cause(error: &reqwest::Error) -> String {
    let mut cause: &dyn std::error::Error = error;
    while let Some(source) = cause.source() {
        cause = source;
    }
    let text = cause.to_string();
    let text = match text.find(" (os error") {
        Some(index) => &text[..index],
        None => text.as_str(),
    };
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => "unknown error".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_without_a_body_get_a_code() {
        assert_eq!(code_for_status(StatusCode::NOT_FOUND), codes::NOT_FOUND);
        assert_eq!(code_for_status(StatusCode::BAD_REQUEST), codes::INVALID);
        assert_eq!(code_for_status(StatusCode::BAD_GATEWAY), codes::INTERNAL);
    }
}

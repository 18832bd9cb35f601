//! The token pair in use: loaded from the store on first need, refreshed before it expires and
//! once after a 401, saved after every refresh (refresh tokens are single-use); or, with
//! `FMSCTL_TOKEN` set, that app token on every call and no session at all.

use chrono::Utc;
use common::api::{RefreshRequest, TokenPair};
use reqwest::{RequestBuilder, Response, StatusCode};

use super::error::check_status;
use super::{Client, ClientError};
use crate::config::TOKEN_VARIABLE;
use crate::credentials::Credentials;

/// What is known about the stored credentials; loaded on first use.
pub(super) enum SessionState {
    /// Not read from the store yet.
    Unloaded,
    /// Read, and there are none.
    Missing,
    /// The current pair.
    Loaded(Credentials),
}

impl Client {
    /// The stored credentials for this server, if any (no network).
    pub async fn stored_credentials(&self) -> Result<Option<Credentials>, ClientError> {
        let mut state = self.session.lock().await;
        match self.loaded(&mut state) {
            Ok(credentials) => Ok(Some(credentials.clone())),
            Err(ClientError::NotLoggedIn { .. }) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// Sends the request built by `make` with a valid access token, refreshing once on 401.
    pub(super) async fn send_authed(
        &self,
        make: impl Fn(&reqwest::Client) -> RequestBuilder,
    ) -> Result<Response, ClientError> {
        if let Some(app_token) = &self.app_token {
            let response = make(&self.http)
                .bearer_auth(app_token)
                .send()
                .await
                .map_err(|error| self.transport_error(error))?;
            return check_status(response).await.map_err(|error| match error {
                ClientError::Api {
                    status: 401,
                    code,
                    message,
                } => ClientError::Api {
                    status: 401,
                    code,
                    message: format!("{TOKEN_VARIABLE} was refused: {message}"),
                },
                other => other,
            });
        }
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
    ///
    /// One process at a time does this, under the store's refresh lock: having waited for it,
    /// a process first reads the store again, and if another process refreshed meanwhile it
    /// takes that pair (refreshing from it only if it too is about to expire), so no refresh
    /// token is presented twice.
    async fn refresh_locked(&self, state: &mut SessionState) -> Result<Credentials, ClientError> {
        let held = self.loaded(state)?.clone();
        let store = self.store.clone();
        let _refreshing = tokio::task::spawn_blocking(move || store.lock_refresh())
            .await
            .map_err(|error| anyhow::anyhow!("the refresh lock task failed: {error}"))??;
        let old = match self.store.load() {
            Ok(Some(stored)) if stored.refresh_token != held.refresh_token => {
                if !stored.access_expires_soon(Utc::now()) {
                    tracing::debug!("another fmsctl refreshed the session meanwhile");
                    *state = SessionState::Loaded(stored.clone());
                    return Ok(stored);
                }
                stored
            }
            _ => held,
        };
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
                self.store.save_refreshed(&fresh)?;
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

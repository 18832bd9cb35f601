//! What anyone holding a link may do, with no login: `GET /s/{token}` for what it leads to,
//! list a folder link, fetch a download URL, and upload into a file request.
//!
//! Calls go to the link's own URL (its server may be reached under another name than
//! `--server`), with the password in [`LINK_PASSWORD_HEADER`] when the link has one.

use common::api::sharing::{
    LinkDownloadRequest, LinkUploadRequest, LinkUploadSession, PublicLink, ReceivedFile,
    LINK_PASSWORD_HEADER,
};
use common::api::{CompleteUploadRequest, DownloadLink, Listing};
use reqwest::header::HeaderValue;
use reqwest::{Method, RequestBuilder, Response};
use serde::de::DeserializeOwned;
use uuid::Uuid;

use super::error::{check_status, from_reqwest};
use super::{Client, ClientError, API_TIMEOUT, COMPLETE_TIMEOUT};

/// A public link and what opens it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkAccess {
    /// `scheme://host[/prefix]/s/<token>`, without a trailing slash.
    pub url: String,
    /// The link's password, when it asks for one.
    pub password: Option<String>,
}

impl LinkAccess {
    /// The link at `url`, with no password (yet).
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            password: None,
        }
    }

    /// `scheme://host:port`: what errors name, so the token stays out of messages.
    fn origin(&self) -> String {
        url::Url::parse(&self.url)
            .map(|url| url.origin().ascii_serialization())
            .unwrap_or_else(|_| "the link's server".to_string())
    }
}

impl Client {
    /// `GET /s/{token}`: what the link leads to.
    pub async fn link_info(&self, link: &LinkAccess) -> Result<PublicLink, ClientError> {
        let request = self.link_request(link, Method::GET, "");
        self.link_json(link, request).await
    }

    /// `GET /s/{token}/files`: one page of a folder link (paths relative to the folder).
    pub async fn link_list(
        &self,
        link: &LinkAccess,
        path: &str,
        cursor: Option<&str>,
    ) -> Result<Listing, ClientError> {
        let mut query = vec![("path", path)];
        if let Some(cursor) = cursor {
            query.push(("cursor", cursor));
        }
        let request = self.link_request(link, Method::GET, "/files").query(&query);
        self.link_json(link, request).await
    }

    /// `POST /s/{token}/download`: a download URL; the server counts one download.
    pub async fn link_download(
        &self,
        link: &LinkAccess,
        path: Option<&str>,
    ) -> Result<DownloadLink, ClientError> {
        let body = LinkDownloadRequest {
            path: path.map(str::to_string),
        };
        let request = self
            .link_request(link, Method::POST, "/download")
            .json(&body);
        self.link_json(link, request).await
    }

    /// `POST /s/{token}/uploads`: a session for one file of a file request (it names no path:
    /// the name the file takes in the owner's folder is not the uploader's to know).
    pub async fn link_create_upload(
        &self,
        link: &LinkAccess,
        request: &LinkUploadRequest,
    ) -> Result<LinkUploadSession, ClientError> {
        let request = self
            .link_request(link, Method::POST, "/uploads")
            .json(request);
        self.link_json(link, request).await
    }

    /// `GET /s/{token}/uploads/{id}`: the session with fresh part URLs.
    pub async fn link_upload_session(
        &self,
        link: &LinkAccess,
        upload_id: Uuid,
    ) -> Result<LinkUploadSession, ClientError> {
        let request = self.link_request(link, Method::GET, &format!("/uploads/{upload_id}"));
        self.link_json(link, request).await
    }

    /// `POST /s/{token}/uploads/{id}/complete`: the file was received.
    pub async fn link_complete_upload(
        &self,
        link: &LinkAccess,
        upload_id: Uuid,
        sha256: &str,
    ) -> Result<ReceivedFile, ClientError> {
        let body = CompleteUploadRequest {
            sha256: Some(sha256.to_string()),
        };
        let request = self
            .link_request(
                link,
                Method::POST,
                &format!("/uploads/{upload_id}/complete"),
            )
            .json(&body)
            .timeout(COMPLETE_TIMEOUT);
        self.link_json(link, request).await
    }

    /// A request to `<link>/<suffix>`, carrying the password if there is one.
    fn link_request(&self, link: &LinkAccess, method: Method, suffix: &str) -> RequestBuilder {
        let mut request = self
            .http
            .request(method, format!("{}{suffix}", link.url))
            .timeout(API_TIMEOUT);
        if let Some(password) = &link.password {
            // Bytes, not `&str`: a password may hold characters a header string refuses.
            if let Ok(mut value) = HeaderValue::from_bytes(password.as_bytes()) {
                value.set_sensitive(true);
                request = request.header(LINK_PASSWORD_HEADER, value);
            }
        }
        request
    }

    /// Sends `request`; a 2xx answer is decoded, any other becomes [`ClientError::Api`].
    async fn link_json<T: DeserializeOwned>(
        &self,
        link: &LinkAccess,
        request: RequestBuilder,
    ) -> Result<T, ClientError> {
        let response: Response = request
            .send()
            .await
            .map_err(|error| from_reqwest(&link.origin(), error))?;
        let response = check_status(response).await?;
        self.decode(response).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_origin_not_the_token() {
        let link = LinkAccess::new("https://files.example.com:8443/fms/s/secret-token");
        assert_eq!(link.origin(), "https://files.example.com:8443");
    }
}

//! Sharing, as the logged-in customer manages it: shares with other customers and public links.

use common::api::sharing::{
    CreateLinkRequest, CreatedLink, LinkList, Share, ShareList, ShareRequest,
};
use reqwest::StatusCode;
use uuid::Uuid;

use super::{Client, ClientError, Tree, API_TIMEOUT};

impl Client {
    /// `POST /v1/shares`; the flag says whether the share is new (201) rather than an existing
    /// one whose role was set (200).
    pub async fn share(&self, request: &ShareRequest) -> Result<(Share, bool), ClientError> {
        let url = self.endpoint("/v1/shares");
        let response = self
            .send_authed(|http| http.post(&url).json(request).timeout(API_TIMEOUT))
            .await?;
        let created = response.status() == StatusCode::CREATED;
        Ok((self.decode(response).await?, created))
    }

    /// `GET /v1/shares/incoming`: what others shared with me, newest first.
    pub async fn incoming_shares(&self) -> Result<ShareList, ClientError> {
        self.get_json("/v1/shares/incoming", Tree::Own, &[]).await
    }

    /// `GET /v1/shares/outgoing`: what I shared, newest first.
    pub async fn outgoing_shares(&self) -> Result<ShareList, ClientError> {
        self.get_json("/v1/shares/outgoing", Tree::Own, &[]).await
    }

    /// `DELETE /v1/shares/{id}`: the owner revokes, or the recipient leaves.
    pub async fn delete_share(&self, share_id: Uuid) -> Result<(), ClientError> {
        self.delete_by_id(&format!("/v1/shares/{share_id}")).await
    }

    /// `POST /v1/links`.
    pub async fn create_link(
        &self,
        request: &CreateLinkRequest,
    ) -> Result<CreatedLink, ClientError> {
        self.post_json("/v1/links", Tree::Own, request).await
    }

    /// `GET /v1/links`: my links with their use counts, newest first.
    pub async fn links(&self) -> Result<LinkList, ClientError> {
        self.get_json("/v1/links", Tree::Own, &[]).await
    }

    /// `DELETE /v1/links/{id}`.
    pub async fn delete_link(&self, link_id: Uuid) -> Result<(), ClientError> {
        self.delete_by_id(&format!("/v1/links/{link_id}")).await
    }

    pub(super) async fn delete_by_id(&self, path: &str) -> Result<(), ClientError> {
        let url = self.endpoint(path);
        self.send_authed(|http| http.delete(&url).timeout(API_TIMEOUT))
            .await
            .map(drop)
    }
}

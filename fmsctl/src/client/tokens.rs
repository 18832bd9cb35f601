//! App tokens, as their owner manages them (a login only; the server refuses an app token).

use common::api::{AppTokenList, CreateAppTokenRequest, CreatedAppToken};
use uuid::Uuid;

use super::{Client, ClientError, Tree};

impl Client {
    /// `POST /v1/tokens`: the token, with its secret this once.
    pub async fn create_app_token(
        &self,
        request: &CreateAppTokenRequest,
    ) -> Result<CreatedAppToken, ClientError> {
        self.post_json("/v1/tokens", Tree::Own, request).await
    }

    /// `GET /v1/tokens`: my app tokens, newest first.
    pub async fn app_tokens(&self) -> Result<AppTokenList, ClientError> {
        self.get_json("/v1/tokens", Tree::Own, &[]).await
    }

    /// `DELETE /v1/tokens/{id}`.
    pub async fn revoke_app_token(&self, id: Uuid) -> Result<(), ClientError> {
        self.delete_by_id(&format!("/v1/tokens/{id}")).await
    }
}

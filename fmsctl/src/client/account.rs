//! The caller's own account: password and deletion (a login only, never an app token).

use common::api::{ChangePasswordRequest, DeleteAccountRequest};

use super::{Client, ClientError, API_TIMEOUT};

impl Client {
    /// `POST /v1/me/password`: every other session and every app token ends; this one stays.
    pub async fn change_password(
        &self,
        current_password: &str,
        new_password: &str,
    ) -> Result<(), ClientError> {
        let body = ChangePasswordRequest {
            current_password: current_password.to_owned(),
            new_password: new_password.to_owned(),
        };
        let url = self.endpoint("/v1/me/password");
        self.send_authed(|http| http.post(&url).json(&body).timeout(API_TIMEOUT))
            .await
            .map(drop)
    }

    /// `DELETE /v1/me`: the account, its files, shares and links.
    pub async fn delete_account(&self, password: &str) -> Result<(), ClientError> {
        let body = DeleteAccountRequest {
            password: password.to_owned(),
        };
        let url = self.endpoint("/v1/me");
        self.send_authed(|http| http.delete(&url).json(&body).timeout(API_TIMEOUT))
            .await
            .map(drop)
    }
}

//! The caller's own account: password and deletion (a login only, never an app token); a
//! forgotten password reset and an address proved with mailed codes (no login needed).

use common::api::{
    Accepted, ChangePasswordRequest, DeleteAccountRequest, PasswordResetConfirm,
    PasswordResetRequest, Profile, VerifyRequest,
};

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

    /// `POST /v1/auth/password-reset`: a code to `email`, if an account has it.
    pub async fn request_password_reset(&self, email: &str) -> Result<Accepted, ClientError> {
        let body = PasswordResetRequest {
            email: email.to_owned(),
        };
        let request = self
            .http
            .post(self.endpoint("/v1/auth/password-reset"))
            .json(&body)
            .timeout(API_TIMEOUT);
        self.decode(self.send(request).await?).await
    }

    /// `POST /v1/auth/password-reset/confirm`: the new password, with the mailed code.
    pub async fn confirm_password_reset(
        &self,
        token: &str,
        new_password: &str,
    ) -> Result<(), ClientError> {
        let body = PasswordResetConfirm {
            token: token.to_owned(),
            new_password: new_password.to_owned(),
        };
        let request = self
            .http
            .post(self.endpoint("/v1/auth/password-reset/confirm"))
            .json(&body)
            .timeout(API_TIMEOUT);
        self.send(request).await.map(drop)
    }

    /// `POST /v1/auth/verify`: proves an address with its mailed code.
    pub async fn verify(&self, token: &str) -> Result<Profile, ClientError> {
        let body = VerifyRequest {
            token: token.to_owned(),
        };
        let request = self
            .http
            .post(self.endpoint("/v1/auth/verify"))
            .json(&body)
            .timeout(API_TIMEOUT);
        self.decode(self.send(request).await?).await
    }

    /// `POST /v1/me/verification`: the code again.
    pub async fn resend_verification(&self) -> Result<Accepted, ClientError> {
        let url = self.endpoint("/v1/me/verification");
        let response = self
            .send_authed(|http| http.post(&url).timeout(API_TIMEOUT))
            .await?;
        self.decode(response).await
    }
}

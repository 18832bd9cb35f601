//! The JSON bodies of account recovery and address verification: a forgotten password reset
//! by a one-time code sent by mail, and an e-mail address proved by a code sent to it.
//!
//! | method and path | request | answer |
//! | --- | --- | --- |
//! | `POST /v1/auth/password-reset` | [`PasswordResetRequest`] | 202 [`Accepted`], whether or not an account has the address |
//! | `POST /v1/auth/password-reset/confirm` | [`PasswordResetConfirm`] | 204; every session and app token ends |
//! | `POST /v1/auth/verify` | [`VerifyRequest`] | 200 [`crate::api::Profile`] |
//! | `POST /v1/me/verification` | | 202 [`Accepted`]: the code is sent again |
//!
//! A code is 256 random bits, stored only as its SHA-256, good for one use; a newer code of the
//! same kind replaces the older one. A reset code lives 30 minutes, a verification code 48 hours.

use serde::{Deserialize, Serialize};

/// `POST /v1/auth/password-reset`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PasswordResetRequest {
    /// The account's address; the code goes there if an account has it.
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::api::schemas::email))]
    pub email: String,
}

/// `POST /v1/auth/password-reset/confirm`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PasswordResetConfirm {
    /// The code from the mail.
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::api::schemas::mail_code))]
    pub token: String,
    /// The password from now on (at least 10 characters).
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::api::schemas::password))]
    pub new_password: String,
}

/// `POST /v1/auth/verify`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct VerifyRequest {
    /// The code from the mail.
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::api::schemas::mail_code))]
    pub token: String,
}

/// The answer of a request whose outcome goes by mail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Accepted {
    /// What happens next, the same sentence whatever the server found.
    pub message: String,
}

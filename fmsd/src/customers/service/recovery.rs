//! Mailed one-time codes: a forgotten password reset, an address proved (after registration,
//! or a new address the account switches to once proved).
//!
//! A code is 256 random bits, kept only as its SHA-256 ([`StoredCode`]); the mail event
//! carries it in clear to notifications. A newer code of the same purpose replaces the older
//! one, and a code works once: taking it deletes it.

use std::sync::Arc;

use chrono::Duration;
use common::events::{
    CustomerPasswordChanged, CustomerPasswordResetRequested, CustomerUpdated,
    CustomerVerificationRequested, Outgoing,
};
use tracing::Instrument;
use uuid::Uuid;

use super::{hash_password, CustomerService};
use crate::customers::domain::{Email, Password};
use crate::customers::ports::{CodePurpose, Customer, StoredCode};
use crate::customers::tokens::{hash_secret, new_mail_code};
use crate::error::{Error, Result};

/// How long a password-reset code works.
pub const RESET_CODE_TTL: Duration = Duration::minutes(30);
/// How long a verification code works.
pub const VERIFY_CODE_TTL: Duration = Duration::hours(48);

/// What a code that is unknown, used, replaced or expired answers; one sentence for all, so
/// it tells nothing about which.
const CODE_NOT_VALID: &str = "this code is not valid: it may have expired, been used, or been \
                              replaced by a newer one; ask for a new one";

impl CustomerService {
    /// Whether accounts must prove their address (`auth.email_verification`).
    pub fn verification_required(&self) -> bool {
        self.settings.email_verification == crate::settings::EmailVerification::Required
    }

    /// Starts a password reset for `email`: if an account has the address, a code is mailed
    /// to it. The answer is the same, and as quick, either way: the lookup runs after it.
    pub fn request_password_reset(self: &Arc<Self>, email: &str) -> Result<()> {
        let email = Email::parse(email)?;
        let service = self.clone();
        tokio::spawn(
            async move {
                if let Err(error) = service.mail_reset_code(&email).await {
                    tracing::warn!(error = %error.report(), "failed to start a password reset");
                }
            }
            .instrument(tracing::Span::current()),
        );
        Ok(())
    }

    /// Sets a new password with a reset code: every session and app token ends, the address
    /// counts as proved (the code reached it), and `customers.password_changed` is sent.
    #[tracing::instrument(skip_all)]
    pub async fn confirm_password_reset(&self, token: &str, new_password: &str) -> Result<()> {
        // The password is checked first, so a weak one does not use up the code.
        let password = Password::parse(new_password)?;
        let code = self.take(token, &[CodePurpose::PasswordReset]).await?;
        let customer = self.code_owner(&code).await?;
        let hash = hash_password(password).await?;
        let event = CustomerPasswordChanged {
            customer_id: customer.id,
            email: customer.email.clone(),
            name: customer.name.clone(),
        };
        self.repo
            .update_password(customer.id, &hash, None, vec![Outgoing::new(&event)])
            .await?;
        // Access tokens already handed out end with their sessions, not when they expire.
        self.revoked.end_sessions(customer.id, self.clock.now());
        if !customer.email_verified {
            self.repo
                .set_verified(customer.id, None, vec![updated(&customer, None)])
                .await?;
        }
        tracing::info!(customer_id = %customer.id, "password reset; every session revoked");
        Ok(())
    }

    /// Proves an address with its code: the account's own (it counts as verified from now on)
    /// or a new one it asked to change to (it switches to it now).
    #[tracing::instrument(skip_all)]
    pub async fn verify(&self, token: &str) -> Result<common::api::Profile> {
        let code = self
            .take(token, &[CodePurpose::Verify, CodePurpose::ChangeEmail])
            .await?;
        let customer = self.code_owner(&code).await?;
        let new_email = match (code.purpose, code.new_email) {
            (CodePurpose::ChangeEmail, Some(new_email)) => Some(new_email),
            // A verification code proves the address it went to, which must still be the
            // account's.
            (_, Some((_, key))) if key != customer.email_key => {
                return Err(Error::Conflict(
                    "this code was sent to an address the account no longer has".into(),
                ))
            }
            _ => None,
        };
        let event = updated(
            &customer,
            new_email.as_ref().map(|(email, _)| email.as_str()),
        );
        let verified = self
            .repo
            .set_verified(customer.id, new_email, vec![event])
            .await?;
        tracing::info!(customer_id = %customer.id, "e-mail address verified");
        self.profile_of(&verified).await
    }

    /// Mails the code again: for a change of address waiting for one, else for the account's
    /// own address; `Conflict` when nothing waits for proof.
    #[tracing::instrument(skip(self))]
    pub async fn resend_verification(&self, id: Uuid) -> Result<()> {
        let customer = self.existing(id).await?;
        let pending = self
            .repo
            .code_of(id, CodePurpose::ChangeEmail, self.clock.now())
            .await?;
        if let Some((email, _)) = pending.and_then(|code| code.new_email) {
            let email = Email::parse(&email)?;
            self.limiter.mail_code(None, &[email.as_str()]).await?;
            return self.mail_verification_code(&customer, Some(&email)).await;
        }
        if customer.email_verified || !self.verification_required() {
            return Err(Error::Conflict(
                "your e-mail address is verified already, and no change of address waits for a code"
                    .into(),
            ));
        }
        self.limiter.mail_code(None, &[&customer.email]).await?;
        self.mail_verification_code(&customer, None).await
    }

    /// Asks to change `customer`'s address to `email`: a code goes there, and the current
    /// address is told. The account keeps its address until the code is confirmed.
    pub(super) async fn request_email_change(
        &self,
        customer: &Customer,
        email: &str,
    ) -> Result<()> {
        let email = Email::parse(email)?;
        if email.key() == customer.email_key {
            return Err(Error::Conflict(
                "this is your e-mail address already".into(),
            ));
        }
        if self.repo.by_email_key(&email.key()).await?.is_some() {
            return Err(Error::Conflict(
                "an account with this e-mail address exists".into(),
            ));
        }
        self.limiter
            .mail_code(None, &[email.as_str(), &customer.email])
            .await?;
        self.mail_verification_code(customer, Some(&email)).await
    }

    /// Stores a new verification code for `customer` and sends it: to `new_email` for a change
    /// of address, else to the account's own address.
    pub(super) async fn mail_verification_code(
        &self,
        customer: &Customer,
        new_email: Option<&Email>,
    ) -> Result<()> {
        let (token, token_hash) = new_mail_code();
        let expires_at = self.clock.now() + VERIFY_CODE_TTL;
        let (purpose, to, key) = match new_email {
            Some(email) => (
                CodePurpose::ChangeEmail,
                email.as_str().to_owned(),
                email.key(),
            ),
            None => (
                CodePurpose::Verify,
                customer.email.clone(),
                customer.email_key.clone(),
            ),
        };
        let event = CustomerVerificationRequested {
            customer_id: customer.id,
            email: to.clone(),
            name: customer.name.clone(),
            token,
            expires_at,
            previous_email: new_email.map(|_| customer.email.clone()),
        };
        let code = StoredCode {
            token_hash,
            customer_id: customer.id,
            purpose,
            new_email: Some((to, key)),
            expires_at,
        };
        self.repo.put_code(&code, vec![Outgoing::new(&event)]).await
    }

    /// Mails a reset code to the account with `email`, if there is one.
    async fn mail_reset_code(&self, email: &Email) -> Result<()> {
        let Some(customer) = self.repo.by_email_key(&email.key()).await? else {
            tracing::info!("a password reset was asked for an address no account has");
            return Ok(());
        };
        let (token, token_hash) = new_mail_code();
        let expires_at = self.clock.now() + RESET_CODE_TTL;
        let event = CustomerPasswordResetRequested {
            customer_id: customer.id,
            email: customer.email.clone(),
            name: customer.name.clone(),
            token,
            expires_at,
        };
        let code = StoredCode {
            token_hash,
            customer_id: customer.id,
            purpose: CodePurpose::PasswordReset,
            new_email: None,
            expires_at,
        };
        self.repo
            .put_code(&code, vec![Outgoing::new(&event)])
            .await?;
        tracing::info!(customer_id = %customer.id, "password reset code sent");
        Ok(())
    }

    /// Takes (uses up) the code `token` if it is valid for one of `purposes`.
    async fn take(&self, token: &str, purposes: &[CodePurpose]) -> Result<StoredCode> {
        self.repo
            .take_code(&hash_secret(token.trim()), purposes, self.clock.now())
            .await?
            .ok_or_else(|| Error::Unauthorized(CODE_NOT_VALID.into()))
    }

    /// The customer a code belongs to; a code outliving its account is not valid.
    async fn code_owner(&self, code: &StoredCode) -> Result<Customer> {
        self.repo
            .by_id(code.customer_id)
            .await?
            .ok_or_else(|| Error::Unauthorized(CODE_NOT_VALID.into()))
    }
}

/// `customers.updated` for `customer` once verified, at `new_email` if it switches.
fn updated(customer: &Customer, new_email: Option<&str>) -> Outgoing {
    Outgoing::new(&CustomerUpdated {
        customer_id: customer.id,
        email: new_email.unwrap_or(&customer.email).to_owned(),
        name: customer.name.clone(),
        activity_mail: customer.notifications.activity_mail,
        email_verified: true,
    })
}

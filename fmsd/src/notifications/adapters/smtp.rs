//! The real-stack mailer: mails go to an SMTP server through lettre's pooled async transport.
//!
//! `[smtp] tls` picks how the connection is protected: `none` (plain text, for a catcher on
//! loopback), `starttls` (upgrade, refused if the server cannot) or `tls` (implicit TLS, the
//! submissions port). Credentials are optional and never logged.
//!
//! Failures are sorted for the consumer: a server that cannot be reached, a 4xx answer or a
//! refused login is `Unavailable` (retried with backoff for as long as the consumer's retry
//! span, then dead-lettered); a 5xx answer to this mail (an unknown or refused recipient, say) is `Invalid`
//! (dead-lettered at once, since sending it again would be refused again).

use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::PoolConfig;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use secrecy::ExposeSecret;

use super::message;
use crate::error::{Error, Result};
use crate::notifications::domain::Mail;
use crate::notifications::ports::Mailer;
use crate::settings::{read_secret, SmtpSettings};

/// How long connecting and each SMTP command may take before the send counts as failed.
const TIMEOUT: Duration = Duration::from_secs(10);

/// How long one mail may take in all, from taking a pooled connection (which lettre checks
/// with a command of its own) to the server's acceptance. lettre's timeout covers each read
/// and write, not a server that accepted the connection and then stopped answering; this
/// deadline does, and the consumer retries the mail (and logs it).
const SEND_DEADLINE: Duration = TIMEOUT;

/// How many connections the pool keeps open to the server at most.
const MAX_CONNECTIONS: u32 = 4;

/// How long an unused pooled connection stays open.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// The `[smtp] tls` values the mailer understands.
const TLS_MODES: &str = "none, starttls or tls";

/// 5xx replies that are about our login or the session, not about this mail: sending again
/// may work once the server or the settings are fixed, so they are not the mail's fault.
const SESSION_REPLIES: [u16; 4] = [530, 534, 535, 538];

/// Sends mail through an SMTP server.
pub struct SmtpMailer {
    /// lettre's pooled transport; connections are reused between mails.
    transport: AsyncSmtpTransport<Tokio1Executor>,
    /// `host:port`, for error messages.
    server: String,
    /// The `From:` of every mail.
    from: Mailbox,
}

impl std::fmt::Debug for SmtpMailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpMailer")
            .field("server", &self.server)
            .finish_non_exhaustive()
    }
}

impl SmtpMailer {
    /// A mailer sending through `host:port` as `settings` say, with `from` as the `From:`.
    /// Connects lazily, on the first mail; must be called inside a tokio runtime (the pool
    /// spawns its clean-up task).
    pub fn new(host: &str, port: u16, settings: &SmtpSettings, from: &str) -> anyhow::Result<Self> {
        let from = message::parse_from(from)?;
        let builder = match settings.tls.as_str() {
            "none" => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
            "starttls" => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)
                .with_context(|| format!("failed to set up STARTTLS for {host}"))?,
            "tls" => AsyncSmtpTransport::<Tokio1Executor>::relay(host)
                .with_context(|| format!("failed to set up TLS for {host}"))?,
            other => anyhow::bail!("smtp.tls {other:?} is not one of {TLS_MODES}"),
        };
        let mut builder = builder.port(port).timeout(Some(TIMEOUT)).pool_config(
            PoolConfig::new()
                .max_size(MAX_CONNECTIONS)
                .idle_timeout(IDLE_TIMEOUT),
        );
        if let Some(credentials) = credentials(settings)? {
            builder = builder.credentials(credentials);
        }
        // The pool spawns its clean-up task on the current runtime; without one, say so
        // instead of panicking.
        tokio::runtime::Handle::try_current()
            .context("the SMTP mailer must be built inside a tokio runtime")?;
        Ok(Self {
            transport: builder.build(),
            server: format!("{host}:{port}"),
            from,
        })
    }
}

/// The login from `settings`: a username needs a password and a password a username.
fn credentials(settings: &SmtpSettings) -> anyhow::Result<Option<Credentials>> {
    let password = read_secret(
        settings.password.as_ref(),
        settings.password_file.as_deref(),
    )
    .context("failed to read smtp.password")?;
    match (&settings.username, password) {
        (Some(username), Some(password)) => Ok(Some(Credentials::new(
            username.clone(),
            password.expose_secret().to_owned(),
        ))),
        (None, None) => Ok(None),
        (Some(_), None) => {
            anyhow::bail!("smtp.username is set but neither smtp.password nor smtp.password_file")
        }
        (None, Some(_)) => anyhow::bail!("a smtp password is set but smtp.username is not"),
    }
}

/// Sorts a lettre failure into what the consumer does with it.
fn classify(error: lettre::transport::smtp::Error, server: &str) -> Error {
    let code = error.status().map(u16::from);
    let permanent_for_this_mail =
        error.is_permanent() && !code.is_some_and(|code| SESSION_REPLIES.contains(&code));
    let error = anyhow::Error::new(error);
    if permanent_for_this_mail {
        Error::Invalid(format!(
            "the SMTP server {server} refused the mail: {error}"
        ))
    } else {
        Error::unavailable(error.context(format!("failed to send a mail through {server}")))
    }
}

#[async_trait]
impl Mailer for SmtpMailer {
    #[tracing::instrument(skip_all, fields(server = %self.server, message_id = %mail.message_id))]
    async fn send(&self, mail: &Mail) -> Result<()> {
        let message = message::build(mail, &self.from)?;
        match tokio::time::timeout(SEND_DEADLINE, self.transport.send(message)).await {
            Ok(sent) => sent
                .map(|_| ())
                .map_err(|error| classify(error, &self.server)),
            Err(_) => Err(Error::unavailable(anyhow::anyhow!(
                "the SMTP server {} did not accept the mail within {} s",
                self.server,
                SEND_DEADLINE.as_secs()
            ))),
        }
    }
}

#[async_trait]
impl crate::health::Probe for SmtpMailer {
    /// Opens a connection and says hello (`EHLO`, then `NOOP`), as a send would start.
    async fn probe(&self) -> Result<()> {
        let greeted = self
            .transport
            .test_connection()
            .await
            .map_err(|error| classify(error, &self.server))?;
        if greeted {
            Ok(())
        } else {
            Err(Error::unavailable(anyhow::anyhow!(
                "the SMTP server {} did not answer a NOOP",
                self.server
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use secrecy::SecretString;

    use super::*;

    fn settings(tls: &str) -> SmtpSettings {
        SmtpSettings {
            tls: tls.into(),
            ..SmtpSettings::default()
        }
    }

    #[tokio::test]
    async fn every_tls_mode_builds() {
        for tls in ["none", "starttls", "tls"] {
            SmtpMailer::new("localhost", 2525, &settings(tls), "fms <a@example.com>").unwrap();
        }
    }

    #[tokio::test]
    async fn an_unknown_tls_mode_names_the_allowed_ones() {
        let error = SmtpMailer::new("localhost", 25, &settings("ssl"), "a@example.com")
            .unwrap_err()
            .to_string();
        assert!(error.contains("\"ssl\""), "{error}");
        assert!(error.contains(TLS_MODES), "{error}");
    }

    #[tokio::test]
    async fn a_bad_from_is_refused() {
        let error =
            SmtpMailer::new("localhost", 25, &settings("none"), "not a mailbox").unwrap_err();
        assert!(error.to_string().contains("mail.from"), "{error}");
    }

    #[test]
    fn credentials_need_both_halves() {
        let mut settings = settings("none");
        assert!(credentials(&settings).unwrap().is_none());
        settings.username = Some("fms".into());
        let error = credentials(&settings).unwrap_err().to_string();
        assert!(error.contains("smtp.password"), "{error}");
        settings.username = None;
        settings.password = Some(SecretString::from("hunter2"));
        assert!(credentials(&settings).is_err());
    }

    #[test]
    fn the_password_may_come_from_a_file() {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        writeln!(file, "hunter2").unwrap();
        let settings = SmtpSettings {
            username: Some("fms".into()),
            password_file: Some(file.path().to_owned()),
            ..settings("none")
        };
        assert!(credentials(&settings).unwrap().is_some());
        let both = SmtpSettings {
            password: Some(SecretString::from("hunter2")),
            ..settings
        };
        assert!(credentials(&both).is_err());
    }

    #[tokio::test]
    async fn the_debug_form_holds_no_secret() {
        let settings = SmtpSettings {
            username: Some("fms".into()),
            password: Some(SecretString::from("hunter2")),
            ..settings("none")
        };
        let mailer = SmtpMailer::new("localhost", 25, &settings, "a@example.com").unwrap();
        let debug = format!("{mailer:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
    }
}

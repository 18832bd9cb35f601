//! The SMTP mailer against maildev (read back through its HTTP API), and how it sorts
//! failures: a closed port and a 4xx are `Unavailable`, a 5xx for the recipient is `Invalid`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use fmsd::error::Error;
use fmsd::notifications::adapters::smtp::SmtpMailer;
use fmsd::notifications::domain::Template;
use fmsd::notifications::ports::Mailer;
use fmsd::settings::SmtpSettings;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use super::{
    customer, mailer_contract, recipient, server, service_contract, Mailbox, Received, FROM,
};
use crate::support;

/// maildev's HTTP API.
pub struct Maildev {
    /// `FMS_TEST_MAILDEV_URL`.
    url: String,
    /// A client for it.
    client: reqwest::Client,
}

impl Maildev {
    /// The maildev the tests are pointed at.
    pub fn from_env() -> Self {
        Self {
            url: support::require("FMS_TEST_MAILDEV_URL"),
            client: reqwest::Client::new(),
        }
    }
}

/// The addresses in a maildev address list (`[{"address": ..., "name": ...}]`).
fn addresses(list: &Value) -> Vec<String> {
    list.as_array()
        .into_iter()
        .flatten()
        .filter_map(|mailbox| mailbox["address"].as_str())
        .map(str::to_owned)
        .collect()
}

impl Mailbox for Maildev {
    async fn received(&self, address: &str) -> Vec<Received> {
        let mails: Vec<Value> = self
            .client
            .get(format!("{}/email", self.url))
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .unwrap_or_else(|error| panic!("maildev at {} does not answer: {error}", self.url))
            .json()
            .await
            .unwrap();
        mails
            .iter()
            .filter(|mail| addresses(&mail["to"]).iter().any(|to| to == address))
            .map(|mail| Received {
                subject: mail["subject"].as_str().unwrap_or_default().to_owned(),
                to: addresses(&mail["to"]),
                from: addresses(&mail["from"]).join(", "),
                message_id: mail["headers"]["message-id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                text: mail["text"].as_str().unwrap_or_default().to_owned(),
                html: mail["html"].as_str().unwrap_or_default().to_owned(),
            })
            .collect()
    }
}

/// Plain-text SMTP, as a catcher on loopback speaks it.
fn plain() -> SmtpSettings {
    SmtpSettings {
        tls: "none".into(),
        ..SmtpSettings::default()
    }
}

/// A mailer sending into maildev.
pub fn maildev_mailer() -> Arc<dyn Mailer> {
    let host = support::require("FMS_TEST_SMTP_HOST");
    let port = support::require("FMS_TEST_SMTP_PORT")
        .parse()
        .expect("FMS_TEST_SMTP_PORT is a port number");
    Arc::new(SmtpMailer::new(&host, port, &plain(), FROM).unwrap())
}

#[tokio::test]
async fn smtp_mailer_keeps_the_mailer_contract() {
    mailer_contract(maildev_mailer(), &Maildev::from_env()).await;
}

#[tokio::test]
async fn service_over_smtp_and_sqlite_mails_each_event_once() {
    let dir = tempfile::tempdir().unwrap();
    let repo = super::sqlite_repo(&dir.path().join("notifications.db")).await;
    service_contract(maildev_mailer(), Arc::new(repo), &Maildev::from_env()).await;
}

#[tokio::test]
async fn smtp_mailer_on_a_closed_port_is_unavailable_at_once() {
    let mailer = SmtpMailer::new("127.0.0.1", 1, &plain(), FROM).unwrap();
    let mail =
        Template::Welcome.render(&support::unique("evt-"), &customer(&recipient()), &server());
    let started = Instant::now();
    let error = mailer.send(&mail).await.unwrap_err();
    assert!(matches!(error, Error::Unavailable(_)), "{error:?}");
    assert!(error.is_transient());
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

/// An SMTP server on a free port that accepts everything except `command`, which it answers
/// with `reply`; returns its port.
async fn scripted_server(command: &'static str, reply: &'static str) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut lines = BufReader::new(read).lines();
                write.write_all(b"220 scripted ESMTP\r\n").await?;
                let mut in_data = false;
                while let Some(line) = lines.next_line().await? {
                    let answer = if in_data {
                        in_data = line != ".";
                        if in_data {
                            continue;
                        }
                        "250 queued"
                    } else if line.to_ascii_uppercase().starts_with(command) {
                        reply
                    } else if line.eq_ignore_ascii_case("DATA") {
                        in_data = true;
                        "354 go on"
                    } else if line.eq_ignore_ascii_case("QUIT") {
                        write.write_all(b"221 bye\r\n").await?;
                        break;
                    } else {
                        "250 ok"
                    };
                    write.write_all(format!("{answer}\r\n").as_bytes()).await?;
                }
                std::io::Result::Ok(())
            });
        }
    });
    port
}

/// What sending one mail through a server that answers `command` with `reply` gives.
async fn send_through(command: &'static str, reply: &'static str) -> Error {
    let port = scripted_server(command, reply).await;
    let mailer = SmtpMailer::new("127.0.0.1", port, &plain(), FROM).unwrap();
    let mail =
        Template::Welcome.render(&support::unique("evt-"), &customer(&recipient()), &server());
    mailer.send(&mail).await.unwrap_err()
}

#[tokio::test]
async fn smtp_mailer_calls_a_refused_recipient_invalid() {
    let error = send_through("RCPT", "550 5.1.1 no such user").await;
    assert!(matches!(error, Error::Invalid(_)), "{error:?}");
    assert!(!error.is_transient());
}

#[tokio::test]
async fn smtp_mailer_calls_a_4xx_unavailable() {
    let error = send_through("RCPT", "451 4.3.0 try again later").await;
    assert!(matches!(error, Error::Unavailable(_)), "{error:?}");
}

#[tokio::test]
async fn smtp_mailer_calls_a_refused_login_unavailable_not_the_mails_fault() {
    let error = send_through("MAIL", "530 5.7.0 authentication required").await;
    assert!(matches!(error, Error::Unavailable(_)), "{error:?}");
}

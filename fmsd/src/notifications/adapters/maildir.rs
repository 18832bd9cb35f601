//! The embedded mailer: each mail becomes an `.eml` file under `<data-dir>/mail/`, written by
//! lettre's file transport, for a person or a test to read.

use std::path::{Path, PathBuf};

use anyhow::Context;
use async_trait::async_trait;
use lettre::message::Mailbox;
use lettre::{AsyncFileTransport, AsyncTransport, Tokio1Executor};

use super::message;
use crate::error::{Error, Result};
use crate::notifications::domain::Mail;
use crate::notifications::ports::Mailer;

/// Writes mails as `.eml` files.
pub struct MaildirMailer {
    /// lettre's transport over the folder.
    transport: AsyncFileTransport<Tokio1Executor>,
    /// The folder, for messages.
    dir: PathBuf,
    /// The `From:` of every mail.
    from: Mailbox,
}

impl std::fmt::Debug for MaildirMailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MaildirMailer")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl MaildirMailer {
    /// A mailer writing into `dir` (created if missing).
    pub fn open(dir: &Path, from: &str) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("failed to create {}", dir.display()))?;
        Ok(Self {
            transport: AsyncFileTransport::new(dir),
            dir: dir.to_owned(),
            from: message::parse_from(from)?,
        })
    }
}

#[async_trait]
impl Mailer for MaildirMailer {
    async fn send(&self, mail: &Mail) -> Result<()> {
        let message = message::build(mail, &self.from)?;
        self.transport.send(message).await.map_err(|error| {
            Error::unavailable(anyhow::anyhow!(error).context(format!(
                "failed to write a mail into {}",
                self.dir.display()
            )))
        })?;
        Ok(())
    }
}

#[async_trait]
impl crate::health::Probe for MaildirMailer {
    async fn probe(&self) -> Result<()> {
        let metadata = tokio::fs::metadata(&self.dir).await.map_err(|error| {
            Error::unavailable(anyhow::anyhow!(error).context(format!(
                "failed to look at the mail folder {}",
                self.dir.display()
            )))
        })?;
        if metadata.is_dir() && !metadata.permissions().readonly() {
            Ok(())
        } else {
            Err(Error::unavailable(anyhow::anyhow!(
                "the mail folder {} is not a writable folder",
                self.dir.display()
            )))
        }
    }
}

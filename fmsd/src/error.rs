//! The one error type every service and adapter speaks: the cases a caller acts on.
//!
//! Adapters map their driver's errors into it (a lost connection is [`Error::Unavailable`], a
//! unique-key violation is [`Error::Conflict`]) so no driver type leaks past them. The gateway
//! turns it into a status code in one `match` (`gateway::error`).

use std::time::Duration;

/// What went wrong, in the words a caller acts on.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request itself breaks a rule, whatever is stored; the message names it.
    #[error("{0}")]
    Invalid(String),
    /// Missing or wrong credentials.
    #[error("{0}")]
    Unauthorized(String),
    /// A valid caller without the right to do this.
    #[error("{0}")]
    Forbidden(String),
    /// Nothing there, or nothing the caller may see.
    #[error("{0}")]
    NotFound(String),
    /// What is stored does not allow it: the name is taken, a folder stands where a file is
    /// needed, or the request contradicts an earlier one.
    #[error("{0}")]
    Conflict(String),
    /// It existed but is used up: an expired link, or one with no downloads left.
    #[error("{0}")]
    Gone(String),
    /// The request body, or the file it announces, is larger than allowed.
    #[error("{0}")]
    TooLarge(String),
    /// The owner's quota would be exceeded.
    #[error("{0}")]
    QuotaExceeded(String),
    /// Uploaded bytes do not match the announced size or checksum.
    #[error("{0}")]
    Integrity(String),
    /// The server's disk has no room for this write (or would fall below its free-space
    /// floor); deleting frees room, and the same call works once there is.
    #[error("{0}")]
    InsufficientStorage(String),
    /// The client stopped sending before its request had arrived whole; sending it again
    /// may work.
    #[error("{0}")]
    TimedOut(String),
    /// Too many attempts; try again after the given time.
    #[error("too many attempts; try again in {} s", retry_after.as_secs().max(1))]
    RateLimited {
        /// How long to wait.
        retry_after: Duration,
    },
    /// A store or the bus cannot be reached; the same call may work later.
    #[error("a backing store is unavailable")]
    Unavailable(#[source] anyhow::Error),
    /// A fault on our side.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

/// A result whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Wraps an unexpected failure.
    pub fn internal(error: impl Into<anyhow::Error>) -> Self {
        Self::Internal(error.into())
    }

    /// Wraps an unreachable store.
    pub fn unavailable(error: impl Into<anyhow::Error>) -> Self {
        Self::Unavailable(error.into())
    }

    /// The message with its whole cause chain, for logs (never for a client).
    pub fn report(&self) -> String {
        let mut text = self.to_string();
        let mut source = std::error::Error::source(self);
        while let Some(cause) = source {
            text.push_str(": ");
            text.push_str(&cause.to_string());
            source = cause.source();
        }
        text
    }

    /// What a write answers when the disk is full.
    pub fn disk_full() -> Self {
        Self::InsufficientStorage(
            "the server's disk is full; delete files or ask the operator to free space".into(),
        )
    }

    /// Whether retrying the same call later may succeed (a consumer retries these).
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::Unavailable(_)
                | Self::Internal(_)
                | Self::RateLimited { .. }
                | Self::InsufficientStorage(_)
        )
    }
}

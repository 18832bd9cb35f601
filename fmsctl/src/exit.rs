//! How an error becomes an exit code, so scripts can tell "log in first" from "not there".
//!
//! | code | meaning |
//! | --- | --- |
//! | 0 | success (also when stdout is a closed pipe, as in `fmsctl ls \| head`) |
//! | 1 | anything else: network, server fault, local file problem |
//! | 2 | usage: bad flags or arguments (clap's own errors exit 2 as well) |
//! | 3 | not logged in, or authentication failed (401, no stored credentials) |
//! | 4 | not found (404) |
//! | 5 | conflict: already exists, or the state does not allow it (409) |
//! | 6 | quota exceeded (server code `quota_exceeded`) |
//! | 7 | forbidden: the share or link does not allow it (403), e.g. a viewer deleting |
//! | 8 | gone: the link expired or has no downloads left (410) |
//!
//! The same table is printed at the end of `fmsctl --help` ([`HELP`]).

use std::process::ExitCode;

use common::api::codes;

use crate::client::ClientError;

/// The exit-code table as `fmsctl --help` prints it.
pub const HELP: &str = "\
Exit codes:
  0  success
  1  any other error (network, server fault, local file)
  2  usage error (bad flags or arguments)
  3  not logged in, or authentication failed
  4  not found
  5  conflict: already exists, or not allowed in this state
  6  quota exceeded
  7  forbidden: the share or link does not allow it
  8  gone: the link expired or has no downloads left";

/// The exit codes `fmsctl` uses; see the module documentation for the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 0: it worked.
    Success = 0,
    /// 1: anything not listed below.
    Failure = 1,
    /// 2: bad flags or arguments.
    Usage = 2,
    /// 3: not logged in, or the server refused the credentials.
    Auth = 3,
    /// 4: nothing at that path.
    NotFound = 4,
    /// 5: it already exists, or the state does not allow it.
    Conflict = 5,
    /// 6: the quota would be exceeded.
    Quota = 6,
    /// 7: the share or link does not allow it (a viewer writing, listing a file request).
    Forbidden = 7,
    /// 8: the link expired or has no downloads left.
    Gone = 8,
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> Self {
        ExitCode::from(exit as u8)
    }
}

/// A mistake in how `fmsctl` was called that clap cannot see by itself (exit code 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// Something named on the command line that is not there, found out without asking the server
/// about it directly (no share by that name, no share of that path with that person): exit 4.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct NotFoundError(pub String);

/// Picks the exit code for `error` by looking through its whole cause chain.
pub fn classify(error: &anyhow::Error) -> Exit {
    for cause in error.chain() {
        if cause.downcast_ref::<UsageError>().is_some() {
            return Exit::Usage;
        }
        if cause.downcast_ref::<NotFoundError>().is_some() {
            return Exit::NotFound;
        }
        if let Some(client_error) = cause.downcast_ref::<ClientError>() {
            return classify_client_error(client_error);
        }
    }
    Exit::Failure
}

fn classify_client_error(error: &ClientError) -> Exit {
    match error {
        ClientError::NotLoggedIn { .. } | ClientError::SessionExpired { .. } => Exit::Auth,
        ClientError::Api { status, code, .. } => {
            if code == codes::QUOTA_EXCEEDED {
                Exit::Quota
            } else if *status == 401 || code == codes::UNAUTHORIZED {
                Exit::Auth
            } else if *status == 404 || code == codes::NOT_FOUND {
                Exit::NotFound
            } else if *status == 409 || code == codes::CONFLICT {
                Exit::Conflict
            } else if *status == 403 || code == codes::FORBIDDEN {
                Exit::Forbidden
            } else if *status == 410 || code == codes::GONE {
                Exit::Gone
            } else {
                Exit::Failure
            }
        }
        ClientError::Connect { .. }
        | ClientError::Transport { .. }
        | ClientError::Decode { .. }
        | ClientError::Store(_) => Exit::Failure,
    }
}

/// Whether the error is a write to a closed stdout, which `main` treats as success.
pub fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io_error| io_error.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api_error(status: u16, code: &str) -> anyhow::Error {
        anyhow::Error::new(ClientError::Api {
            status,
            code: code.to_string(),
            message: "m".to_string(),
        })
    }

    #[test]
    fn server_answers_map_to_their_codes() {
        assert_eq!(classify(&api_error(401, "unauthorized")), Exit::Auth);
        assert_eq!(classify(&api_error(404, "not_found")), Exit::NotFound);
        assert_eq!(classify(&api_error(409, "conflict")), Exit::Conflict);
        assert_eq!(classify(&api_error(413, "quota_exceeded")), Exit::Quota);
        assert_eq!(classify(&api_error(403, "forbidden")), Exit::Forbidden);
        assert_eq!(classify(&api_error(410, "gone")), Exit::Gone);
        assert_eq!(
            classify(&api_error(413, "payload_too_large")),
            Exit::Failure
        );
        assert_eq!(classify(&api_error(500, "internal")), Exit::Failure);
    }

    #[test]
    fn context_does_not_hide_the_cause() {
        let error = api_error(404, "not_found").context("/a.txt");
        assert_eq!(classify(&error), Exit::NotFound);
        let usage = anyhow::Error::new(UsageError("bad".into())).context("while parsing");
        assert_eq!(classify(&usage), Exit::Usage);
        let missing = anyhow::Error::new(NotFoundError("no share".into())).context("shared:x");
        assert_eq!(classify(&missing), Exit::NotFound);
    }

    #[test]
    fn broken_pipe_is_found_in_the_chain() {
        let error = anyhow::Error::new(std::io::Error::from(std::io::ErrorKind::BrokenPipe))
            .context("failed to write to stdout");
        assert!(is_broken_pipe(&error));
        assert!(!is_broken_pipe(&anyhow::anyhow!("other")));
    }
}

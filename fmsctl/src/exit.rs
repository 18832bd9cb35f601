//! How an error becomes an exit code, so scripts can tell "log in first" from "not there".
//!
//! The codes and their table are in [`crate::error`]; this module looks through an error's
//! cause chain for the kinds it knows (fmsctl's own usage and not-found errors, the client's
//! errors) and picks the code.

use common::api::codes;

use crate::client::ClientError;
use crate::error::{ConflictError, Exit, NotFoundError, UsageError};

/// Picks the exit code for `error` by looking through its whole cause chain.
pub fn classify(error: &anyhow::Error) -> Exit {
    for cause in error.chain() {
        if cause.downcast_ref::<UsageError>().is_some() {
            return Exit::Usage;
        }
        if cause.downcast_ref::<NotFoundError>().is_some() {
            return Exit::NotFound;
        }
        if cause.downcast_ref::<ConflictError>().is_some() {
            return Exit::Conflict;
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
            } else if *status == 429 || code == codes::RATE_LIMITED {
                Exit::RateLimited
            } else if *status == 507 || code == codes::INSUFFICIENT_STORAGE {
                Exit::NoRoom
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
        assert_eq!(
            classify(&api_error(507, "insufficient_storage")),
            Exit::NoRoom
        );
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

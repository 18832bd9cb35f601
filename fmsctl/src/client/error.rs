//! What can go wrong in a call, and how a raw HTTP answer or `reqwest` error becomes that.

use common::api::{codes, ErrorBody};
use reqwest::{Response, StatusCode};

/// Why a call failed, in terms a caller (and [`crate::exit`]) can act on.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server answered with an error status.
    #[error("{message}")]
    Api {
        /// The HTTP status.
        status: u16,
        /// The server's error code (one of [`codes`]).
        code: String,
        /// The server's sentence for people.
        message: String,
    },
    /// No credentials are stored for this server.
    #[error("not logged in to {server}; run `fmsctl login --email <EMAIL>`")]
    NotLoggedIn {
        /// The server URL.
        server: String,
    },
    /// The refresh token was refused: the session ended or was revoked.
    #[error("the session with {server} has expired; run `fmsctl login` again")]
    SessionExpired {
        /// The server URL.
        server: String,
    },
    /// The server could not be reached at all.
    #[error("cannot reach {server}: {reason}")]
    Connect {
        /// The server URL.
        server: String,
        /// The underlying cause, e.g. `connection refused`.
        reason: String,
    },
    /// The connection broke or timed out during a call.
    #[error("request to {server} failed: {reason}")]
    Transport {
        /// The server URL.
        server: String,
        /// The underlying cause.
        reason: String,
    },
    /// The server answered 2xx with a body that is not what the API promises.
    #[error("unexpected answer from {server}: {reason}")]
    Decode {
        /// The server URL.
        server: String,
        /// What did not parse.
        reason: String,
    },
    /// The credential store failed.
    #[error(transparent)]
    Store(#[from] anyhow::Error),
}

impl ClientError {
    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Api { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// Turns a failed `reqwest` call to `server` into a [`ClientError`] that names the server.
pub fn from_reqwest(server: &str, error: reqwest::Error) -> ClientError {
    let reason = root_cause(&error);
    if error.is_connect() {
        ClientError::Connect {
            server: server.to_string(),
            reason,
        }
    } else if error.is_timeout() {
        ClientError::Transport {
            server: server.to_string(),
            reason: "timed out".into(),
        }
    } else {
        ClientError::Transport {
            server: server.to_string(),
            reason,
        }
    }
}

/// Puts the path (or other subject) a server error is about in front of its message.
pub trait AtPath<T> {
    /// `/a.txt: no such file or folder` for a server answer; other errors (not logged in,
    /// unreachable) are not about the path and pass unchanged, as does a message that
    /// already names it.
    fn at_path(self, subject: &str) -> anyhow::Result<T>;
}

impl<T> AtPath<T> for Result<T, ClientError> {
    fn at_path(self, subject: &str) -> anyhow::Result<T> {
        self.map_err(|error| match &error {
            ClientError::Api { message, .. } if !message.contains(subject) => {
                anyhow::Error::new(error).context(subject.to_string())
            }
            _ => anyhow::Error::new(error),
        })
    }
}

/// Passes a 2xx answer through and turns any other into [`ClientError::Api`].
pub async fn check_status(response: Response) -> Result<Response, ClientError> {
    if response.status().is_success() {
        Ok(response)
    } else {
        Err(error_from_response(response).await)
    }
}

/// Reads an error answer's `{"error": {...}}` body, or describes the status when there is none.
pub async fn error_from_response(response: Response) -> ClientError {
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    match serde_json::from_str::<ErrorBody>(&text) {
        Ok(body) => ClientError::Api {
            status: status.as_u16(),
            code: body.error.code,
            message: in_flags(body.error.message),
        },
        Err(_) => ClientError::Api {
            status: status.as_u16(),
            code: code_for_status(status).to_string(),
            message: format!("the server answered {status}"),
        },
    }
}

/// What the server's sentences say in API parameters (`overwrite=replace`), said in fmsctl's
/// flags (`--overwrite`), which is what fmsctl's users type.
const IN_FLAGS: [(&str, &str); 2] = [
    (
        "upload with overwrite=replace to replace it",
        "add --overwrite to replace it",
    ),
    (
        "delete it with recursive=true to remove everything in it",
        "add -r to remove everything in it",
    ),
];

/// `message` with the API's parameters said as fmsctl's flags, as [`IN_FLAGS`] lists them.
pub fn in_flags(message: String) -> String {
    IN_FLAGS
        .iter()
        .fold(message, |message, (api, flags)| message.replace(api, flags))
}

/// The error code a status implies, for answers without a JSON body (a proxy's, say).
fn code_for_status(status: StatusCode) -> &'static str {
    match status.as_u16() {
        401 => codes::UNAUTHORIZED,
        403 => codes::FORBIDDEN,
        404 => codes::NOT_FOUND,
        409 => codes::CONFLICT,
        413 => codes::PAYLOAD_TOO_LARGE,
        422 => codes::INTEGRITY,
        429 => codes::RATE_LIMITED,
        503 => codes::UNAVAILABLE,
        400..=499 => codes::INVALID,
        _ => codes::INTERNAL,
    }
}

/// The innermost cause of a `reqwest` error, as people read it: `connection refused`.
fn root_cause(error: &reqwest::Error) -> String {
    let mut cause: &dyn std::error::Error = error;
    while let Some(source) = cause.source() {
        cause = source;
    }
    let text = cause.to_string();
    let text = match text.find(" (os error") {
        Some(index) => &text[..index],
        None => text.as_str(),
    };
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => "unknown error".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_without_a_body_get_a_code() {
        assert_eq!(code_for_status(StatusCode::NOT_FOUND), codes::NOT_FOUND);
        assert_eq!(code_for_status(StatusCode::BAD_REQUEST), codes::INVALID);
        assert_eq!(code_for_status(StatusCode::BAD_GATEWAY), codes::INTERNAL);
    }
}

//! The correlation id that ties a request, its log lines and the events it causes together.
//!
//! The gateway reads `x-correlation-id` (or makes one) and runs the request inside [`scope`];
//! a consumer runs each event's handler inside the envelope's id. Code deeper down asks
//! [`current`] instead of threading the id through every signature.

use std::future::Future;

/// The HTTP header that carries the correlation id, in and out.
pub const HEADER: &str = "x-correlation-id";

tokio::task_local! {
    static CORRELATION_ID: String;
}

/// Runs `future` with `id` as the current correlation id.
pub async fn scope<F: Future>(id: String, future: F) -> F::Output {
    CORRELATION_ID.scope(id, future).await
}

/// The correlation id of the request or event being handled, if any.
pub fn current() -> Option<String> {
    CORRELATION_ID.try_with(Clone::clone).ok()
}

/// A fresh correlation id, for work that no request started (sweeps, relays).
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn current_sees_the_scoped_id_and_nothing_outside() {
        assert_eq!(current(), None);
        let seen = scope("abc".into(), async { current() }).await;
        assert_eq!(seen.as_deref(), Some("abc"));
    }
}

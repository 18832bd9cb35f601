//! Deleting an account while its access token is busy: from the moment `DELETE /v1/me` has
//! answered, no request of that account succeeds, its links and shares are gone, and no
//! request answers 500 at any time.

use std::sync::Arc;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::json;
use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::fixtures::{mkdir, upload};
use crate::helpers::{spawn_app_with, TestApp, TestUser};
use crate::sharing_support::{create_link, public, send};

/// Clients sending requests with the account's token while it is deleted.
const N_CLIENTS: usize = 8;

/// What one request of the racing clients led to.
#[derive(Clone)]
struct Outcome {
    /// What it asked.
    what: String,
    /// When it was sent.
    sent_at: Instant,
    /// Its status.
    status: StatusCode,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_request_of_a_deleted_account_succeeds_once_the_deletion_answered() {
    let app = Arc::new(
        spawn_app_with(|settings| {
            // Logins race the deletion too; the limiter must not hide them.
            settings.auth.login_attempts_per_minute_per_ip = 100_000;
            settings.auth.login_attempts_per_minute_per_account = 100_000;
        })
        .await,
    );
    let user = app.register_and_login().await;
    assert_eq!(
        mkdir(&app, &user.token, "/docs", false).await.status(),
        StatusCode::CREATED
    );
    upload(&app, &user.token, "/docs/a.txt", b"some bytes").await;
    let link = create_link(&app, &user, json!({"path": "/docs/a.txt"})).await;

    let outcomes = Arc::new(Mutex::new(Vec::new()));
    let stop_at = Arc::new(Mutex::new(None::<Instant>));
    let mut clients = tokio::task::JoinSet::new();
    for client in 0..N_CLIENTS {
        let (app, user, outcomes, stop_at) =
            (app.clone(), user.clone(), outcomes.clone(), stop_at.clone());
        clients.spawn(async move {
            for n in 0.. {
                if stop_at.lock().await.is_some_and(|at| Instant::now() > at) {
                    return;
                }
                let outcome = one_request(&app, &user, client, n).await;
                outcomes.lock().await.push(outcome);
            }
        });
    }
    // Let the clients get going, then delete the account under them.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let deleted = app
        .delete(
            "/v1/me",
            Some(&user.token),
            Some(&json!({"password": user.password})),
        )
        .await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let answered_at = Instant::now();
    let through_link = send(public(&app, Method::GET, &link.token, "", None)).await;
    assert_eq!(through_link.status(), StatusCode::NOT_FOUND);
    // Keep going while the files service hears of the deletion and purges the account.
    *stop_at.lock().await = Some(answered_at + Duration::from_secs(2));
    while clients.join_next().await.is_some() {}

    let outcomes = outcomes.lock().await.clone();
    let failed: Vec<_> = outcomes
        .iter()
        .filter(|outcome| outcome.status.is_server_error())
        .map(Outcome::describe)
        .collect();
    assert!(failed.is_empty(), "requests that answered 5xx: {failed:#?}");
    let after: Vec<_> = outcomes
        .iter()
        .filter(|outcome| outcome.sent_at > answered_at)
        .collect();
    assert!(
        after.len() > N_CLIENTS,
        "too few requests after the deletion"
    );
    let not_refused: Vec<_> = after
        .iter()
        .filter(|outcome| outcome.status != StatusCode::UNAUTHORIZED)
        .map(|outcome| outcome.describe())
        .collect();
    assert!(
        not_refused.is_empty(),
        "requests sent after the deletion answered that were not refused with 401: \
         {not_refused:#?}"
    );
}

impl Outcome {
    /// `mkdir /docs/c1-5: 201 Created`.
    fn describe(&self) -> String {
        format!("{}: {}", self.what, self.status)
    }
}

/// The `n`-th request of client `client`: writes, reads and logins, in turn.
async fn one_request(app: &TestApp, user: &TestUser, client: usize, n: u32) -> Outcome {
    let sent_at = Instant::now();
    let token = Some(user.token.as_str());
    let (what, response) = match n % 5 {
        0 => {
            let path = format!("/docs/c{client}-{n}");
            let body = json!({"path": path, "parents": true});
            (
                format!("mkdir {path}"),
                app.post("/v1/folders", token, &body).await,
            )
        }
        1 => (
            "list /docs".to_owned(),
            app.get("/v1/files?path=/docs", token).await,
        ),
        2 => {
            let path = format!("/docs/u{client}-{n}.txt");
            let body = json!({"path": path, "size": 3});
            (
                format!("upload {path}"),
                app.post("/v1/uploads", token, &body).await,
            )
        }
        3 => ("usage".to_owned(), app.get("/v1/usage", token).await),
        _ => {
            let body = json!({"email": user.email, "password": user.password});
            (
                "login".to_owned(),
                app.post("/v1/auth/login", None, &body).await,
            )
        }
    };
    Outcome {
        what,
        sent_at,
        status: response.status(),
    }
}

//! The pages a mailed code opens in a browser: `/account/verify#CODE` proves an address and
//! `/account/reset#CODE` sets a new password.
//!
//! The code rides in the URL's fragment, which a browser never sends: it reaches fmsd only in
//! the JSON body the page's script posts to the API (`POST /v1/auth/verify`,
//! `POST /v1/auth/password-reset/confirm`), so no access log, proxy or `Referer` sees it, and a
//! mail scanner that fetches the link changes nothing (only the button does).

use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use maud::{html, Markup};

use super::views::frame;
use super::{nonce, page};
use crate::gateway::AppState;

/// Where the pages' script is served.
const SCRIPT: &str = "/assets/account.js";

/// What the pages say when their script cannot run.
const NO_SCRIPT: &str = "This page needs JavaScript. Without it, run the fmsctl command from \
                         the mail instead.";

/// `GET /account/verify` and `GET /account/reset`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/account/verify", get(verify))
        .route("/account/reset", get(reset))
}

async fn verify() -> Response {
    let nonce = nonce();
    let body = html! {
        p { "Confirm that the address the mail came to is yours. Until then your account keeps its own files, but cannot share them, make links or receive shares." }
        (form("verify", html! {}, "Confirm my address"))
    };
    page(
        StatusCode::OK,
        &nonce,
        frame(
            &nonce,
            "Confirm your e-mail address",
            body,
            &[SCRIPT],
            "fms",
        ),
    )
}

async fn reset() -> Response {
    let nonce = nonce();
    let fields = html! {
        label for="password" { "New password" }
        input #password type="password" name="password" autocomplete="new-password" minlength="10" maxlength="1024" required;
        label for="again" { "The new password again" }
        input #again type="password" name="again" autocomplete="new-password" minlength="10" maxlength="1024" required;
    };
    let body = html! {
        p { "Choose a new password of at least 10 characters. Every session and app token of the account ends with the reset." }
        (form("reset", fields, "Set the password"))
    };
    page(
        StatusCode::OK,
        &nonce,
        frame(&nonce, "Reset your fms password", body, &[SCRIPT], "fms"),
    )
}

/// The form the script sends, for `kind` (`verify` or `reset`), with `fields` and a button
/// saying `action`, and the line where the outcome shows.
fn form(kind: &str, fields: Markup, action: &str) -> Markup {
    html! {
        form #account-form data-kind=(kind) {
            (fields)
            button type="submit" disabled { (action) }
        }
        p #status role="status" aria-live="polite" {}
        noscript { p.error { (NO_SCRIPT) } }
    }
}

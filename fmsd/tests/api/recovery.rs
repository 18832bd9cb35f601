//! Mailed codes over HTTP on the embedded default, with addresses to prove
//! (`auth.email_verification = "required"`): a forgotten password reset ([`reset`]), an
//! address proved and what an unproved one may not do, a change of address ([`verify`]). The
//! codes are read from the `.eml` files the app writes.

use fmsd::settings::EmailVerification;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{spawn_app_with, TestApp};
use crate::sharing_support::{wait_for_mails_to, ParsedMail};

mod reset;
mod verify;

/// The app, with addresses to prove.
pub async fn spawn_verifying_app() -> TestApp {
    spawn_app_with(|settings| settings.auth.email_verification = EmailVerification::Required).await
}

/// The code in a mail to `email` whose subject contains `subject`, waiting for it: the word
/// after `marker` in the mail's command (`verify `, `--token `).
async fn code_from_mail(app: &TestApp, email: &str, subject: &str, marker: &str) -> String {
    new_code_from_mail(app, email, subject, marker, &[]).await
}

/// [`code_from_mail`] for a code not among `seen`: a newer mail's, however the mails are
/// listed.
async fn new_code_from_mail(
    app: &TestApp,
    email: &str,
    subject: &str,
    marker: &str,
    seen: &[&str],
) -> String {
    let new_code = |mails: &[ParsedMail]| {
        mails
            .iter()
            .filter(|mail| mail.subject.contains(subject))
            .map(|mail| code_in(mail, marker))
            .find(|code| !seen.contains(&code.as_str()))
    };
    let mails = wait_for_mails_to(app, email, |mails| new_code(mails).is_some()).await;
    new_code(&mails).expect("a new code")
}

/// The browser link (`{address}{page}#CODE`) in a mail to `email` whose subject contains
/// `subject`, waiting for it.
pub async fn page_url_from_mail(app: &TestApp, email: &str, subject: &str, page: &str) -> String {
    let code = code_from_mail(app, email, subject, &format!("{}{page}#", app.address)).await;
    format!("{}{page}#{code}", app.address)
}

/// The word after `marker` in the text of `mail`.
fn code_in(mail: &ParsedMail, marker: &str) -> String {
    let text = mail.text.as_deref().expect("a text part");
    let (_, after) = text
        .split_once(marker)
        .unwrap_or_else(|| panic!("no '{marker}' in:\n{text}"));
    after
        .split(|c: char| c.is_whitespace() || c == '`' || c == '\'')
        .next()
        .expect("a code")
        .to_owned()
}

/// Registers `email` with `password`; 201.
pub async fn register(app: &TestApp, email: &str, password: &str) -> Value {
    let response = app
        .post(
            "/v1/auth/register",
            None,
            &json!({"email": email, "password": password, "name": "Ann"}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json().await.unwrap()
}

/// The error code and message of a JSON error answer, with its status.
async fn error_of(response: reqwest::Response) -> (StatusCode, String, String) {
    let status = response.status();
    let body: Value = response.json().await.expect("a JSON error body");
    (
        status,
        body["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    )
}

//! The words of the mails that carry a one-time code (a password reset, an address to prove)
//! and of the notice a change of address sends to the address being left. All are security
//! mails: sent at once, never held or dropped.

use chrono::{DateTime, Utc};

use super::{Content, Recipient, Rich, Server};

/// "Or open URL in a browser.": the page at `page` with the code in its fragment.
fn browser_link(server: &Server, page: &str, token: &str) -> Rich {
    Rich::new()
        .text("Or open ")
        .url(format!("{}{page}#{token}", server.url()))
        .text(" in a browser.")
}

/// The command that proves an address with `token`.
fn verify_action(server: &Server, token: &str) -> Rich {
    Rich::new()
        .text(" run ")
        .code(server.fmsctl(&["verify", token]))
        .text(".")
}

/// How a code's expiry reads in a mail.
fn until(expires_at: &DateTime<Utc>) -> String {
    format!("{} UTC", expires_at.format("%Y-%m-%d %H:%M"))
}

/// The mail with a password-reset code.
pub(super) fn password_reset(
    recipient: &Recipient,
    server: &Server,
    token: &str,
    expires_at: &DateTime<Utc>,
) -> Content {
    Content {
        subject: "Reset your fms password".into(),
        greeting: format!("Hello {},", recipient.name).into(),
        main: Rich::new()
            .text("someone, probably you, asked to reset the password of your fms account on ")
            .url(server.url())
            .text(format!(
                ". This code sets a new one; it works once, until {}:",
                until(expires_at)
            )),
        action: Rich::new()
            .text(" run ")
            .code(server.fmsctl(&["password-reset", "--token", token]))
            .text(" and type the new password."),
        details: vec![
            browser_link(server, "/account/reset", token),
            Rich::new()
                .text("Every session and app token of the account ends with the reset. Without fmsctl, send ")
                .code(format!(
                    "POST /v1/auth/password-reset/confirm {{\"token\": \"{token}\", \"new_password\": \"...\"}}"
                ))
                .text(" to ")
                .url(server.url())
                .text("."),
            "If you did not ask for this, ignore this mail: your password stays as it is.".into(),
        ],
    }
}

/// The mail with the code that proves the account's own address.
pub(super) fn verify_address(
    recipient: &Recipient,
    server: &Server,
    token: &str,
    expires_at: &DateTime<Utc>,
) -> Content {
    Content {
        subject: "Confirm your e-mail address for fms".into(),
        greeting: format!("Hello {},", recipient.name).into(),
        main: Rich::new()
            .text(format!(
                "please confirm that {} is your address on ",
                recipient.email
            ))
            .url(server.url())
            .text(format!(
                ". Until then you can use your own files, but not share them, make links, or receive shares. The code works until {}:",
                until(expires_at)
            )),
        action: verify_action(server, token),
        details: vec![
            browser_link(server, "/account/verify", token),
            Rich::new()
                .text("Without fmsctl, send ")
                .code(format!("POST /v1/auth/verify {{\"token\": \"{token}\"}}"))
                .text(". For a new code, run ")
                .code(server.fmsctl(&["verify", "--resend"]))
                .text("."),
            "If you did not register, ignore this mail: nothing is shared with an address nobody confirmed.".into(),
        ],
    }
}

/// The mail with the code that proves a new address the account asked to change to.
pub(super) fn confirm_new_address(
    recipient: &Recipient,
    server: &Server,
    token: &str,
    expires_at: &DateTime<Utc>,
    previous_email: &str,
) -> Content {
    Content {
        subject: "Confirm your new e-mail address for fms".into(),
        greeting: format!("Hello {},", recipient.name).into(),
        main: Rich::new()
            .text(format!("the fms account {previous_email} on "))
            .url(server.url())
            .text(format!(
                " asked to use {} from now on. It switches once you confirm, with this code, until {}:",
                recipient.email,
                until(expires_at)
            )),
        action: verify_action(server, token),
        details: vec![
            browser_link(server, "/account/verify", token),
            "If you did not ask for this, ignore this mail: the account keeps its address.".into(),
        ],
    }
}

/// The notice to the address an account is asked to leave.
pub(super) fn address_change_requested(
    recipient: &Recipient,
    server: &Server,
    new_email: &str,
) -> Content {
    Content {
        subject: "Your fms account is changing its e-mail address".into(),
        greeting: format!("Hello {},", recipient.name).into(),
        main: Rich::new()
            .text("your fms account on ")
            .url(server.url())
            .text(format!(
                " asked to change its address from {} to {new_email}. It switches once the code sent there is confirmed.",
                recipient.email
            )),
        action: Rich::new(),
        details: vec![Rich::new()
            .text("If this was not you, change your password at once with ")
            .code(server.fmsctl(&["passwd"]))
            .text(" (or reset it with ")
            .code(server.fmsctl(&["password-reset", "--email", &recipient.email]))
            .text("): that ends every session, and the change cannot be confirmed without the new address's mail.")],
    }
}

//! The link pages' markup, written with `maud`: every value put into a page is escaped by the
//! template itself, so a file called `<img src=x onerror=alert(1)>` shows as that text.
//!
//! Each page is one column of plain HTML that works without script and on a phone; the only
//! script is the file request's uploader, loaded from fmsd with the response's nonce.

use common::size::human_bytes;
use maud::{html, Markup, DOCTYPE};

use crate::files::service::OpenLink;

/// Where the stylesheet is served.
pub const STYLESHEET: &str = "/assets/page.css";

/// The frame of every page: `title` in the tab and the heading, `body` below it, and the
/// `scripts` (fmsd paths) loaded with `nonce`.
pub fn layout(nonce: &str, title: &str, body: Markup, scripts: &[&str]) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="no-referrer";
                meta name="robots" content="noindex, nofollow";
                title { (title) " · fms" }
                link rel="stylesheet" href=(STYLESHEET);
            }
            body {
                main {
                    h1 { (title) }
                    (body)
                }
                footer { "Shared through fms." }
                @for script in scripts {
                    script src=(script) nonce=(nonce) defer {}
                }
            }
        }
    }
}

/// `/s/{token}` of a file link.
pub fn file_page(nonce: &str, token: &str, open: &OpenLink) -> Markup {
    let node = &open.node;
    let body = html! {
        dl.facts {
            dt { "Size" }
            dd { (human_bytes(node.size)) }
            dt { "Shared by" }
            dd { (open.owner_name) }
            (expiry_facts(open))
        }
        p.actions {
            a.button href=(format!("/s/{token}/download")) download { "Download" }
        }
    };
    layout(nonce, node.path.name(), body, &[])
}

/// When the link ends and how many downloads it has left, as `dt`/`dd` pairs.
pub fn expiry_facts(open: &OpenLink) -> Markup {
    html! {
        dt { "Link expires" }
        dd {
            time datetime=(open.link.expires_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)) {
                (open.link.expires_at.format("%Y-%m-%d %H:%M UTC"))
            }
        }
        @if let Some(left) = open.downloads_left() {
            dt { "Downloads left" }
            dd { (left) }
        }
    }
}

/// The form a password-protected link shows first; `error` after a wrong password.
pub fn password_page(nonce: &str, token: &str, error: Option<&str>) -> Markup {
    let body = html! {
        p { "Whoever shared this link protected it with a password. Enter it to continue." }
        form method="post" action=(format!("/s/{token}")) {
            label for="password" { "Password" }
            @if let Some(error) = error {
                p.error id="password-error" role="alert" { (error) }
                input type="password" id="password" name="password" required autofocus
                    autocomplete="current-password" aria-invalid="true"
                    aria-describedby="password-error";
            } @else {
                input type="password" id="password" name="password" required autofocus
                    autocomplete="current-password";
            }
            button type="submit" { "Open" }
        }
    };
    layout(nonce, "This link needs a password", body, &[])
}

/// An answer that is not the link's content: `title` and what to do about it.
pub fn message_page(nonce: &str, title: &str, message: &str) -> Markup {
    layout(nonce, title, html! { p { (message) } }, &[])
}

//! The link pages' markup, written with `maud`: every value put into a page is escaped by the
//! template itself, so a file called `<img src=x onerror=alert(1)>` shows as that text.
//!
//! Each page is one column of plain HTML that works without script and on a phone; the only
//! script is the file request's uploader, loaded from fmsd with the response's nonce.

use common::api::{EntryKind, Listing};
use common::size::human_bytes;
use maud::{html, Markup, DOCTYPE};

use crate::files::service::OpenLink;

/// Where the stylesheet is served.
pub const STYLESHEET: &str = "/assets/page.css";

/// The frame of every link page: `title` in the tab and the heading, `body` below it, and the
/// `scripts` (fmsd paths) loaded with `nonce`.
pub fn layout(nonce: &str, title: &str, body: Markup, scripts: &[&str]) -> Markup {
    frame(nonce, title, body, scripts, "Shared through fms.")
}

/// [`layout`] with its own `footer`.
pub fn frame(nonce: &str, title: &str, body: Markup, scripts: &[&str], footer: &str) -> Markup {
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
                footer { (footer) }
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

/// `path` (relative to the link's folder) as a query value.
fn query_path(path: &str) -> String {
    url::form_urlencoded::byte_serialize(path.as_bytes()).collect()
}

/// The page of a folder link at `listing.path`, with links into each sub-folder, a Download
/// link per file, and the folder as one zip.
pub fn folder_page(nonce: &str, token: &str, open: &OpenLink, listing: &Listing) -> Markup {
    let here = listing.path.as_str();
    let root_name = open.node.path.name();
    let title = match here {
        "/" => root_name.to_owned(),
        _ => here.rsplit('/').next().unwrap_or(here).to_owned(),
    };
    // Each ancestor inside the link's folder: its name and where it is.
    let mut crumbs = vec![(root_name.to_owned(), "/".to_owned())];
    let mut walked = String::new();
    for segment in here.split('/').filter(|segment| !segment.is_empty()) {
        walked.push('/');
        walked.push_str(segment);
        crumbs.push((segment.to_owned(), walked.clone()));
    }
    let browse = |path: &str| format!("/s/{token}/browse?path={}", query_path(path));
    let body = html! {
        nav.crumbs aria-label="Folders" {
            ol {
                @for (index, (name, path)) in crumbs.iter().enumerate() {
                    li {
                        @if index + 1 == crumbs.len() {
                            span aria-current="page" { (name) }
                        } @else {
                            a href=(browse(path)) { (name) }
                        }
                    }
                }
            }
        }
        dl.facts {
            dt { "Shared by" }
            dd { (open.owner_name) }
            (expiry_facts(open))
        }
        p.actions {
            a.button href=(format!("/s/{token}/zip?path={}", query_path(here))) download {
                "Download all as .zip"
            }
        }
        @if listing.entries.is_empty() {
            p.muted { "This folder is empty." }
        } @else {
            table.listing {
                caption.visually-hidden { "Files and folders in " (title) }
                thead {
                    tr {
                        th scope="col" { "Name" }
                        th.size scope="col" { "Size" }
                        th scope="col" { span.visually-hidden { "Action" } }
                    }
                }
                tbody {
                    @for entry in &listing.entries {
                        tr {
                            @if entry.kind == EntryKind::Folder {
                                td.name { a href=(browse(&entry.path)) { (entry.name) "/" } }
                                td.size { "folder" }
                                td {}
                            } @else {
                                td.name { (entry.name) }
                                td.size { (human_bytes(entry.size)) }
                                td {
                                    a href=(format!("/s/{token}/download?path={}", query_path(&entry.path)))
                                        download aria-label=(format!("Download {}", entry.name)) {
                                        "Download"
                                    }
                                }
                            }
                        }
                    }
                }
            }
            @if let Some(cursor) = &listing.next_cursor {
                p {
                    a.button.secondary href=(format!("{}&cursor={}", browse(here), query_path(cursor))) {
                        "More"
                    }
                }
            }
        }
    };
    layout(nonce, &title, body, &[])
}

/// Where the uploader and its hash are served.
pub const UPLOAD_SCRIPTS: [&str; 2] = ["/assets/sha256.js", "/assets/upload.js"];

/// The page of a file request: a file picker that takes several files, a drop zone, and one
/// progress bar per file, all driven by the uploader script.
pub fn upload_page(nonce: &str, token: &str, open: &OpenLink) -> Markup {
    let body = html! {
        p {
            (open.owner_name) " asks you for files. Whatever you send lands in their folder "
            strong { (open.node.path.name()) } "; nobody who opens this link sees what others sent."
        }
        dl.facts {
            dt { "Link expires" }
            dd {
                time datetime=(open.link.expires_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)) {
                    (open.link.expires_at.format("%Y-%m-%d %H:%M UTC"))
                }
            }
        }
        p #needs-script .error { "Sending files from this page needs JavaScript to be turned on." }
        form #upload-form data-link=(format!("/s/{token}")) hidden {
            div #drop .drop {
                label for="files" { "Choose files, or drop them here" }
                input #files type="file" name="files" multiple;
            }
        }
        p #upload-status role="status" aria-live="polite" {}
        ul #uploads .uploads aria-label="Files sent" {}
    };
    layout(nonce, "Send files", body, &UPLOAD_SCRIPTS)
}

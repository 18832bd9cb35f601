//! Mails and their templates: every text fms sends is here.
//!
//! - [`rich`]: a paragraph as runs of text, code and links, rendered as text and as HTML.
//! - [`server`]: the server every mail names, and the `fmsctl` commands that reach it.
//! - [`templates`]: one [`Template`] per mail an event causes, with its words.
//! - [`digest`]: the one mail that gathers a burst of activity mails.
//!
//! Every mail is plain text and HTML, both rendered from the same paragraphs, so they say the
//! same; the HTML escapes every text, since names are chosen by users. Every mail is signed
//! with the server's URL. Activity mails (shares, links, quota) end with a footer that says how
//! to stop them; security mails do not, since they cannot be stopped.

use uuid::Uuid;

use crate::error::{Error, Result};

pub mod digest;
pub mod rich;
pub mod server;
pub mod templates;

pub use rich::{Inline, Rich};
pub use server::Server;
pub use templates::{ItemKind, ShareRole, Template};

/// A mail ready to send: plain text and HTML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    /// A stable `Message-ID`, derived from the event, so a mail sent twice can be recognised.
    pub message_id: String,
    /// The recipient's address.
    pub to: String,
    /// The recipient's name.
    pub to_name: String,
    /// The subject line.
    pub subject: String,
    /// The plain-text body.
    pub text: String,
    /// The HTML body.
    pub html: String,
}

/// Who a mail goes to: the customer (whose preferences and digest it counts against), their
/// address and the name it greets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    /// The customer.
    pub customer_id: Uuid,
    /// Where the mail goes.
    pub email: String,
    /// How the mail greets them.
    pub name: String,
}

/// The share or link an activity mail is about: when it ends before the digest goes out, the
/// queued mail about it is dropped (telling of a share that is gone helps nobody).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum About {
    /// A share with a customer.
    Share(Uuid),
    /// A public link.
    Link(Uuid),
}

impl About {
    /// As stored: `share:<id>` or `link:<id>`.
    pub fn key(&self) -> String {
        match self {
            Self::Share(id) => format!("share:{id}"),
            Self::Link(id) => format!("link:{id}"),
        }
    }

    /// From what [`About::key`] wrote.
    pub fn parse(key: &str) -> Result<Self> {
        let invalid = || Error::Invalid(format!("'{key}' is neither share:<id> nor link:<id>"));
        let (kind, id) = key.split_once(':').ok_or_else(invalid)?;
        let id = Uuid::parse_str(id).map_err(|_| invalid())?;
        match kind {
            "share" => Ok(Self::Share(id)),
            "link" => Ok(Self::Link(id)),
            _ => Err(invalid()),
        }
    }
}

/// An activity mail held back for the next digest: what the digest lists of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedMail {
    /// The event it comes from; queued once, like a mail is sent once.
    pub event_id: String,
    /// Who it is for.
    pub recipient: Recipient,
    /// Its subject line.
    pub subject: String,
    /// What happened and what to do about it, readable on its own.
    pub summary: Rich,
    /// The share or link it is about, if its news ends with it.
    pub about: Option<About>,
}

/// The mails queued for one customer, oldest first, to go out as one digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digest {
    /// The customer.
    pub customer_id: Uuid,
    /// What happened, in the order it was queued; never empty.
    pub items: Vec<QueuedMail>,
}

/// The footer of every activity mail: how to stop them.
pub fn activity_footer(server: &Server) -> Rich {
    Rich::new()
        .text("You get this mail because activity mail is on for your account. To stop it, run ")
        .code(server.fmsctl(&["notifications", "off"]))
        .text(" (or send ")
        .code("PATCH /v1/me")
        .text(" with ")
        .code(r#"{"notifications": {"activity_mail": false}}"#)
        .text(" to ")
        .url(server.url())
        .text("). Security mail (a changed password, a deleted account) is always sent.")
}

/// One block of a mail body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// A paragraph.
    Paragraph(Rich),
    /// A list of items, each a title and a paragraph under it.
    List(Vec<(String, Rich)>),
}

/// A mail from its parts: the text is the blocks with a blank line between them, the HTML the
/// same with its markup; `footer` (if any) goes last, above the signature, which names the
/// server.
pub fn assemble(
    message_id: String,
    recipient: &Recipient,
    subject: &str,
    blocks: &[Block],
    footer: Option<&Rich>,
    server: &Server,
) -> Mail {
    let mut text_blocks: Vec<String> = blocks.iter().map(block_text).collect();
    let mut html = format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{}</title></head>\n<body>\n",
        escape_html(subject)
    );
    for block in blocks {
        html.push_str(&block_html(block));
    }
    if let Some(footer) = footer {
        text_blocks.push(footer.to_text());
        html.push_str(&format!(
            "<p style=\"font-size:small;color:#666\">{}</p>\n",
            footer.to_html()
        ));
    }
    let signature = Rich::new().text("fms at ").url(server.url());
    html.push_str(&format!(
        "<p>&mdash; {}</p>\n</body></html>\n",
        signature.to_html()
    ));
    Mail {
        message_id,
        to: recipient.email.clone(),
        to_name: recipient.name.clone(),
        subject: subject.to_owned(),
        text: format!(
            "{}\n\n-- \n{}\n",
            text_blocks.join("\n\n"),
            signature.to_text()
        ),
        html,
    }
}

/// A block as plain text.
fn block_text(block: &Block) -> String {
    match block {
        Block::Paragraph(paragraph) => paragraph.to_text(),
        Block::List(items) => items
            .iter()
            .map(|(title, line)| format!("- {title}\n  {}", line.to_text()))
            .collect::<Vec<_>>()
            .join("\n\n"),
    }
}

/// A block as HTML, escaped.
fn block_html(block: &Block) -> String {
    match block {
        Block::Paragraph(paragraph) => format!("<p>{}</p>\n", paragraph.to_html()),
        Block::List(items) => {
            let items: String = items
                .iter()
                .map(|(title, line)| {
                    format!(
                        "<li><strong>{}</strong><br>{}</li>\n",
                        escape_html(title),
                        line.to_html()
                    )
                })
                .collect();
            format!("<ul>\n{items}</ul>\n")
        }
    }
}

/// Escapes text for HTML, since names are chosen by users.
pub fn escape_html(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            other => escaped.push(other),
        }
    }
    escaped
}

/// A user-chosen name made fit for one line (a subject): control characters become spaces.
pub fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// The words of `mail`'s text and of its HTML (tags taken out, entities read, backticks and
/// list dashes left out), which must be the same: text and HTML say the same thing.
#[cfg(test)]
pub fn assert_same_words(mail: &Mail) {
    let text: Vec<String> = mail
        .text
        .replace('`', "")
        .split_whitespace()
        .filter(|word| *word != "-")
        .map(str::to_owned)
        .collect();
    let body = mail
        .html
        .split_once("<body>")
        .and_then(|(_, rest)| rest.split_once("</body>"))
        .map(|(body, _)| body)
        .unwrap_or_else(|| panic!("no body: {}", mail.html));
    // Block tags part words; inline ones (`<code>`, `<a>`, `<strong>`) do not.
    let mut untagged = String::new();
    let mut tag: Option<String> = None;
    for c in body.chars() {
        match (&mut tag, c) {
            (None, '<') => tag = Some(String::new()),
            (Some(name), '>') => {
                let name = name.trim_start_matches('/');
                if ["p", "li", "ul", "br"]
                    .iter()
                    .any(|block| name == *block || name.starts_with(&format!("{block} ")))
                {
                    untagged.push(' ');
                }
                tag = None;
            }
            (Some(name), c) => name.push(c),
            (None, c) => untagged.push(c),
        }
    }
    let read = untagged
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&mdash;", "--")
        .replace("&amp;", "&");
    let html: Vec<String> = read.split_whitespace().map(str::to_owned).collect();
    assert_eq!(text, html, "text:\n{}\nhtml:\n{}", mail.text, mail.html);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_special_characters_are_escaped() {
        assert_eq!(
            escape_html(r#"<a href="x">Tom & 'Jerry'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn a_name_on_one_line_has_no_line_break() {
        assert_eq!(one_line("a\r\nb\tc"), "a  b c");
    }

    #[test]
    fn a_list_is_escaped_in_html_and_indented_in_text() {
        let recipient = Recipient {
            customer_id: Uuid::nil(),
            email: "a@example.com".into(),
            name: "A".into(),
        };
        let mail = assemble(
            "m@fms".into(),
            &recipient,
            "S <1>",
            &[Block::List(vec![("<t>".into(), "l & m".into())])],
            Some(&Rich::from("stop <here>")),
            &Server::new("https://fms.example.com/"),
        );
        assert!(mail
            .text
            .contains("- <t>\n  l & m\n\nstop <here>\n\n-- \nfms at https://fms.example.com\n"));
        assert!(mail.html.contains(
            "&mdash; fms at <a href=\"https://fms.example.com\">https://fms.example.com</a>"
        ));
        assert!(mail.html.contains("<title>S &lt;1&gt;</title>"));
        assert!(mail
            .html
            .contains("<li><strong>&lt;t&gt;</strong><br>l &amp; m</li>"));
        assert!(mail.html.contains("stop &lt;here&gt;"));
        assert!(!mail.html.contains("<t>"));
    }

    #[test]
    fn what_a_mail_is_about_round_trips_and_nothing_else_parses() {
        let id = Uuid::now_v7();
        for about in [About::Share(id), About::Link(id)] {
            assert_eq!(About::parse(&about.key()).unwrap(), about);
        }
        for bad in [
            "share",
            "node:00000000-0000-0000-0000-000000000000",
            "link:x",
        ] {
            assert!(matches!(About::parse(bad), Err(Error::Invalid(_))), "{bad}");
        }
    }

    #[test]
    fn the_activity_footer_says_how_to_stop_on_this_server() {
        let footer = activity_footer(&Server::new("https://fms.example.com"));
        assert!(footer
            .to_text()
            .contains("run `fmsctl --server https://fms.example.com notifications off`"));
        assert!(footer.to_html().contains(
            "<code>{&quot;notifications&quot;: {&quot;activity_mail&quot;: false}}</code>"
        ));
    }
}

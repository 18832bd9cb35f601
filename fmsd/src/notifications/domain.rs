//! Mails and their templates: every text fms sends is here.
//!
//! - [`templates`]: one [`Template`] per mail an event causes, with its words.
//! - [`digest`]: the one mail that gathers a burst of activity mails.
//!
//! Every mail is plain text and HTML; the HTML escapes every text, since names are chosen by
//! users. Activity mails (shares, links, quota) end with a footer that says how to stop them;
//! security mails do not, since they cannot be stopped.

use uuid::Uuid;

pub mod digest;
pub mod templates;

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

/// An activity mail held back for the next digest: what the digest lists of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedMail {
    /// The event it comes from; queued once, like a mail is sent once.
    pub event_id: String,
    /// Who it is for.
    pub recipient: Recipient,
    /// Its subject line.
    pub subject: String,
    /// Its main paragraph, which says what happened.
    pub summary: String,
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
pub const ACTIVITY_FOOTER: &str =
    "You get this mail because activity mail is on for your account. \
To stop it, run `fmsctl notifications off` (or send `PATCH /v1/me` with \
{\"notifications\": {\"activity_mail\": false}}). \
Security mail (a changed password, a deleted account) is always sent.";

/// One block of a mail body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// A paragraph of text.
    Paragraph(String),
    /// A list of items, each a title and a line under it.
    List(Vec<(String, String)>),
}

/// A mail from its parts: the text is the blocks with a blank line between them, the HTML the
/// same escaped; `footer` (if any) goes last, above the signature.
pub fn assemble(
    message_id: String,
    recipient: &Recipient,
    subject: &str,
    blocks: &[Block],
    footer: Option<&str>,
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
        text_blocks.push(footer.to_owned());
        html.push_str(&format!(
            "<p style=\"font-size:small;color:#666\">{}</p>\n",
            escape_html(footer)
        ));
    }
    html.push_str("<p>&mdash; fms</p>\n</body></html>\n");
    Mail {
        message_id,
        to: recipient.email.clone(),
        to_name: recipient.name.clone(),
        subject: subject.to_owned(),
        text: format!("{}\n\n-- \nfms\n", text_blocks.join("\n\n")),
        html,
    }
}

/// A block as plain text.
fn block_text(block: &Block) -> String {
    match block {
        Block::Paragraph(text) => text.clone(),
        Block::List(items) => items
            .iter()
            .map(|(title, line)| format!("- {title}\n  {line}"))
            .collect::<Vec<_>>()
            .join("\n\n"),
    }
}

/// A block as HTML, escaped.
fn block_html(block: &Block) -> String {
    match block {
        Block::Paragraph(text) => format!("<p>{}</p>\n", escape_html(text)),
        Block::List(items) => {
            let items: String = items
                .iter()
                .map(|(title, line)| {
                    format!(
                        "<li><strong>{}</strong><br>{}</li>\n",
                        escape_html(title),
                        escape_html(line)
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
            Some("stop <here>"),
        );
        assert!(mail
            .text
            .contains("- <t>\n  l & m\n\nstop <here>\n\n-- \nfms\n"));
        assert!(mail.html.contains("<title>S &lt;1&gt;</title>"));
        assert!(mail
            .html
            .contains("<li><strong>&lt;t&gt;</strong><br>l &amp; m</li>"));
        assert!(mail.html.contains("stop &lt;here&gt;"));
        assert!(!mail.html.contains("<t>"));
    }
}

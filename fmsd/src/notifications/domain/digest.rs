//! The digest: one mail listing the activity mails held back while a burst came in.

use super::{activity_footer, assemble, Block, Digest, Mail, Rich, Server};

impl Digest {
    /// The digest mail, to the address and name of the newest queued mail (the freshest the
    /// customer gave). Its `Message-ID` follows from the customer and the first queued event,
    /// so a digest sent again after a crash can be recognised. `None` if nothing is queued
    /// (every queued mail was about a share or link that ended since).
    pub fn render(&self, server: &Server) -> Option<Mail> {
        let first = self.items.first()?;
        let newest = self.items.last()?;
        let n = self.items.len();
        let subject = if n == 1 {
            "fms: 1 update".to_owned()
        } else {
            format!("fms: {n} updates")
        };
        let blocks = [
            Block::Paragraph(format!("Hello {},", newest.recipient.name).into()),
            Block::Paragraph(
                Rich::new()
                    .text(if n == 1 {
                        "one thing happened".to_owned()
                    } else {
                        format!("{n} things happened")
                    })
                    .text(" on ")
                    .url(server.url())
                    .text(" since the last mail we sent you:"),
            ),
            Block::List(
                self.items
                    .iter()
                    .map(|item| (item.subject.clone(), item.summary.clone()))
                    .collect(),
            ),
        ];
        Some(assemble(
            format!("digest-{}-{}@fms", self.customer_id, first.event_id),
            &newest.recipient,
            &subject,
            &blocks,
            Some(&activity_footer(server)),
            server,
        ))
    }
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;
    use crate::notifications::domain::{assert_same_words, QueuedMail, Recipient};

    fn server() -> Server {
        Server::new("https://fms.example.com")
    }

    fn item(event_id: &str, email: &str, subject: &str, summary: Rich) -> QueuedMail {
        QueuedMail {
            event_id: event_id.into(),
            recipient: Recipient {
                customer_id: Uuid::nil(),
                email: email.into(),
                name: "Ada".into(),
            },
            subject: subject.into(),
            summary,
            about: None,
        }
    }

    #[test]
    fn a_digest_lists_every_item_escaped_and_carries_the_footer() {
        let digest = Digest {
            customer_id: Uuid::nil(),
            items: vec![
                item(
                    "e1",
                    "old@example.com",
                    "Bob shared 'x' with you",
                    Rich::new()
                        .text("Bob shared <x>. Run ")
                        .code("fmsctl ls shared:x")
                        .text("."),
                ),
                item(
                    "e2",
                    "new@example.com",
                    "Your link expires",
                    "Soon & sure.".into(),
                ),
            ],
        };
        let mail = digest.render(&server()).unwrap();
        assert_eq!(mail.subject, "fms: 2 updates");
        assert_eq!(mail.to, "new@example.com");
        assert_eq!(mail.message_id, format!("digest-{}-e1@fms", Uuid::nil()));
        assert!(mail.text.contains(
            "- Bob shared 'x' with you\n  Bob shared <x>. Run `fmsctl ls shared:x`.\n\n- Your link expires\n  Soon & sure."
        ));
        assert!(mail
            .text
            .contains("2 things happened on https://fms.example.com since the last mail"));
        assert!(mail
            .html
            .contains("Bob shared &lt;x&gt;. Run <code>fmsctl ls shared:x</code>."));
        assert!(mail.html.contains("Soon &amp; sure."));
        assert!(!mail.html.contains("<x>"));
        assert!(mail.text.contains("PATCH /v1/me"));
        assert!(mail.text.ends_with("-- \nfms at https://fms.example.com\n"));
        assert_same_words(&mail);
    }

    #[test]
    fn a_digest_of_one_says_so_and_an_empty_one_is_nothing() {
        let one = Digest {
            customer_id: Uuid::nil(),
            items: vec![item("e1", "a@example.com", "S", "M".into())],
        };
        assert_eq!(one.render(&server()).unwrap().subject, "fms: 1 update");
        let none = Digest {
            customer_id: Uuid::nil(),
            items: Vec::new(),
        };
        assert!(none.render(&server()).is_none());
    }
}

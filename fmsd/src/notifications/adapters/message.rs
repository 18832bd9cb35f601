//! Builds the lettre message every mailer sends: plain text and HTML as alternatives.

use lettre::message::{Mailbox, MultiPart};
use lettre::Message;

use crate::error::{Error, Result};
use crate::notifications::domain::Mail;

/// The lettre message for `mail`, from `from`.
pub fn build(mail: &Mail, from: &Mailbox) -> Result<Message> {
    let to = mail
        .to
        .parse()
        .map_err(|error| Error::Invalid(format!("cannot mail {:?}: {error}", mail.to)))?;
    Message::builder()
        .from(from.clone())
        .to(Mailbox::new(Some(mail.to_name.clone()), to))
        .subject(mail.subject.clone())
        .message_id(Some(format!("<{}>", mail.message_id)))
        .multipart(MultiPart::alternative_plain_html(
            mail.text.clone(),
            mail.html.clone(),
        ))
        .map_err(Error::internal)
}

/// Parses the configured `From:`.
pub fn parse_from(from: &str) -> anyhow::Result<Mailbox> {
    from.parse()
        .map_err(|error| anyhow::anyhow!("mail.from {from:?} is not a valid mailbox: {error}"))
}

//! Mails and their templates: every text fms sends is here.

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

/// Which mail to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Template {
    /// After registration.
    Welcome,
    /// After a password change (a security mail: always sent).
    PasswordChanged,
    /// After an account deletion (a security mail: always sent).
    AccountDeleted,
}

impl Template {
    /// The mail for `name` at `to`, identified by `event_id`.
    pub fn render(self, event_id: &str, to: &str, name: &str) -> Mail {
        let (subject, paragraphs): (&str, Vec<String>) = match self {
            Template::Welcome => (
                "Welcome to fms",
                vec![
                    format!("Welcome to fms, {name}!"),
                    "Your account is ready. Log in with `fmsctl login` and upload your first file with `fmsctl upload`.".into(),
                ],
            ),
            Template::PasswordChanged => (
                "Your fms password was changed",
                vec![
                    format!("Hello {name},"),
                    "the password of your fms account was just changed, and every other session was logged out.".into(),
                    "If this was not you, reset your password at once and contact your administrator.".into(),
                ],
            ),
            Template::AccountDeleted => (
                "Your fms account was deleted",
                vec![
                    format!("Goodbye {name},"),
                    "your fms account and every file in it have been deleted. We are sorry to see you go.".into(),
                ],
            ),
        };
        let text = format!("{}\n\n-- \nfms\n", paragraphs.join("\n\n"));
        let html_paragraphs: String = paragraphs
            .iter()
            .map(|p| format!("<p>{}</p>\n", escape_html(p)))
            .collect();
        let html = format!(
            "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{}</title></head>\n<body>\n{}<p>&mdash; fms</p>\n</body></html>\n",
            escape_html(subject),
            html_paragraphs
        );
        Mail {
            message_id: format!("{event_id}@fms"),
            to: to.to_owned(),
            to_name: name.to_owned(),
            subject: subject.to_owned(),
            text,
            html,
        }
    }
}

/// Escapes text for HTML, since names are chosen by users.
fn escape_html(text: &str) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_cannot_inject_html() {
        let mail = Template::Welcome.render("e1", "a@example.com", "<script>x</script>");
        assert!(mail.html.contains("&lt;script&gt;"));
        assert!(!mail.html.contains("<script>"));
        assert!(mail.text.contains("Welcome to fms, <script>x</script>!"));
        assert_eq!(mail.message_id, "e1@fms");
    }
}

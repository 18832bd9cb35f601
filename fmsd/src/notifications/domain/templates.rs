//! One template per mail an event causes, with its words.
//!
//! Each template says its subject, a greeting, its main paragraph (what happened, readable on
//! its own, since a digest lists only that) and further details. Account and security mails
//! (welcome, password changed, account deleted) always go at once; activity mails (a share, a
//! link, a file request, the quota) follow the customer's preference and may be gathered into
//! a digest.

use chrono::{DateTime, Utc};

use super::{assemble, one_line, Block, Mail, QueuedMail, Recipient, ACTIVITY_FOOTER};
use crate::error::Error;

/// Whether a shared item is a file or a folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemKind {
    /// A file.
    File,
    /// A folder.
    Folder,
}

impl ItemKind {
    /// As events carry it: `file` or `folder`.
    pub fn parse(raw: &str) -> Result<Self, Error> {
        match raw {
            "file" => Ok(Self::File),
            "folder" => Ok(Self::Folder),
            other => Err(Error::Invalid(format!(
                "'{other}' is not an item kind; expected file or folder"
            ))),
        }
    }

    /// The word in a sentence.
    fn word(self) -> &'static str {
        match self {
            Self::File => "file",
            Self::Folder => "folder",
        }
    }
}

/// What a share lets its recipient do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShareRole {
    /// List and download.
    Viewer,
    /// Also upload, make folders, move and delete inside the shared item.
    Editor,
}

impl ShareRole {
    /// As events carry it: `viewer` or `editor`.
    pub fn parse(raw: &str) -> Result<Self, Error> {
        match raw {
            "viewer" => Ok(Self::Viewer),
            "editor" => Ok(Self::Editor),
            other => Err(Error::Invalid(format!(
                "'{other}' is not a role; expected viewer or editor"
            ))),
        }
    }

    /// The role with its article, as in "shared with you as a viewer".
    fn with_article(self) -> &'static str {
        match self {
            Self::Viewer => "a viewer",
            Self::Editor => "an editor",
        }
    }

    /// What the role allows on an item of `kind`.
    fn allows(self, kind: ItemKind) -> &'static str {
        match (self, kind) {
            (Self::Viewer, ItemKind::Folder) => "you can list it and download what is in it",
            (Self::Viewer, ItemKind::File) => "you can download it",
            (Self::Editor, ItemKind::Folder) => {
                "you can list it and download what is in it, and also upload into it, make \
                 folders, and rename, move and delete what is inside"
            }
            (Self::Editor, ItemKind::File) => {
                "you can download it, and also upload a new version of it"
            }
        }
    }
}

/// Which mail to send, with what it tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Template {
    /// After registration.
    Welcome,
    /// After a password change (a security mail: always sent).
    PasswordChanged,
    /// After an account deletion (a security mail: always sent).
    AccountDeleted,
    /// To the recipient of a share.
    FileShared {
        /// Who shared.
        owner_name: String,
        /// Their address, so the recipient can tell who it really is.
        owner_email: String,
        /// The shared item's name.
        item_name: String,
        /// File or folder.
        kind: ItemKind,
        /// What the recipient may do.
        role: ShareRole,
    },
    /// To a link's owner, a day before it expires.
    LinkExpiring {
        /// The linked item's name.
        item_name: String,
        /// When the link stops working.
        expires_at: DateTime<Utc>,
    },
    /// To a folder's owner, after an upload through its file-request link.
    LinkUploadReceived {
        /// The folder's name.
        folder_name: String,
        /// The new file's name.
        file_name: String,
        /// Its size in bytes.
        size: u64,
    },
    /// To an owner whose stored bytes crossed 80 % or 100 % of the quota.
    QuotaThresholdReached {
        /// 80 or 100.
        percent: u8,
        /// Bytes stored now.
        used_bytes: u64,
        /// The quota.
        quota_bytes: u64,
    },
}

/// A template's words for one recipient.
struct Content {
    /// The subject line.
    subject: String,
    /// The first paragraph.
    greeting: String,
    /// What happened, readable on its own.
    main: String,
    /// Anything else.
    details: Vec<String>,
}

impl Template {
    /// Whether it is an activity mail: sent only to customers who want them, and gathered
    /// into a digest when several come at once. Account and security mails are not.
    pub fn is_activity(&self) -> bool {
        !matches!(
            self,
            Self::Welcome | Self::PasswordChanged | Self::AccountDeleted
        )
    }

    /// The mail for `recipient`, identified by `event_id`.
    pub fn render(&self, event_id: &str, recipient: &Recipient) -> Mail {
        let content = self.content(&recipient.name);
        let mut blocks = vec![
            Block::Paragraph(content.greeting),
            Block::Paragraph(content.main),
        ];
        blocks.extend(content.details.into_iter().map(Block::Paragraph));
        let footer = self.is_activity().then_some(ACTIVITY_FOOTER);
        assemble(
            format!("{event_id}@fms"),
            recipient,
            &content.subject,
            &blocks,
            footer,
        )
    }

    /// What a digest lists of the mail: its subject and main paragraph.
    pub fn queued(&self, event_id: &str, recipient: &Recipient) -> QueuedMail {
        let content = self.content(&recipient.name);
        QueuedMail {
            event_id: event_id.to_owned(),
            recipient: recipient.clone(),
            subject: content.subject,
            summary: content.main,
        }
    }

    /// The words, greeting `name`.
    fn content(&self, name: &str) -> Content {
        let hello = format!("Hello {name},");
        match self {
            Self::Welcome => Content {
                subject: "Welcome to fms".into(),
                greeting: format!("Welcome to fms, {name}!"),
                main: "Your account is ready. Log in with `fmsctl login` and upload your first file with `fmsctl upload`.".into(),
                details: Vec::new(),
            },
            Self::PasswordChanged => Content {
                subject: "Your fms password was changed".into(),
                greeting: hello,
                main: "the password of your fms account was just changed, and every other session was logged out.".into(),
                details: vec!["If this was not you, reset your password at once and contact your administrator.".into()],
            },
            Self::AccountDeleted => Content {
                subject: "Your fms account was deleted".into(),
                greeting: format!("Goodbye {name},"),
                main: "your fms account and every file in it have been deleted. We are sorry to see you go.".into(),
                details: Vec::new(),
            },
            Self::FileShared {
                owner_name,
                owner_email,
                item_name,
                kind,
                role,
            } => Content {
                subject: format!("{} shared '{}' with you", one_line(owner_name), one_line(item_name)),
                greeting: hello,
                main: format!(
                    "{owner_name} ({owner_email}) shared the {} '{item_name}' with you as {}: {}.",
                    kind.word(),
                    role.with_article(),
                    role.allows(*kind)
                ),
                details: vec![
                    "See everything shared with you with `fmsctl ls --shared` (or GET /v1/shares/incoming), and download it with the usual commands.".into(),
                ],
            },
            Self::LinkExpiring { item_name, expires_at } => Content {
                subject: format!("Your link to '{}' expires soon", one_line(item_name)),
                greeting: hello,
                main: format!(
                    "Your link to '{item_name}' expires at {} UTC, within a day.",
                    expires_at.format("%Y-%m-%d %H:%M")
                ),
                details: vec![
                    "After that, whoever opens it is told it has expired. If it is still needed, make a new one with `fmsctl share PATH --link`; `fmsctl shares --links` lists your links.".into(),
                ],
            },
            Self::LinkUploadReceived { folder_name, file_name, size } => Content {
                subject: format!("'{}' was uploaded to '{}'", one_line(file_name), one_line(folder_name)),
                greeting: hello,
                main: format!(
                    "'{file_name}' ({}) was uploaded to '{folder_name}' through your file request link.",
                    human_bytes(*size)
                ),
                details: vec!["It counts against your quota; `fmsctl ls` shows it.".into()],
            },
            Self::QuotaThresholdReached { percent, used_bytes, quota_bytes } => {
                let (used, quota) = (human_bytes(*used_bytes), human_bytes(*quota_bytes));
                if *percent >= 100 {
                    Content {
                        subject: "Your fms storage is full".into(),
                        greeting: hello,
                        main: format!(
                            "Your fms storage is full: you use {used} of {quota}. Uploads are refused until you free some space."
                        ),
                        details: vec!["Delete what you no longer need with `fmsctl rm`; uploads by editors of your shared folders count against your quota too.".into()],
                    }
                } else {
                    Content {
                        subject: "Your fms storage is getting full".into(),
                        greeting: hello,
                        main: format!(
                            "Your fms storage is getting full: you use {used} of {quota} ({percent} %). Once it is full, uploads are refused."
                        ),
                        details: vec!["Delete what you no longer need with `fmsctl rm`.".into()],
                    }
                }
            }
        }
    }
}

pub use common::size::human_bytes;

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use uuid::Uuid;

    use super::*;

    fn recipient(name: &str) -> Recipient {
        Recipient {
            customer_id: Uuid::nil(),
            email: "a@example.com".into(),
            name: name.into(),
        }
    }

    fn shared(owner: &str, item: &str, role: ShareRole) -> Template {
        Template::FileShared {
            owner_name: owner.into(),
            owner_email: "owner@example.com".into(),
            item_name: item.into(),
            kind: ItemKind::Folder,
            role,
        }
    }

    #[test]
    fn a_name_cannot_inject_html() {
        let mail = Template::Welcome.render("e1", &recipient("<script>x</script>"));
        assert!(mail.html.contains("&lt;script&gt;"));
        assert!(!mail.html.contains("<script>"));
        assert!(mail.text.contains("Welcome to fms, <script>x</script>!"));
        assert_eq!(mail.message_id, "e1@fms");
    }

    #[test]
    fn security_mails_keep_their_words_and_have_no_footer() {
        let mail = Template::PasswordChanged.render("e2", &recipient("Ada"));
        assert_eq!(
            mail.text,
            "Hello Ada,\n\nthe password of your fms account was just changed, and every other \
             session was logged out.\n\nIf this was not you, reset your password at once and \
             contact your administrator.\n\n-- \nfms\n"
        );
        assert!(!mail.text.contains("PATCH /v1/me"));
        let deleted = Template::AccountDeleted.render("e3", &recipient("Ada"));
        assert!(deleted.text.starts_with("Goodbye Ada,\n\nyour fms account"));
        assert!(!deleted.html.contains("activity_mail"));
        assert!(!Template::Welcome.is_activity());
        assert!(!Template::PasswordChanged.is_activity());
        assert!(!Template::AccountDeleted.is_activity());
    }

    #[test]
    fn a_share_mail_names_owner_item_role_and_the_way_in() {
        let mail = shared("Bob", "Reports", ShareRole::Editor).render("e4", &recipient("Ada"));
        assert_eq!(mail.subject, "Bob shared 'Reports' with you");
        assert!(mail.text.contains(
            "Bob (owner@example.com) shared the folder 'Reports' with you as an editor: you can list it and download what is in it, and also upload into it"
        ));
        assert!(mail.text.contains("`fmsctl ls --shared`"));
        assert!(mail.text.contains("PATCH /v1/me"));
        assert!(mail
            .html
            .contains("Bob (owner@example.com) shared the folder &#39;Reports&#39;"));
        assert!(mail.html.contains("&quot;activity_mail&quot;: false"));
        let viewer = Template::FileShared {
            owner_name: "Bob".into(),
            owner_email: "owner@example.com".into(),
            item_name: "a.txt".into(),
            kind: ItemKind::File,
            role: ShareRole::Viewer,
        }
        .render("e5", &recipient("Ada"));
        assert!(viewer
            .text
            .contains("the file 'a.txt' with you as a viewer: you can download it."));
    }

    #[test]
    fn user_chosen_names_are_escaped_in_html_and_kept_on_one_line_in_the_subject() {
        let template = shared(
            "<b>Eve</b>",
            "x\r\nBcc: evil@example.com",
            ShareRole::Viewer,
        );
        let mail = template.render("e6", &recipient("Ada & Co"));
        assert!(!mail.subject.contains('\n') && !mail.subject.contains('\r'));
        assert!(!mail.html.contains("<b>"));
        assert!(mail.html.contains("&lt;b&gt;Eve&lt;/b&gt;"));
        assert!(mail.html.contains("Hello Ada &amp; Co,"));
        assert!(mail.text.contains("Hello Ada & Co,"));
        assert!(mail.text.contains("<b>Eve</b> (owner@example.com) shared"));
    }

    #[test]
    fn link_mails_say_when_and_what() {
        let expires_at = Utc.with_ymd_and_hms(2026, 12, 1, 9, 30, 0).unwrap();
        let mail = Template::LinkExpiring {
            item_name: "Photos".into(),
            expires_at,
        }
        .render("e7", &recipient("Ada"));
        assert!(mail
            .text
            .contains("Your link to 'Photos' expires at 2026-12-01 09:30 UTC, within a day."));
        let upload = Template::LinkUploadReceived {
            folder_name: "Inbox".into(),
            file_name: "cv.pdf".into(),
            size: 1536,
        }
        .render("e8", &recipient("Ada"));
        assert!(upload.text.contains(
            "'cv.pdf' (1.50 KiB) was uploaded to 'Inbox' through your file request link."
        ));
        assert!(upload.text.contains("activity_mail"));
    }

    #[test]
    fn quota_mails_differ_at_80_and_100_percent() {
        let gib = 1024 * 1024 * 1024;
        let getting_full = Template::QuotaThresholdReached {
            percent: 80,
            used_bytes: 8 * gib,
            quota_bytes: 10 * gib,
        }
        .render("e9", &recipient("Ada"));
        assert_eq!(getting_full.subject, "Your fms storage is getting full");
        assert!(getting_full.text.contains("8.00 GiB of 10.00 GiB (80 %)"));
        let full = Template::QuotaThresholdReached {
            percent: 100,
            used_bytes: 10 * gib,
            quota_bytes: 10 * gib,
        }
        .render("e10", &recipient("Ada"));
        assert_eq!(full.subject, "Your fms storage is full");
        assert!(full.text.contains("Uploads are refused"));
    }

    #[test]
    fn a_queued_mail_keeps_subject_and_main_paragraph() {
        let queued = shared("Bob", "Reports", ShareRole::Viewer).queued("e11", &recipient("Ada"));
        assert_eq!(queued.event_id, "e11");
        assert_eq!(queued.subject, "Bob shared 'Reports' with you");
        assert!(queued
            .summary
            .starts_with("Bob (owner@example.com) shared the folder 'Reports'"));
    }

    #[test]
    fn roles_and_kinds_parse_or_are_invalid() {
        assert_eq!(ShareRole::parse("editor").unwrap(), ShareRole::Editor);
        assert!(matches!(ShareRole::parse("owner"), Err(Error::Invalid(_))));
        assert_eq!(ItemKind::parse("file").unwrap(), ItemKind::File);
        assert!(matches!(ItemKind::parse("link"), Err(Error::Invalid(_))));
    }

    #[test]
    fn sizes_read_well() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(1023), "1023 B");
        assert_eq!(human_bytes(50 * 1024 * 1024), "50.00 MiB");
    }
}

//! One template per mail an event causes, with its words.
//!
//! Each template says its subject, a greeting, its main paragraph (what happened), what to do
//! about it (the exact `fmsctl` command, against this server) and further details. The main
//! paragraph and the action are readable on their own, since a digest lists only those. Account
//! and security mails (welcome, password changed, account deleted) always go at once; activity
//! mails (a share, a link, a file request, the quota) follow the customer's preference and may
//! be gathered into a digest.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{
    activity_footer, assemble, one_line, About, Block, Mail, QueuedMail, Recipient, Rich, Server,
};
use crate::error::Error;

mod codes;
#[cfg(test)]
mod tests;

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
    /// A code that sets a new password (a security mail).
    PasswordReset {
        /// The code.
        token: String,
        /// When it stops working.
        expires_at: DateTime<Utc>,
    },
    /// A code that proves the account's own address (a security mail).
    VerifyAddress {
        /// The code.
        token: String,
        /// When it stops working.
        expires_at: DateTime<Utc>,
    },
    /// A code that proves a new address, sent to it (a security mail).
    ConfirmNewAddress {
        /// The code.
        token: String,
        /// When it stops working.
        expires_at: DateTime<Utc>,
        /// The address the account has now.
        previous_email: String,
    },
    /// To the address an account is asked to leave (a security mail).
    AddressChangeRequested {
        /// The address asked for.
        new_email: String,
    },
    /// To the recipient of a share.
    FileShared {
        /// The share: the digest forgets the mail when it ends.
        share_id: Uuid,
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
        /// The link: named in the mail (its URL is not known; only its hash is kept), and the
        /// digest forgets the mail when it is revoked.
        link_id: Uuid,
        /// The linked item's name.
        item_name: String,
        /// Its path in the owner's tree, if the event says (older events do not).
        item_path: Option<String>,
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
        /// Where it landed in the owner's tree, if the event says (older events do not).
        path: Option<String>,
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
    greeting: Rich,
    /// What happened, readable on its own.
    main: Rich,
    /// What to do about it (may be empty); a digest lists it with the main paragraph.
    action: Rich,
    /// Anything else.
    details: Vec<Rich>,
}

impl Template {
    /// Whether it is an activity mail: sent only to customers who want them, and gathered
    /// into a digest when several come at once. Account and security mails are not.
    pub fn is_activity(&self) -> bool {
        !matches!(
            self,
            Self::Welcome
                | Self::PasswordChanged
                | Self::AccountDeleted
                | Self::PasswordReset { .. }
                | Self::VerifyAddress { .. }
                | Self::ConfirmNewAddress { .. }
                | Self::AddressChangeRequested { .. }
        )
    }

    /// The share or link whose end makes a queued copy of this mail pointless. An upload
    /// through a file request is not: the file stays in the owner's tree when the link goes.
    pub fn about(&self) -> Option<About> {
        match self {
            Self::FileShared { share_id, .. } => Some(About::Share(*share_id)),
            Self::LinkExpiring { link_id, .. } => Some(About::Link(*link_id)),
            _ => None,
        }
    }

    /// The mail for `recipient`, identified by `event_id`, about `server`.
    pub fn render(&self, event_id: &str, recipient: &Recipient, server: &Server) -> Mail {
        let content = self.content(recipient, server);
        let mut blocks = vec![
            Block::Paragraph(content.greeting),
            Block::Paragraph(content.main.then(content.action)),
        ];
        blocks.extend(content.details.into_iter().map(Block::Paragraph));
        let footer = self.is_activity().then(|| activity_footer(server));
        assemble(
            format!("{event_id}@fms"),
            recipient,
            &content.subject,
            &blocks,
            footer.as_ref(),
            server,
        )
    }

    /// What a digest lists of the mail: its subject, its main paragraph and what to do.
    pub fn queued(&self, event_id: &str, recipient: &Recipient, server: &Server) -> QueuedMail {
        let content = self.content(recipient, server);
        QueuedMail {
            event_id: event_id.to_owned(),
            recipient: recipient.clone(),
            subject: content.subject,
            summary: content.main.then(content.action),
            about: self.about(),
        }
    }

    /// The words for `recipient`.
    fn content(&self, recipient: &Recipient, server: &Server) -> Content {
        let name = &recipient.name;
        let hello = Rich::from(format!("Hello {name},"));
        let login = server.fmsctl(&["login", "--email", &recipient.email]);
        match self {
            Self::Welcome => Content {
                subject: "Welcome to fms".into(),
                greeting: format!("Welcome to fms, {name}!").into(),
                main: Rich::new()
                    .text("Your account on ")
                    .url(server.url())
                    .text(" is ready."),
                action: Rich::new()
                    .text("Log in with ")
                    .code(login)
                    .text(" and upload your first file with ")
                    .code(server.fmsctl(&["upload", "FILE", "/"]))
                    .text("."),
                details: vec![Rich::new()
                    .text("To leave ")
                    .code(format!(
                        "--server {}",
                        super::server::shell_word(server.url())
                    ))
                    .text(" out of every command, set ")
                    .code(format!("FMSCTL_SERVER={}", server.url()))
                    .text(" or put ")
                    .code(format!("server = \"{}\"", server.url()))
                    .text(" in ")
                    .code("~/.config/fmsctl/config.toml")
                    .text(".")],
            },
            Self::PasswordChanged => Content {
                subject: "Your fms password was changed".into(),
                greeting: hello,
                main: Rich::new()
                    .text("the password of your fms account on ")
                    .url(server.url())
                    .text(" was just changed, and every other session was logged out."),
                action: Rich::new(),
                details: vec![
                    Rich::new()
                        .text("If this was not you, reset your password at once with ")
                        .code(server.fmsctl(&["password-reset", "--email", &recipient.email]))
                        .text(" and contact your administrator."),
                    Rich::new()
                        .text("If it was you, log in again where you need to with ")
                        .code(login)
                        .text("."),
                ],
            },
            Self::AccountDeleted => Content {
                subject: "Your fms account was deleted".into(),
                greeting: format!("Goodbye {name},").into(),
                main: Rich::new()
                    .text("your fms account on ")
                    .url(server.url())
                    .text(" and every file in it have been deleted. We are sorry to see you go."),
                action: Rich::new(),
                details: Vec::new(),
            },
            Self::PasswordReset { token, expires_at } => {
                codes::password_reset(recipient, server, token, expires_at)
            }
            Self::VerifyAddress { token, expires_at } => {
                codes::verify_address(recipient, server, token, expires_at)
            }
            Self::ConfirmNewAddress {
                token,
                expires_at,
                previous_email,
            } => codes::confirm_new_address(recipient, server, token, expires_at, previous_email),
            Self::AddressChangeRequested { new_email } => {
                codes::address_change_requested(recipient, server, new_email)
            }
            Self::FileShared {
                share_id,
                owner_name,
                owner_email,
                item_name,
                kind,
                role,
            } => {
                let shared = format!("shared:{item_name}");
                let action = match (kind, role) {
                    (ItemKind::File, _) => Rich::new()
                        .text("Download it with ")
                        .code(server.fmsctl(&["download", &shared]))
                        .text("."),
                    (ItemKind::Folder, ShareRole::Viewer) => Rich::new()
                        .text("See what is in it with ")
                        .code(server.fmsctl(&["ls", &shared]))
                        .text(" and download it all with ")
                        .code(server.fmsctl(&["download", "-r", &shared]))
                        .text("."),
                    (ItemKind::Folder, ShareRole::Editor) => Rich::new()
                        .text("See what is in it with ")
                        .code(server.fmsctl(&["ls", &shared]))
                        .text(" and upload into it with ")
                        .code(server.fmsctl(&["upload", "FILE", &shared]))
                        .text("."),
                };
                Content {
                    subject: format!(
                        "{} shared '{}' with you",
                        one_line(owner_name),
                        one_line(item_name)
                    ),
                    greeting: hello,
                    main: format!(
                        "{owner_name} ({owner_email}) shared the {} '{item_name}' with you as {}: {}.",
                        kind.word(),
                        role.with_article(),
                        role.allows(*kind)
                    )
                    .into(),
                    action,
                    details: vec![Rich::new()
                        .text("Everything shared with you: ")
                        .code(server.fmsctl(&["ls", "--shared"]))
                        .text(" (or ")
                        .code("GET /v1/shares/incoming")
                        .text(" on ")
                        .url(server.url())
                        .text(format!(
                            "). If several items called '{item_name}' are shared with you, name this one "
                        ))
                        .code(format!("shared:{share_id}"))
                        .text(".")],
                }
            }
            Self::LinkExpiring {
                link_id,
                item_name,
                item_path,
                expires_at,
            } => {
                let path = item_path.as_deref().unwrap_or("PATH");
                Content {
                    subject: format!("Your link to '{}' expires soon", one_line(item_name)),
                    greeting: hello,
                    main: Rich::new()
                        .text("Your link ")
                        .code(link_id.to_string())
                        .text(format!(
                            " to '{item_name}' expires at {} UTC, within a day.",
                            expires_at.format("%Y-%m-%d %H:%M")
                        )),
                    action: Rich::new()
                        .text("If it is still needed, make a new one with ")
                        .code(server.fmsctl(&["share", path, "--link"]))
                        .text("; ")
                        .code(server.fmsctl(&["shares", "--links"]))
                        .text(" lists your links."),
                    details: vec![
                        "After that, whoever opens it is told it has expired. Its address is not in this mail: fms keeps only a hash of it.".into(),
                        Rich::new()
                            .text("To end it now instead, run ")
                            .code(server.fmsctl(&["unshare", "--link", &link_id.to_string()]))
                            .text("."),
                    ],
                }
            }
            Self::LinkUploadReceived {
                folder_name,
                file_name,
                size,
                path,
            } => {
                let (main, action) = match path {
                    Some(path) => (
                        Rich::new()
                            .text(format!(
                                "'{file_name}' ({}) was uploaded to '{folder_name}' through your file request link. It is at ",
                                human_bytes(*size)
                            ))
                            .code(path.as_str())
                            .text("."),
                        Rich::new()
                            .text("Download it with ")
                            .code(server.fmsctl(&["download", path]))
                            .text("."),
                    ),
                    None => (
                        Rich::from(format!(
                            "'{file_name}' ({}) was uploaded to '{folder_name}' through your file request link.",
                            human_bytes(*size)
                        )),
                        Rich::new()
                            .text("Find it with ")
                            .code(server.fmsctl(&["find", "/", "--name", file_name]))
                            .text("."),
                    ),
                };
                Content {
                    subject: format!(
                        "'{}' was uploaded to '{}'",
                        one_line(file_name),
                        one_line(folder_name)
                    ),
                    greeting: hello,
                    main,
                    action,
                    details: vec![Rich::new()
                        .text("It counts against your quota; ")
                        .code(server.fmsctl(&["usage"]))
                        .text(" shows how much you use.")],
                }
            }
            Self::QuotaThresholdReached {
                percent,
                used_bytes,
                quota_bytes,
            } => {
                let (used, quota) = (human_bytes(*used_bytes), human_bytes(*quota_bytes));
                let action = Rich::new()
                    .text("See what takes the space with ")
                    .code(server.fmsctl(&["du", "/"]))
                    .text(" and delete what you no longer need with ")
                    .code(server.fmsctl(&["rm", "PATH"]))
                    .text(".");
                let details = vec![Rich::from(
                    "Uploads by editors of your shared folders count against your quota too.",
                )];
                if *percent >= 100 {
                    Content {
                        subject: "Your fms storage is full".into(),
                        greeting: hello,
                        main: format!(
                            "Your fms storage is full: you use {used} of {quota}. Uploads are refused until you free some space."
                        )
                        .into(),
                        action,
                        details,
                    }
                } else {
                    Content {
                        subject: "Your fms storage is getting full".into(),
                        greeting: hello,
                        main: format!(
                            "Your fms storage is getting full: you use {used} of {quota} ({percent} %). Once it is full, uploads are refused."
                        )
                        .into(),
                        action,
                        details,
                    }
                }
            }
        }
    }
}

pub use common::size::human_bytes;

//! Sharing with customers: give, change, revoke and list shares, and the [`Scope`] a request
//! works in, which is how a recipient reaches a shared item with the ordinary use cases (through
//! [`super::ScopedFiles`], which applies the scope's checks to every call).

use common::events::{FileShared, Outgoing, ShareRevoked};
use uuid::Uuid;

use super::{seconds, DownloadTicket, FileService};

/// How long a use case waits for a customer its directory has not heard of yet: the directory
/// follows customer events, which arrive a moment after the registration they describe.
const DIRECTORY_LAG: std::time::Duration = std::time::Duration::from_secs(3);
use crate::error::{Error, Result};
use crate::files::domain::{Node, Person, RemotePath, Role, Share};

/// Whose tree a request works in and where: the caller's own tree, or the item a share gives
/// them, with paths relative to it.
#[derive(Debug, Clone, PartialEq)]
pub struct Scope {
    /// The tree's owner (whose quota an upload uses).
    pub owner: Uuid,
    /// The shared item's path in the owner's tree; `/` for one's own tree.
    pub base: RemotePath,
    /// The share's role; `None` in one's own tree.
    pub role: Option<Role>,
    /// The share (or link) the request goes through; `None` in one's own tree.
    pub grant: Option<Uuid>,
}

impl Scope {
    /// The caller's own tree.
    pub fn own(owner: Uuid) -> Self {
        Self {
            owner,
            base: RemotePath::root(),
            role: None,
            grant: None,
        }
    }

    /// Whether the scope is a share.
    pub fn is_shared(&self) -> bool {
        self.role.is_some()
    }

    /// The owner's path for the caller's `path`.
    pub fn resolve(&self, path: &RemotePath) -> Result<RemotePath> {
        path.under(&self.base)
    }

    /// The caller's path for the owner's `path`; `None` if it lies outside the scope.
    pub fn relative(&self, path: &RemotePath) -> Option<RemotePath> {
        path.relative_to(&self.base)
    }

    /// Refuses a write unless the caller owns the tree or edits the share.
    pub fn require_write(&self) -> Result<()> {
        match self.role {
            None | Some(Role::Editor) => Ok(()),
            Some(Role::Viewer) => Err(Error::Forbidden(
                "this item is shared with you as a viewer: you may list and download, not change it"
                    .into(),
            )),
        }
    }

    /// Refuses to move or delete the shared item itself (the owner decides over it).
    pub(super) fn require_inside(&self, path: &RemotePath) -> Result<()> {
        if self.is_shared() && path.is_root() {
            return Err(Error::Forbidden(
                "the shared item itself cannot be moved or deleted; only what is inside it".into(),
            ));
        }
        Ok(())
    }

    /// Runs `work` with its error redacted: the one way a use case in a scope answers, so a
    /// recipient never learns where in the owner's tree the item lives.
    pub(super) async fn redacted<T>(
        &self,
        work: impl std::future::Future<Output = Result<T>>,
    ) -> Result<T> {
        work.await.map_err(|error| self.redact(error))
    }

    /// `error` with the owner's folders above the shared item taken out of its message.
    pub(super) fn redact(&self, error: Error) -> Error {
        if !self.is_shared() || self.base.is_root() {
            return error;
        }
        let base = self.base.as_str();
        let hide = |message: String| {
            message
                .replace(&format!("'{base}/"), "'/")
                .replace(&format!("'{base}'"), "'/'")
        };
        match error {
            Error::Invalid(m) => Error::Invalid(hide(m)),
            Error::NotFound(m) => Error::NotFound(hide(m)),
            Error::Conflict(m) => Error::Conflict(hide(m)),
            Error::Forbidden(m) => Error::Forbidden(hide(m)),
            Error::QuotaExceeded(m) => Error::QuotaExceeded(hide(m)),
            Error::Integrity(m) => Error::Integrity(hide(m)),
            other => other,
        }
    }
}

/// A share with what it points at, as its owner or recipient sees it.
#[derive(Debug, Clone)]
pub struct ShareView {
    /// The share.
    pub share: Share,
    /// The shared item, where it is now.
    pub node: Node,
    /// Who shared.
    pub owner: Person,
    /// Who it is shared with.
    pub recipient: Person,
}

impl FileService {
    /// The scope of a request by `caller`: their own tree, or the share `share` given to them
    /// (not found if there is no such share for them, or its item is gone).
    pub(super) async fn scope(&self, caller: Uuid, share: Option<Uuid>) -> Result<Scope> {
        self.ensure_active(caller).await?;
        let Some(id) = share else {
            return Ok(Scope::own(caller));
        };
        let not_found = || Error::NotFound(format!("there is no share {id} for you"));
        let share = self
            .sharing
            .share(id)
            .await?
            .filter(|share| share.recipient == caller)
            .ok_or_else(not_found)?;
        let node = self
            .repo
            .get_by_id(share.owner, share.node_id)
            .await?
            .ok_or_else(not_found)?;
        Ok(Scope {
            owner: share.owner,
            base: node.path,
            role: Some(share.role),
            grant: Some(share.id),
        })
    }

    /// Shares `owner`'s item at `path` with the customer whose e-mail is `email`; if it is
    /// shared with them already, sets the role. The flag says whether the share is new (only
    /// a new share mails the recipient).
    #[tracing::instrument(skip(self, email))]
    pub async fn share(
        &self,
        owner: Uuid,
        path: &RemotePath,
        email: &str,
        role: Role,
    ) -> Result<(ShareView, bool)> {
        self.ensure_active(owner).await?;
        if path.is_root() {
            return Err(Error::Invalid(
                "the root folder '/' cannot be shared; share a folder inside it".into(),
            ));
        }
        let sharer = self.verified_person(owner).await?;
        let node = self.entry(owner, path).await?;
        let email = email.trim().to_lowercase();
        // An address nobody proved answers as one nobody has: whoever registered it first
        // gets nothing meant for its owner.
        let recipient = self
            .sharing
            .person_by_email(&email)
            .await?
            .filter(|person| person.verified || !self.verified_only)
            .ok_or_else(|| {
                Error::NotFound(format!("no fms customer has the e-mail address {email}"))
            })?;
        if recipient.id == owner {
            return Err(Error::Conflict("you cannot share with yourself".into()));
        }
        let share = Share {
            id: Uuid::new_v4(),
            owner,
            node_id: node.id,
            recipient: recipient.id,
            role,
            created_at: self.now(),
        };
        let event = FileShared {
            share_id: share.id,
            owner_id: owner,
            owner_name: sharer.name.clone(),
            owner_email: sharer.email.clone(),
            recipient_id: recipient.id,
            recipient_email: recipient.email.clone(),
            recipient_name: recipient.name.clone(),
            item_name: node.path.name().to_owned(),
            kind: if node.is_folder() { "folder" } else { "file" }.to_owned(),
            role: role.as_str().to_owned(),
        };
        let (share, created) = self
            .sharing
            .put_share(&share, vec![Outgoing::new(&event)])
            .await?;
        let view = ShareView {
            share,
            node,
            owner: sharer,
            recipient,
        };
        Ok((view, created))
    }

    /// Sets the role of `owner`'s share `id`; a share made read-only ends the uploads started
    /// through it.
    #[tracing::instrument(skip(self))]
    pub async fn change_share(&self, owner: Uuid, id: Uuid, role: Role) -> Result<ShareView> {
        self.ensure_active(owner).await?;
        self.owned_share(owner, id).await?;
        let share = self
            .sharing
            .set_share_role(id, role)
            .await?
            .ok_or_else(|| share_not_found(id))?;
        if role != Role::Editor {
            self.end_grant_uploads(owner, id).await;
        }
        self.view_share(share)
            .await?
            .ok_or_else(|| share_not_found(id))
    }

    /// Ends share `id`: its owner revokes it, or its recipient leaves it. It stops working at
    /// once, and so do the uploads started through it; a download URL handed out through it
    /// lives only a short while.
    #[tracing::instrument(skip(self))]
    pub async fn unshare(&self, caller: Uuid, id: Uuid) -> Result<()> {
        self.ensure_active(caller).await?;
        let share = self
            .sharing
            .share(id)
            .await?
            .filter(|share| share.owner == caller || share.recipient == caller)
            .ok_or_else(|| share_not_found(id))?;
        self.sharing
            .delete_share(share.id, vec![Outgoing::new(&share_revoked(&share))])
            .await?;
        self.end_grant_uploads(share.owner, share.id).await;
        Ok(())
    }

    /// The shares `owner` gave, newest first (those whose item is gone left out).
    #[tracing::instrument(skip(self))]
    pub async fn shares_given(&self, owner: Uuid) -> Result<Vec<ShareView>> {
        self.ensure_active(owner).await?;
        let shares = self.sharing.shares_given(owner).await?;
        self.view_shares(shares).await
    }

    /// The shares `recipient` got, newest first (those whose item is gone left out).
    #[tracing::instrument(skip(self))]
    pub async fn shares_received(&self, recipient: Uuid) -> Result<Vec<ShareView>> {
        self.ensure_active(recipient).await?;
        let shares = self.sharing.shares_received(recipient).await?;
        self.view_shares(shares).await
    }

    /// A signed URL for the file at `path` in `scope`; through a share it lives only
    /// `shared_download_url_ttl_secs`, so a revoke soon stops it too.
    #[tracing::instrument(skip(self))]
    pub(super) async fn download_in(
        &self,
        scope: &Scope,
        path: &RemotePath,
    ) -> Result<DownloadTicket> {
        self.ensure_active(scope.owner).await?;
        let node = self.entry(scope.owner, &scope.resolve(path)?).await?;
        let ttl = if scope.is_shared() {
            self.settings.shared_download_url_ttl_secs
        } else {
            self.settings.download_url_ttl_secs
        };
        self.ticket(&node, seconds(ttl)).await
    }

    /// Refuses session `id` unless it was started in `scope`: the owner reaches their own
    /// sessions, a recipient only those started through their share. (To see or end one, the
    /// owner reaches every session of theirs: [`ScopedFiles`](super::ScopedFiles).)
    pub(super) async fn check_upload_scope(&self, scope: &Scope, id: Uuid) -> Result<()> {
        let upload = self.open_upload(scope.owner, id).await?;
        if upload.grant != scope.grant || !upload.path.starts_with(&scope.base) {
            return Err(Error::NotFound(format!("there is no upload session {id}")));
        }
        Ok(())
    }

    /// Adds or updates a customer in the directory sharing looks e-mails up in.
    pub async fn remember_person(&self, person: Person) -> Result<()> {
        self.sharing
            .upsert_person(&Person {
                email: person.email.trim().to_lowercase(),
                ..person
            })
            .await
    }

    /// Forgets a deleted customer, with every share they gave or got (each one's end told)
    /// and their links.
    pub async fn forget_person(&self, id: Uuid) -> Result<()> {
        let events = Box::new(|removed: &Vec<Share>| -> Vec<Outgoing> {
            removed
                .iter()
                .map(|share| Outgoing::new(&share_revoked(share)))
                .collect()
        });
        self.sharing.forget_person(id, events).await
    }

    /// The directory entry of the customer `id`. Files learns of customers from their events,
    /// so a customer registered a moment ago may not be there yet: waits a little for them.
    pub(super) async fn person(&self, id: Uuid) -> Result<Person> {
        self.person_soon(id).await?.ok_or_else(|| {
            Error::Conflict("your account is still being set up; try again in a few seconds".into())
        })
    }

    /// The directory entry of the customer `id`, who must have proved their address when
    /// that is required. A verification a moment ago may not have reached the directory yet:
    /// waits a little for it.
    pub(super) async fn verified_person(&self, id: Uuid) -> Result<Person> {
        let deadline = tokio::time::Instant::now() + DIRECTORY_LAG;
        loop {
            let person = self.person(id).await?;
            if person.verified || !self.verified_only {
                return Ok(person);
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(Error::Forbidden(
                    "verify your e-mail address before you share or make links: run `fmsctl \
                     verify CODE` with the code mailed to you (`fmsctl verify --resend` sends \
                     another)"
                        .into(),
                ));
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }

    /// The directory entry of the customer `id`, waiting up to [`DIRECTORY_LAG`] for one the
    /// directory has not heard of yet; `None` if it still has not.
    pub(super) async fn person_soon(&self, id: Uuid) -> Result<Option<Person>> {
        let deadline = tokio::time::Instant::now() + DIRECTORY_LAG;
        loop {
            if let Some(person) = self.sharing.person(id).await? {
                return Ok(Some(person));
            }
            if tokio::time::Instant::now() >= deadline {
                return Ok(None);
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }

    /// `owner`'s share `id`, else not found.
    async fn owned_share(&self, owner: Uuid, id: Uuid) -> Result<Share> {
        self.sharing
            .share(id)
            .await?
            .filter(|share| share.owner == owner)
            .ok_or_else(|| share_not_found(id))
    }

    async fn view_shares(&self, shares: Vec<Share>) -> Result<Vec<ShareView>> {
        let mut views = Vec::with_capacity(shares.len());
        for share in shares {
            views.extend(self.view_share(share).await?);
        }
        Ok(views)
    }

    /// The share with its item and people; `None` if the item or a person is gone.
    async fn view_share(&self, share: Share) -> Result<Option<ShareView>> {
        let Some(node) = self.repo.get_by_id(share.owner, share.node_id).await? else {
            return Ok(None);
        };
        let (Some(owner), Some(recipient)) = (
            self.sharing.person(share.owner).await?,
            self.sharing.person(share.recipient).await?,
        ) else {
            return Ok(None);
        };
        Ok(Some(ShareView {
            share,
            node,
            owner,
            recipient,
        }))
    }
}

/// The event that tells `share` ended.
pub(super) fn share_revoked(share: &Share) -> ShareRevoked {
    ShareRevoked {
        share_id: share.id,
        owner_id: share.owner,
        recipient_id: share.recipient,
    }
}

fn share_not_found(id: Uuid) -> Error {
    Error::NotFound(format!("there is no share {id} for you"))
}

//! Links, as their owner makes, lists and revokes them. What a link leads to, without login,
//! is in `public_links`.

use common::events::{LinkRevoked, Outgoing};
use uuid::Uuid;

use super::{seconds, FileService};
use crate::error::{Error, Result};
use crate::files::domain::{Link, LinkMode, LinkToken, Node, RemotePath};
use crate::passwords;

/// The shortest link password accepted.
const MIN_PASSWORD_CHARS: usize = 8;
/// The longest link password accepted (argon2 hashes anything; an unbounded input is a lever).
const MAX_PASSWORD_BYTES: usize = 1024;

/// What an owner asks for when making a link.
#[derive(Debug, Clone)]
pub struct NewLink {
    /// The item.
    pub path: RemotePath,
    /// Lifetime in seconds; the configured default when `None`.
    pub expires_in_secs: Option<u64>,
    /// A password to ask for.
    pub password: Option<String>,
    /// How many downloads to allow.
    pub max_downloads: Option<u64>,
    /// A file request (folders only).
    pub upload_only: bool,
}

/// A link with the item it leads to.
#[derive(Debug, Clone)]
pub struct LinkView {
    /// The link.
    pub link: Link,
    /// Its item, where it is now.
    pub node: Node,
}

impl FileService {
    /// Makes a link to `owner`'s item; returns it with its token, shown only now.
    #[tracing::instrument(skip(self, request), fields(path = %request.path))]
    pub async fn create_link(
        &self,
        owner: Uuid,
        request: NewLink,
    ) -> Result<(LinkView, LinkToken)> {
        self.ensure_active(owner).await?;
        self.verified_person(owner).await?;
        if request.path.is_root() {
            return Err(Error::Invalid(
                "the root folder '/' cannot be linked; link a folder inside it".into(),
            ));
        }
        let max_ttl = self.settings.link_max_ttl_secs;
        let ttl = request
            .expires_in_secs
            .unwrap_or(self.settings.link_default_ttl_secs);
        if ttl == 0 || ttl > max_ttl {
            return Err(Error::Invalid(format!(
                "expires_in_secs must be between 1 and {max_ttl} ({} days)",
                max_ttl / 86_400
            )));
        }
        if request.upload_only && request.max_downloads.is_some() {
            return Err(Error::Invalid(
                "an upload-only link serves no downloads; leave max_downloads out".into(),
            ));
        }
        if request.max_downloads == Some(0) {
            return Err(Error::Invalid(
                "max_downloads must be at least 1 (leave it out for no limit)".into(),
            ));
        }
        let password_hash = match request.password {
            Some(password) => Some(Self::hash_link_password(password).await?),
            None => None,
        };
        let node = self.entry(owner, &request.path).await?;
        if request.upload_only && !node.is_folder() {
            return Err(Error::Conflict(format!(
                "'{}' is a file; an upload-only link (a file request) needs a folder",
                request.path
            )));
        }
        let token = LinkToken::generate();
        let now = self.now();
        let link = Link {
            id: Uuid::new_v4(),
            owner,
            node_id: node.id,
            token_hash: token.hash(),
            mode: if request.upload_only {
                LinkMode::Upload
            } else {
                LinkMode::Download
            },
            password_hash,
            expires_at: now + seconds(ttl),
            max_downloads: request.max_downloads,
            downloads: 0,
            uploads: 0,
            created_at: now,
            expiry_warned: false,
        };
        self.sharing.insert_link(&link).await?;
        Ok((LinkView { link, node }, token))
    }

    /// `owner`'s links, newest first (those whose item is gone left out).
    #[tracing::instrument(skip(self))]
    pub async fn links(&self, owner: Uuid) -> Result<Vec<LinkView>> {
        self.ensure_active(owner).await?;
        let mut views = Vec::new();
        for link in self.sharing.links(owner).await? {
            if let Some(node) = self.repo.get_by_id(owner, link.node_id).await? {
                views.push(LinkView { link, node });
            }
        }
        Ok(views)
    }

    /// Revokes `owner`'s link `id`: it answers 404 from now on, and the uploads started through
    /// it end, giving back the quota they held. Its end is told, so no digest mentions it.
    #[tracing::instrument(skip(self))]
    pub async fn revoke_link(&self, owner: Uuid, id: Uuid) -> Result<()> {
        self.ensure_active(owner).await?;
        let revoked = Outgoing::new(&LinkRevoked {
            link_id: id,
            owner_id: owner,
        });
        if self.sharing.delete_link(owner, id, vec![revoked]).await? {
            self.end_grant_uploads(owner, id).await;
            Ok(())
        } else {
            Err(Error::NotFound(format!("you have no link {id}")))
        }
    }

    async fn hash_link_password(password: String) -> Result<String> {
        if password.chars().count() < MIN_PASSWORD_CHARS {
            return Err(Error::Invalid(format!(
                "a link password must have at least {MIN_PASSWORD_CHARS} characters"
            )));
        }
        if password.len() > MAX_PASSWORD_BYTES {
            return Err(Error::Invalid(format!(
                "a link password must have at most {MAX_PASSWORD_BYTES} bytes"
            )));
        }
        passwords::hash(password).await
    }
}

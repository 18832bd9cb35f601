//! The store sharing needs: the directory of customers, shares, links. Kept in the files
//! database, next to the nodes they point at.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use common::events::Outgoing;
use uuid::Uuid;

use super::EventsFor;
use crate::error::Result;
use crate::files::domain::{Link, Person, Role, Share};

/// People, shares and links.
///
/// Shares and links point at a node id; deleting a node deletes its shares and links with it
/// (`FileRepo::delete`). A node gone otherwise (replaced, purged) makes them dangle, and the
/// service treats a dangling one as not there. Writes that take events add them to the outbox
/// in the same transaction.
#[async_trait]
pub trait SharingRepo: Send + Sync {
    /// Adds `person` to the directory, or updates their e-mail and name.
    async fn upsert_person(&self, person: &Person) -> Result<()>;

    /// Forgets the customer `id`: their directory entry, every share they gave or got and every
    /// link they made, writing the events `events` builds from the removed shares in the same
    /// transaction. Doing it again changes nothing.
    async fn forget_person(&self, id: Uuid, events: EventsFor<Vec<Share>>) -> Result<()>;

    /// The customer `id`.
    async fn person(&self, id: Uuid) -> Result<Option<Person>>;

    /// The customer with this e-mail address (given lowercase).
    async fn person_by_email(&self, email: &str) -> Result<Option<Person>>;

    /// Stores `share`, or, if its node is already shared with its recipient, sets that share's
    /// role to `share.role`. Returns the stored share and whether it is new; `events` are
    /// written (in the same transaction) only for a new share.
    async fn put_share(&self, share: &Share, events: Vec<Outgoing>) -> Result<(Share, bool)>;

    /// The share `id`.
    async fn share(&self, id: Uuid) -> Result<Option<Share>>;

    /// Sets the role of share `id`; `None` if there is no such share.
    async fn set_share_role(&self, id: Uuid, role: Role) -> Result<Option<Share>>;

    /// Deletes share `id`, writing `events` in the same transaction if it was there; whether
    /// it was.
    async fn delete_share(&self, id: Uuid, events: Vec<Outgoing>) -> Result<bool>;

    /// The shares `owner` gave, newest first.
    async fn shares_given(&self, owner: Uuid) -> Result<Vec<Share>>;

    /// The shares `recipient` got, newest first.
    async fn shares_received(&self, recipient: Uuid) -> Result<Vec<Share>>;

    /// Stores a new link.
    async fn insert_link(&self, link: &Link) -> Result<()>;

    /// The link whose token hashes to `token_hash`.
    async fn link_by_token(&self, token_hash: &str) -> Result<Option<Link>>;

    /// `owner`'s links, newest first.
    async fn links(&self, owner: Uuid) -> Result<Vec<Link>>;

    /// Deletes `owner`'s link `id`, writing `events` in the same transaction if it was there;
    /// whether it was.
    async fn delete_link(&self, owner: Uuid, id: Uuid, events: Vec<Outgoing>) -> Result<bool>;

    /// Counts one download of link `id` if it has downloads left, atomically (concurrent
    /// callers never exceed `max_downloads`); whether it was counted.
    async fn take_download(&self, id: Uuid) -> Result<bool>;

    /// Counts one upload received through link `id`.
    async fn count_upload(&self, id: Uuid) -> Result<()>;

    /// Up to `limit` links not yet warned about, unexpired at `now` and expiring before
    /// `before`, soonest first.
    async fn links_expiring(
        &self,
        now: DateTime<Utc>,
        before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Link>>;

    /// Marks link `id` warned and writes `events`, in one transaction, unless it was warned
    /// already (then nothing is written); whether it marked it.
    async fn mark_link_warned(&self, id: Uuid, events: Vec<Outgoing>) -> Result<bool>;
}

//! Sharing: the directory of customers, shares and links, each write in its own transaction
//! (with the outbox rows of its events, if it has any). Writes that take events first take
//! their owner's lock ([`lock_owner`]), so one owner's events stay in commit order in the
//! outbox, as for the tree.
//!
//! A download through a limited link is counted by one conditional `UPDATE`: SQLite runs it
//! under its write lock, and on PostgreSQL a concurrent one waits for the row and re-checks the
//! condition on the committed count, so concurrent downloads never count past the limit.
//! Marking a link warned is conditional the same way.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use common::events::Outgoing;
use diesel::prelude::*;
use uuid::Uuid;

use super::schema::{self, micros};
use super::sharing_schema::{links, people, shares, LinkRow, PersonRow, ShareRow};
use super::SqlFileRepo;
use crate::db::dialect::{lock_owner, per_engine};
use crate::db::{map_error, outbox, DbConnection};
use crate::error::Result;
use crate::files::domain::{Link, Person, Role, Share};
use crate::files::ports::{EventsFor, SharingRepo};

/// Adds or updates `person`. An e-mail address belongs to one customer at a time, so another
/// entry still holding it is stale (its own update has not arrived yet) and goes; that update
/// adds it again.
fn upsert_person(connection: &mut DbConnection, person: &Person) -> Result<()> {
    let row = PersonRow::from_person(person);
    diesel::delete(
        people::table
            .filter(people::email.eq(&row.email))
            .filter(people::id.ne(&row.id)),
    )
    .execute(connection)?;
    per_engine!(connection, |inner| diesel::insert_into(people::table)
        .values(&row)
        .on_conflict(people::id)
        .do_update()
        .set((
            people::email.eq(&row.email),
            people::name.eq(&row.name),
            people::verified.eq(row.verified),
        ))
        .execute(inner))
    .map_err(|error| map_error(error, "another customer has this e-mail address"))?;
    Ok(())
}

/// Removes customer `id` from the directory with the shares they gave or got and their links,
/// with the events `events` builds from the removed shares.
fn forget_person(
    connection: &mut DbConnection,
    id: Uuid,
    events: EventsFor<Vec<Share>>,
) -> Result<()> {
    lock_owner(connection, id)?;
    let id = id.to_string();
    diesel::delete(people::table.filter(people::id.eq(&id))).execute(connection)?;
    let removed: Vec<ShareRow> = per_engine!(connection, |inner| diesel::delete(
        shares::table.filter(shares::owner_id.eq(&id).or(shares::recipient_id.eq(&id)))
    )
    .returning(ShareRow::as_returning())
    .get_results(inner))?;
    let removed = removed
        .into_iter()
        .map(ShareRow::into_share)
        .collect::<Result<Vec<_>>>()?;
    diesel::delete(links::table.filter(links::owner_id.eq(&id))).execute(connection)?;
    outbox::enqueue(connection, &events(&removed))?;
    Ok(())
}

/// Deletes `owner`'s shares and links of the nodes `node_ids` (which the caller is deleting),
/// and returns them.
pub fn end_with_nodes(
    connection: &mut DbConnection,
    owner: Uuid,
    node_ids: &[String],
) -> Result<(Vec<Share>, Vec<Link>)> {
    if node_ids.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    // An owner has few shares and links, a deleted subtree may have many nodes: the owner's
    // are read and matched here rather than the nodes sent as one long list of parameters.
    let removed: std::collections::HashSet<&str> = node_ids.iter().map(String::as_str).collect();
    let owner_id = owner.to_string();
    let ended_shares: Vec<ShareRow> = shares::table
        .filter(shares::owner_id.eq(&owner_id))
        .select(ShareRow::as_select())
        .load::<ShareRow>(connection)?
        .into_iter()
        .filter(|row| removed.contains(row.node_id.as_str()))
        .collect();
    let ended_links: Vec<LinkRow> = links::table
        .filter(links::owner_id.eq(&owner_id))
        .select(LinkRow::as_select())
        .load::<LinkRow>(connection)?
        .into_iter()
        .filter(|row| removed.contains(row.node_id.as_str()))
        .collect();
    let share_ids: Vec<&str> = ended_shares.iter().map(|row| row.id.as_str()).collect();
    diesel::delete(shares::table.filter(shares::id.eq_any(share_ids))).execute(connection)?;
    let link_ids: Vec<&str> = ended_links.iter().map(|row| row.id.as_str()).collect();
    diesel::delete(links::table.filter(links::id.eq_any(link_ids))).execute(connection)?;
    Ok((
        ended_shares
            .into_iter()
            .map(ShareRow::into_share)
            .collect::<Result<_>>()?,
        ended_links
            .into_iter()
            .map(LinkRow::into_link)
            .collect::<Result<_>>()?,
    ))
}

/// Deletes share `id` with `events`, under its owner's lock; whether it was there.
fn delete_share(connection: &mut DbConnection, id: Uuid, events: &[Outgoing]) -> Result<bool> {
    let owner: Option<String> = shares::table
        .filter(shares::id.eq(id.to_string()))
        .select(shares::owner_id)
        .first(connection)
        .optional()?;
    let Some(owner) = owner else {
        return Ok(false);
    };
    lock_owner(connection, schema::uuid(&owner)?)?;
    let n =
        diesel::delete(shares::table.filter(shares::id.eq(id.to_string()))).execute(connection)?;
    if n > 0 {
        outbox::enqueue(connection, events)?;
    }
    Ok(n > 0)
}

/// Deletes `owner`'s link `id` with `events`; whether it was there.
fn delete_link(
    connection: &mut DbConnection,
    owner: Uuid,
    id: Uuid,
    events: &[Outgoing],
) -> Result<bool> {
    lock_owner(connection, owner)?;
    let n = diesel::delete(
        links::table
            .filter(links::id.eq(id.to_string()))
            .filter(links::owner_id.eq(owner.to_string())),
    )
    .execute(connection)?;
    if n > 0 {
        outbox::enqueue(connection, events)?;
    }
    Ok(n > 0)
}

/// Stores `share` with its events, or sets the role of the share of the same node with the
/// same recipient.
fn put_share(
    connection: &mut DbConnection,
    share: &Share,
    events: &[Outgoing],
) -> Result<(Share, bool)> {
    lock_owner(connection, share.owner)?;
    let row = ShareRow::from_share(share);
    let n_inserted = per_engine!(connection, |inner| diesel::insert_into(shares::table)
        .values(&row)
        .on_conflict((shares::node_id, shares::recipient_id))
        .do_nothing()
        .execute(inner))
    .map_err(|error| map_error(error, &format!("the share {} exists", share.id)))?;
    if n_inserted == 1 {
        outbox::enqueue(connection, events)?;
        return Ok((share.clone(), true));
    }
    let same = shares::table
        .filter(shares::node_id.eq(&row.node_id))
        .filter(shares::recipient_id.eq(&row.recipient_id));
    let stored: ShareRow = per_engine!(connection, |inner| diesel::update(same)
        .set(shares::role.eq(&row.role))
        .returning(ShareRow::as_returning())
        .get_result(inner))?;
    Ok((stored.into_share()?, false))
}

/// Sets the role of share `id`.
fn set_share_role(connection: &mut DbConnection, id: Uuid, role: Role) -> Result<Option<Share>> {
    let this = shares::table.filter(shares::id.eq(id.to_string()));
    per_engine!(connection, |inner| diesel::update(this)
        .set(shares::role.eq(role.as_str()))
        .returning(ShareRow::as_returning())
        .get_result(inner)
        .optional())?
    .map(ShareRow::into_share)
    .transpose()
}

/// The shares given (`by_owner`) or received by `person`, newest first.
fn shares_of(connection: &mut DbConnection, person: Uuid, by_owner: bool) -> Result<Vec<Share>> {
    let person = person.to_string();
    let query = shares::table
        .order((shares::created_at.desc(), shares::id.desc()))
        .select(ShareRow::as_select())
        .into_boxed();
    let query = if by_owner {
        query.filter(shares::owner_id.eq(person))
    } else {
        query.filter(shares::recipient_id.eq(person))
    };
    query
        .load(connection)?
        .into_iter()
        .map(ShareRow::into_share)
        .collect()
}

/// Counts a download of link `id` if its limit allows one more.
fn take_download(connection: &mut DbConnection, id: Uuid) -> Result<bool> {
    let n = diesel::update(
        links::table.filter(links::id.eq(id.to_string())).filter(
            links::max_downloads
                .is_null()
                .or(links::downloads.lt(links::max_downloads.assume_not_null())),
        ),
    )
    .set(links::downloads.eq(links::downloads + 1))
    .execute(connection)?;
    Ok(n == 1)
}

/// Marks link `id` warned and writes `events`, unless it was warned already.
fn mark_link_warned(connection: &mut DbConnection, id: Uuid, events: &[Outgoing]) -> Result<bool> {
    let owner: Option<String> = links::table
        .filter(links::id.eq(id.to_string()))
        .select(links::owner_id)
        .first(connection)
        .optional()?;
    let Some(owner) = owner else { return Ok(false) };
    lock_owner(connection, schema::uuid(&owner)?)?;
    let n = diesel::update(
        links::table
            .filter(links::id.eq(id.to_string()))
            .filter(links::expiry_warned.eq(false)),
    )
    .set(links::expiry_warned.eq(true))
    .execute(connection)?;
    if n == 0 {
        return Ok(false);
    }
    outbox::enqueue(connection, events)?;
    Ok(true)
}

#[async_trait]
impl SharingRepo for SqlFileRepo {
    #[tracing::instrument(skip(self, person), fields(person = %person.id))]
    async fn upsert_person(&self, person: &Person) -> Result<()> {
        let person = person.clone();
        self.write(move |connection| upsert_person(connection, &person))
            .await
    }

    #[tracing::instrument(skip(self, events))]
    async fn forget_person(&self, id: Uuid, events: EventsFor<Vec<Share>>) -> Result<()> {
        self.write_with_events(move |connection| forget_person(connection, id, events))
            .await
    }

    #[tracing::instrument(skip(self))]
    async fn person(&self, id: Uuid) -> Result<Option<Person>> {
        self.db
            .run(move |connection| {
                people::table
                    .filter(people::id.eq(id.to_string()))
                    .select(PersonRow::as_select())
                    .first(connection)
                    .optional()?
                    .map(PersonRow::into_person)
                    .transpose()
            })
            .await
    }

    #[tracing::instrument(skip(self, email))]
    async fn person_by_email(&self, email: &str) -> Result<Option<Person>> {
        let email = email.to_owned();
        self.db
            .run(move |connection| {
                people::table
                    .filter(people::email.eq(email))
                    .select(PersonRow::as_select())
                    .first(connection)
                    .optional()?
                    .map(PersonRow::into_person)
                    .transpose()
            })
            .await
    }

    #[tracing::instrument(skip(self, share, events), fields(share = %share.id, owner = %share.owner))]
    async fn put_share(&self, share: &Share, events: Vec<Outgoing>) -> Result<(Share, bool)> {
        let share = share.clone();
        self.write_with_events(move |connection| put_share(connection, &share, &events))
            .await
    }

    #[tracing::instrument(skip(self))]
    async fn share(&self, id: Uuid) -> Result<Option<Share>> {
        self.db
            .run(move |connection| {
                shares::table
                    .filter(shares::id.eq(id.to_string()))
                    .select(ShareRow::as_select())
                    .first(connection)
                    .optional()?
                    .map(ShareRow::into_share)
                    .transpose()
            })
            .await
    }

    #[tracing::instrument(skip(self))]
    async fn set_share_role(&self, id: Uuid, role: Role) -> Result<Option<Share>> {
        self.write(move |connection| set_share_role(connection, id, role))
            .await
    }

    #[tracing::instrument(skip(self, events))]
    async fn delete_share(&self, id: Uuid, events: Vec<Outgoing>) -> Result<bool> {
        self.write_with_events(move |connection| delete_share(connection, id, &events))
            .await
    }

    #[tracing::instrument(skip(self))]
    async fn shares_given(&self, owner: Uuid) -> Result<Vec<Share>> {
        self.db
            .run(move |connection| shares_of(connection, owner, true))
            .await
    }

    #[tracing::instrument(skip(self))]
    async fn shares_received(&self, recipient: Uuid) -> Result<Vec<Share>> {
        self.db
            .run(move |connection| shares_of(connection, recipient, false))
            .await
    }

    #[tracing::instrument(skip(self, link), fields(link = %link.id, owner = %link.owner))]
    async fn insert_link(&self, link: &Link) -> Result<()> {
        let row = LinkRow::from_link(link)?;
        self.write(move |connection| {
            diesel::insert_into(links::table)
                .values(&row)
                .execute(connection)
                .map_err(|error| map_error(error, "the link exists"))?;
            Ok(())
        })
        .await
    }

    #[tracing::instrument(skip(self, token_hash))]
    async fn link_by_token(&self, token_hash: &str) -> Result<Option<Link>> {
        let token_hash = token_hash.to_owned();
        self.db
            .run(move |connection| {
                links::table
                    .filter(links::token_hash.eq(token_hash))
                    .select(LinkRow::as_select())
                    .first(connection)
                    .optional()?
                    .map(LinkRow::into_link)
                    .transpose()
            })
            .await
    }

    #[tracing::instrument(skip(self))]
    async fn links(&self, owner: Uuid) -> Result<Vec<Link>> {
        self.db
            .run(move |connection| {
                links::table
                    .filter(links::owner_id.eq(owner.to_string()))
                    .order((links::created_at.desc(), links::id.desc()))
                    .select(LinkRow::as_select())
                    .load(connection)?
                    .into_iter()
                    .map(LinkRow::into_link)
                    .collect()
            })
            .await
    }

    #[tracing::instrument(skip(self, events))]
    async fn delete_link(&self, owner: Uuid, id: Uuid, events: Vec<Outgoing>) -> Result<bool> {
        self.write_with_events(move |connection| delete_link(connection, owner, id, &events))
            .await
    }

    #[tracing::instrument(skip(self))]
    async fn take_download(&self, id: Uuid) -> Result<bool> {
        self.write(move |connection| take_download(connection, id))
            .await
    }

    #[tracing::instrument(skip(self))]
    async fn count_upload(&self, id: Uuid) -> Result<()> {
        self.write(move |connection| {
            diesel::update(links::table.filter(links::id.eq(id.to_string())))
                .set(links::uploads.eq(links::uploads + 1))
                .execute(connection)?;
            Ok(())
        })
        .await
    }

    #[tracing::instrument(skip(self))]
    async fn links_expiring(
        &self,
        now: DateTime<Utc>,
        before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Link>> {
        self.db
            .run(move |connection| {
                links::table
                    .filter(links::expiry_warned.eq(false))
                    .filter(links::expires_at.gt(micros(now)))
                    .filter(links::expires_at.lt(micros(before)))
                    .order((links::expires_at.asc(), links::id.asc()))
                    .limit(i64::from(limit))
                    .select(LinkRow::as_select())
                    .load(connection)?
                    .into_iter()
                    .map(LinkRow::into_link)
                    .collect()
            })
            .await
    }

    #[tracing::instrument(skip(self, events))]
    async fn mark_link_warned(&self, id: Uuid, events: Vec<Outgoing>) -> Result<bool> {
        self.write_with_events(move |connection| mark_link_warned(connection, id, &events))
            .await
    }
}

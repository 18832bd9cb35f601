//! The sharing tables, written by hand to match `migrations/files/2026-11-27-000000_sharing`
//! (SQLite) and `migrations/files-postgres/2026-11-27-000200_sharing`, and their rows turned
//! back into domain records. As for the tree (`schema`), both databases hold the same columns
//! (text ids, microsecond times, signed counts; `expiry_warned` is a boolean, which SQLite
//! keeps as an integer), so both adapters share these rows and return equal records.

use diesel::prelude::*;

use super::schema::{corrupt, micros, size, stored_size, time, uuid};
use crate::error::Result;
use crate::files::domain::{Link, LinkMode, Person, Role, Share};

diesel::table! {
    people (id) {
        id -> Text,
        email -> Text,
        name -> Text,
        verified -> Bool,
    }
}

diesel::table! {
    shares (id) {
        id -> Text,
        owner_id -> Text,
        node_id -> Text,
        recipient_id -> Text,
        role -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    links (id) {
        id -> Text,
        owner_id -> Text,
        node_id -> Text,
        token_hash -> Text,
        mode -> Text,
        password_hash -> Nullable<Text>,
        expires_at -> BigInt,
        max_downloads -> Nullable<BigInt>,
        downloads -> BigInt,
        uploads -> BigInt,
        created_at -> BigInt,
        expiry_warned -> Bool,
    }
}

/// A row of `people`.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = people, check_for_backend(diesel::sqlite::Sqlite))]
#[cfg_attr(feature = "postgres", diesel(check_for_backend(diesel::pg::Pg)))]
pub struct PersonRow {
    pub id: String,
    pub email: String,
    pub name: String,
    pub verified: bool,
}

/// A row of `shares`.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = shares, check_for_backend(diesel::sqlite::Sqlite))]
#[cfg_attr(feature = "postgres", diesel(check_for_backend(diesel::pg::Pg)))]
pub struct ShareRow {
    pub id: String,
    pub owner_id: String,
    pub node_id: String,
    pub recipient_id: String,
    pub role: String,
    pub created_at: i64,
}

/// A row of `links`.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = links, check_for_backend(diesel::sqlite::Sqlite))]
#[cfg_attr(feature = "postgres", diesel(check_for_backend(diesel::pg::Pg)))]
pub struct LinkRow {
    pub id: String,
    pub owner_id: String,
    pub node_id: String,
    pub token_hash: String,
    pub mode: String,
    pub password_hash: Option<String>,
    pub expires_at: i64,
    pub max_downloads: Option<i64>,
    pub downloads: i64,
    pub uploads: i64,
    pub created_at: i64,
    pub expiry_warned: bool,
}

impl PersonRow {
    /// The row for `person`.
    pub fn from_person(person: &Person) -> Self {
        Self {
            id: person.id.to_string(),
            email: person.email.clone(),
            name: person.name.clone(),
            verified: person.verified,
        }
    }

    /// The person the row holds.
    pub fn into_person(self) -> Result<Person> {
        Ok(Person {
            id: uuid(&self.id)?,
            email: self.email,
            name: self.name,
            verified: self.verified,
        })
    }
}

impl ShareRow {
    /// The row for `share`.
    pub fn from_share(share: &Share) -> Self {
        Self {
            id: share.id.to_string(),
            owner_id: share.owner.to_string(),
            node_id: share.node_id.to_string(),
            recipient_id: share.recipient.to_string(),
            role: share.role.as_str().to_owned(),
            created_at: micros(share.created_at),
        }
    }

    /// The share the row holds.
    pub fn into_share(self) -> Result<Share> {
        Ok(Share {
            id: uuid(&self.id)?,
            owner: uuid(&self.owner_id)?,
            node_id: uuid(&self.node_id)?,
            recipient: uuid(&self.recipient_id)?,
            role: Role::parse(&self.role).map_err(|_| corrupt("role", &self.role))?,
            created_at: time(self.created_at)?,
        })
    }
}

impl LinkRow {
    /// The row for `link`.
    pub fn from_link(link: &Link) -> Result<Self> {
        Ok(Self {
            id: link.id.to_string(),
            owner_id: link.owner.to_string(),
            node_id: link.node_id.to_string(),
            token_hash: link.token_hash.clone(),
            mode: link.mode.as_str().to_owned(),
            password_hash: link.password_hash.clone(),
            expires_at: micros(link.expires_at),
            max_downloads: link.max_downloads.map(stored_size).transpose()?,
            downloads: stored_size(link.downloads)?,
            uploads: stored_size(link.uploads)?,
            created_at: micros(link.created_at),
            expiry_warned: link.expiry_warned,
        })
    }

    /// The link the row holds.
    pub fn into_link(self) -> Result<Link> {
        Ok(Link {
            id: uuid(&self.id)?,
            owner: uuid(&self.owner_id)?,
            node_id: uuid(&self.node_id)?,
            token_hash: self.token_hash,
            mode: LinkMode::parse(&self.mode).map_err(|_| corrupt("link mode", &self.mode))?,
            password_hash: self.password_hash,
            expires_at: time(self.expires_at)?,
            max_downloads: self.max_downloads.map(size).transpose()?,
            downloads: size(self.downloads)?,
            uploads: size(self.uploads)?,
            created_at: time(self.created_at)?,
            expiry_warned: self.expiry_warned,
        })
    }
}

//! The records of sharing: the customers files knows of ([`Person`]), shares with them
//! ([`Share`]) and public links ([`Link`]) with their secret [`LinkToken`].

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use rand::RngCore;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::error::Error;

/// A registered customer, as the files service learns of them from customer events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    /// Their id.
    pub id: Uuid,
    /// Their e-mail address, lowercase.
    pub email: String,
    /// Their display name.
    pub name: String,
    /// Whether they proved the address is theirs.
    pub verified: bool,
}

/// What a share lets its recipient do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// List and download.
    Viewer,
    /// Also upload, make folders, move and delete inside the shared item.
    Editor,
}

impl Role {
    /// As stored: `viewer` or `editor`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Viewer => "viewer",
            Self::Editor => "editor",
        }
    }

    /// A stored role.
    pub fn parse(raw: &str) -> Result<Self, Error> {
        match raw {
            "viewer" => Ok(Self::Viewer),
            "editor" => Ok(Self::Editor),
            other => Err(Error::Invalid(format!(
                "'{other}' is not a role; use viewer or editor"
            ))),
        }
    }
}

/// A file or folder of `owner` shared with `recipient`. It points at the node's id, so it
/// follows the item when it is moved or renamed, and dies with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Share {
    /// Its id.
    pub id: Uuid,
    /// Who shared.
    pub owner: Uuid,
    /// The shared node.
    pub node_id: Uuid,
    /// Who may use it.
    pub recipient: Uuid,
    /// What they may do.
    pub role: Role,
    /// When it was shared.
    pub created_at: DateTime<Utc>,
}

/// What a link allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkMode {
    /// See and download.
    Download,
    /// Upload into a folder, nothing else.
    Upload,
}

impl LinkMode {
    /// As stored: `download` or `upload`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Download => "download",
            Self::Upload => "upload",
        }
    }

    /// A stored mode.
    pub fn parse(raw: &str) -> Result<Self, Error> {
        match raw {
            "download" => Ok(Self::Download),
            "upload" => Ok(Self::Upload),
            other => Err(Error::Invalid(format!("'{other}' is not a link mode"))),
        }
    }
}

/// A public link to a node of `owner`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// Its id.
    pub id: Uuid,
    /// Whose node.
    pub owner: Uuid,
    /// The linked node (followed across moves).
    pub node_id: Uuid,
    /// The SHA-256 of the token, hex: all that is kept of it.
    pub token_hash: String,
    /// Download, or upload-only.
    pub mode: LinkMode,
    /// The argon2id PHC string of its password, if it has one.
    pub password_hash: Option<String>,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
    /// How many downloads it allows, if limited.
    pub max_downloads: Option<u64>,
    /// Downloads counted so far.
    pub downloads: u64,
    /// Uploads received so far.
    pub uploads: u64,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// Whether its owner was told that it expires soon.
    pub expiry_warned: bool,
}

/// The secret of a link: 256 random bits, base64url. Only its hash is stored.
#[derive(Clone, PartialEq, Eq)]
pub struct LinkToken(String);

impl std::fmt::Debug for LinkToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LinkToken(..)")
    }
}

impl LinkToken {
    /// A fresh token from the OS's random source.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        Self(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// A token as a client sent it; anything malformed can match no link.
    pub fn parse(raw: &str) -> Result<Self, Error> {
        let well_formed = raw.len() == 43
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if well_formed {
            Ok(Self(raw.to_owned()))
        } else {
            Err(Error::NotFound("no such link".into()))
        }
    }

    /// The token, to show its owner once.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// What is stored and looked up: the SHA-256 of the token, hex. A token has 256 random
    /// bits, so a fast hash suffices (no guessing to slow down).
    pub fn hash(&self) -> String {
        hex::encode(Sha256::digest(self.0.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_parse_back() {
        let a = LinkToken::generate();
        let b = LinkToken::generate();
        assert_ne!(a, b);
        assert_eq!(LinkToken::parse(a.expose()).unwrap(), a);
        assert_eq!(a.hash().len(), 64);
        assert_ne!(a.hash(), b.hash());
        assert!(LinkToken::parse("short").is_err());
        assert!(LinkToken::parse(&"a/".repeat(22)[..43]).is_err());
    }

    #[test]
    fn roles_and_modes_round_trip() {
        for role in [Role::Viewer, Role::Editor] {
            assert_eq!(Role::parse(role.as_str()).unwrap(), role);
        }
        for mode in [LinkMode::Download, LinkMode::Upload] {
            assert_eq!(LinkMode::parse(mode.as_str()).unwrap(), mode);
        }
        assert!(Role::parse("owner").is_err());
    }
}

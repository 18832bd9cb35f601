//! File values that check themselves when built, and the records the service and its ports
//! exchange; no I/O here.
//!
//! [`RemotePath`] is the heart of it: every path that reaches the service went through
//! [`RemotePath::parse`], so no store ever sees `..`, an empty segment, a control character or
//! a bidirectional control, and every name is in NFC (`domain/names.rs`).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use uuid::Uuid;

use crate::error::Error;

mod dav;
mod disposition;
mod names;
mod records;
mod sharing;
mod trash;

pub use dav::{first_conflict, DavLockRecord, DeadProp};
pub use disposition::content_disposition;
pub use records::{
    AssembledBlob, Garbage, Node, NodeKind, OverwritePolicy, Removal, StoredPart, Upload,
    UsageCounts,
};
pub use sharing::{Link, LinkMode, LinkToken, Person, Role, Share};
pub use trash::{
    numbered_name, restore_candidate, split_extension, RestoreTarget, Restored, TrashItem,
    TrashPurge, TrashSelection, Trashed, MAX_RESTORE_NAMES,
};

/// An absolute path in one owner's tree: `/` or `/a/b`, with no `.`, `..` or empty segment,
/// no control character or bidirectional control, in NFC, at most [`RemotePath::MAX_BYTES`]
/// bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RemotePath(String);

impl RemotePath {
    /// The longest path accepted, in bytes.
    pub const MAX_BYTES: usize = 4096;
    /// The longest segment (file or folder name) accepted, in bytes.
    pub const MAX_SEGMENT_BYTES: usize = 255;

    /// The root folder `/`, which always exists.
    pub fn root() -> Self {
        Self("/".to_owned())
    }

    /// Checks `raw` against every path rule and returns it in NFC (see `domain/names.rs`); the
    /// error names the rule that was broken.
    pub fn parse(raw: &str) -> Result<Self, Error> {
        let invalid = |rule: &str| Error::Invalid(format!("the path must {rule}"));
        let too_long = || invalid(&format!("be at most {} bytes", Self::MAX_BYTES));
        if raw.is_empty() {
            return Err(invalid("not be empty"));
        }
        if !raw.starts_with('/') {
            return Err(invalid("start with '/' (it is absolute in your tree)"));
        }
        if raw.len() > Self::MAX_BYTES {
            return Err(too_long());
        }
        if raw.chars().any(char::is_control) {
            return Err(invalid("not contain NUL or control characters"));
        }
        if let Some(control) = raw.chars().find(|&c| names::is_bidi_control(c)) {
            return Err(invalid(&format!(
                "not contain Unicode bidirectional controls (U+{:04X} here): they make a name \
                 look like another",
                control as u32
            )));
        }
        // A few characters grow under NFC, so the length is checked again.
        let raw = names::nfc(raw);
        if raw.len() > Self::MAX_BYTES {
            return Err(too_long());
        }
        if raw == "/" {
            return Ok(Self::root());
        }
        if raw.ends_with('/') {
            return Err(invalid("not end with '/' (only the root is '/')"));
        }
        for segment in raw[1..].split('/') {
            check_segment(segment).map_err(|rule| invalid(&rule))?;
        }
        Ok(Self(raw.into_owned()))
    }

    /// The path as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this is `/`.
    pub fn is_root(&self) -> bool {
        self.0 == "/"
    }

    /// The folder holding this entry; `None` for the root.
    pub fn parent(&self) -> Option<RemotePath> {
        if self.is_root() {
            return None;
        }
        match self.0.rfind('/') {
            Some(0) => Some(Self::root()),
            Some(at) => Some(Self(self.0[..at].to_owned())),
            None => None,
        }
    }

    /// The last segment; empty for the root.
    pub fn name(&self) -> &str {
        match self.0.rfind('/') {
            Some(at) => &self.0[at + 1..],
            None => &self.0,
        }
    }

    /// The entry `name` inside this folder; `name` must be a valid single segment.
    pub fn join(&self, name: &str) -> Result<RemotePath, Error> {
        if name.contains('/') {
            return Err(Error::Invalid("a name must not contain '/'".into()));
        }
        let joined = if self.is_root() {
            format!("/{name}")
        } else {
            format!("{}/{name}", self.0)
        };
        Self::parse(&joined)
    }

    /// This path read relative to the folder `base`: `/b/c` under `/a` is `/a/b/c`, `/` under
    /// `/a` is `/a`. The result is checked against every rule (its length may break one).
    pub fn under(&self, base: &RemotePath) -> Result<RemotePath, Error> {
        if self.is_root() {
            return Ok(base.clone());
        }
        if base.is_root() {
            return Ok(self.clone());
        }
        Self::parse(&format!("{}{}", base.0, self.0))
    }

    /// This path seen from inside `base` (the inverse of [`RemotePath::under`]); `None` if it
    /// does not lie inside `base`.
    pub fn relative_to(&self, base: &RemotePath) -> Option<RemotePath> {
        if !self.starts_with(base) {
            return None;
        }
        if base.is_root() {
            return Some(self.clone());
        }
        match &self.0[base.0.len()..] {
            "" => Some(Self::root()),
            rest => Some(Self(rest.to_owned())),
        }
    }

    /// Whether this path is `ancestor` or lies inside it (`/a/b` starts with `/a`, `/ab` does not).
    pub fn starts_with(&self, ancestor: &RemotePath) -> bool {
        ancestor.is_root()
            || self.0 == ancestor.0
            || (self.0.starts_with(&ancestor.0)
                && self.0.as_bytes().get(ancestor.0.len()) == Some(&b'/'))
    }

    /// Every folder from the top down to this path, the root excluded and this path included:
    /// `/a/b/c` gives `/a`, `/a/b`, `/a/b/c`.
    pub fn lineage(&self) -> Vec<RemotePath> {
        let mut lineage = Vec::new();
        let mut current = Some(self.clone());
        while let Some(path) = current.filter(|path| !path.is_root()) {
            current = path.parent();
            lineage.push(path);
        }
        lineage.reverse();
        lineage
    }

    /// The half-open byte range `[low, high)` that holds every path strictly inside this
    /// folder, for range scans over paths sorted in byte order.
    pub fn descendant_range(&self) -> (String, String) {
        let low = if self.is_root() {
            "/".to_owned()
        } else {
            format!("{}/", self.0)
        };
        // '0' is the byte right after '/', so `high` bounds every `low...` string.
        let high = format!("{}0", &low[..low.len() - 1]);
        (low, high)
    }
}

impl std::fmt::Display for RemotePath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Checks one segment; the error is the rule, phrased to follow "the path must".
fn check_segment(segment: &str) -> Result<(), String> {
    match segment {
        "" => Err("not contain empty segments ('//')".into()),
        "." => Err("not contain '.' segments".into()),
        ".." => Err("not contain '..' segments".into()),
        _ if segment.len() > RemotePath::MAX_SEGMENT_BYTES => Err(format!(
            "have segments of at most {} bytes",
            RemotePath::MAX_SEGMENT_BYTES
        )),
        _ => Ok(()),
    }
}

/// A SHA-256 digest as 64 lowercase hex characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Sha256Hex(String);

impl Sha256Hex {
    /// Checks `raw`: 64 hex characters (uppercase is accepted and lowercased).
    pub fn parse(raw: &str) -> Result<Self, Error> {
        if raw.len() != 64 || !raw.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Error::Invalid(
                "the sha256 must be 64 hexadecimal characters".into(),
            ));
        }
        Ok(Self(raw.to_ascii_lowercase()))
    }

    /// The digest of computed bytes.
    pub fn from_digest(digest: &[u8]) -> Self {
        Self(hex::encode(digest))
    }

    /// The lowercase hex text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The name of a blob in the blob store: 32 lowercase hex characters, random, never reused.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BlobKey(String);

impl BlobKey {
    /// A fresh random key.
    pub fn generate() -> Self {
        Self(Uuid::new_v4().simple().to_string())
    }

    /// Checks a key read back from a store or a URL.
    pub fn parse(raw: &str) -> Result<Self, Error> {
        if raw.len() != 32 || !raw.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(Error::NotFound("no such blob".into()));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The blob store's name for an upload in progress (a staging folder, an S3 upload id).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StagingId(pub String);

impl StagingId {
    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How a file of `size` bytes is cut into parts of `part_size` bytes (the last may be shorter).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartPlan {
    /// The file's size.
    pub size: u64,
    /// Size of every part but the last.
    pub part_size: u64,
}

impl PartPlan {
    /// The most parts an upload may have (S3's limit, kept everywhere so backends agree).
    pub const MAX_PARTS: u64 = 10_000;

    /// Checks that `size` fits in at most [`PartPlan::MAX_PARTS`] parts of `part_size`.
    pub fn new(size: u64, part_size: u64) -> Result<Self, Error> {
        if part_size == 0 {
            return Err(Error::internal(anyhow::anyhow!(
                "the part size must not be 0"
            )));
        }
        if size.div_ceil(part_size) > Self::MAX_PARTS {
            return Err(Error::TooLarge(format!(
                "the file is too large: at {part_size} bytes per part it needs more than {} parts",
                Self::MAX_PARTS
            )));
        }
        Ok(Self { size, part_size })
    }

    /// How many parts: `ceil(size / part_size)`, 0 for an empty file.
    pub fn n_parts(&self) -> u32 {
        u32::try_from(self.size.div_ceil(self.part_size)).unwrap_or(u32::MAX)
    }

    /// Offset and size of part `number` (1-based), if there is such a part.
    pub fn part(&self, number: u32) -> Option<(u64, u64)> {
        if number == 0 || number > self.n_parts() {
            return None;
        }
        let offset = u64::from(number - 1) * self.part_size;
        Some((offset, self.part_size.min(self.size - offset)))
    }
}

/// The position after which a listing page starts: the last name of the previous page, as an
/// opaque token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor(pub String);

impl Cursor {
    /// The token a client passes back.
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.0.as_bytes())
    }

    /// Reads a token from a client.
    pub fn decode(raw: &str) -> Result<Self, Error> {
        let invalid = || {
            Error::Invalid(
                "the cursor is not valid; pass the next_cursor of the previous page".into(),
            )
        };
        let bytes = URL_SAFE_NO_PAD
            .decode(raw.trim_end_matches('='))
            .map_err(|_| invalid())?;
        // Any name positions a page, so bytes that are no UTF-8 still do, read lossily.
        Ok(Self(String::from_utf8_lossy(&bytes).into_owned()))
    }
}

/// How many entries a listing page holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageLimit(u32);

impl PageLimit {
    /// The page size when the client names none.
    pub const DEFAULT: u32 = 100;
    /// The largest page.
    pub const MAX: u32 = common::api::MAX_PAGE;

    /// Checks `raw` (absent means [`PageLimit::DEFAULT`]).
    pub fn parse(raw: Option<u32>) -> Result<Self, Error> {
        match raw.unwrap_or(Self::DEFAULT) {
            n @ 1..=Self::MAX => Ok(Self(n)),
            _ => Err(Error::Invalid(format!(
                "the limit must be between 1 and {}",
                Self::MAX
            ))),
        }
    }

    /// The number.
    pub fn get(&self) -> u32 {
        self.0
    }

    /// The largest page, for walks that read a whole folder.
    pub fn max() -> Self {
        Self(Self::MAX)
    }
}

#[cfg(test)]
mod tests;

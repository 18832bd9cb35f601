//! Reading remote trees: every page of a folder, a whole tree, and the paths a glob matches
//! (`'/photos/*.jpg'`, `'/logs/**/*.gz'`), expanded against the remote tree, not the local
//! shell's.

use std::future::Future;

use common::api::{Entry, EntryKind, Listing};
use futures::future::BoxFuture;
use globset::{GlobBuilder, GlobMatcher};

use crate::client::{Client, ClientError, Origin};
use crate::error::UsageError;

/// Every page of a listing, `page(cursor)` fetching one.
pub async fn all_pages<Page, Fetch>(page: Page) -> Result<Listing, ClientError>
where
    Page: Fn(Option<String>) -> Fetch,
    Fetch: Future<Output = Result<Listing, ClientError>>,
{
    let mut listing = page(None).await?;
    let mut cursor = listing.next_cursor.take();
    while let Some(next) = cursor {
        let mut more = page(Some(next)).await?;
        listing.entries.append(&mut more.entries);
        cursor = more.next_cursor;
    }
    Ok(listing)
}

/// Every entry of the folder `path`.
pub async fn folder(
    client: &Client,
    origin: &Origin,
    path: &str,
) -> Result<Vec<Entry>, ClientError> {
    let listing =
        all_pages(|cursor| async move { client.list_in(origin, path, cursor.as_deref()).await })
            .await?;
    Ok(listing.entries)
}

/// Every entry under the folder `root` of `origin` (a tree, or a folder link), at most `depth`
/// levels down (`None`: all), each folder just before what it holds, siblings by name.
pub async fn tree(
    client: &Client,
    origin: impl Into<Origin>,
    root: &str,
    depth: Option<usize>,
) -> Result<Vec<Entry>, ClientError> {
    let origin = origin.into();
    let mut found = Vec::new();
    descend(client, &origin, root.to_owned(), 1, depth, &mut found).await?;
    Ok(found)
}

fn descend<'a>(
    client: &'a Client,
    origin: &'a Origin,
    path: String,
    level: usize,
    depth: Option<usize>,
    found: &'a mut Vec<Entry>,
) -> BoxFuture<'a, Result<(), ClientError>> {
    Box::pin(async move {
        for entry in folder(client, origin, &path).await? {
            let below = (entry.kind == EntryKind::Folder
                && depth.is_none_or(|depth| level < depth))
            .then(|| entry.path.clone());
            found.push(entry);
            if let Some(below) = below {
                descend(client, origin, below, level + 1, depth, found).await?;
            }
        }
        Ok(())
    })
}

/// Whether `text` holds a glob character (`*`, `?`, `[`), so it is a pattern, not a path.
pub fn is_glob(text: &str) -> bool {
    text.contains(['*', '?', '['])
}

/// A pattern over remote paths: `*` and `?` stay within one name, `**` crosses folders.
#[derive(Debug)]
pub struct Pattern {
    /// The folder above the first segment holding a glob character.
    pub base: String,
    /// How many levels below `base` the pattern reaches; `None` with `**`.
    pub depth: Option<usize>,
    /// Matches whole paths.
    matcher: GlobMatcher,
}

impl Pattern {
    /// The pattern `text`, an absolute path with glob characters in it.
    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let glob = GlobBuilder::new(text)
            .literal_separator(true)
            .backslash_escape(true)
            .build()
            .map_err(|error| UsageError(format!("{text}: not a valid pattern: {error}")))?;
        let segments: Vec<&str> = text.split('/').filter(|s| !s.is_empty()).collect();
        let first_glob = segments
            .iter()
            .position(|segment| is_glob(segment))
            .unwrap_or(segments.len());
        let base = format!("/{}", segments[..first_glob].join("/"));
        let depth = (!text.contains("**")).then_some(segments.len() - first_glob);
        Ok(Self {
            base,
            depth,
            matcher: glob.compile_matcher(),
        })
    }

    /// Whether `path` matches.
    pub fn matches(&self, path: &str) -> bool {
        self.matcher.is_match(path)
    }
}

/// The entries of `origin` whose paths match `pattern`; a usage error when none does.
pub async fn expand(
    client: &Client,
    origin: impl Into<Origin>,
    pattern: &str,
) -> anyhow::Result<Vec<Entry>> {
    let parsed = Pattern::parse(pattern)?;
    let entries = self::tree(client, origin, &parsed.base, parsed.depth).await?;
    let matched: Vec<Entry> = entries
        .into_iter()
        .filter(|entry| parsed.matches(&entry.path))
        .collect();
    if matched.is_empty() {
        return Err(crate::error::NotFoundError(format!("nothing matches {pattern}")).into());
    }
    Ok(matched)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pattern_knows_where_to_look_and_how_deep() {
        let pattern = Pattern::parse("/photos/2024/*.jpg").unwrap();
        assert_eq!(
            (pattern.base.as_str(), pattern.depth),
            ("/photos/2024", Some(1))
        );
        assert!(pattern.matches("/photos/2024/a.jpg"));
        assert!(!pattern.matches("/photos/2024/sub/a.jpg"));
        let pattern = Pattern::parse("/*/notes.txt").unwrap();
        assert_eq!((pattern.base.as_str(), pattern.depth), ("/", Some(2)));
        let pattern = Pattern::parse("/logs/**/*.gz").unwrap();
        assert_eq!((pattern.base.as_str(), pattern.depth), ("/logs", None));
        assert!(pattern.matches("/logs/a/b/c.gz"));
        assert!(Pattern::parse("/a/[").is_err());
        assert!(is_glob("/a/*.txt") && !is_glob("/a/b.txt"));
    }
}

//! `--exclude GLOB`: what a sync leaves alone on both sides.
//!
//! As with rsync, a pattern without `/` matches a name anywhere in the tree (`*.tmp`,
//! `node_modules`); one with `/` matches the path from the tree's top (`build/*.o`, a leading
//! `/` optional). `*` and `?` stay within a name, `**` crosses folders. An excluded folder
//! excludes everything in it, and nothing excluded is transferred or deleted.

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

use super::{ancestors, Listing};
use crate::error::UsageError;

/// The `--exclude` patterns of one command.
#[derive(Debug)]
pub struct Excludes {
    /// Patterns without `/`: matched against each name.
    names: GlobSet,
    /// Patterns with `/`: matched against the relative path.
    paths: GlobSet,
}

impl Excludes {
    /// Compiles `patterns`; a malformed one is a usage error.
    pub fn new(patterns: &[String]) -> anyhow::Result<Self> {
        let mut names = GlobSetBuilder::new();
        let mut paths = GlobSetBuilder::new();
        for pattern in patterns {
            let trimmed = pattern.trim_start_matches('/').trim_end_matches('/');
            let glob = GlobBuilder::new(trimmed)
                .literal_separator(true)
                .backslash_escape(true)
                .build()
                .map_err(|error| {
                    UsageError(format!("--exclude {pattern}: not a valid pattern: {error}"))
                })?;
            if pattern.trim_end_matches('/').contains('/') {
                paths.add(glob);
            } else {
                names.add(glob);
            }
        }
        let build = |set: GlobSetBuilder| {
            set.build()
                .map_err(|error| UsageError(format!("--exclude: {error}")))
        };
        Ok(Self {
            names: build(names)?,
            paths: build(paths)?,
        })
    }

    /// Whether `path` (relative) or a folder above it is excluded.
    pub fn excludes(&self, path: &str) -> bool {
        ancestors(path)
            .chain(std::iter::once(path))
            .any(|prefix| self.excludes_itself(prefix))
    }

    fn excludes_itself(&self, path: &str) -> bool {
        let name = path.rsplit('/').next().unwrap_or(path);
        self.names.is_match(name) || self.paths.is_match(path)
    }

    /// Drops what is excluded from `listing`; returns how many entries went.
    pub fn apply(&self, listing: &mut Listing) -> u64 {
        if self.names.is_empty() && self.paths.is_empty() {
            return 0;
        }
        let before = listing.len();
        listing.retain(|path, _| !self.excludes(path));
        (before - listing.len()) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn excludes(patterns: &[&str]) -> Excludes {
        Excludes::new(&patterns.iter().map(|p| p.to_string()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn names_match_anywhere_and_paths_from_the_top() {
        let set = excludes(&["*.tmp", "cache", "build/*.o", "/docs/**/draft*"]);
        assert!(set.excludes("a.tmp"));
        assert!(set.excludes("x/y/a.tmp"));
        assert!(set.excludes("cache"));
        assert!(set.excludes("x/cache/deep/file.txt"));
        assert!(set.excludes("build/a.o"));
        assert!(!set.excludes("src/build/a.o"));
        assert!(!set.excludes("build/sub/a.o"));
        assert!(set.excludes("docs/2024/q1/draft-1.md"));
        assert!(!set.excludes("a.txt"));
        assert!(!set.excludes("cached.txt"));
        assert!(Excludes::new(&["[".to_string()]).is_err());
    }
}

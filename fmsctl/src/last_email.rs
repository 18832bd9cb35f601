//! The e-mail address last used with each server (`last-email.json` in the config folder), so
//! `fmsctl login` needs no `--email` after `register`, after `logout`, or once the session
//! expired. Not a secret, but kept 0600 like everything of fmsctl's; a failure to keep it
//! costs only the convenience, never the command.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::Path;

/// The file, in the config folder.
const FILE: &str = "last-email.json";

/// The address last used with `server`, if any was noted.
pub fn recall(config_dir: Option<&Path>, server: &str) -> Option<String> {
    read(config_dir?).remove(server)
}

/// Notes `email` as the one last used with `server`.
pub fn remember(config_dir: Option<&Path>, server: &str, email: &str) {
    let Some(dir) = config_dir else {
        return;
    };
    let mut all = read(dir);
    if all.get(server).map(String::as_str) == Some(email) {
        return;
    }
    all.insert(server.to_owned(), email.to_owned());
    if let Err(error) = write(dir, &all) {
        tracing::debug!(%error, "failed to note the e-mail address used");
    }
}

fn read(dir: &Path) -> BTreeMap<String, String> {
    fs::read(dir.join(FILE))
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default()
}

fn write(dir: &Path, all: &BTreeMap<String, String>) -> std::io::Result<()> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    let temporary = dir.join(format!(".{FILE}.{}.tmp", std::process::id()));
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&temporary)?;
    file.write_all(&serde_json::to_vec_pretty(all).unwrap_or_default())?;
    fs::rename(&temporary, dir.join(FILE))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_address_per_server_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let dir = Some(dir.path());
        assert_eq!(recall(dir, "http://a"), None);
        remember(dir, "http://a", "ann@example.com");
        remember(dir, "http://b", "bob@example.com");
        remember(dir, "http://a", "anne@example.com");
        assert_eq!(recall(dir, "http://a").as_deref(), Some("anne@example.com"));
        assert_eq!(recall(dir, "http://b").as_deref(), Some("bob@example.com"));
        assert_eq!(recall(None, "http://a"), None);
    }
}

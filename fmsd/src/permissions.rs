//! What fmsd writes is for its own user only: customers' password hashes, file bytes, signing
//! keys and mail. The process umask is 0o077 from the start, so every file fmsd or SQLite
//! creates is 0600 and every folder 0700 whatever umask the caller had, and the data dir is
//! made (or set back to) 0700, so a data dir left open by an older fmsd or by hand is closed.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use anyhow::Context;
use rustix::fs::Mode;

/// The mode of fmsd's folders: the owner's alone.
const PRIVATE_DIR: u32 = 0o700;

/// Makes every file and folder the process creates from now on private to its user. Called
/// first thing in `main`, before any thread starts.
pub fn restrict_umask() {
    rustix::process::umask(Mode::from_raw_mode(0o077));
}

/// Creates `dir` (and its parents) if missing, and sets it to 0700 if it is not. A folder fmsd
/// may not change (another user's, shared on purpose) is left as it is, with a warning.
pub fn private_dir(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("failed to create {}", dir.display()))?;
    let mode = std::fs::metadata(dir)
        .with_context(|| format!("failed to read the mode of {}", dir.display()))?
        .permissions()
        .mode()
        & 0o777;
    if mode == PRIVATE_DIR {
        return Ok(());
    }
    let was = format!("{mode:o}");
    match std::fs::set_permissions(dir, std::fs::Permissions::from_mode(PRIVATE_DIR)) {
        Ok(()) => tracing::info!(dir = %dir.display(), %was, "folder made private (0700)"),
        Err(error) => tracing::warn!(
            dir = %dir.display(),
            %was,
            %error,
            "could not make the folder private (0700); other users may read it"
        ),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_left_open_is_closed_and_a_missing_one_made_private() {
        let root = tempfile::tempdir().unwrap();
        let open = root.path().join("open");
        std::fs::create_dir(&open).unwrap();
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o755)).unwrap();
        let missing = root.path().join("a/b");
        for dir in [&open, &missing] {
            private_dir(dir).unwrap();
            let mode = std::fs::metadata(dir).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o700, "{}", dir.display());
        }
    }
}

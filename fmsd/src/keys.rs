//! Secrets fmsd makes on first start and keeps in `<data-dir>/keys/` with mode 0600: the
//! access-token signing key and the URL signing key. Kept on disk so tokens and URLs stay valid
//! across a restart.

use std::io::Write;
use std::path::Path;

use anyhow::Context;

/// Reads the secret at `path`, or makes one with `make` and writes it there (mode 0600).
pub fn load_or_create_secret(
    path: &Path,
    make: impl FnOnce() -> anyhow::Result<Vec<u8>>,
) -> anyhow::Result<Vec<u8>> {
    match std::fs::read(path) {
        Ok(secret) => return Ok(secret),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => {
            return Err(error).with_context(|| format!("failed to read {}", path.display()))
        }
    }
    let secret = make()?;
    let dir = path.parent().context("a key path has a parent")?;
    std::fs::create_dir_all(dir).with_context(|| format!("failed to create {}", dir.display()))?;
    // Write to a temporary name then rename, so a crash never leaves half a key.
    let temporary = path.with_extension("tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(&temporary)
        .with_context(|| format!("failed to create {}", temporary.display()))?;
    file.write_all(&secret)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("failed to write {}", temporary.display()))?;
    std::fs::rename(&temporary, path)
        .with_context(|| format!("failed to install {}", path.display()))?;
    Ok(secret)
}

//! `fmsctl upload - REMOTE`: stdin of unknown length, kept in a private temporary folder until
//! it has ended, since an upload announces its size (and so its parts) when it starts. Memory
//! stays at one copy buffer whatever the size; the disk holds one copy until the upload ends.

use std::io::{BufWriter, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;

use anyhow::Context;
use tempfile::TempDir;

/// The copy buffer.
const BUFFER: usize = 1024 * 1024;

/// What stdin held, as a file named `name` in a folder removed when this is dropped.
#[derive(Debug)]
pub struct Spooled {
    /// The folder (0700), removed on drop.
    _dir: TempDir,
    /// The file in it.
    pub path: PathBuf,
}

/// Copies `input` to the end into a new file `name` in a private temporary folder.
pub fn spool(mut input: impl Read, name: &str) -> anyhow::Result<Spooled> {
    let dir = tempfile::Builder::new()
        .prefix("fmsctl-stdin-")
        .tempdir()
        .context("failed to make a temporary folder for stdin")?;
    let path = dir.path().join(name);
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .with_context(|| format!("failed to create {}", path.display()))?;
    let mut out = BufWriter::with_capacity(BUFFER, file);
    let mut buffer = vec![0u8; BUFFER];
    loop {
        let n = match input.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(anyhow::Error::new(error).context("failed to read stdin")),
        };
        out.write_all(&buffer[..n])
            .with_context(|| format!("failed to write {}", path.display()))?;
    }
    out.flush()
        .with_context(|| format!("failed to write {}", path.display()))?;
    Ok(Spooled { _dir: dir, path })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stdin_is_kept_whole_under_its_name_and_removed_after() {
        let bytes: Vec<u8> = (0..3 * BUFFER + 7).map(|n| (n % 251) as u8).collect();
        let spooled = spool(&bytes[..], "db.sql").unwrap();
        assert_eq!(spooled.path.file_name().unwrap(), "db.sql");
        assert_eq!(std::fs::read(&spooled.path).unwrap(), bytes);
        let path = spooled.path.clone();
        drop(spooled);
        assert!(!path.exists());
    }
}

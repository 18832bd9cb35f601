//! Where fmsctl keeps its files, by the XDG base directory rules, and how it writes the private
//! ones (session records, the hash cache): mode 0600, on disk before they are renamed into place.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// `$XDG_VAR/fmsctl`, else `$HOME/HOME_FALLBACK/fmsctl` (`XDG_STATE_HOME`, `.local/state`);
/// a relative value counts as unset, as the rules say.
pub fn fmsctl_dir(xdg_var: &str, home_fallback: &str) -> Option<PathBuf> {
    let absolute = |name: &str| {
        std::env::var_os(name)
            .map(PathBuf::from)
            .filter(|path| path.is_absolute())
    };
    absolute(xdg_var)
        .or_else(|| absolute("HOME").map(|home| home.join(home_fallback)))
        .map(|base| base.join("fmsctl"))
}

/// Writes `text` to a new file at `path` with mode 0600 and flushes it to disk.
pub fn write_private(path: &Path, text: &[u8]) -> std::io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(text)?;
    file.sync_all()
}

//! The process's limit on open files: raised at start to what the system allows, and the
//! number of connections it leaves room for.
//!
//! Every client connection is a file descriptor, and so are the databases, the blob files and
//! the bus. systemd's default soft limit (1,024) is far below what fmsd may serve, while its
//! hard limit is high; a process may raise its soft limit to its hard one on its own.

use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};

/// Descriptors kept for what is not a client connection: databases, blob files, the bus, logs.
const RESERVED: u64 = 256;

/// Where the soft limit goes when the hard one is unlimited (Linux's default `nr_open`).
const UNLIMITED_TARGET: u64 = 1 << 20;

/// Raises the soft limit on open files to the hard one; returns the limit before and after
/// when it changed.
pub fn raise() -> Option<(u64, u64)> {
    let limit = getrlimit(Resource::Nofile);
    let current = limit.current?;
    let target = limit.maximum.unwrap_or(UNLIMITED_TARGET);
    if target <= current {
        return None;
    }
    let raised = Rlimit {
        current: Some(target),
        maximum: limit.maximum,
    };
    setrlimit(Resource::Nofile, raised).ok()?;
    Some((current, target))
}

/// How many of `wanted` connections the open-files limit leaves room for (at least one).
pub fn connections_allowed(wanted: usize) -> usize {
    match getrlimit(Resource::Nofile).current {
        Some(limit) => {
            let room = usize::try_from(limit.saturating_sub(RESERVED)).unwrap_or(usize::MAX);
            wanted.min(room).max(1)
        }
        None => wanted,
    }
}

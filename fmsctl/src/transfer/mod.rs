//! Moving bytes: the parallel part upload and the resumable download.
//!
//! - [`plan`]: turns local arguments into the remote folders and files an upload needs.
//! - [`hash`]: the streaming SHA-256 of a local file, computed while its parts go out.
//! - [`record`]: the local record of an unfinished upload, so a re-run resumes it.
//! - [`body`]: a part's bytes as a streamed request body that advances the progress bars.
//! - [`part`]: one part `PUT`, with retries and fresh URLs when the signed ones expire.
//! - [`upload`]: one file: resume (or create) the session, send the missing parts, complete.
//! - [`batch`]: small files by the hundred: sessions created and completed by the batch.
//! - [`download`]: one file into `NAME.part` with `Range` resume, checked, then renamed.
//! - [`sink`]: a download's writer and hashing threads, fed the same chunks side by side.
//!
//! Nothing here holds a whole file in memory: reads and writes go in [`CHUNK_SIZE`] pieces,
//! and the number of pieces in flight is bounded.

pub mod batch;
pub mod body;
pub mod download;
pub mod hash;
pub mod part;
pub mod plan;
pub mod record;
pub mod sink;
pub mod spool;
pub mod upload;

use std::time::Duration;

/// The read and write unit: large enough for loopback speed, small enough to stay out of sight.
pub const CHUNK_SIZE: usize = 256 * 1024;

/// How many times a failed part or download is tried again before giving up.
pub const MAX_RETRIES: u32 = 3;

/// The wait before retry `attempt` (1-based): 0.5 s, 1 s, 2 s, ...
pub fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(500u64.saturating_mul(1u64 << attempt.saturating_sub(1).min(6)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles() {
        assert_eq!(backoff(1), Duration::from_millis(500));
        assert_eq!(backoff(2), Duration::from_secs(1));
        assert_eq!(backoff(3), Duration::from_secs(2));
    }
}

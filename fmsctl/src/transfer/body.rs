//! A byte range of a local file as a streamed request body.
//!
//! The range is read in [`CHUNK_SIZE`] pieces as hyper asks for them, so memory stays flat
//! whatever the part size; `on_chunk` sees every piece handed over, which moves the bars.

use std::io::SeekFrom;
use std::path::Path;

use futures::TryStreamExt;
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio_util::io::ReaderStream;

use super::CHUNK_SIZE;

/// `len` bytes of `path` from `offset`, as a body that calls `on_chunk(n)` for each piece sent.
pub async fn file_range(
    path: &Path,
    offset: u64,
    len: u64,
    on_chunk: impl Fn(u64) + Send + Sync + 'static,
) -> std::io::Result<reqwest::Body> {
    let mut file = tokio::fs::File::open(path).await?;
    if len == 0 {
        // A known-empty body, so the request says `Content-Length: 0` and nothing else.
        return Ok(reqwest::Body::from(bytes::Bytes::new()));
    }
    file.seek(SeekFrom::Start(offset)).await?;
    let stream = ReaderStream::with_capacity(file.take(len), CHUNK_SIZE).inspect_ok(
        move |chunk: &bytes::Bytes| {
            on_chunk(chunk.len() as u64);
        },
    );
    Ok(reqwest::Body::wrap_stream(stream))
}

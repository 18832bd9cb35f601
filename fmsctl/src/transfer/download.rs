//! Downloading one file into `NAME.part`, resuming with `Range`, checked, then renamed.
//!
//! The network side runs on the async runtime and hands every chunk (a cheap `Bytes` clone) to
//! two blocking threads over bounded channels: one appends it to `NAME.part`, the other hashes
//! it. Receiving, writing and hashing thus overlap, and memory stays bounded. Bytes already in
//! `NAME.part` from an earlier, interrupted run are hashed first (by the hashing thread, while
//! the request goes out) and fetched no more (`Range: bytes=N-`, answered 206).
//! Only a file whose SHA-256 matches is renamed into place; a mismatch deletes the `.part`.
//! A stream (stdout, a device, a fifo) gets the bytes as they arrive instead
//! ([`download_to_stream`]), checked all the same.

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use common::api::DownloadLink;
use futures::StreamExt;
use indicatif::ProgressBar;
use reqwest::header::{CONTENT_RANGE, RANGE};
use reqwest::StatusCode;

use super::sink::{self, SinkStopped, Sinks};
use super::{backoff, MAX_RETRIES};
use crate::client::{error_from_response, AtPath, Client, DownloadSource};

/// What `download` leaves behind.
#[derive(Debug, Clone, PartialEq)]
pub struct Downloaded {
    /// The local file.
    pub path: PathBuf,
    /// Its size.
    pub size: u64,
    /// Its SHA-256, checked against the server's.
    pub sha256: String,
}

/// `target` + `.part`.
pub fn part_path_for(target: &Path) -> PathBuf {
    let mut name = OsString::from(target.as_os_str());
    name.push(".part");
    PathBuf::from(name)
}

/// Downloads the file behind `link` to `target`; `source` gives a fresh link when this one
/// expires, and `remote` names the file in messages.
pub async fn download(
    client: &Client,
    source: &DownloadSource,
    remote: &str,
    link: DownloadLink,
    target: &Path,
    bar: &ProgressBar,
) -> anyhow::Result<Downloaded> {
    let part_path = part_path_for(target);
    let mut existing = match fs::metadata(&part_path) {
        Ok(metadata) => metadata.len(),
        Err(_) => 0,
    };
    if existing > link.size {
        // Not a prefix of this file; start over.
        existing = 0;
    }
    if existing > 0 {
        tracing::info!(bytes = existing, "resuming a download");
    }
    bar.set_position(existing);

    let (sinks, threads) = sink::start(&part_path, existing);
    let fetched = fetch(client, source, remote, &link, existing, sinks, bar).await;
    let finished = threads.finish().await;
    // A write error makes the fetch fail too ("sink stopped"); the write error says why.
    let (digest, size) = match (fetched, finished) {
        (_, Err(error)) => return Err(error),
        (Err(error), _) => return Err(error),
        (Ok(()), Ok(result)) => result,
    };

    if size != link.size || !digest.eq_ignore_ascii_case(&link.sha256) {
        let _ = fs::remove_file(&part_path);
        bail!(
            "checksum mismatch for {remote}: expected {} bytes with SHA-256 {}, got {size} bytes \
             with {digest}; the partial file was deleted, run the download again",
            link.size,
            link.sha256
        );
    }
    fs::rename(&part_path, target).with_context(|| {
        format!(
            "failed to rename {} to {}",
            part_path.display(),
            target.display()
        )
    })?;
    Ok(Downloaded {
        path: target.to_path_buf(),
        size,
        sha256: digest,
    })
}

/// Downloads the file behind `link` through to `out` (stdout, a device, a fifo), shown as
/// `label`, hashing it on the way; the bytes are written before they can be checked, so a
/// mismatch can only be reported. Returns the size and SHA-256.
pub async fn download_to_stream(
    client: &Client,
    source: &DownloadSource,
    remote: &str,
    link: DownloadLink,
    out: Box<dyn std::io::Write + Send>,
    label: &str,
    bar: &ProgressBar,
) -> anyhow::Result<(u64, String)> {
    let (sinks, threads) = sink::start_stream(out, label.to_owned());
    let fetched = fetch(client, source, remote, &link, 0, sinks, bar).await;
    let finished = threads.finish().await;
    let (digest, size) = match (fetched, finished) {
        (_, Err(error)) => return Err(error),
        (Err(error), _) => return Err(error),
        (Ok(()), Ok(result)) => result,
    };
    if size != link.size || !digest.eq_ignore_ascii_case(&link.sha256) {
        bail!(
            "checksum mismatch for {remote}: expected {} bytes with SHA-256 {}, got {size} bytes \
             with {digest}; what went to {label} is not the file",
            link.size,
            link.sha256
        );
    }
    Ok((size, digest))
}

/// Fetches bytes `from..` of the file and hands them to the writer, resuming after failures.
async fn fetch(
    client: &Client,
    source: &DownloadSource,
    remote: &str,
    link: &DownloadLink,
    from: u64,
    sinks: Sinks,
    bar: &ProgressBar,
) -> anyhow::Result<()> {
    let mut link = link.clone();
    let mut written = from;
    let mut failures = 0;
    let mut renewals = 0;
    while written < link.size {
        let mut request = client.http().get(&link.url);
        if written > 0 {
            request = request.header(RANGE, format!("bytes={written}-"));
        }
        let outcome = match request.send().await {
            Err(error) => Err(anyhow::Error::new(client.transport_error(error))),
            Ok(response) => match response.status() {
                StatusCode::PARTIAL_CONTENT if range_start(&response) == Some(written) => {
                    receive(client, response, &mut written, link.size, &sinks, bar).await
                }
                StatusCode::OK
                | StatusCode::PARTIAL_CONTENT
                | StatusCode::RANGE_NOT_SATISFIABLE => {
                    // The server ignored or refused the range: take the file from the start.
                    if written > 0 {
                        tracing::info!("the server sent the whole file; starting over");
                        sinks.restart().await?;
                        written = 0;
                        bar.set_position(0);
                    }
                    if response.status() == StatusCode::OK {
                        receive(client, response, &mut written, link.size, &sinks, bar).await
                    } else {
                        Err(anyhow::anyhow!(
                            "the server did not honour the byte range asked for"
                        ))
                    }
                }
                StatusCode::FORBIDDEN if renewals < MAX_RETRIES => {
                    // The signed URL expired: ask for a new one for the same bytes.
                    renewals += 1;
                    let fresh = client.download_link_from(source).await.at_path(remote)?;
                    if fresh.size != link.size || fresh.sha256 != link.sha256 {
                        bail!("{remote} changed on the server during the download; run it again");
                    }
                    link = fresh;
                    continue;
                }
                status => {
                    let error = anyhow::Error::new(error_from_response(response).await);
                    if !matches!(status.as_u16(), 408 | 429 | 500..=599) {
                        return Err(error.context(remote.to_string()));
                    }
                    Err(error)
                }
            },
        };
        if let Err(error) = outcome {
            if error.is::<SinkStopped>() {
                return Err(error);
            }
            failures += 1;
            if failures > MAX_RETRIES {
                return Err(error.context(format!("failed to download {remote}")));
            }
            tracing::warn!(error = %format!("{error:#}"), "download interrupted; resuming");
            tokio::time::sleep(backoff(failures)).await;
        }
    }
    Ok(())
}

/// Streams one answer's body to the writer and hashing threads, counting into `written`.
async fn receive(
    client: &Client,
    response: reqwest::Response,
    written: &mut u64,
    size: u64,
    sinks: &Sinks,
    bar: &ProgressBar,
) -> anyhow::Result<()> {
    let mut body = response.bytes_stream();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|error| client.transport_error(error))?;
        let n = chunk.len() as u64;
        if *written + n > size {
            bail!("the server sent more than the announced {size} bytes");
        }
        *written += n;
        bar.inc(n);
        sinks.data(chunk).await?;
    }
    Ok(())
}

/// The first byte of a 206 answer, from `Content-Range: bytes START-END/TOTAL`.
fn range_start(response: &reqwest::Response) -> Option<u64> {
    let value = response.headers().get(CONTENT_RANGE)?.to_str().ok()?;
    let range = value.trim().strip_prefix("bytes")?.trim_start();
    range.split('-').next()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part_path_appends_the_suffix() {
        assert_eq!(
            part_path_for(Path::new("/tmp/a.tar.gz")),
            Path::new("/tmp/a.tar.gz.part")
        );
    }
}

//! Downloading one file into `NAME.part`, resuming with `Range`, checked, then renamed.
//!
//! The network side runs on the async runtime; a blocking writer thread appends the chunks it
//! receives over a bounded channel and hashes them on the way, so hashing and writing overlap
//! with receiving and memory stays bounded. Bytes already in `NAME.part` from an earlier,
//! interrupted run are hashed first and fetched no more (`Range: bytes=N-`, answered 206).
//! Only a file whose SHA-256 matches is renamed into place; a mismatch deletes the `.part`.

use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use bytes::Bytes;
use common::api::DownloadLink;
use futures::StreamExt;
use indicatif::ProgressBar;
use reqwest::header::{CONTENT_RANGE, RANGE};
use reqwest::StatusCode;
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

use super::{backoff, CHUNK_SIZE, MAX_RETRIES};
use crate::client::{error_from_response, AtPath, Client};

/// Chunks waiting for the writer; bounds memory to this many network chunks.
const WRITER_QUEUE: usize = 8;

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

/// What the writer thread is told.
enum WriterCommand {
    /// Append these bytes.
    Data(Bytes),
    /// The server sent the whole file after all: start the `.part` over.
    Restart,
}

/// `target` + `.part`.
pub fn part_path_for(target: &Path) -> PathBuf {
    let mut name = OsString::from(target.as_os_str());
    name.push(".part");
    PathBuf::from(name)
}

/// Downloads the file behind `link` (the remote `remote`) to `target`.
pub async fn download(
    client: &Client,
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

    let (sender, receiver) = mpsc::channel(WRITER_QUEUE);
    let writer_path = part_path.clone();
    let writer = tokio::task::spawn_blocking(move || write_part(&writer_path, existing, receiver));
    let fetched = fetch(client, remote, &link, existing, sender, bar).await;
    let written = writer.await.context("the writer task failed")?;
    // A write error makes the fetch fail too ("writer stopped"); the write error says why.
    let (digest, size) = match (fetched, written) {
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

/// Fetches bytes `from..` of the file and hands them to the writer, resuming after failures.
async fn fetch(
    client: &Client,
    remote: &str,
    link: &DownloadLink,
    from: u64,
    sender: mpsc::Sender<WriterCommand>,
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
                    receive(client, response, &mut written, link.size, &sender, bar).await
                }
                StatusCode::OK
                | StatusCode::PARTIAL_CONTENT
                | StatusCode::RANGE_NOT_SATISFIABLE => {
                    // The server ignored or refused the range: take the file from the start.
                    if written > 0 {
                        tracing::info!("the server sent the whole file; starting over");
                        send(&sender, WriterCommand::Restart).await?;
                        written = 0;
                        bar.set_position(0);
                    }
                    if response.status() == StatusCode::OK {
                        receive(client, response, &mut written, link.size, &sender, bar).await
                    } else {
                        Err(anyhow::anyhow!(
                            "the server did not honour the byte range asked for"
                        ))
                    }
                }
                StatusCode::FORBIDDEN if renewals < MAX_RETRIES => {
                    // The signed URL expired: ask for a new one for the same bytes.
                    renewals += 1;
                    let fresh = client.download_link(remote).await.at_path(remote)?;
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
            if error.is::<WriterStopped>() {
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

/// The writer thread is gone (it failed); its own error tells why.
#[derive(Debug, thiserror::Error)]
#[error("the local file could not be written")]
struct WriterStopped;

async fn send(sender: &mpsc::Sender<WriterCommand>, command: WriterCommand) -> anyhow::Result<()> {
    sender.send(command).await.map_err(|_| WriterStopped.into())
}

/// Streams one answer's body to the writer, counting into `written`.
async fn receive(
    client: &Client,
    response: reqwest::Response,
    written: &mut u64,
    size: u64,
    sender: &mpsc::Sender<WriterCommand>,
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
        send(sender, WriterCommand::Data(chunk)).await?;
    }
    Ok(())
}

/// The first byte of a 206 answer, from `Content-Range: bytes START-END/TOTAL`.
fn range_start(response: &reqwest::Response) -> Option<u64> {
    let value = response.headers().get(CONTENT_RANGE)?.to_str().ok()?;
    let range = value.trim().strip_prefix("bytes")?.trim_start();
    range.split('-').next()?.trim().parse().ok()
}

/// The writer thread: hashes the `existing` bytes of the `.part`, then appends and hashes what
/// arrives. Returns the SHA-256 and size of the whole file.
fn write_part(
    path: &Path,
    existing: u64,
    mut receiver: mpsc::Receiver<WriterCommand>,
) -> anyhow::Result<(String, u64)> {
    let context = || format!("failed to write {}", path.display());
    let mut file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(path)
        .with_context(context)?;
    let mut hasher = Sha256::new();
    hash_prefix(&mut file, existing, &mut hasher).with_context(context)?;
    file.set_len(existing).with_context(context)?;
    file.seek(SeekFrom::Start(existing)).with_context(context)?;
    let mut size = existing;
    let mut out = BufWriter::with_capacity(CHUNK_SIZE, file);
    while let Some(command) = receiver.blocking_recv() {
        match command {
            WriterCommand::Data(chunk) => {
                out.write_all(&chunk).with_context(context)?;
                hasher.update(&chunk);
                size += chunk.len() as u64;
            }
            WriterCommand::Restart => {
                out.flush().with_context(context)?;
                let file = out.get_mut();
                file.set_len(0).with_context(context)?;
                file.seek(SeekFrom::Start(0)).with_context(context)?;
                hasher = Sha256::new();
                size = 0;
            }
        }
    }
    out.flush().with_context(context)?;
    Ok((hex::encode(hasher.finalize()), size))
}

fn hash_prefix(file: &mut File, len: u64, hasher: &mut Sha256) -> std::io::Result<()> {
    let mut block = vec![0u8; CHUNK_SIZE * 4];
    let mut left = len;
    while left > 0 {
        let want = block.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        file.read_exact(&mut block[..want])?;
        hasher.update(&block[..want]);
        left -= want as u64;
    }
    Ok(())
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

    #[tokio::test]
    async fn the_writer_hashes_the_prefix_and_what_follows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.part");
        fs::write(&path, b"abXXXX").unwrap();
        let (sender, receiver) = mpsc::channel(4);
        let writer_path = path.clone();
        let writer = tokio::task::spawn_blocking(move || write_part(&writer_path, 2, receiver));
        sender
            .send(WriterCommand::Data(Bytes::from_static(b"c")))
            .await
            .unwrap();
        drop(sender);
        let (digest, size) = writer.await.unwrap().unwrap();
        assert_eq!(size, 3);
        assert_eq!(
            digest,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(fs::read(&path).unwrap(), b"abc");
    }

    #[tokio::test]
    async fn a_restart_starts_the_file_over() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.part");
        fs::write(&path, b"zz").unwrap();
        let (sender, receiver) = mpsc::channel(4);
        let writer_path = path.clone();
        let writer = tokio::task::spawn_blocking(move || write_part(&writer_path, 2, receiver));
        sender.send(WriterCommand::Restart).await.unwrap();
        sender
            .send(WriterCommand::Data(Bytes::from_static(b"abc")))
            .await
            .unwrap();
        drop(sender);
        let (_, size) = writer.await.unwrap().unwrap();
        assert_eq!(size, 3);
        assert_eq!(fs::read(&path).unwrap(), b"abc");
    }
}

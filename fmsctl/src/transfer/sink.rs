//! Where a download's chunks go: a writer thread appends them to `NAME.part` (or writes them
//! through to a stream: stdout, a device, a fifo) while a hashing thread hashes them, so write
//! time and hash time overlap instead of adding up.
//!
//! Both threads are fed through bounded channels with clones of the same `Bytes` (a reference
//! count, not a copy), so at most [`QUEUE`] chunks per thread wait in memory. The hashing thread
//! starts with the `existing` prefix of the `.part` (bytes an interrupted run left behind),
//! reading it with its own handle while the writer appends after it.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use bytes::Bytes;
use sha2::{Digest, Sha256};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::CHUNK_SIZE;

/// Chunks waiting for each thread; bounds memory to this many network chunks (hyper hands
/// over up to a few hundred KiB at a time) per thread.
const QUEUE: usize = 16;

/// The writer's buffer: turns small network chunks into few, large writes.
const WRITE_BUFFER: usize = 4 * CHUNK_SIZE;

/// A sink thread is gone (it failed); its own error tells why.
#[derive(Debug, thiserror::Error)]
#[error("the local file could not be written")]
pub struct SinkStopped;

/// What the writer thread is told.
enum WriterCommand {
    /// Append these bytes.
    Data(Bytes),
    /// The server sent the whole file after all: start the `.part` over.
    Restart,
}

/// What the hashing thread is told.
enum HashCommand {
    /// Hash these bytes.
    Data(Bytes),
    /// Start over; answered once every earlier byte (the prefix included) is hashed, so the
    /// writer may then truncate the file under the hashing thread's reads.
    Restart(oneshot::Sender<()>),
}

/// The sending ends: what the network side feeds.
pub struct Sinks {
    /// To the writer thread.
    writer: mpsc::Sender<WriterCommand>,
    /// To the hashing thread.
    hasher: mpsc::Sender<HashCommand>,
}

/// The two threads, to be joined once the sending ends are dropped.
pub struct SinkThreads {
    /// Returns the size of the `.part`.
    writer: JoinHandle<anyhow::Result<u64>>,
    /// Returns the SHA-256 and size of what it hashed.
    hasher: JoinHandle<anyhow::Result<(String, u64)>>,
}

/// Starts both threads for `path`, keeping (and hashing) its first `existing` bytes.
pub fn start(path: &Path, existing: u64) -> (Sinks, SinkThreads) {
    let (writer_sender, writer_receiver) = mpsc::channel(QUEUE);
    let (hasher_sender, hasher_receiver) = mpsc::channel(QUEUE);
    let writer_path: PathBuf = path.to_path_buf();
    let hasher_path: PathBuf = path.to_path_buf();
    let writer =
        tokio::task::spawn_blocking(move || write_part(&writer_path, existing, writer_receiver));
    let hasher = tokio::task::spawn_blocking(move || {
        hash_part(Some((&hasher_path, existing)), hasher_receiver)
    });
    (
        Sinks {
            writer: writer_sender,
            hasher: hasher_sender,
        },
        SinkThreads { writer, hasher },
    )
}

/// Starts both threads for a stream: every byte goes to `out` as it arrives, `label` names it
/// in errors. A stream cannot be rewound, so a restart fails.
pub fn start_stream(out: Box<dyn Write + Send>, label: String) -> (Sinks, SinkThreads) {
    let (writer_sender, writer_receiver) = mpsc::channel(QUEUE);
    let (hasher_sender, hasher_receiver) = mpsc::channel(QUEUE);
    let writer = tokio::task::spawn_blocking(move || write_stream(out, &label, writer_receiver));
    let hasher = tokio::task::spawn_blocking(move || hash_part(None, hasher_receiver));
    (
        Sinks {
            writer: writer_sender,
            hasher: hasher_sender,
        },
        SinkThreads { writer, hasher },
    )
}

impl Sinks {
    /// Hands `chunk` to both threads.
    pub async fn data(&self, chunk: Bytes) -> anyhow::Result<()> {
        self.hasher
            .send(HashCommand::Data(chunk.clone()))
            .await
            .map_err(|_| SinkStopped)?;
        self.writer
            .send(WriterCommand::Data(chunk))
            .await
            .map_err(|_| SinkStopped)?;
        Ok(())
    }

    /// Starts the file over, empty.
    pub async fn restart(&self) -> anyhow::Result<()> {
        let (done, hashed) = oneshot::channel();
        self.hasher
            .send(HashCommand::Restart(done))
            .await
            .map_err(|_| SinkStopped)?;
        hashed.await.map_err(|_| SinkStopped)?;
        self.writer
            .send(WriterCommand::Restart)
            .await
            .map_err(|_| SinkStopped)?;
        Ok(())
    }
}

impl SinkThreads {
    /// Waits for both threads (drop the [`Sinks`] first) and returns the SHA-256 and size.
    pub async fn finish(self) -> anyhow::Result<(String, u64)> {
        let written = self.writer.await.context("the writer task failed")?;
        let hashed = self.hasher.await.context("the hashing task failed")?;
        let size = written?;
        let (digest, hashed_size) = hashed?;
        anyhow::ensure!(
            size == hashed_size,
            "wrote {size} bytes but hashed {hashed_size}"
        );
        Ok((digest, size))
    }
}

/// The writer thread: keeps the first `existing` bytes of the `.part` and appends what arrives.
fn write_part(
    path: &Path,
    existing: u64,
    mut receiver: mpsc::Receiver<WriterCommand>,
) -> anyhow::Result<u64> {
    let context = || format!("failed to write {}", path.display());
    let mut options = OpenOptions::new();
    options.create(true).truncate(false).write(true);
    // A `.part` that is a symlink is refused, never written through: a download into a folder
    // must not write where a link planted there points.
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32);
    }
    let mut file = options.open(path).with_context(context)?;
    file.set_len(existing).with_context(context)?;
    file.seek(SeekFrom::Start(existing)).with_context(context)?;
    let mut size = existing;
    let mut out = BufWriter::with_capacity(WRITE_BUFFER, file);
    while let Some(command) = receiver.blocking_recv() {
        match command {
            WriterCommand::Data(chunk) => {
                out.write_all(&chunk).with_context(context)?;
                size += chunk.len() as u64;
            }
            WriterCommand::Restart => {
                out.flush().with_context(context)?;
                let file = out.get_mut();
                file.set_len(0).with_context(context)?;
                file.seek(SeekFrom::Start(0)).with_context(context)?;
                size = 0;
            }
        }
    }
    out.flush().with_context(context)?;
    Ok(size)
}

/// The writer thread of a stream: writes what arrives to `out`, in large writes.
fn write_stream(
    out: Box<dyn Write + Send>,
    label: &str,
    mut receiver: mpsc::Receiver<WriterCommand>,
) -> anyhow::Result<u64> {
    let context = || format!("failed to write to {label}");
    let mut size = 0;
    let mut out = BufWriter::with_capacity(WRITE_BUFFER, out);
    while let Some(command) = receiver.blocking_recv() {
        match command {
            WriterCommand::Data(chunk) => {
                out.write_all(&chunk).with_context(context)?;
                size += chunk.len() as u64;
            }
            WriterCommand::Restart => anyhow::bail!(
                "the server sent the file from its start again after {size} bytes had gone to \
                 {label}, which cannot be rewound; run the download again"
            ),
        }
    }
    out.flush().with_context(context)?;
    Ok(size)
}

/// The hashing thread: hashes the first `existing` bytes of the `.part` given in `prefix`,
/// then what arrives.
fn hash_part(
    prefix: Option<(&Path, u64)>,
    mut receiver: mpsc::Receiver<HashCommand>,
) -> anyhow::Result<(String, u64)> {
    let mut hasher = Sha256::new();
    let mut size = 0;
    if let Some((path, existing)) = prefix.filter(|(_, existing)| *existing > 0) {
        let mut file =
            File::open(path).with_context(|| format!("failed to open {}", path.display()))?;
        hash_prefix(&mut file, existing, &mut hasher)
            .with_context(|| format!("failed to read {}", path.display()))?;
        size = existing;
    }
    while let Some(command) = receiver.blocking_recv() {
        match command {
            HashCommand::Data(chunk) => {
                hasher.update(&chunk);
                size += chunk.len() as u64;
            }
            HashCommand::Restart(done) => {
                hasher = Sha256::new();
                size = 0;
                let _ = done.send(());
            }
        }
    }
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

    #[tokio::test]
    async fn the_prefix_and_what_follows_are_hashed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.part");
        std::fs::write(&path, b"abXXXX").unwrap();
        let (sinks, threads) = start(&path, 2);
        sinks.data(Bytes::from_static(b"c")).await.unwrap();
        drop(sinks);
        let (digest, size) = threads.finish().await.unwrap();
        assert_eq!(size, 3);
        assert_eq!(
            digest,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(std::fs::read(&path).unwrap(), b"abc");
    }

    #[tokio::test]
    async fn a_restart_starts_the_file_over() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.part");
        std::fs::write(&path, b"zz").unwrap();
        let (sinks, threads) = start(&path, 2);
        sinks.data(Bytes::from_static(b"q")).await.unwrap();
        sinks.restart().await.unwrap();
        sinks.data(Bytes::from_static(b"abc")).await.unwrap();
        drop(sinks);
        let (digest, size) = threads.finish().await.unwrap();
        assert_eq!(size, 3);
        assert_eq!(
            digest,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(std::fs::read(&path).unwrap(), b"abc");
    }

    #[tokio::test]
    async fn a_stream_gets_every_byte_and_refuses_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out");
        let file = std::fs::File::create(&path).unwrap();
        let (sinks, threads) = start_stream(Box::new(file), "out".into());
        sinks.data(Bytes::from_static(b"ab")).await.unwrap();
        sinks.data(Bytes::from_static(b"c")).await.unwrap();
        drop(sinks);
        let (digest, size) = threads.finish().await.unwrap();
        assert_eq!(size, 3);
        assert_eq!(
            digest,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(std::fs::read(&path).unwrap(), b"abc");

        let (sinks, threads) = start_stream(Box::new(std::io::sink()), "nowhere".into());
        sinks.data(Bytes::from_static(b"ab")).await.unwrap();
        let _ = sinks.restart().await;
        drop(sinks);
        let error = threads.finish().await.unwrap_err();
        assert!(
            format!("{error:#}").contains("cannot be rewound"),
            "{error:#}"
        );
    }
}

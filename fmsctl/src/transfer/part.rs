//! One part `PUT` to its signed URL, tried again when that can help.
//!
//! A 403 means the signed URL expired: [`PartUrls`] asks the server for fresh ones (once for
//! every part that noticed) and the part goes again without counting as a failure. A network
//! error, 408, 429 or 5xx is retried up to [`MAX_RETRIES`] times with [`backoff`], with fresh
//! URLs too (an expired URL refused mid-body looks like a broken pipe); any other answer is
//! final. The signed URL carries its own authorization: no `Authorization` header.
//!
//! A session whose store checks each part (`part_checksums`, S3) has its parts hashed first;
//! every attempt then asks the server for a URL that signs the part's SHA-256 and sends the
//! headers that URL names, so the store refuses a part that does not match.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use anyhow::Context;
use chrono::{DateTime, Duration, Utc};
use common::api::{PartChecksum, PartStored, UploadPart, UploadSession};
use indicatif::ProgressBar;
use reqwest::header::CONTENT_LENGTH;
use tokio::sync::Mutex;
use uuid::Uuid;

use super::hash::sha256_of_range;
use super::{backoff, body, MAX_RETRIES};
use crate::client::{error_from_response, Client, UploadTarget};

/// How many times one part may ask for fresh URLs before the 403 is taken as final.
const MAX_URL_REFRESHES: u32 = 3;

/// Ask for fresh URLs this long before the current ones expire.
const URL_EXPIRY_MARGIN_SECONDS: i64 = 5;

/// The current signed URL of every part of one upload, renewed when they expire.
pub struct PartUrls {
    /// Asks the server for fresh URLs.
    client: Arc<Client>,
    /// Where the upload goes, which says whom to ask.
    target: UploadTarget,
    /// The upload session.
    upload_id: Uuid,
    /// The remote path the session is for.
    path: String,
    /// The URLs; behind a mutex so parts that hit a 403 together renew them once.
    state: Mutex<UrlState>,
    /// The store checks each part against its SHA-256: every attempt asks for a URL that signs
    /// the part's checksum instead.
    part_checksums: bool,
}

struct UrlState {
    /// Part number -> signed URL.
    urls: HashMap<u32, String>,
    /// When `urls` stop working.
    expires_at: DateTime<Utc>,
    /// Bumped on every renewal, so a part can tell whether someone renewed since it looked.
    generation: u64,
}

impl PartUrls {
    /// The URLs of `session` (an upload to `target`) as the server sent them.
    pub fn new(client: Arc<Client>, target: UploadTarget, session: &UploadSession) -> Self {
        Self {
            client,
            target,
            upload_id: session.upload_id,
            path: session.path.clone(),
            state: Mutex::new(UrlState {
                urls: urls_of(session),
                expires_at: session.urls_expire_at,
                generation: 0,
            }),
            part_checksums: session.part_checksums,
        }
    }

    /// A URL for part `number`, whose bytes hash to `sha256`, that signs that checksum, with
    /// the headers to send.
    async fn checked(
        &self,
        number: u32,
        sha256: &str,
    ) -> anyhow::Result<(String, BTreeMap<String, String>)> {
        let UploadTarget::Tree(tree) = self.target else {
            anyhow::bail!("a file request's uploads take no part checksums");
        };
        let answer = self
            .client
            .part_urls(
                tree,
                self.upload_id,
                vec![PartChecksum {
                    number,
                    sha256: sha256.to_owned(),
                }],
            )
            .await
            .context("failed to get the part's URL")?;
        let part = answer
            .parts
            .into_iter()
            .find(|part| part.number == number)
            .with_context(|| format!("the server sent no URL for part {number}"))?;
        Ok((part.url, part.headers))
    }

    /// The URL for part `number` and the generation it belongs to; renewed first if expiring.
    async fn get(&self, number: u32) -> anyhow::Result<(String, u64)> {
        let mut state = self.state.lock().await;
        if state.expires_at <= Utc::now() + Duration::seconds(URL_EXPIRY_MARGIN_SECONDS) {
            self.renew_locked(&mut state).await?;
        }
        let url = state
            .urls
            .get(&number)
            .cloned()
            .with_context(|| format!("the server sent no URL for part {number}"))?;
        Ok((url, state.generation))
    }

    /// Renews the URLs, unless someone did since `seen_generation`.
    async fn renew(&self, seen_generation: u64) -> anyhow::Result<()> {
        let mut state = self.state.lock().await;
        if state.generation == seen_generation {
            self.renew_locked(&mut state).await?;
        }
        Ok(())
    }

    async fn renew_locked(&self, state: &mut UrlState) -> anyhow::Result<()> {
        tracing::debug!(upload_id = %self.upload_id, "renewing the part URLs");
        let session = self
            .client
            .upload_session_at(&self.target, self.upload_id, &self.path)
            .await
            .context("failed to renew the part URLs")?;
        state.urls = urls_of(&session);
        state.expires_at = session.urls_expire_at;
        state.generation += 1;
        Ok(())
    }
}

fn urls_of(session: &UploadSession) -> HashMap<u32, String> {
    session
        .parts
        .iter()
        .map(|part| (part.number, part.url.clone()))
        .collect()
}

/// What a part upload needs besides the part.
pub struct PartJob<'job> {
    /// Sends the bytes.
    pub client: &'job Client,
    /// The signed URLs.
    pub urls: &'job PartUrls,
    /// The local file.
    pub path: &'job Path,
    /// This file's bar.
    pub file_bar: &'job ProgressBar,
    /// The command's total bar.
    pub total_bar: &'job ProgressBar,
}

/// How one attempt ended.
enum Attempt {
    /// The server holds the part.
    Stored,
    /// The signed URL was refused (403): renew and go again.
    Expired(anyhow::Error),
    /// Worth another try after a pause.
    Transient(anyhow::Error),
    /// Trying again would not help.
    Fatal(anyhow::Error),
}

/// Sends `part` until it is stored, or fails for good.
pub async fn put_part(job: &PartJob<'_>, part: &UploadPart) -> anyhow::Result<()> {
    let mut failures = 0;
    let mut renewals = 0;
    // Hashed once, before the first attempt; each attempt then gets a URL signing it.
    let checksum = match job.urls.part_checksums {
        true => Some(sha256_of_range(job.path, part.offset, part.size).await?),
        false => None,
    };
    loop {
        let (url, headers, generation) = match &checksum {
            Some(sha256) => {
                let (url, headers) = job.urls.checked(part.number, sha256).await?;
                (url, headers, None)
            }
            None => {
                let (url, generation) = job.urls.get(part.number).await?;
                (url, part.headers.clone(), Some(generation))
            }
        };
        let sent = Arc::new(AtomicU64::new(0));
        let attempt = put_once(job, (&url, &headers), part, Arc::clone(&sent)).await;
        if !matches!(attempt, Attempt::Stored) {
            // Take back what this attempt counted: the next one sends the part again.
            let counted = sent.load(Ordering::Relaxed);
            job.file_bar.dec(counted);
            job.total_bar.dec(counted);
        }
        match attempt {
            Attempt::Stored => {
                tracing::debug!(part = part.number, bytes = part.size, "part stored");
                return Ok(());
            }
            Attempt::Expired(error) => {
                if renewals == MAX_URL_REFRESHES {
                    return Err(error);
                }
                renewals += 1;
                if let Some(generation) = generation {
                    job.urls.renew(generation).await?;
                }
            }
            Attempt::Transient(error) => {
                failures += 1;
                if failures > MAX_RETRIES {
                    return Err(
                        error.context(format!("part {} failed {failures} times", part.number))
                    );
                }
                let reason = format!("{error:#}");
                tracing::warn!(part = part.number, %reason, "part failed; trying again");
                tokio::time::sleep(backoff(failures)).await;
                // A server that refuses an expired URL before reading the body closes the
                // connection, and the client sees a broken pipe instead of the 403: renew the
                // URLs on every failure, so an expired one cannot exhaust the retries.
                if let Some(generation) = generation {
                    if let Err(renew_error) = job.urls.renew(generation).await {
                        let reason = format!("{renew_error:#}");
                        tracing::warn!(%reason, "could not renew the part URLs");
                    }
                }
            }
            Attempt::Fatal(error) => return Err(error),
        }
    }
}

async fn put_once(
    job: &PartJob<'_>,
    (url, headers): (&str, &BTreeMap<String, String>),
    part: &UploadPart,
    sent: Arc<AtomicU64>,
) -> Attempt {
    let file_bar = job.file_bar.clone();
    let total_bar = job.total_bar.clone();
    let count = move |n: u64| {
        sent.fetch_add(n, Ordering::Relaxed);
        file_bar.inc(n);
        total_bar.inc(n);
    };
    let body = match body::file_range(job.path, part.offset, part.size, count).await {
        Ok(body) => body,
        Err(error) => {
            return Attempt::Fatal(
                anyhow::Error::new(error).context(format!("failed to read {}", job.path.display())),
            )
        }
    };
    let request = job.client.http().put(url).header(CONTENT_LENGTH, part.size);
    // Signed into the URL (on S3 the part's checksum, which S3 checks): sent exactly.
    let request = headers
        .iter()
        .fold(request, |request, (name, value)| {
            request.header(name, value)
        })
        .body(body);
    let response = match request.send().await {
        Ok(response) => response,
        Err(error) => return Attempt::Transient(job.client.transport_error(error).into()),
    };
    let status = response.status();
    if status.is_success() {
        return match response.bytes().await {
            Ok(answer) => check_stored(&answer, part),
            Err(error) => Attempt::Transient(job.client.transport_error(error).into()),
        };
    }
    let error = anyhow::Error::new(error_from_response(response).await);
    match status.as_u16() {
        403 => Attempt::Expired(error),
        // A full disk does not empty itself within the retries; the session stays, to resume.
        507 => Attempt::Fatal(error),
        408 | 429 | 500..=599 => Attempt::Transient(error),
        _ => Attempt::Fatal(error),
    }
}

/// The embedded blob store says how much it stored; other stores may say nothing.
fn check_stored(answer: &[u8], part: &UploadPart) -> Attempt {
    match serde_json::from_slice::<PartStored>(answer) {
        Ok(stored) if stored.size != part.size => Attempt::Fatal(anyhow::anyhow!(
            "the server stored {} bytes of part {}, not {}",
            stored.size,
            part.number,
            part.size
        )),
        _ => Attempt::Stored,
    }
}

#[cfg(test)]
#[path = "part_tests.rs"]
mod tests;

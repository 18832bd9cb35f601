//! "Download all as .zip": a folder of a link sent as one zip, made while it is sent. Unlike
//! every other download, these bytes pass through fmsd (no blob store makes a zip): each file
//! is read from the blob store and written into the answer as it streams, stored without
//! compression, so memory stays flat whatever the folder's size (the zip's index, a line per
//! file, is all that grows). The zip counts as one download of the link.

use std::sync::Arc;

use async_zip::base::write::ZipFileWriter;
use async_zip::{Compression, ZipDateTime, ZipEntryBuilder};
use axum::body::Body;
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE, REFERRER_POLICY};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use futures::{AsyncWriteExt, StreamExt};
use tokio::io::DuplexStream;

use super::link::failure;
use crate::error::Error;
use crate::files::domain::{content_disposition, RemotePath};
use crate::files::service::{Archive, FileService};
use crate::gateway::client::Client;
use crate::gateway::routes::public_links::open;
use crate::gateway::AppState;

/// How many bytes may wait between the zip's writer and the connection.
const PIPE_BYTES: usize = 256 * 1024;

/// `GET /s/{token}/zip?path=`: the folder at `path` inside the link's folder, as a zip. A
/// `HEAD` (a link preview, say) checks the link and counts nothing.
pub async fn zip(
    state: &AppState,
    client: &Client,
    token: &str,
    headers: &HeaderMap,
    path: Option<&str>,
    head: bool,
) -> Response {
    let html = super::wants_html(headers);
    let result = async {
        let path = RemotePath::parse(path.unwrap_or("/"))?;
        let open = open(state, token, headers, client.ip).await?;
        if head {
            return Ok(None);
        }
        state.files.link_archive(&open, &path).await.map(Some)
    }
    .await;
    let archive = match result {
        Ok(Some(archive)) => archive,
        Ok(None) => return StatusCode::NO_CONTENT.into_response(),
        Err(error) => return failure(html, token, error),
    };
    let name = format!("{}.zip", archive.name);
    let (writer, reader) = tokio::io::duplex(PIPE_BYTES);
    let files = state.files.clone();
    tokio::spawn(async move {
        if let Err(error) = write_zip(files, archive, writer).await {
            // The answer is cut short, so the client sees a broken zip, not a whole one.
            tracing::warn!(error = %error.report(), "a folder's zip stopped part-way");
        }
    });
    let body = Body::from_stream(tokio_util::io::ReaderStream::new(reader));
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/zip"));
    if let Ok(value) = HeaderValue::from_str(&content_disposition(&name)) {
        headers.insert(CONTENT_DISPOSITION, value);
    }
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    response
}

/// Writes every file of `archive` into `writer` as one zip.
async fn write_zip(
    files: Arc<FileService>,
    archive: Archive,
    writer: DuplexStream,
) -> Result<(), Error> {
    let zip_error = |error: async_zip::error::ZipError| {
        Error::internal(anyhow::anyhow!("failed to write a zip: {error}"))
    };
    let mut zip = ZipFileWriter::with_tokio(writer);
    for entry in &archive.entries {
        let builder = ZipEntryBuilder::new(entry.path.clone().into(), Compression::Stored)
            .last_modification_date(ZipDateTime::from_chrono(&entry.modified_at))
            .unix_permissions(0o644);
        let mut bytes = files.read_archive_entry(entry).await?;
        let mut entry_writer = zip.write_entry_stream(builder).await.map_err(zip_error)?;
        while let Some(chunk) = bytes.next().await {
            let chunk = chunk.map_err(Error::internal)?;
            entry_writer
                .write_all(&chunk)
                .await
                .map_err(Error::internal)?;
        }
        entry_writer.close().await.map_err(zip_error)?;
    }
    zip.close().await.map_err(zip_error)?;
    Ok(())
}

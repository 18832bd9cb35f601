//! Multipart uploads whose every part S3 checks against its SHA-256, so complete need not read
//! the object back.
//!
//! Such a staging's multipart upload is started with `x-amz-checksum-algorithm: SHA256`. The
//! client hashes each part and asks for its URL with that SHA-256; the presigned `UploadPart`
//! signs `Content-Length` and `x-amz-checksum-sha256`, so S3 refuses a body of another length
//! or another hash. At complete, `ListParts` gives each stored part's size and checksum (what
//! S3 verified), and `CompleteMultipartUpload` names every part by its ETag and its
//! `ChecksumSHA256`, which S3 checks once more. rust-s3's complete cannot send checksums, so
//! that one request is signed here (SigV4, with hmac and sha2).
//!
//! What this proves: every byte S3 stored is a byte of a part the client hashed, in its place.
//! What it cannot: that the SHA-256 the client states for the whole file is the hash of those
//! parts (a multipart object has no whole-object SHA-256). The file is recorded under the
//! client's SHA-256, as the client computed it from the same bytes.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use http::{HeaderMap, HeaderName, HeaderValue};
use sha2::{Digest, Sha256};

use super::staging::{Known, StagingRecord};
use super::whole::{base64_sha256, CHECKSUM_HEADER};
use super::wire::{self, presign_secs, to_error, ListedPart};
use super::{S3BlobStore, BLOB_CONTENT_TYPE};
use crate::error::{Error, Result};
use crate::files::domain::{AssembledBlob, BlobKey, Sha256Hex};

/// How long the signed complete may take (as rust-s3's own requests).
const COMPLETE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

impl S3BlobStore {
    /// The presigned `UploadPart` of part `number`: its `Content-Length` signed, and with
    /// `checksum` (base64) its `x-amz-checksum-sha256` too.
    pub(super) async fn presign_part(
        &self,
        key: &BlobKey,
        known: &Known,
        number: u32,
        checksum: Option<&str>,
        expires_at: DateTime<Utc>,
    ) -> Result<String> {
        let (_, size) = known.plan.part(number).ok_or_else(|| {
            Error::Invalid(format!(
                "this upload has parts 1 to {}, not part {number}",
                known.plan.n_parts()
            ))
        })?;
        // Signed, so S3 refuses a body of any other length (or hash).
        let mut headers = HeaderMap::new();
        headers.insert(http::header::CONTENT_LENGTH, HeaderValue::from(size));
        if let Some(checksum) = checksum {
            headers.insert(
                HeaderName::from_static(CHECKSUM_HEADER),
                HeaderValue::from_str(checksum).map_err(Error::internal)?,
            );
        }
        let query = std::collections::HashMap::from([
            ("partNumber".to_owned(), number.to_string()),
            ("uploadId".to_owned(), known.upload_id.clone()),
        ]);
        self.bucket
            .presign_put(
                self.object_path(key),
                presign_secs(expires_at, Utc::now()),
                Some(headers),
                Some(query),
            )
            .await
            .map_err(|error| to_error(error, "presign a part upload"))
    }

    /// Whether complete may trust S3's checks of `record`'s parts instead of reading the object
    /// back: the upload checks checksums, the server enforces them, every part holds one, and
    /// the client said what the whole file hashes to.
    pub(super) fn parts_checked(
        &self,
        record: &StagingRecord,
        parts: &[ListedPart],
        expected: Option<&Sha256Hex>,
    ) -> bool {
        record.checksums
            && self.checksums.upload_part
            && expected.is_some()
            && !parts.is_empty()
            && parts.iter().all(|part| part.checksum_sha256.is_some())
    }

    /// Completes `record`'s upload on S3's checks alone: every part of the plan must be there
    /// at its size, each with the checksum S3 verified; the file is recorded under `expected`,
    /// the client's SHA-256 of the whole.
    pub(super) async fn assemble_checked(
        &self,
        key: &BlobKey,
        record: &StagingRecord,
        parts: &[ListedPart],
        expected: &Sha256Hex,
    ) -> Result<AssembledBlob> {
        let plan = record.plan();
        let complete = parts.len() == plan.n_parts() as usize
            && parts
                .iter()
                .all(|part| plan.part(part.number).map(|(_, size)| size) == Some(part.size));
        if !complete {
            return Err(Error::Conflict("not every part is uploaded yet".into()));
        }
        self.complete_checked(key, record, parts).await?;
        // The record goes before success is reported, so no record ever names a live blob.
        self.delete_record(key).await?;
        self.cache.forget(key);
        Ok(AssembledBlob {
            size: plan.size,
            sha256: expected.clone(),
        })
    }

    /// `CompleteMultipartUpload` of `record`'s upload naming each part by its ETag and its
    /// `ChecksumSHA256`, signed here (rust-s3 cannot send checksums). The parts must be every
    /// part of the plan at its size (the caller checked).
    pub(super) async fn complete_checked(
        &self,
        key: &BlobKey,
        record: &StagingRecord,
        parts: &[ListedPart],
    ) -> Result<()> {
        let doing = "complete a multipart upload";
        let mut body = String::from("<CompleteMultipartUpload>");
        for part in parts {
            body.push_str(&format!(
                "<Part><PartNumber>{}</PartNumber><ETag>{}</ETag><ChecksumSHA256>{}</ChecksumSHA256></Part>",
                part.number,
                escape(&part.etag),
                escape(part.checksum_sha256.as_deref().unwrap_or_default())
            ));
        }
        body.push_str("</CompleteMultipartUpload>");
        let mut url = url::Url::parse(&format!("{}/{}", self.bucket.url(), self.object_path(key)))
            .map_err(Error::internal)?;
        url.query_pairs_mut()
            .append_pair("uploadId", &record.upload_id);
        let credentials = self
            .bucket
            .credentials()
            .await
            .map_err(|error| to_error(error, doing))?;
        let (Some(access_key), Some(secret_key)) = (credentials.access_key, credentials.secret_key)
        else {
            return Err(Error::internal(anyhow::anyhow!(
                "the S3 credentials have no keys"
            )));
        };
        let signed = sign_v4(
            &url,
            body.as_bytes(),
            (&access_key, &secret_key),
            &self.bucket.region().to_string(),
            Utc::now(),
        )?;
        let mut request = self.http.post(url.as_str()).timeout(COMPLETE_TIMEOUT);
        for (name, value) in signed {
            request = request.header(name, value);
        }
        let response = request
            .header(http::header::CONTENT_TYPE, "application/xml")
            .body(body)
            .send()
            .await
            .map_err(|error| Error::unavailable(anyhow::Error::new(error).context(doing)))?;
        let status = response.status().as_u16();
        let text = response
            .text()
            .await
            .map_err(|error| Error::unavailable(anyhow::Error::new(error).context(doing)))?;
        // S3 may answer 200 with an error document.
        if (200..300).contains(&status) && text.contains("<CompleteMultipartUploadResult") {
            return Ok(());
        }
        let error = s3::error::S3Error::HttpFailWithBody(status.max(400), text);
        Err(match wire::answer(&error).map(|answer| answer.code) {
            Some(code) if code == "InvalidPart" || code == "BadDigest" => Error::Conflict(
                "a part changed while the upload was completed; complete it again".into(),
            ),
            _ => to_error(error, doing),
        })
    }

    /// Whether the server refuses an `UploadPart` whose `x-amz-checksum-sha256` is wrong, in a
    /// multipart upload started with `x-amz-checksum-algorithm: SHA256`: one such part, at
    /// connect, in an upload aborted right after. A server that takes it does not check, and
    /// its uploads are read back at complete.
    pub(super) async fn probe_part_checksums(&self) -> bool {
        let path = format!("{}checksum-probe-parts", self.prefix);
        let upload_id = match self.create_upload_at(&path, true).await {
            Ok(upload_id) => upload_id,
            Err(error) => {
                tracing::warn!(error = %error.report(), "failed to find out whether S3 checks part checksums; assuming it does not");
                return false;
            }
        };
        let checks = match self.put_probe_part(&path, &upload_id).await {
            Ok(()) => false,
            Err(error) => {
                wire::answer(&error).is_some_and(|answer| (400..500).contains(&answer.status))
            }
        };
        if let Err(error) = self.abort_upload(&path, &upload_id).await {
            tracing::warn!(error = %error.report(), "failed to abort the checksum probe's upload");
        }
        checks
    }

    /// Sends part 1 of the probe's upload with a checksum its body does not have.
    async fn put_probe_part(
        &self,
        path: &str,
        upload_id: &str,
    ) -> std::result::Result<(), s3::error::S3Error> {
        let mut headers = HeaderMap::new();
        let checksum = HeaderValue::from_str(&base64_sha256(&wrong_sha256()))
            .map_err(|error| s3::error::S3Error::Http(http::Error::from(error)))?;
        headers.insert(HeaderName::from_static(CHECKSUM_HEADER), checksum);
        self.bucket
            .with_extra_headers(headers)?
            .put_multipart_chunk(b"the body".to_vec(), path, 1, upload_id, BLOB_CONTENT_TYPE)
            .await
            .map(drop)
    }
}

/// A SHA-256 no probe body has.
fn wrong_sha256() -> Sha256Hex {
    Sha256Hex::from_digest(&Sha256::digest(b"not the body"))
}

/// The five XML entities, escaped.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// The headers that sign a `POST` of `body` to `url` with AWS Signature Version 4 (service
/// `s3`): `host`, `x-amz-date`, `x-amz-content-sha256` and `authorization`.
fn sign_v4(
    url: &url::Url,
    body: &[u8],
    (access_key, secret_key): (&str, &str),
    region: &str,
    now: DateTime<Utc>,
) -> Result<Vec<(String, String)>> {
    let host = match (url.host_str(), url.port()) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        (Some(host), None) => host.to_owned(),
        (None, _) => return Err(Error::internal(anyhow::anyhow!("the S3 URL has no host"))),
    };
    let date_time = now.format("%Y%m%dT%H%M%SZ").to_string();
    let date = now.format("%Y%m%d").to_string();
    let payload = hex::encode(Sha256::digest(body));
    let headers = BTreeMap::from([
        ("host".to_owned(), host),
        ("x-amz-content-sha256".to_owned(), payload.clone()),
        ("x-amz-date".to_owned(), date_time.clone()),
    ]);
    let canonical_headers: String = headers
        .iter()
        .map(|(name, value)| format!("{name}:{}\n", value.trim()))
        .collect();
    let signed_headers = headers.keys().cloned().collect::<Vec<_>>().join(";");
    let mut query: Vec<(String, String)> = url
        .query_pairs()
        .map(|(name, value)| (uri_encode(&name), uri_encode(&value)))
        .collect();
    query.sort();
    let canonical_query = query
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect::<Vec<_>>()
        .join("&");
    let canonical_request = format!(
        "POST\n{}\n{canonical_query}\n{canonical_headers}\n{signed_headers}\n{payload}",
        url.path()
    );
    let scope = format!("{date}/{region}/s3/aws4_request");
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{date_time}\n{scope}\n{}",
        hex::encode(Sha256::digest(canonical_request.as_bytes()))
    );
    let mut key = format!("AWS4{secret_key}").into_bytes();
    for part in [date.as_str(), region, "s3", "aws4_request"] {
        key = hmac_sha256(&key, part.as_bytes())?;
    }
    let signature = hex::encode(hmac_sha256(&key, string_to_sign.as_bytes())?);
    let authorization = format!(
        "AWS4-HMAC-SHA256 Credential={access_key}/{scope},SignedHeaders={signed_headers},Signature={signature}"
    );
    let mut signed: Vec<(String, String)> = headers.into_iter().collect();
    signed.push(("authorization".to_owned(), authorization));
    Ok(signed)
}

/// HMAC-SHA256 of `data` under `key`.
fn hmac_sha256(key: &[u8], data: &[u8]) -> Result<Vec<u8>> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).map_err(Error::internal)?;
    mac.update(data);
    Ok(mac.finalize().into_bytes().to_vec())
}

/// Percent-encodes everything but the unreserved characters, as SigV4 wants.
fn uri_encode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (byte as char).to_string()
            }
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn sigv4_signs_as_the_aws_example_does() {
        // The structure of AWS's documented example; the signature is checked against what
        // garage accepts in the contract tests, here only its shape and stability.
        let url = url::Url::parse("http://127.0.0.1:3900/fms/k?uploadId=a%2Fb").unwrap();
        let now = DateTime::parse_from_rfc3339("2013-05-24T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let signed = sign_v4(&url, b"", ("AKID", "SECRET"), "us-east-1", now).unwrap();
        let names: Vec<&str> = signed.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(
            names,
            [
                "host",
                "x-amz-content-sha256",
                "x-amz-date",
                "authorization"
            ]
        );
        assert_eq!(signed[0].1, "127.0.0.1:3900");
        assert_eq!(signed[2].1, "20130524T000000Z");
        assert!(signed[3].1.starts_with(
            "AWS4-HMAC-SHA256 Credential=AKID/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;x-amz-content-sha256;x-amz-date,Signature="
        ));
        assert_eq!(uri_encode("a/b c"), "a%2Fb%20c");
        assert_eq!(escape("\"e\""), "&quot;e&quot;");
    }
}

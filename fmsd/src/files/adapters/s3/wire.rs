//! What the S3 adapter reads and writes on the wire besides what rust-s3 models: S3 error
//! answers (mapped into [`Error`]), the `ListParts` answer (rust-s3 has no call for it), the
//! `Content-Disposition` a download suggests, and presigned-URL lifetimes.

use chrono::{DateTime, Utc};
use s3::error::S3Error;

use crate::error::Error;

/// The longest a presigned URL may live (SigV4's limit: seven days).
const MAX_PRESIGN_SECS: i64 = 7 * 24 * 3600;

/// An S3 error answer: its HTTP status and its `<Code>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// The S3 error code (`NoSuchUpload`, `SlowDown`, ...); empty when the body had none (HEAD).
    pub code: String,
}

/// The error answer S3 gave, if the request got that far.
pub fn answer(error: &S3Error) -> Option<Answer> {
    match error {
        S3Error::HttpFailWithBody(status, body) => Some(Answer {
            status: *status,
            code: element(body, "Code").unwrap_or_default(),
        }),
        _ => None,
    }
}

/// Whether S3 said the thing asked about (key, upload) does not exist.
pub fn is_missing(error: &S3Error) -> bool {
    answer(error).is_some_and(|answer| {
        answer.status == 404
            || matches!(
                answer.code.as_str(),
                "NoSuchUpload" | "NoSuchKey" | "NotFound"
            )
    })
}

/// Whether S3 said it does not implement the call (an experimental server).
pub fn is_not_implemented(error: &S3Error) -> bool {
    answer(error).is_some_and(|answer| answer.status == 501 || answer.code == "NotImplemented")
}

/// Maps a failed S3 call into the service's error: a server that cannot be reached, is busy or
/// fails is unavailable (the same call may work later); anything else is a fault on our side
/// (credentials, bucket, a request S3 refused). The message never holds a signed URL.
pub fn to_error(error: S3Error, doing: &str) -> Error {
    let context = format!("failed to {doing}");
    match &error {
        S3Error::HttpFailWithBody(status, body) => {
            let code = element(body, "Code").unwrap_or_default();
            let message = element(body, "Message").unwrap_or_default();
            let cause = anyhow::anyhow!("S3 answered {status} {code}: {message}").context(context);
            if *status >= 500 || *status == 429 || *status == 408 || code == "SlowDown" {
                Error::unavailable(cause)
            } else {
                Error::internal(cause)
            }
        }
        S3Error::Reqwest(_) | S3Error::Io(_) | S3Error::HttpFail => {
            Error::unavailable(anyhow::Error::new(error).context(context))
        }
        _ => Error::internal(anyhow::Error::new(error).context(context)),
    }
}

/// One part as `ListParts` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedPart {
    /// 1-based part number.
    pub number: u32,
    /// Bytes held.
    pub size: u64,
    /// The part's ETag, which `CompleteMultipartUpload` names it by (s3s-fs gives none).
    pub etag: String,
    /// The part's `x-amz-checksum-sha256` (base64), when the server kept one.
    pub checksum_sha256: Option<String>,
}

/// One page of a `ListParts` answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartsPage {
    /// The parts on this page.
    pub parts: Vec<ListedPart>,
    /// Where the next page starts, when there is one.
    pub next_marker: Option<String>,
}

/// Reads a `ListPartsResult`. The answer is a flat, well-known document, so a few tag searches
/// read it without an XML crate; a part without a number or a size is an error, not a guess.
pub fn parse_list_parts(xml: &str) -> anyhow::Result<PartsPage> {
    let mut parts = Vec::new();
    let mut rest = xml;
    while let Some(start) = rest.find("<Part>") {
        let body_start = start + "<Part>".len();
        let end = rest[body_start..]
            .find("</Part>")
            .ok_or_else(|| anyhow::anyhow!("a <Part> of the ListParts answer is not closed"))?;
        let body = &rest[body_start..body_start + end];
        let number = element(body, "PartNumber")
            .and_then(|text| text.parse().ok())
            .ok_or_else(|| anyhow::anyhow!("a part of the ListParts answer has no PartNumber"))?;
        let size = element(body, "Size")
            .and_then(|text| text.parse().ok())
            .ok_or_else(|| anyhow::anyhow!("part {number} of the ListParts answer has no Size"))?;
        parts.push(ListedPart {
            number,
            size,
            etag: element(body, "ETag").unwrap_or_default(),
            checksum_sha256: element(body, "ChecksumSHA256"),
        });
        rest = &rest[body_start + end + "</Part>".len()..];
    }
    // A part never holds these two, so the first of each is the document's.
    let truncated = element(xml, "IsTruncated").as_deref() == Some("true");
    let next_marker =
        element(xml, "NextPartNumberMarker").filter(|marker| truncated && !marker.is_empty());
    if truncated && next_marker.is_none() {
        anyhow::bail!("a truncated ListParts answer has no NextPartNumberMarker");
    }
    Ok(PartsPage { parts, next_marker })
}

/// The text of the first `<tag>` element in `xml`, unescaped; `None` if it is not there.
fn element(xml: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find(&close)? + start;
    Some(unescape(xml[start..end].trim()))
}

/// Resolves the five predefined XML entities (all an S3 answer uses).
fn unescape(text: &str) -> String {
    if !text.contains('&') {
        return text.to_owned();
    }
    text.replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#34;", "\"")
        .replace("&amp;", "&")
}

/// Seconds from now until `expires_at`, as a presigned URL states them: at least 1, at most
/// seven days (a later expiry is cut to that).
pub fn presign_secs(expires_at: DateTime<Utc>, now: DateTime<Utc>) -> u32 {
    let millis = (expires_at - now).num_milliseconds();
    let secs = (millis + 999).div_euclid(1000).clamp(1, MAX_PRESIGN_SECS);
    u32::try_from(secs).unwrap_or(1)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use chrono::Duration;

    use super::*;

    /// What garage 2.5.0 answered (one page of two parts).
    const GARAGE: &str = r#"<?xml version="1.0" encoding="UTF-8"?><ListPartsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Bucket>fms</Bucket><Key>k</Key><UploadId>0a1b</UploadId><PartNumberMarker>0</PartNumberMarker><NextPartNumberMarker>3</NextPartNumberMarker><MaxParts>1000</MaxParts><IsTruncated>false</IsTruncated><Part><PartNumber>1</PartNumber><LastModified>2025-01-01T00:00:00.000Z</LastModified><ETag>&quot;e1&quot;</ETag><Size>5242880</Size></Part><Part><PartNumber>3</PartNumber><LastModified>2025-01-01T00:00:00.000Z</LastModified><ETag>"e3"</ETag><ChecksumSHA256>abc=</ChecksumSHA256><Size>10</Size></Part><Initiator><DisplayName>x</DisplayName><ID>x</ID></Initiator><StorageClass>STANDARD</StorageClass></ListPartsResult>"#;

    /// What s3s-fs 0.14.1 answered: no ETag, no paging tags.
    const S3S_FS: &str = r#"<?xml version="1.0" encoding="UTF-8"?><ListPartsResult><Bucket>fms</Bucket><Key>k</Key><Part><LastModified>2025-01-01T00:00:00Z</LastModified><PartNumber>2</PartNumber><Size>4</Size></Part><UploadId>u</UploadId></ListPartsResult>"#;

    #[test]
    fn list_parts_answers_of_both_servers_are_read() {
        let page = parse_list_parts(GARAGE).unwrap();
        assert_eq!(
            page.parts,
            [
                ListedPart {
                    number: 1,
                    size: 5_242_880,
                    etag: "\"e1\"".into(),
                    checksum_sha256: None
                },
                ListedPart {
                    number: 3,
                    size: 10,
                    etag: "\"e3\"".into(),
                    checksum_sha256: Some("abc=".into())
                },
            ]
        );
        assert_eq!(page.next_marker, None);
        let page = parse_list_parts(S3S_FS).unwrap();
        assert_eq!(
            (
                page.parts.len(),
                page.parts[0].number,
                page.parts[0].etag.as_str()
            ),
            (1, 2, "")
        );
        let empty =
            parse_list_parts("<ListPartsResult><IsTruncated>false</IsTruncated></ListPartsResult>")
                .unwrap();
        assert!(empty.parts.is_empty());
    }

    #[test]
    fn a_truncated_list_names_where_the_next_page_starts() {
        let xml = GARAGE.replace(
            "<IsTruncated>false</IsTruncated>",
            "<IsTruncated>true</IsTruncated>",
        );
        assert_eq!(
            parse_list_parts(&xml).unwrap().next_marker.as_deref(),
            Some("3")
        );
        let without = xml.replace("<NextPartNumberMarker>3</NextPartNumberMarker>", "");
        assert!(parse_list_parts(&without).is_err());
        assert!(parse_list_parts("<Part><Size>1</Size></Part>").is_err());
    }

    #[test]
    fn error_answers_are_classified() {
        let missing = S3Error::HttpFailWithBody(
            404,
            "<Error><Code>NoSuchUpload</Code><Message>gone</Message></Error>".into(),
        );
        assert!(is_missing(&missing));
        assert!(matches!(to_error(missing, "x"), Error::Internal(_)));
        let busy = S3Error::HttpFailWithBody(503, "<Error><Code>SlowDown</Code></Error>".into());
        assert!(!is_missing(&busy));
        assert!(matches!(to_error(busy, "x"), Error::Unavailable(_)));
        assert!(is_not_implemented(&S3Error::HttpFailWithBody(
            501,
            "<Error><Code>NotImplemented</Code></Error>".into()
        )));
        assert!(is_missing(&S3Error::HttpFailWithBody(404, String::new())));
    }

    #[test]
    fn presigned_lifetimes_are_whole_seconds_within_limits() {
        let now = Utc::now();
        assert_eq!(presign_secs(now + Duration::milliseconds(1500), now), 2);
        assert_eq!(presign_secs(now - Duration::hours(1), now), 1);
        assert_eq!(presign_secs(now + Duration::days(30), now), 604_800);
    }
}

//! Reads back the `.eml` files the embedded mailer writes: just enough MIME for lettre's
//! messages (one `multipart/alternative` with a plain-text and an HTML part).

use std::path::PathBuf;

use base64::Engine;

use super::{Mailbox, Received};

/// The `.eml` files the embedded mailer writes into a folder.
pub struct EmlFolder(pub PathBuf);

impl Mailbox for EmlFolder {
    async fn received(&self, address: &str) -> Vec<Received> {
        let mut received = Vec::new();
        for entry in std::fs::read_dir(&self.0).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|extension| extension == "eml") {
                let mail = parse_eml(&std::fs::read_to_string(&path).unwrap());
                if mail.to.iter().any(|to| to == address) {
                    received.push(mail);
                }
            }
        }
        received
    }
}

/// Reads the one message lettre writes: headers, then a `multipart/alternative` body with a
/// plain-text and an HTML part, each 7bit, quoted-printable or base64.
fn parse_eml(raw: &str) -> Received {
    let raw = raw.replace("\r\n", "\n");
    let (head, body) = raw.split_once("\n\n").unwrap();
    let headers = parse_headers(head);
    let header = |name: &str| {
        headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
            .unwrap_or_default()
    };
    let content_type = header("content-type");
    let boundary = content_type
        .split_once("boundary=")
        .map(|(_, rest)| rest.trim_matches('"').to_owned())
        .unwrap();
    let (mut text, mut html) = (String::new(), String::new());
    for part in body.split(&format!("--{boundary}")).skip(1) {
        let Some((part_head, content)) = part.trim_start_matches('\n').split_once("\n\n") else {
            continue;
        };
        let part_headers = parse_headers(part_head);
        let part_header = |name: &str| {
            part_headers
                .iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.to_ascii_lowercase())
                .unwrap_or_default()
        };
        let decoded = decode(content, &part_header("content-transfer-encoding"));
        if part_header("content-type").starts_with("text/plain") {
            text = decoded;
        } else if part_header("content-type").starts_with("text/html") {
            html = decoded;
        }
    }
    Received {
        subject: header("subject"),
        to: vec![address_of(&header("to"))],
        from: address_of(&header("from")),
        message_id: header("message-id"),
        text,
        html,
    }
}

/// Header lines, unfolded, names in lower case.
fn parse_headers(head: &str) -> Vec<(String, String)> {
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in head.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = headers.last_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
        } else if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
    headers
}

/// The address of one mailbox: `Name <a@b>` or a bare `a@b`.
fn address_of(mailbox: &str) -> String {
    match (mailbox.rfind('<'), mailbox.rfind('>')) {
        (Some(start), Some(end)) if start < end => mailbox[start + 1..end].to_owned(),
        _ => mailbox.trim().to_owned(),
    }
}

/// A part's content, decoded.
fn decode(content: &str, encoding: &str) -> String {
    let content = content.trim_end_matches('\n');
    match encoding {
        "base64" => {
            let joined: String = content.split_whitespace().collect();
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(joined)
                .unwrap();
            String::from_utf8(bytes).unwrap()
        }
        "quoted-printable" => {
            let soft_breaks_removed = content.replace("=\n", "");
            let bytes = soft_breaks_removed.as_bytes();
            let mut decoded = Vec::with_capacity(bytes.len());
            let mut i = 0;
            while i < bytes.len() {
                if bytes[i] == b'=' && i + 2 < bytes.len() {
                    let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
                    decoded.push(u8::from_str_radix(hex, 16).unwrap());
                    i += 3;
                } else {
                    decoded.push(bytes[i]);
                    i += 1;
                }
            }
            String::from_utf8(decoded).unwrap()
        }
        _ => content.to_owned(),
    }
}

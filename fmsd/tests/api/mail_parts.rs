//! Takes a written `.eml` apart: unfolds the headers, decodes an encoded subject, and decodes
//! the `text/plain` and `text/html` parts whatever their transfer encoding (7bit,
//! quoted-printable or base64), so tests look for words and not for encoded bytes.

use base64::Engine;

use crate::sharing_support::ParsedMail;

/// The mail in `raw`.
pub fn parse(raw: &str) -> ParsedMail {
    let raw = raw.replace("\r\n", "\n");
    let (headers, body) = split_head(&raw);
    let mut mail = ParsedMail {
        to: header(&headers, "to").unwrap_or_default(),
        subject: decode_words(&header(&headers, "subject").unwrap_or_default()),
        text: None,
        html: None,
    };
    collect_parts(&headers, body, &mut mail);
    mail
}

/// Headers (unfolded, as name and value) and the body.
fn split_head(entity: &str) -> (Vec<(String, String)>, &str) {
    let (head, body) = entity.split_once("\n\n").unwrap_or((entity, ""));
    let unfolded = head.replace("\n ", " ").replace("\n\t", " ");
    let headers = unfolded
        .lines()
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_lowercase(), value.trim().to_owned()))
        .collect();
    (headers, body)
}

fn header(headers: &[(String, String)], name: &str) -> Option<String> {
    headers
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.clone())
}

/// Fills `mail.text` and `mail.html` from the entity with `headers` and `body`, descending into
/// multiparts.
fn collect_parts(headers: &[(String, String)], body: &str, mail: &mut ParsedMail) {
    let content_type = header(headers, "content-type").unwrap_or_else(|| "text/plain".into());
    let lowercase = content_type.to_lowercase();
    if lowercase.starts_with("multipart/") {
        let Some(boundary) = parameter(&content_type, "boundary") else {
            return;
        };
        let delimiter = format!("--{boundary}");
        for part in body.split(&delimiter).skip(1) {
            if part.starts_with("--") {
                break;
            }
            let part = part.strip_prefix('\n').unwrap_or(part);
            let (part_headers, part_body) = split_head(part);
            collect_parts(&part_headers, part_body, mail);
        }
        return;
    }
    let encoding = header(headers, "content-transfer-encoding")
        .unwrap_or_default()
        .to_lowercase();
    let decoded = match encoding.as_str() {
        "quoted-printable" => quoted_printable(body, false),
        "base64" => {
            let compact: String = body.chars().filter(|c| !c.is_whitespace()).collect();
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(compact)
                .unwrap_or_default();
            String::from_utf8_lossy(&bytes).into_owned()
        }
        _ => body.to_owned(),
    };
    if lowercase.starts_with("text/html") {
        mail.html = Some(decoded);
    } else if lowercase.starts_with("text/plain") {
        mail.text = Some(decoded);
    }
}

/// A parameter of a header value: `boundary="..."`.
fn parameter(value: &str, name: &str) -> Option<String> {
    value.split(';').skip(1).find_map(|pair| {
        let (key, raw) = pair.trim().split_once('=')?;
        key.trim()
            .eq_ignore_ascii_case(name)
            .then(|| raw.trim().trim_matches('"').to_owned())
    })
}

/// Decodes quoted-printable; `underscores` turns `_` into a space (encoded words).
fn quoted_printable(text: &str, underscores: bool) -> String {
    let text = text.replace("=\n", "");
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        match bytes[index] {
            b'=' => match bytes
                .get(index + 1..index + 3)
                .and_then(|hex| std::str::from_utf8(hex).ok())
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
            {
                Some(byte) => {
                    out.push(byte);
                    index += 3;
                }
                None => {
                    out.push(b'=');
                    index += 1;
                }
            },
            b'_' if underscores => {
                out.push(b' ');
                index += 1;
            }
            other => {
                out.push(other);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Decodes RFC 2047 encoded words (`=?utf-8?b?...?=`, `=?utf-8?q?...?=`); the blanks between
/// two encoded words go.
fn decode_words(value: &str) -> String {
    let mut out = String::new();
    let mut rest = value;
    let mut last_was_word = false;
    while let Some(start) = rest.find("=?") {
        let before = &rest[..start];
        let Some(word) = encoded_word(&rest[start..]) else {
            out.push_str(&rest[..start + 2]);
            rest = &rest[start + 2..];
            last_was_word = false;
            continue;
        };
        if !(last_was_word && before.trim().is_empty()) {
            out.push_str(before);
        }
        out.push_str(&word.0);
        rest = &rest[start + word.1..];
        last_was_word = true;
    }
    out.push_str(rest);
    out
}

/// The decoded text of the encoded word at the start of `text`, and its length.
fn encoded_word(text: &str) -> Option<(String, usize)> {
    let inner = text.strip_prefix("=?")?;
    let (_charset, inner) = inner.split_once('?')?;
    let (encoding, inner) = inner.split_once('?')?;
    let end = inner.find("?=")?;
    let payload = &inner[..end];
    let length = text.len() - inner.len() + end + 2;
    let decoded = if encoding.eq_ignore_ascii_case("b") {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(payload)
            .ok()?;
        String::from_utf8_lossy(&bytes).into_owned()
    } else {
        quoted_printable(payload, true)
    };
    Some((decoded, length))
}

#[test]
fn a_mail_is_taken_apart() {
    let raw = "To: \"Ann\" <ann@example.com>\r\nSubject: =?utf-8?b?w6k=?= =?utf-8?q?_and_x?=\r\n\
Content-Type: multipart/alternative;\r\n boundary=\"XYZ\"\r\n\r\n--XYZ\r\nContent-Type: text/plain\r\n\
Content-Transfer-Encoding: quoted-printable\r\n\r\nline =C3=A9 long=\r\n word\r\n--XYZ\r\n\
Content-Type: text/html\r\nContent-Transfer-Encoding: base64\r\n\r\nPHA+aGk8L3A+\r\n--XYZ--\r\n";
    let mail = parse(raw);
    assert_eq!(mail.subject, "é and x");
    assert_eq!(mail.text.as_deref(), Some("line é long word\n"));
    assert_eq!(mail.html.as_deref(), Some("<p>hi</p>"));
    assert!(mail.to.contains("ann@example.com"));
}

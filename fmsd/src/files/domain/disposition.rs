//! The `Content-Disposition` a download is named with: one rule for every blob store, so a file
//! downloads under the same name whether fmsd or S3 serves its bytes.

/// `attachment; filename="<ASCII fallback>"; filename*=UTF-8''<percent-encoded>` (RFC 6266):
/// the download name, for the header fmsd sends with the embedded store's bytes and S3's
/// presigned `response-content-disposition` alike. Never holds a character that breaks a header
/// line.
pub fn content_disposition(name: &str) -> String {
    let fallback: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::with_capacity(name.len() * 3);
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::content_disposition;

    #[test]
    fn a_content_disposition_is_one_safe_header_line() {
        assert_eq!(
            content_disposition("a \"b\"\r\né.txt"),
            "attachment; filename=\"a _b____.txt\"; filename*=UTF-8''a%20%22b%22%0D%0A%C3%A9.txt"
        );
    }
}

//! The rules of the API's text fields as JSON Schema, for the OpenAPI document (the `openapi`
//! feature). fmsd checks the same rules when it parses a request; here they are said in
//! patterns and lengths, so a client knows before it asks. Lengths count characters where
//! fmsd counts bytes (a path, a name): for ASCII text they are the same.

use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
use utoipa::openapi::Object;

/// What no path or name may hold: control characters and Unicode bidirectional controls.
macro_rules! forbidden {
    () => {
        r"\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
    };
}

/// One segment of a path: 1 to 255 characters, no `/`, not `.` or `..`.
macro_rules! segment {
    () => {
        concat!(
            r"(?:[^./",
            forbidden!(),
            r"][^/",
            forbidden!(),
            r"]{0,254}",
            r"|\.[^./",
            forbidden!(),
            r"][^/",
            forbidden!(),
            r"]{0,253}",
            r"|\.\.[^/",
            forbidden!(),
            r"]{1,253})"
        )
    };
}

/// An absolute path: `/`, or `/`-separated segments with no empty one and no final `/`.
pub const PATH_PATTERN: &str = concat!(r"^(?:/|(?:/", segment!(), r")+)$");

/// A path other than the root: what can be moved, deleted, shared, linked or downloaded.
pub const ITEM_PATH_PATTERN: &str = concat!(r"^(?:/", segment!(), r")+$");

/// A listing's cursor: the `next_cursor` of a page, URL-safe base64 without padding.
pub const CURSOR_PATTERN: &str =
    r"^(?:[A-Za-z0-9_-]{4})*(?:[A-Za-z0-9_-][AQgw]|[A-Za-z0-9_-]{2}[AEIMQUYcgkosw048])?$";

/// A file name: one segment.
pub const NAME_PATTERN: &str = concat!("^", segment!(), "$");

/// A SHA-256 digest: 64 hexadecimal characters (fmsd answers in lowercase).
pub const SHA256_PATTERN: &str = "^[0-9a-fA-F]{64}$";

/// An e-mail address: a local part of 1 to 64 characters, `@`, a domain of two or more labels
/// that neither start nor end with `-`.
pub const EMAIL_PATTERN: &str = concat!(
    r"^[^@\s\x00-\x1f\x7f-\x9f]{1,64}@",
    r"(?:[^.@\s\x00-\x1f\x7f-\x9f-](?:[^.@\s\x00-\x1f\x7f-\x9f]{0,61}[^.@\s\x00-\x1f\x7f-\x9f-])?\.)+",
    r"[^.@\s\x00-\x1f\x7f-\x9f-](?:[^.@\s\x00-\x1f\x7f-\x9f]{0,61}[^.@\s\x00-\x1f\x7f-\x9f-])?$"
);

/// A display name: 1 to 100 characters once trimmed, no control characters.
pub const DISPLAY_NAME_PATTERN: &str =
    r"^\s*[^\s\x00-\x1f\x7f-\x9f](?:[^\x00-\x1f\x7f-\x9f]{0,98}[^\s\x00-\x1f\x7f-\x9f])?\s*$";

fn text(nullable: bool, description: &str) -> ObjectBuilder {
    let schema_type = if nullable {
        SchemaType::from_iter([Type::String, Type::Null])
    } else {
        SchemaType::Type(Type::String)
    };
    ObjectBuilder::new()
        .schema_type(schema_type)
        .description(Some(description))
}

/// A path in a customer's tree.
pub fn path() -> Object {
    text(
        false,
        "An absolute path, e.g. `/photos/a.jpg`; at most 4096 bytes, each segment at most 255",
    )
    .pattern(Some(PATH_PATTERN))
    .max_length(Some(4096))
    .build()
}

/// A path other than the root.
pub fn item_path() -> Object {
    text(false, "An absolute path other than `/`, e.g. `/photos/a.jpg`; at most 4096 bytes, each segment at most 255")
        .pattern(Some(ITEM_PATH_PATTERN))
        .max_length(Some(4096))
        .build()
}

/// A path other than the root that may be left out.
pub fn optional_item_path() -> Object {
    text(true, "An absolute path other than `/`, e.g. `/photos/a.jpg`; at most 4096 bytes, each segment at most 255")
        .pattern(Some(ITEM_PATH_PATTERN))
        .max_length(Some(4096))
        .build()
}

/// A cursor that may be left out.
pub fn optional_cursor() -> Object {
    text(true, "The `next_cursor` of the previous page")
        .pattern(Some(CURSOR_PATTERN))
        .build()
}

/// A path that may be left out.
pub fn optional_path() -> Object {
    text(
        true,
        "An absolute path, e.g. `/a.txt`; at most 4096 bytes, each segment at most 255",
    )
    .pattern(Some(PATH_PATTERN))
    .max_length(Some(4096))
    .build()
}

/// A file name.
pub fn name() -> Object {
    text(
        false,
        "One segment of a path: at most 255 bytes, no `/`, not `.` or `..`",
    )
    .pattern(Some(NAME_PATTERN))
    .build()
}

/// A SHA-256 that may be left out.
pub fn optional_sha256() -> Object {
    text(true, "SHA-256, 64 hexadecimal characters")
        .pattern(Some(SHA256_PATTERN))
        .build()
}

/// A SHA-256.
pub fn sha256() -> Object {
    text(false, "SHA-256, 64 hexadecimal characters")
        .pattern(Some(SHA256_PATTERN))
        .build()
}

/// An e-mail address.
pub fn email() -> Object {
    text(false, "An e-mail address, at most 254 bytes")
        .pattern(Some(EMAIL_PATTERN))
        .max_length(Some(254))
        .build()
}

/// An e-mail address that may be left out.
pub fn optional_email() -> Object {
    text(true, "An e-mail address, at most 254 bytes")
        .pattern(Some(EMAIL_PATTERN))
        .max_length(Some(254))
        .build()
}

/// A code from a mail: 43 URL-safe base64 characters.
pub fn mail_code() -> Object {
    text(false, "The code from the mail, 43 characters")
        .min_length(Some(1))
        .max_length(Some(256))
        .build()
}

/// A customer's password.
pub fn password() -> Object {
    text(false, "10 to 1024 characters")
        .min_length(Some(10))
        .max_length(Some(1024))
        .build()
}

/// A display name.
pub fn display_name() -> Object {
    text(
        false,
        "1 to 100 characters once trimmed, no control characters",
    )
    .pattern(Some(DISPLAY_NAME_PATTERN))
    .build()
}

/// A display name that may be left out.
pub fn optional_display_name() -> Object {
    text(
        true,
        "1 to 100 characters once trimmed, no control characters",
    )
    .pattern(Some(DISPLAY_NAME_PATTERN))
    .build()
}

/// A link's password, which may be left out.
pub fn optional_link_password() -> Object {
    text(true, "At least 8 characters, at most 1024 bytes")
        .min_length(Some(8))
        .max_length(Some(1024))
        .build()
}

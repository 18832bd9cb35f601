//! The path rules and the small value types, one test per rule; property tests for parsing.

use super::*;
use proptest::prelude::*;

fn path(raw: &str) -> RemotePath {
    RemotePath::parse(raw).expect("a valid value")
}

fn rule(raw: &str) -> String {
    match RemotePath::parse(raw) {
        Err(Error::Invalid(message)) => message,
        other => panic!("{raw:?} gave {other:?}"),
    }
}

#[test]
fn each_broken_rule_is_named() {
    assert_eq!(rule(""), "the path must not be empty");
    assert!(rule("a/b").contains("start with '/'"));
    assert!(rule("/a/../b").contains("'..' segments"));
    assert!(rule("/a/./b").contains("'.' segments"));
    assert!(rule("/a//b").contains("empty segments"));
    assert!(rule("/a/").contains("not end with '/'"));
    assert!(rule("/a\0b").contains("control characters"));
    assert!(rule("/a\nb").contains("control characters"));
    assert!(rule(&format!("/{}", "x".repeat(256))).contains("at most 255 bytes"));
    assert!(rule(&"/x".repeat(2049)).contains("at most 4096 bytes"));
    assert!(RemotePath::parse(&format!("/{}", "x".repeat(255))).is_ok());
    assert!(RemotePath::parse("/...").is_ok());
    assert!(RemotePath::parse("/a b/é.txt").is_ok());
    assert!(rule("/invoice\u{202E}fdp.exe").contains("bidirectional controls (U+202E here)"));
    assert!(rule("/a\u{2067}b/c").contains("bidirectional"));
}

#[test]
fn a_path_is_kept_in_nfc() {
    assert_eq!(
        path("/cafe\u{301}/r\u{e9}sume\u{301}").as_str(),
        "/caf\u{e9}/r\u{e9}sum\u{e9}"
    );
    assert_eq!(path("/cafe\u{301}"), path("/caf\u{e9}"));
    assert_eq!(
        path("/caf\u{e9}").join("e\u{301}").unwrap(),
        path("/caf\u{e9}/\u{e9}")
    );
}

#[test]
fn parent_name_and_join() {
    assert_eq!(path("/").parent(), None);
    assert_eq!(path("/a").parent(), Some(RemotePath::root()));
    assert_eq!(path("/a/b").parent(), Some(path("/a")));
    assert_eq!(path("/a/b").name(), "b");
    assert_eq!(path("/").name(), "");
    assert_eq!(
        RemotePath::root().join("a").expect("a valid value"),
        path("/a")
    );
    assert_eq!(path("/a").join("b").expect("a valid value"), path("/a/b"));
    assert!(path("/a").join("..").is_err());
    assert!(path("/a").join("b/c").is_err());
    assert_eq!(
        path("/a/b/c").lineage(),
        vec![path("/a"), path("/a/b"), path("/a/b/c")]
    );
    assert!(RemotePath::root().lineage().is_empty());
}

#[test]
fn under_and_relative_to_are_inverses() {
    let base = path("/a/b");
    assert_eq!(path("/").under(&base).unwrap(), base);
    assert_eq!(path("/c/d").under(&base).unwrap(), path("/a/b/c/d"));
    assert_eq!(path("/c").under(&RemotePath::root()).unwrap(), path("/c"));
    assert_eq!(path("/a/b/c/d").relative_to(&base), Some(path("/c/d")));
    assert_eq!(path("/a/b").relative_to(&base), Some(RemotePath::root()));
    assert_eq!(path("/a/bc").relative_to(&base), None);
    assert_eq!(
        path("/x").relative_to(&RemotePath::root()),
        Some(path("/x"))
    );
}

#[test]
fn starts_with_is_about_whole_segments() {
    assert!(path("/a/b").starts_with(&path("/a")));
    assert!(path("/a").starts_with(&path("/a")));
    assert!(path("/a").starts_with(&RemotePath::root()));
    assert!(!path("/ab").starts_with(&path("/a")));
    assert!(!path("/a").starts_with(&path("/a/b")));
}

#[test]
fn part_plans() {
    let plan = PartPlan::new(10, 4).expect("a valid value");
    assert_eq!(plan.n_parts(), 3);
    assert_eq!(plan.part(1), Some((0, 4)));
    assert_eq!(plan.part(3), Some((8, 2)));
    assert_eq!(plan.part(0), None);
    assert_eq!(plan.part(4), None);
    assert_eq!(PartPlan::new(0, 4).expect("a valid value").n_parts(), 0);
    assert_eq!(PartPlan::new(8, 4).expect("a valid value").n_parts(), 2);
    assert!(PartPlan::new(10_001, 1).is_err());
}

#[test]
fn checksums_cursors_and_limits() {
    assert_eq!(
        Sha256Hex::parse(&"AB".repeat(32))
            .expect("a valid value")
            .as_str(),
        "ab".repeat(32)
    );
    assert!(Sha256Hex::parse("abc").is_err());
    assert!(Sha256Hex::parse(&"g".repeat(64)).is_err());
    let cursor = Cursor("a name/with é".into());
    assert_eq!(
        Cursor::decode(&cursor.encode()).expect("a valid value"),
        cursor
    );
    assert!(Cursor::decode("***").is_err());
    assert_eq!(PageLimit::parse(None).expect("a valid value").get(), 100);
    assert!(PageLimit::parse(Some(0)).is_err());
    assert!(PageLimit::parse(Some(1001)).is_err());
    assert!(BlobKey::parse(BlobKey::generate().as_str()).is_ok());
    assert!(BlobKey::parse("../etc/passwd").is_err());
}

/// A valid segment: printable, no '/', not `.` or `..`, no bidirectional control, in NFC.
fn segment() -> impl Strategy<Value = String> {
    "[^/\\p{Cc}]{1,20}"
        .prop_filter("dot segments are invalid", |s| s != "." && s != "..")
        .prop_filter("bidirectional controls are invalid", |s| {
            !s.chars().any(names::is_bidi_control)
        })
        .prop_filter("names are kept in NFC", |s| names::nfc(s) == s.as_str())
}

proptest! {
    #[test]
    fn valid_paths_parse_to_themselves(segments in prop::collection::vec(segment(), 1..6)) {
        let raw = format!("/{}", segments.join("/"));
        let parsed = RemotePath::parse(&raw).expect("a valid value");
        prop_assert_eq!(parsed.as_str(), raw.as_str());
        prop_assert_eq!(parsed.name(), segments.last().expect("a valid value").as_str());
        let parent = parsed.parent().expect("a valid value");
        prop_assert_eq!(parent.join(parsed.name()).expect("a valid value"), parsed.clone());
        prop_assert!(parsed.starts_with(&parent));
        let (low, high) = parent.descendant_range();
        prop_assert!(parsed.as_str() >= low.as_str() && parsed.as_str() < high.as_str());
    }

    #[test]
    fn parsing_never_panics_and_accepted_paths_are_clean(raw in "\\PC*|/[a./]{0,12}") {
        if let Ok(parsed) = RemotePath::parse(&raw) {
            let text = parsed.as_str();
            prop_assert!(text.starts_with('/'));
            prop_assert!(!text.contains("//"));
            prop_assert!(parsed.is_root() || !text.ends_with('/'));
            prop_assert!(!text.split('/').any(|s| s == "." || s == ".."));
            prop_assert_eq!(RemotePath::parse(text).expect("a valid value"), parsed.clone());
        }
    }

    #[test]
    fn a_sibling_with_a_longer_name_is_outside_the_subtree(a in segment(), b in segment()) {
        let folder = RemotePath::parse(&format!("/{a}")).expect("a valid value");
        let sibling = RemotePath::parse(&format!("/{a}{b}")).expect("a valid value");
        prop_assert!(!sibling.starts_with(&folder));
        let (low, high) = folder.descendant_range();
        prop_assert!(!(sibling.as_str() >= low.as_str() && sibling.as_str() < high.as_str()));
    }
}

//! Remote paths as the API wants them: absolute, `/`-separated, no trailing slash.
//!
//! People type `docs/a.txt`, `/docs//a.txt` or `docs/`; all mean `/docs/a.txt` or `/docs`.
//! Anything else (`..`, odd characters) is left for the server to judge, so the rules live in
//! one place.
//!
//! A remote argument may also name something outside the caller's tree ([`parse`]):
//! `shared:NAME[/rest]` is inside an item someone shared with the caller (NAME as
//! `fmsctl ls --shared` shows it, or the share's id), and `http(s)://…/s/<token>[/rest]` is a
//! public link, `rest` a path inside a folder link. `..` is refused in a link's URL before the
//! URL is read, since a URL parser resolves it quietly (`…/s/<token>/../x` would become another
//! link); the server refuses it in every path as well.

use url::Url;

use crate::error::UsageError;

/// What marks a path inside a share: `shared:NAME/rest`.
pub const SHARED_PREFIX: &str = "shared:";

/// What a remote argument names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RemoteSpec {
    /// A path in the caller's own tree, normalized.
    Own(String),
    /// `shared:NAME[/rest]`.
    Shared {
        /// The shared item's name, or the share's id; empty for a bare `shared:`.
        name: String,
        /// The path inside the shared item, normalized; `/` is the item itself.
        path: String,
    },
    /// A public link.
    Link {
        /// `scheme://host[/prefix]/s/<token>`, without query or trailing slash.
        url: String,
        /// The path inside a folder link, normalized; `/` is what the link leads to.
        path: String,
    },
}

/// Tells the three kinds of remote argument apart; a URL that is no link is a usage error.
pub fn parse(input: &str) -> Result<RemoteSpec, UsageError> {
    if let Some(rest) = input.strip_prefix(SHARED_PREFIX) {
        let rest = rest.trim_start_matches('/');
        let (name, path) = rest.split_once('/').unwrap_or((rest, ""));
        return Ok(RemoteSpec::Shared {
            name: name.to_string(),
            path: normalize(path),
        });
    }
    let lowercase = input.to_ascii_lowercase();
    if lowercase.starts_with("http://") || lowercase.starts_with("https://") {
        return link_url(input).map(|(url, path)| RemoteSpec::Link { url, path });
    }
    Ok(RemoteSpec::Own(normalize(input)))
}

/// How the paths of one tree are shown to people, in messages and summaries.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Shown {
    /// The caller's own paths, as they are.
    #[default]
    Own,
    /// Inside the share the user called NAME: `shared:NAME/...`.
    Shared(String),
    /// Behind a public link, whose token stays out of messages.
    Link,
}

impl Shown {
    /// `path` as people should read it.
    pub fn path(&self, path: &str) -> String {
        match self {
            Self::Own => path.to_string(),
            Self::Shared(name) => shared_label(name, path),
            Self::Link if path == "/" => "the link".to_string(),
            Self::Link => format!("{} via the link", path.trim_start_matches('/')),
        }
    }
}

/// `shared:NAME` followed by `path` unless it is the item itself: how people see the path.
pub fn shared_label(name: &str, path: &str) -> String {
    if path == "/" {
        format!("{SHARED_PREFIX}{name}")
    } else {
        format!("{SHARED_PREFIX}{name}{path}")
    }
}

/// What follows a link's token in the URLs of its pages (`/s/<token>/browse?path=/sub`), whose
/// `path` query names the path inside the link.
const PAGE_SUFFIXES: [&str; 3] = ["browse", "download", "zip"];

/// The link's base URL (`…/s/<token>`) and the path inside it from what was typed: the URL may
/// end with `/` or carry a query, go on past the token with a path inside a folder link
/// (`…/s/<token>/photos/a.jpg`, percent-encoded or not), or be a link page's address copied
/// from a browser (`…/s/<token>/browse?path=%2Fphotos`).
fn link_url(input: &str) -> Result<(String, String), UsageError> {
    let not_a_link = || {
        UsageError(format!(
            "{input} is not a link: a link looks like https://HOST/s/TOKEN"
        ))
    };
    if climbs(input) {
        return Err(UsageError(format!(
            "{input}: `..` cannot lead out of a link; name a path inside it \
             (https://HOST/s/TOKEN/FOLDER/FILE)"
        )));
    }
    let mut url = Url::parse(input.trim()).map_err(|_| not_a_link())?;
    let segments: Vec<String> = url
        .path_segments()
        .map(|segments| {
            segments
                .filter(|segment| !segment.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let at = token_at(&segments).ok_or_else(not_a_link)?;
    let (base, rest) = segments.split_at(at + 2);
    let query_path = url
        .query_pairs()
        .find(|(name, _)| name == "path")
        .map(|(_, value)| value.into_owned());
    let path = match (rest, query_path) {
        ([page], Some(path)) if PAGE_SUFFIXES.contains(&page.as_str()) => normalize(&path),
        _ => {
            let decoded: Vec<String> = rest.iter().map(|segment| decode(segment)).collect();
            normalize(&decoded.join("/"))
        }
    };
    if path.split('/').any(|segment| segment == "..") {
        return Err(UsageError(format!(
            "{input}: `..` cannot lead out of a link; name a path inside it"
        )));
    }
    url.set_query(None);
    url.set_fragment(None);
    url.set_path(&base.join("/"));
    Ok((url.as_str().trim_end_matches('/').to_string(), path))
}

/// Where the `s` before the token is: the first `s` followed by a well-formed token (43
/// base64url characters, as fmsd makes them), else the first `s` followed by anything, so a
/// server under a prefix and a folder called `s` inside a link both work.
fn token_at(segments: &[String]) -> Option<usize> {
    let well_formed = |token: &str| {
        token.len() == 43
            && token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    let candidates = || {
        segments
            .windows(2)
            .enumerate()
            .filter(|(_, pair)| pair[0] == "s" && !pair[1].is_empty())
            .map(|(at, pair)| (at, &pair[1]))
    };
    candidates()
        .find(|(_, token)| well_formed(token))
        .or_else(|| candidates().next())
        .map(|(at, _)| at)
}

/// Whether the URL's path, before a URL parser resolves it, has a `..` segment (also written
/// `%2e%2e`, or with `\`, which parsers take for `/`).
fn climbs(input: &str) -> bool {
    let after_scheme = input.split_once("://").map_or(input, |(_, rest)| rest);
    let path = after_scheme.split(['?', '#']).next().unwrap_or_default();
    path.split(['/', '\\'])
        .skip(1)
        .any(|segment| decode(segment) == "..")
}

/// A percent-encoded path segment as text; bytes that are no UTF-8 become U+FFFD, which the
/// server then refuses as a name it does not hold.
fn decode(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let hex = |at: usize| bytes.get(at).and_then(|b| (*b as char).to_digit(16));
        match (bytes[index], hex(index + 1), hex(index + 2)) {
            (b'%', Some(high), Some(low)) => {
                out.push((high * 16 + low) as u8);
                index += 3;
            }
            (byte, _, _) => {
                out.push(byte);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `a/b` -> `/a/b`; doubled and trailing slashes and `.` segments go; the empty path is `/`.
pub fn normalize(input: &str) -> String {
    let segments: Vec<&str> = input
        .split('/')
        .filter(|segment| !segment.is_empty() && *segment != ".")
        .collect();
    format!("/{}", segments.join("/"))
}

/// `dir` + `/` + `name`, without doubling the slash at the root.
pub fn join(dir: &str, name: &str) -> String {
    let dir = normalize(dir);
    if dir == "/" {
        normalize(name)
    } else {
        normalize(&format!("{dir}/{name}"))
    }
}

/// The last segment (`/docs/a.txt` -> `a.txt`); empty for `/`.
pub fn file_name(path: &str) -> &str {
    path.trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or_default()
}

/// The folder holding `path` (`/docs/a.txt` -> `/docs`); `/` for `/` and what is right in it.
pub fn parent(path: &str) -> String {
    match normalize(path).rsplit_once('/') {
        Some(("", _)) | None => "/".to_owned(),
        Some((folder, _)) => folder.to_owned(),
    }
}

/// Whether the user wrote a trailing slash, i.e. meant a folder.
pub fn names_a_folder(input: &str) -> bool {
    input.ends_with('/') || input.is_empty() || input.ends_with("/.") || input == "."
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_become_absolute() {
        assert_eq!(normalize("a/b"), "/a/b");
        assert_eq!(normalize("/a//b/"), "/a/b");
        assert_eq!(normalize("./a/./b"), "/a/b");
        assert_eq!(normalize(""), "/");
        assert_eq!(normalize("/"), "/");
    }

    #[test]
    fn joins_and_names() {
        assert_eq!(join("/", "a.txt"), "/a.txt");
        assert_eq!(join("docs", "a.txt"), "/docs/a.txt");
        assert_eq!(join("/docs/", "sub/a.txt"), "/docs/sub/a.txt");
        assert_eq!(file_name("/docs/a.txt"), "a.txt");
        assert_eq!(file_name("/"), "");
        assert_eq!(parent("/docs/a.txt"), "/docs");
        assert_eq!(parent("/a.txt"), "/");
        assert_eq!(parent("/"), "/");
        assert!(names_a_folder("docs/"));
        assert!(!names_a_folder("docs"));
    }

    fn link(url: &str, path: &str) -> RemoteSpec {
        RemoteSpec::Link {
            url: url.into(),
            path: path.into(),
        }
    }

    #[test]
    fn a_link_url_may_go_on_into_its_folder_but_never_out() {
        let token = "A".repeat(43);
        let base = format!("https://h/s/{token}");
        assert_eq!(
            parse(&format!("{base}/photos/My%20trip/a.jpg")).unwrap(),
            link(&base, "/photos/My trip/a.jpg")
        );
        assert_eq!(
            parse(&format!("{base}/photos/ünï b/")).unwrap(),
            link(&base, "/photos/ünï b")
        );
        assert_eq!(
            parse(&format!("{base}/browse?path=%2Fphotos%2F2024")).unwrap(),
            link(&base, "/photos/2024")
        );
        assert_eq!(
            parse(&format!("{base}/browse")).unwrap(),
            link(&base, "/browse")
        );
        // A folder called `s` inside the link, and a server under a prefix called `s`.
        assert_eq!(parse(&format!("{base}/s/x")).unwrap(), link(&base, "/s/x"));
        assert_eq!(
            parse(&format!("https://h/s/s/{token}/a")).unwrap(),
            link(&format!("https://h/s/s/{token}"), "/a")
        );
        for climbing in [
            format!("{base}/../x"),
            format!("{base}/a/../../x"),
            format!("{base}/%2e%2E/x"),
            format!("{base}/a\\..\\x"),
            format!("{base}/browse?path=/../x"),
            format!("{base}/a%2F..%2Fb"),
        ] {
            let error = parse(&climbing).unwrap_err();
            assert!(error.0.contains("`..`"), "{climbing}: {error}");
        }
    }

    #[test]
    fn shares_links_and_own_paths_are_told_apart() {
        assert_eq!(
            parse("docs/a.txt").unwrap(),
            RemoteSpec::Own("/docs/a.txt".into())
        );
        assert_eq!(
            parse("shared:Photos/2024//a.jpg").unwrap(),
            RemoteSpec::Shared {
                name: "Photos".into(),
                path: "/2024/a.jpg".into()
            }
        );
        assert_eq!(
            parse("shared:report.pdf").unwrap(),
            RemoteSpec::Shared {
                name: "report.pdf".into(),
                path: "/".into()
            }
        );
        assert_eq!(
            parse("shared:").unwrap(),
            RemoteSpec::Shared {
                name: String::new(),
                path: "/".into()
            }
        );
        assert_eq!(
            parse("https://files.example.com/fms/s/AbC-_9/?x=1").unwrap(),
            link("https://files.example.com/fms/s/AbC-_9", "/")
        );
        assert_eq!(
            parse("HTTP://127.0.0.1:8080/s/tok").unwrap(),
            link("http://127.0.0.1:8080/s/tok", "/")
        );
        assert!(parse("https://example.com/docs/a.txt").is_err());
        assert!(parse("https://example.com/s/tok/../other").is_err());
        assert!(parse("https://example.com/s/").is_err());
        assert_eq!(shared_label("Photos", "/"), "shared:Photos");
        assert_eq!(shared_label("Photos", "/a.jpg"), "shared:Photos/a.jpg");
        assert_eq!(Shown::Own.path("/a"), "/a");
        assert_eq!(Shown::Shared("P".into()).path("/a"), "shared:P/a");
        assert_eq!(Shown::Link.path("/a.txt"), "a.txt via the link");
        assert_eq!(Shown::Link.path("/sub/b.txt"), "sub/b.txt via the link");
    }
}

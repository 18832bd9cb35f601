//! Remote paths as the API wants them: absolute, `/`-separated, no trailing slash.
//!
//! People type `docs/a.txt`, `/docs//a.txt` or `docs/`; all mean `/docs/a.txt` or `/docs`.
//! Anything else (`..`, odd characters) is left for the server to judge, so the rules live in
//! one place.
//!
//! A remote argument may also name something outside the caller's tree ([`parse`]):
//! `shared:NAME[/rest]` is inside an item someone shared with the caller (NAME as
//! `fmsctl ls --shared` shows it, or the share's id), and `http(s)://…/s/<token>` is a public
//! link.

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
    /// A public link: `scheme://host[/prefix]/s/<token>`, without query or trailing slash.
    Link(String),
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
        return link_url(input).map(RemoteSpec::Link);
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
            Self::Link => format!("{} via the link", file_name(path)),
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

/// The link's base URL (`…/s/<token>`) from what was typed, which may end with `/` or carry a
/// query.
fn link_url(input: &str) -> Result<String, UsageError> {
    let not_a_link = || {
        UsageError(format!(
            "{input} is not a link: a link looks like https://HOST/s/TOKEN"
        ))
    };
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
    match segments.as_slice() {
        [.., s, token] if s == "s" && !token.is_empty() => {}
        _ => return Err(not_a_link()),
    }
    url.set_query(None);
    url.set_fragment(None);
    url.set_path(&segments.join("/"));
    Ok(url.as_str().trim_end_matches('/').to_string())
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
        assert!(names_a_folder("docs/"));
        assert!(!names_a_folder("docs"));
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
            RemoteSpec::Link("https://files.example.com/fms/s/AbC-_9".into())
        );
        assert_eq!(
            parse("HTTP://127.0.0.1:8080/s/tok").unwrap(),
            RemoteSpec::Link("http://127.0.0.1:8080/s/tok".into())
        );
        assert!(parse("https://example.com/docs/a.txt").is_err());
        assert!(parse("https://example.com/s/").is_err());
        assert_eq!(shared_label("Photos", "/"), "shared:Photos");
        assert_eq!(shared_label("Photos", "/a.jpg"), "shared:Photos/a.jpg");
        assert_eq!(Shown::Own.path("/a"), "/a");
        assert_eq!(Shown::Shared("P".into()).path("/a"), "shared:P/a");
        assert_eq!(Shown::Link.path("/a.txt"), "a.txt via the link");
    }
}

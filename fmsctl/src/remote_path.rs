//! Remote paths as the API wants them: absolute, `/`-separated, no trailing slash.
//!
//! People type `docs/a.txt`, `/docs//a.txt` or `docs/`; all mean `/docs/a.txt` or `/docs`.
//! Anything else (`..`, odd characters) is left for the server to judge, so the rules live in
//! one place.

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
}

//! The server a mail is about: its `public_url`, which every mail names, and the `fmsctl`
//! commands that reach it, written so they can be pasted into a shell as they are.

/// Where customers reach fms: the configured `public_url` (else the bound address).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    /// The base URL, without a trailing slash (`https://fms.example.com` or
    /// `https://example.com/fms`), as `fmsctl --server` takes it.
    url: String,
}

impl Server {
    /// The server at `public_url`.
    pub fn new(public_url: &str) -> Self {
        Self {
            url: public_url.trim_end_matches('/').to_owned(),
        }
    }

    /// Its base URL, without a trailing slash.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The `fmsctl` command line that runs `args` against this server; an argument a shell
    /// would split or expand is quoted.
    pub fn fmsctl(&self, args: &[&str]) -> String {
        let mut words = vec![
            "fmsctl".to_owned(),
            "--server".to_owned(),
            shell_word(&self.url),
        ];
        words.extend(args.iter().map(|arg| shell_word(arg)));
        words.join(" ")
    }
}

/// `word` as one shell word: as it is when it holds only characters no shell treats
/// specially, else in single quotes (a single quote inside written `'\''`).
pub fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-/:@%+=,".contains(c));
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_names_the_server_without_its_trailing_slash() {
        let server = Server::new("https://fms.example.com/");
        assert_eq!(server.url(), "https://fms.example.com");
        assert_eq!(
            server.fmsctl(&["ls", "shared:Reports"]),
            "fmsctl --server https://fms.example.com ls shared:Reports"
        );
    }

    #[test]
    fn words_a_shell_would_split_or_expand_are_quoted() {
        assert_eq!(shell_word("shared:My Docs"), "'shared:My Docs'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
        assert_eq!(shell_word("$(rm -rf ~)"), "'$(rm -rf ~)'");
        assert_eq!(shell_word("*.txt"), "'*.txt'");
        assert_eq!(shell_word(""), "''");
        assert_eq!(shell_word("/inbox/cv.pdf"), "/inbox/cv.pdf");
    }
}

//! The words of a mail as runs of plain text, code (a command, a path) and links, so one
//! paragraph is written once and rendered twice: as plain text (code between backticks, a
//! link's URL in full) and as HTML (`<code>`, `<a href>`, everything escaped). Text and HTML
//! therefore always say the same thing.
//!
//! A paragraph is stored as it is (JSON) while it waits for a digest, so the digest renders it
//! with the same markup as the mail it replaces.

use serde::{Deserialize, Serialize};

use super::escape_html;

/// One run of a paragraph.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Inline {
    /// Words, as they are.
    Text(String),
    /// Something to type or look for as it is: a command, a path, a request.
    Code(String),
    /// A link: the text shown and where it leads (`http` or `https` only; anything else is
    /// shown as text, never made a link).
    Link {
        /// What the reader sees.
        label: String,
        /// Where it leads.
        url: String,
    },
}

/// A paragraph: runs of text, code and links.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Rich(Vec<Inline>);

impl Rich {
    /// An empty paragraph.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds words.
    pub fn text(mut self, text: impl Into<String>) -> Self {
        self.0.push(Inline::Text(text.into()));
        self
    }

    /// Adds code: a command or a path, kept on one line.
    pub fn code(mut self, code: impl Into<String>) -> Self {
        self.0.push(Inline::Code(super::one_line(&code.into())));
        self
    }

    /// Adds a link shown as `label`.
    pub fn link(mut self, label: impl Into<String>, url: impl Into<String>) -> Self {
        self.0.push(Inline::Link {
            label: label.into(),
            url: url.into(),
        });
        self
    }

    /// Adds a link shown as its own URL.
    pub fn url(self, url: impl Into<String>) -> Self {
        let url = url.into();
        self.link(url.clone(), url)
    }

    /// This paragraph followed by `other`, a space between them.
    pub fn then(mut self, other: Rich) -> Self {
        if !self.0.is_empty() && !other.0.is_empty() {
            self.0.push(Inline::Text(" ".into()));
        }
        self.0.extend(other.0);
        self
    }

    /// The runs, in order.
    pub fn runs(&self) -> &[Inline] {
        &self.0
    }

    /// As plain text: code between backticks, a link as its label followed by its URL in
    /// brackets (or only the URL when that is its label).
    pub fn to_text(&self) -> String {
        let mut text = String::new();
        for run in &self.0 {
            match run {
                Inline::Text(words) => text.push_str(words),
                Inline::Code(code) => {
                    text.push('`');
                    text.push_str(code);
                    text.push('`');
                }
                Inline::Link { label, url } if label == url => text.push_str(url),
                Inline::Link { label, url } => {
                    text.push_str(&format!("{label} ({url})"));
                }
            }
        }
        text
    }

    /// As HTML: every text escaped, code in `<code>`, a web link in `<a href>`.
    pub fn to_html(&self) -> String {
        let mut html = String::new();
        for run in &self.0 {
            match run {
                Inline::Text(words) => html.push_str(&escape_html(words)),
                Inline::Code(code) => {
                    html.push_str(&format!("<code>{}</code>", escape_html(code)));
                }
                Inline::Link { label, url } if is_web(url) => html.push_str(&format!(
                    "<a href=\"{}\">{}</a>",
                    escape_html(url),
                    escape_html(label)
                )),
                Inline::Link { label, url } if label == url => html.push_str(&escape_html(url)),
                Inline::Link { label, url } => {
                    html.push_str(&escape_html(&format!("{label} ({url})")));
                }
            }
        }
        html
    }
}

impl From<String> for Rich {
    fn from(text: String) -> Self {
        Self::new().text(text)
    }
}

impl From<&str> for Rich {
    fn from(text: &str) -> Self {
        Self::new().text(text)
    }
}

/// Whether `url` may be a link's target: `http` or `https`, never `javascript:` and the like.
fn is_web(url: &str) -> bool {
    let lowercase = url.to_ascii_lowercase();
    lowercase.starts_with("https://") || lowercase.starts_with("http://")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Rich {
        Rich::new()
            .text("Run ")
            .code("fmsctl ls 'shared:a <b>'")
            .text(" or open ")
            .url("https://fms.example.com/v1?a=1&b=2")
            .text(".")
    }

    #[test]
    fn text_marks_code_with_backticks_and_writes_urls_in_full() {
        assert_eq!(
            sample().to_text(),
            "Run `fmsctl ls 'shared:a <b>'` or open https://fms.example.com/v1?a=1&b=2."
        );
        let labelled = Rich::new().link("the API", "https://fms.example.com/v1");
        assert_eq!(labelled.to_text(), "the API (https://fms.example.com/v1)");
    }

    #[test]
    fn html_uses_code_and_links_and_escapes_everything() {
        assert_eq!(
            sample().to_html(),
            "Run <code>fmsctl ls &#39;shared:a &lt;b&gt;&#39;</code> or open \
             <a href=\"https://fms.example.com/v1?a=1&amp;b=2\">https://fms.example.com/v1?a=1&amp;b=2</a>."
        );
        assert!(!sample().to_html().contains('`'));
    }

    #[test]
    fn only_web_urls_become_links() {
        let evil = Rich::new().link("click", "javascript:alert(1)");
        assert_eq!(evil.to_html(), "click (javascript:alert(1))");
        assert!(!evil.to_html().contains("href"));
    }

    #[test]
    fn code_stays_on_one_line_and_paragraphs_join_with_a_space() {
        let joined = Rich::from("A.").then(Rich::new().code("x\ny"));
        assert_eq!(joined.to_text(), "A. `x y`");
        assert_eq!(Rich::new().then(Rich::from("B")).to_text(), "B");
    }

    #[test]
    fn a_paragraph_survives_json() {
        let json = serde_json::to_string(&sample()).unwrap();
        assert!(json.starts_with(r#"[{"text":"Run "},{"code":"#), "{json}");
        let back: Rich = serde_json::from_str(&json).unwrap();
        assert_eq!(back, sample());
    }
}

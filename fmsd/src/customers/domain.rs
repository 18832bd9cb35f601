//! Customer values that check themselves when built; no I/O here.

use crate::error::Error;

/// A syntactically valid e-mail address, trimmed and with its domain lowercased.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    /// Checks `raw`: one `@`, a non-empty local part, a dotted domain, no spaces or control
    /// characters, at most 254 bytes.
    pub fn parse(raw: &str) -> Result<Self, Error> {
        let invalid = |why: &str| Error::Invalid(format!("the e-mail address is not valid: {why}"));
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(invalid("it is empty"));
        }
        if trimmed.len() > 254 {
            return Err(invalid("it is longer than 254 bytes"));
        }
        if trimmed.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid("it contains spaces or control characters"));
        }
        let (local, domain) = trimmed
            .rsplit_once('@')
            .ok_or_else(|| invalid("it has no @"))?;
        if local.is_empty() || local.len() > 64 || local.contains('@') {
            return Err(invalid(
                "the part before @ must be 1 to 64 characters without another @",
            ));
        }
        let labels_ok = domain.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
        });
        if !domain.contains('.') || !labels_ok {
            return Err(invalid("the domain after @ must look like example.com"));
        }
        Ok(Self(format!("{local}@{}", domain.to_lowercase())))
    }

    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key e-mails are unique by: the whole address lowercased.
    pub fn key(&self) -> String {
        self.0.to_lowercase()
    }
}

/// A password good enough to accept: 10 to 1024 characters.
#[derive(Clone)]
pub struct Password(String);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(***)")
    }
}

impl Password {
    /// The fewest characters a password may have.
    pub const MIN_CHARS: usize = 10;
    /// The most; argon2 hashes anything, but an unbounded input is a denial-of-service lever.
    pub const MAX_CHARS: usize = 1024;

    /// Checks the length rules.
    pub fn parse(raw: &str) -> Result<Self, Error> {
        let n = raw.chars().count();
        if n < Self::MIN_CHARS {
            return Err(Error::Invalid(format!(
                "the password must have at least {} characters",
                Self::MIN_CHARS
            )));
        }
        if n > Self::MAX_CHARS {
            return Err(Error::Invalid(format!(
                "the password must have at most {} characters",
                Self::MAX_CHARS
            )));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The password itself.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// A display name: 1 to 100 characters after trimming, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    /// Checks and trims `raw`.
    pub fn parse(raw: &str) -> Result<Self, Error> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(Error::Invalid("the name must not be empty".into()));
        }
        if trimmed.chars().count() > 100 {
            return Err(Error::Invalid(
                "the name must have at most 100 characters".into(),
            ));
        }
        if trimmed.chars().any(char::is_control) {
            return Err(Error::Invalid(
                "the name must not contain control characters".into(),
            ));
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn emails() {
        assert_eq!(
            Email::parse(" Ann@Example.COM ").unwrap().as_str(),
            "Ann@example.com"
        );
        assert_eq!(
            Email::parse("Ann@Example.COM").unwrap().key(),
            "ann@example.com"
        );
        for bad in [
            "",
            "ann",
            "ann@",
            "@example.com",
            "ann@example",
            "an n@example.com",
            "a@b@example.com",
            "ann@-x.com",
            "ann@x..com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn passwords_need_ten_characters_counted_as_characters() {
        assert!(Password::parse("123456789").is_err());
        assert!(Password::parse("1234567890").is_ok());
        assert!(Password::parse("ééééééééé").is_err());
        assert!(format!("{:?}", Password::parse("1234567890").unwrap()).contains("***"));
    }

    #[test]
    fn names() {
        assert_eq!(DisplayName::parse("  Ann  ").unwrap().as_str(), "Ann");
        assert!(DisplayName::parse("   ").is_err());
        assert!(DisplayName::parse("a\u{7}b").is_err());
        assert!(DisplayName::parse(&"x".repeat(101)).is_err());
    }

    proptest! {
        #[test]
        fn a_parsed_email_parses_again_to_itself(local in "[a-zA-Z0-9._+-]{1,20}", domain in "[a-z0-9]{1,10}\\.[a-z]{2,5}") {
            let email = Email::parse(&format!("{local}@{domain}")).unwrap();
            prop_assert_eq!(Email::parse(email.as_str()).unwrap(), email);
        }

        #[test]
        fn parsing_never_panics(raw in "\\PC*") {
            let _ = Email::parse(&raw);
            let _ = Password::parse(&raw);
            let _ = DisplayName::parse(&raw);
        }
    }
}

//! Reading a password: from a terminal prompt (no echo), or the first line of stdin.
//!
//! A prompt needs stdin to be a terminal; without one and without `--password-stdin` there is
//! nobody to ask, which is a usage error rather than a hang on `/dev/tty`.

use std::io::{BufRead, IsTerminal};

use anyhow::Context;

use crate::error::UsageError;

/// Whether to ask twice (when a new password is set).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirm {
    /// Ask once.
    Once,
    /// Ask twice and insist that both match.
    Twice,
}

/// Reads the password as the flags say.
pub fn read_password(password_stdin: bool, confirm: Confirm) -> anyhow::Result<String> {
    if password_stdin {
        return read_from_stdin(&mut std::io::stdin().lock());
    }
    if !std::io::stdin().is_terminal() {
        return Err(UsageError(
            "no terminal to ask for the password on; pass --password-stdin and write the \
             password to stdin"
                .into(),
        )
        .into());
    }
    let password =
        rpassword::prompt_password("Password: ").context("failed to read the password")?;
    if confirm == Confirm::Twice {
        let again = rpassword::prompt_password("Password (again): ")
            .context("failed to read the password")?;
        if again != password {
            return Err(UsageError("the passwords do not match".into()).into());
        }
    }
    if password.is_empty() {
        return Err(UsageError("the password is empty".into()).into());
    }
    Ok(password)
}

/// The current and the new password: two lines of stdin with `--password-stdin`, else asked
/// for on the terminal (the new one twice).
pub fn read_password_change(password_stdin: bool) -> anyhow::Result<(String, String)> {
    if password_stdin {
        let mut input = std::io::stdin().lock();
        let current = read_from_stdin(&mut input)?;
        let new = read_from_stdin(&mut input).map_err(|_| {
            UsageError(
                "--password-stdin: write the current password, then the new one, each on its \
                 own line"
                    .into(),
            )
        })?;
        return Ok((current, new));
    }
    if !std::io::stdin().is_terminal() {
        return Err(UsageError(
            "no terminal to ask for the passwords on; pass --password-stdin and write the \
             current and the new password to stdin, one a line"
                .into(),
        )
        .into());
    }
    let current =
        rpassword::prompt_password("Current password: ").context("failed to read the password")?;
    let new =
        rpassword::prompt_password("New password: ").context("failed to read the password")?;
    let again = rpassword::prompt_password("New password (again): ")
        .context("failed to read the password")?;
    if again != new {
        return Err(UsageError("the new passwords do not match".into()).into());
    }
    if current.is_empty() || new.is_empty() {
        return Err(UsageError("a password is empty".into()).into());
    }
    Ok((current, new))
}

/// The first line of `input`, without its line ending.
fn read_from_stdin(input: &mut impl BufRead) -> anyhow::Result<String> {
    let mut line = String::new();
    input
        .read_line(&mut line)
        .context("failed to read the password from stdin")?;
    let password = line.strip_suffix('\n').unwrap_or(&line);
    let password = password.strip_suffix('\r').unwrap_or(password);
    if password.is_empty() {
        return Err(UsageError("--password-stdin: stdin holds no password".into()).into());
    }
    Ok(password.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_the_first_line_only() {
        let mut input = std::io::Cursor::new(b"s3cret pass\r\nsecond\n".to_vec());
        assert_eq!(read_from_stdin(&mut input).unwrap(), "s3cret pass");
        let mut input = std::io::Cursor::new(b"no newline".to_vec());
        assert_eq!(read_from_stdin(&mut input).unwrap(), "no newline");
        let mut empty = std::io::Cursor::new(Vec::new());
        assert!(read_from_stdin(&mut empty).is_err());
    }
}

//! Lifetimes as people write them: `30m`, `12h`, `7d`, `2w`, `90s`, or plain seconds (`3600`).
//!
//! [`parse_seconds`] is a clap value parser, so a bad value is a usage error (exit 2) that
//! names the flag and shows the accepted forms.

/// The units a lifetime may carry, with their length in seconds.
const UNITS: [(char, u64); 5] = [
    ('s', 1),
    ('m', 60),
    ('h', 60 * 60),
    ('d', 24 * 60 * 60),
    ('w', 7 * 24 * 60 * 60),
];

/// `7d` -> 604800. A number with one unit (`s`, `m`, `h`, `d`, `w`), or plain seconds; more
/// than zero.
pub fn parse_seconds(input: &str) -> Result<u64, String> {
    let text = input.trim();
    let explain = || {
        format!(
            "'{input}' is not a duration: write a whole number of seconds, or one with a unit, \
             such as 30m, 12h, 7d or 2w"
        )
    };
    let (number, unit_seconds) = match text.chars().last() {
        Some(last) if last.is_ascii_alphabetic() => {
            let unit = last.to_ascii_lowercase();
            let (_, seconds) = UNITS
                .iter()
                .find(|(name, _)| *name == unit)
                .ok_or_else(explain)?;
            (&text[..text.len() - last.len_utf8()], *seconds)
        }
        _ => (text, 1),
    };
    if number.is_empty() || !number.chars().all(|c| c.is_ascii_digit()) {
        return Err(explain());
    }
    let count: u64 = number.parse().map_err(|_| explain())?;
    let seconds = count
        .checked_mul(unit_seconds)
        .ok_or_else(|| format!("'{input}' is too long"))?;
    if seconds == 0 {
        return Err(format!("'{input}': the duration must be more than zero"));
    }
    Ok(seconds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_and_plain_seconds() {
        assert_eq!(parse_seconds("30m"), Ok(1800));
        assert_eq!(parse_seconds("12h"), Ok(43_200));
        assert_eq!(parse_seconds("7d"), Ok(604_800));
        assert_eq!(parse_seconds("2w"), Ok(1_209_600));
        assert_eq!(parse_seconds("90s"), Ok(90));
        assert_eq!(parse_seconds("3600"), Ok(3600));
        assert_eq!(parse_seconds(" 7D "), Ok(604_800));
    }

    #[test]
    fn nonsense_is_refused() {
        for bad in [
            "", "d", "7x", "-1d", "1.5h", "7 d", "0", "0d", "7dd", "+7d", "ä",
        ] {
            assert!(parse_seconds(bad).is_err(), "{bad:?} was accepted");
        }
        assert!(parse_seconds("99999999999999999999w").is_err());
        assert!(parse_seconds("3x").unwrap_err().contains("7d"));
    }
}

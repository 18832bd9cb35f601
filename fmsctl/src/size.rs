//! Sizes as people write them: `500`, `10k`, `1.5M`, `2G`, `1T` (powers of 1024; `KiB`,
//! `MB`, … read the same). [`parse_bytes`] is a clap value parser.

/// The units, by their first letter, in bytes.
const UNITS: [(char, u64); 5] = [
    ('b', 1),
    ('k', 1 << 10),
    ('m', 1 << 20),
    ('g', 1 << 30),
    ('t', 1 << 40),
];

/// `1.5M` -> 1572864.
pub fn parse_bytes(input: &str) -> Result<u64, String> {
    let text = input.trim();
    let explain = || {
        format!("'{input}' is not a size: write bytes, or a number with a unit, such as 500k, 10M, 1.5G")
    };
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().map_err(|_| explain())?;
    let unit = unit.trim().to_ascii_lowercase();
    let factor = match unit.chars().next() {
        None => 1,
        Some(first) => {
            let (_, factor) = UNITS
                .iter()
                .find(|(letter, _)| *letter == first)
                .ok_or_else(explain)?;
            let rest = &unit[1..];
            if !["", "b", "ib"].contains(&rest) || (first == 'b' && !rest.is_empty()) {
                return Err(explain());
            }
            *factor
        }
    };
    let bytes = number * factor as f64;
    if !bytes.is_finite() || bytes < 0.0 || bytes > u64::MAX as f64 {
        return Err(explain());
    }
    Ok(bytes.round() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(parse_bytes("500"), Ok(500));
        assert_eq!(parse_bytes("10k"), Ok(10 * 1024));
        assert_eq!(parse_bytes("1.5M"), Ok(1_572_864));
        assert_eq!(parse_bytes("2GiB"), Ok(2 << 30));
        assert_eq!(parse_bytes("3 MB"), Ok(3 << 20));
        assert_eq!(parse_bytes("7b"), Ok(7));
        for bad in ["", "ten", "5x", "1.2.3M", "-1k", "5kk"] {
            assert!(parse_bytes(bad).is_err(), "{bad}");
        }
    }
}

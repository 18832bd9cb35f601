//! The character rules of file and folder names beyond ASCII: no Unicode bidirectional
//! controls, and one spelling of each name (NFC).
//!
//! A bidirectional control reorders what follows it on screen: `invoice\u{202E}fdp.exe` shows
//! as `invoiceexe.pdf`, so a name holding one can pass for another; none has a use in a name.
//! Accents can be one code point (`é`, U+00E9) or two (`e` + U+0301): macOS writes the second,
//! most others the first. Names are kept in NFC, so both are one name, found by either.

use std::borrow::Cow;

use unicode_normalization::{is_nfc_quick, IsNormalized, UnicodeNormalization};

/// Whether `c` is one of the Unicode bidirectional controls: the embeddings and overrides
/// (U+202A–U+202E), the isolates (U+2066–U+2069), and the marks (U+200E, U+200F, U+061C).
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// `text` in Unicode Normalization Form C, borrowed when it already is.
pub fn nfc(text: &str) -> Cow<'_, str> {
    match is_nfc_quick(text.chars()) {
        IsNormalized::Yes => Cow::Borrowed(text),
        IsNormalized::No | IsNormalized::Maybe => Cow::Owned(text.nfc().collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bidi_controls_are_known_and_nothing_else_is() {
        for c in [
            '\u{202A}', '\u{202E}', '\u{2066}', '\u{2069}', '\u{200E}', '\u{200F}', '\u{061C}',
        ] {
            assert!(is_bidi_control(c), "U+{:04X}", c as u32);
        }
        for c in ['a', 'é', '\u{200D}', '\u{2029}', '\u{2070}', '\u{05D0}'] {
            assert!(!is_bidi_control(c), "U+{:04X}", c as u32);
        }
    }

    #[test]
    fn both_spellings_of_an_accent_are_one() {
        assert_eq!(nfc("cafe\u{301}"), "caf\u{e9}");
        assert!(matches!(nfc("caf\u{e9}"), Cow::Borrowed(_)));
        assert!(matches!(nfc("plain"), Cow::Borrowed(_)));
    }
}

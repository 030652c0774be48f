//! The OpaqueString profile of PRECIS (RFC 8265 §4.2), which RFC 8489 §9.2.2, §14.3 and
//! §14.4 apply to usernames, realms and passwords before they are hashed into a long-term key
//! or a USERHASH, and §9.1.1 to the short-term password.
//!
//! Implemented: the additional mapping rule (every non-ASCII space to U+0020), Unicode
//! Normalization Form C, the refusal of the empty string, and the refusal of the code points
//! the FreeformClass (RFC 8264 §4.3) disallows that can be recognised without the Unicode
//! character database: controls, default-ignorable code points and noncharacters
//! (PrecisIgnorableProperties), the join controls (CONTEXTJ; their context rules are not
//! implemented, so they are refused everywhere), old Hangul jamo, private-use code points and
//! the line and paragraph separators. Not implemented: unassigned code points and the other
//! format characters (general category Cf) are let through, since telling them apart needs the
//! full Unicode tables.

use core::fmt;
use std::borrow::Cow;

use unicode_normalization::{UnicodeNormalization, is_nfc};

/// Why a string is not a valid OpaqueString.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum OpaqueStringError {
    /// RFC 8265 §4.2: the string is empty (after mapping and normalisation).
    Empty,
    /// RFC 8264 §4.3: a code point the FreeformClass does not allow.
    Disallowed {
        /// The code point.
        ch: char,
        /// Its byte offset in the prepared string.
        offset: usize,
    },
}

impl fmt::Display for OpaqueStringError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("empty string (OpaqueString needs at least one character)"),
            Self::Disallowed { ch, offset } => write!(
                f,
                "code point U+{:04X} at byte {offset} is not allowed in an OpaqueString",
                u32::from(*ch)
            ),
        }
    }
}

impl std::error::Error for OpaqueStringError {}

/// RFC 8265 §4.2: prepares and enforces `input` as an OpaqueString, giving the string to hash
/// or compare (borrowed when it is already in that form).
pub fn opaque_string(input: &str) -> Result<Cow<'_, str>, OpaqueStringError> {
    let prepared = map_and_normalize(input);
    if prepared.is_empty() {
        return Err(OpaqueStringError::Empty);
    }
    if let Some((offset, ch)) = prepared.char_indices().find(|(_, c)| is_disallowed(*c)) {
        return Err(OpaqueStringError::Disallowed { ch, offset });
    }
    Ok(prepared)
}

/// The mapping half of [`opaque_string`] without its checks: what key derivation hashes when
/// it cannot refuse (see [`long_term_key`](crate::stun::long_term_key)). For a valid
/// OpaqueString both give the same string.
pub(crate) fn map_and_normalize(input: &str) -> Cow<'_, str> {
    // RFC 8265 §4.2.2 rule 1: no width mapping; rule 3: no case mapping; rule 5: no
    // directionality rule. Rule 2 maps non-ASCII spaces, rule 4 applies NFC.
    let mapped: Cow<'_, str> = if input.chars().any(is_non_ascii_space) {
        Cow::Owned(
            input
                .chars()
                .map(|c| if is_non_ascii_space(c) { ' ' } else { c })
                .collect(),
        )
    } else {
        Cow::Borrowed(input)
    };
    if is_nfc(&mapped) {
        mapped
    } else {
        Cow::Owned(mapped.nfc().collect::<String>())
    }
}

/// RFC 8265 §4.2.2 rule 2: "Any instances of non-ASCII space MUST be mapped to ASCII space
/// (U+0020)"; non-ASCII space is any code point of general category Zs other than U+0020.
fn is_non_ascii_space(c: char) -> bool {
    matches!(
        c,
        '\u{00A0}' | '\u{1680}' | '\u{2000}'..='\u{200A}' | '\u{202F}' | '\u{205F}' | '\u{3000}'
    )
}

/// The FreeformClass's disallowed code points that need no Unicode tables (RFC 8264 §9).
fn is_disallowed(c: char) -> bool {
    let cp = u32::from(c);
    // §9.8 Controls (general category Cc).
    c.is_control()
        // §9.7 PrecisIgnorableProperties: Default_Ignorable_Code_Point or Noncharacter_Code_Point.
        || is_default_ignorable(cp)
        || (0xFDD0..=0xFDEF).contains(&cp)
        || cp & 0xFFFE == 0xFFFE
        // §9.5 JoinControl (ZWNJ, ZWJ) is CONTEXTJ; without its context rules, refused.
        || cp == 0x200C
        || cp == 0x200D
        // §9.6 OldHangulJamo: Hangul_Syllable_Type L, V or T.
        || (0x1100..=0x11FF).contains(&cp)
        || (0xA960..=0xA97F).contains(&cp)
        || (0xD7B0..=0xD7FF).contains(&cp)
        // No rule of §4.3 admits private use (Co) or Zl/Zp, so they are DISALLOWED (§8 rule 15).
        || (0xE000..=0xF8FF).contains(&cp)
        || cp >= 0xF_0000
        || cp == 0x2028
        || cp == 0x2029
}

/// Unicode's Default_Ignorable_Code_Point property (DerivedCoreProperties.txt).
fn is_default_ignorable(cp: u32) -> bool {
    const RANGES: [(u32, u32); 17] = [
        (0x00AD, 0x00AD),
        (0x034F, 0x034F),
        (0x061C, 0x061C),
        (0x115F, 0x1160),
        (0x17B4, 0x17B5),
        (0x180B, 0x180F),
        (0x200B, 0x200F),
        (0x202A, 0x202E),
        (0x2060, 0x206F),
        (0x3164, 0x3164),
        (0xFE00, 0xFE0F),
        (0xFEFF, 0xFEFF),
        (0xFFA0, 0xFFA0),
        (0xFFF0, 0xFFF8),
        (0x1BCA0, 0x1BCA3),
        (0x1D173, 0x1D17A),
        (0xE0000, 0xE0FFF),
    ];
    RANGES.iter().any(|(lo, hi)| (*lo..=*hi).contains(&cp))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_and_nfc_strings_pass_unchanged_and_borrowed() {
        for s in [
            "TheMatrIX",
            "example.org",
            "\u{30DE}\u{30C8}\u{30EA}\u{30C3}\u{30AF}\u{30B9}",
        ] {
            assert!(
                matches!(opaque_string(s), Ok(Cow::Borrowed(b)) if b == s),
                "{s}"
            );
        }
    }

    #[test]
    fn non_ascii_spaces_become_ascii_space() {
        let input = "pass\u{00A0}word\u{3000}with\u{2009}spaces";
        assert_eq!(opaque_string(input).unwrap(), "pass word with spaces");
    }

    #[test]
    fn strings_are_normalised_to_nfc() {
        // "e" + COMBINING ACUTE ACCENT composes to U+00E9; ANGSTROM SIGN maps to U+00C5.
        assert_eq!(opaque_string("caf\u{0065}\u{0301}").unwrap(), "caf\u{00E9}");
        assert_eq!(opaque_string("\u{212B}").unwrap(), "\u{00C5}");
        // NFC, not NFKC: compatibility characters (full width, ligatures, roman numerals) stay.
        for s in ["\u{FF21}", "\u{FB01}", "\u{2168}", "\u{00AA}"] {
            assert_eq!(opaque_string(s).unwrap(), s);
        }
    }

    #[test]
    fn empty_and_disallowed_strings_are_refused() {
        assert_eq!(opaque_string(""), Err(OpaqueStringError::Empty));
        for (input, ch, offset) in [
            ("a\u{0000}b", '\u{0000}', 1),
            ("tab\there", '\t', 3),
            ("x\u{007F}", '\u{007F}', 1),
            ("soft\u{00AD}hyphen", '\u{00AD}', 4),
            ("zw\u{200B}sp", '\u{200B}', 2),
            ("j\u{200D}", '\u{200D}', 1),
            ("\u{FEFF}bom", '\u{FEFF}', 0),
            ("nc\u{FFFF}", '\u{FFFF}', 2),
            ("nc\u{FDD0}", '\u{FDD0}', 2),
            ("pua\u{E000}", '\u{E000}', 3),
            ("line\u{2028}", '\u{2028}', 4),
            ("\u{1100}", '\u{1100}', 0),
            ("tag\u{E0041}", '\u{E0041}', 3),
        ] {
            assert_eq!(
                opaque_string(input),
                Err(OpaqueStringError::Disallowed { ch, offset }),
                "{input:?}"
            );
        }
        assert!(
            opaque_string("\u{0007}")
                .unwrap_err()
                .to_string()
                .contains("U+0007")
        );
    }

    #[test]
    fn mapping_never_fails_and_agrees_with_the_profile() {
        assert_eq!(map_and_normalize("a\u{00A0}e\u{0301}"), "a \u{00E9}");
        assert_eq!(map_and_normalize(""), "");
        assert_eq!(map_and_normalize("a\u{0000}"), "a\u{0000}");
    }
}

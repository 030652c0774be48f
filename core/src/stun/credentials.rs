//! Credential mechanisms (RFC 8489 §9): short-term and long-term keys, PASSWORD-ALGORITHM
//! code points, USERHASH and the nonce cookie that carries the server's security features.
//!
//! Usernames, realms and passwords go through the OpaqueString profile of RFC 8265 first
//! ([`opaque_string`]): the `try_` functions refuse a string the profile refuses; the others
//! apply its mapping and normalisation and cannot fail (see [`long_term_key`]).

use core::fmt;

use md5::Md5;
use sha2::{Digest, Sha256};

use super::opaque_string::{OpaqueStringError, map_and_normalize, opaque_string};

/// The algorithm that turns a long-term password into a key (RFC 8489 §14.12, §18.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PasswordAlgorithm {
    /// 0x0001: MD5(username ":" realm ":" password), 16 bytes.
    Md5,
    /// 0x0002: SHA-256(username ":" realm ":" password), 32 bytes.
    Sha256,
    /// Any other code point (kept so it round-trips).
    Unknown(u16),
}

impl PasswordAlgorithm {
    /// The algorithm for a wire code point.
    pub fn from_u16(value: u16) -> Self {
        match value {
            0x0001 => Self::Md5,
            0x0002 => Self::Sha256,
            other => Self::Unknown(other),
        }
    }

    /// The wire code point.
    pub fn to_u16(self) -> u16 {
        match self {
            Self::Md5 => 0x0001,
            Self::Sha256 => 0x0002,
            Self::Unknown(v) => v,
        }
    }

    /// Whether [`long_term_key`] can derive a key with it.
    pub fn is_supported(self) -> bool {
        !matches!(self, Self::Unknown(_))
    }
}

/// RFC 8489 §9.2.2: the long-term key, `H(username ":" OpaqueString(realm) ":"
/// OpaqueString(password))` with H = MD5 or SHA-256, the username having gone through
/// OpaqueString too (§14.3).
///
/// Fails when one of the three is not a valid OpaqueString (empty, or holding a disallowed
/// code point). An [`Unknown`](PasswordAlgorithm::Unknown) algorithm has no key: the result is
/// empty; check [`PasswordAlgorithm::is_supported`] before trusting a MAC made with it.
pub fn try_long_term_key(
    alg: PasswordAlgorithm,
    username: &str,
    realm: &str,
    password: &str,
) -> Result<Vec<u8>, OpaqueStringError> {
    let (username, realm, password) = (
        opaque_string(username)?,
        opaque_string(realm)?,
        opaque_string(password)?,
    );
    Ok(hash_key(alg, &username, &realm, &password))
}

/// [`try_long_term_key`] for callers that cannot refuse (a configured account): the three
/// strings get the OpaqueString mapping (non-ASCII spaces to U+0020) and NFC, but a string the
/// profile would refuse is hashed as mapped rather than rejected. For every valid input the
/// key is the same as `try_long_term_key`'s.
pub fn long_term_key(
    alg: PasswordAlgorithm,
    username: &str,
    realm: &str,
    password: &str,
) -> Vec<u8> {
    hash_key(
        alg,
        &map_and_normalize(username),
        &map_and_normalize(realm),
        &map_and_normalize(password),
    )
}

fn hash_key(alg: PasswordAlgorithm, username: &str, realm: &str, password: &str) -> Vec<u8> {
    fn hash<D: Digest>(username: &str, realm: &str, password: &str) -> Vec<u8> {
        let mut h = D::new();
        for part in [username, ":", realm, ":", password] {
            h.update(part.as_bytes());
        }
        h.finalize().to_vec()
    }
    match alg {
        PasswordAlgorithm::Md5 => hash::<Md5>(username, realm, password),
        PasswordAlgorithm::Sha256 => hash::<Sha256>(username, realm, password),
        PasswordAlgorithm::Unknown(_) => Vec::new(),
    }
}

/// RFC 8489 §9.1.1: the short-term key is `OpaqueString(password)` itself (mapped and
/// normalised as in [`long_term_key`]).
pub fn short_term_key(password: &str) -> Vec<u8> {
    map_and_normalize(password).as_bytes().to_vec()
}

/// RFC 8489 §14.4: `USERHASH = SHA-256(OpaqueString(username) ":" OpaqueString(realm))`;
/// fails when either is not a valid OpaqueString.
pub fn try_userhash(username: &str, realm: &str) -> Result<[u8; 32], OpaqueStringError> {
    Ok(hash_userhash(
        &opaque_string(username)?,
        &opaque_string(realm)?,
    ))
}

/// [`try_userhash`] that cannot fail, with the mapping and normalisation only (see
/// [`long_term_key`]).
pub fn userhash(username: &str, realm: &str) -> [u8; 32] {
    hash_userhash(&map_and_normalize(username), &map_and_normalize(realm))
}

fn hash_userhash(username: &str, realm: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    for part in [username, ":", realm] {
        h.update(part.as_bytes());
    }
    let mut out = [0; 32];
    out.copy_from_slice(&h.finalize());
    out
}

/// The 24 security feature bits a server announces in its nonce cookie (RFC 8489 §9.2,
/// registry in §18.1).
///
/// Bit n is `1 << n`, counted from the least significant bit, as RFC 8489 erratum 6290
/// corrects the figure (its Appendix B.1 nonce `obMatJos2AAAC...` therefore sets bit 1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SecurityFeatures(pub u32);

impl SecurityFeatures {
    /// Bit 0: the server supports PASSWORD-ALGORITHMS negotiation (RFC 8489 §9.2.4).
    pub const PASSWORD_ALGORITHMS: Self = Self(1 << 0);
    /// Bit 1: the server accepts USERHASH in place of USERNAME (RFC 8489 §9.2.4).
    pub const USERNAME_ANONYMITY: Self = Self(1 << 1);

    /// Whether every bit of `other` is set.
    pub fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }
}

impl core::ops::BitOr for SecurityFeatures {
    type Output = Self;
    fn bitor(self, rhs: Self) -> Self {
        Self(self.0 | rhs.0)
    }
}

/// The nonce cookie of RFC 8489 §9.2: a NONCE that starts with `"obMatJos2"` followed by
/// four base64 characters encoding the [`SecurityFeatures`] tells the client that the server
/// speaks RFC 8489 (and protects the announced features against a bid-down attack).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NonceCookie {
    /// The announced features.
    pub features: SecurityFeatures,
}

const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

impl NonceCookie {
    /// RFC 8489 §9.2: the fixed prefix of a nonce cookie.
    pub const PREFIX: &'static str = "obMatJos2";
    /// Length of prefix plus encoded features.
    pub const LEN: usize = 13;

    /// A cookie announcing `features` (only the low 24 bits are carried).
    pub fn new(features: SecurityFeatures) -> Self {
        Self { features }
    }

    /// The 13-character cookie.
    pub fn encode(&self) -> String {
        let bits = self.features.0 & 0x00FF_FFFF;
        let mut out = String::with_capacity(Self::LEN);
        out.push_str(Self::PREFIX);
        for shift in [18, 12, 6, 0] {
            out.push(BASE64[((bits >> shift) & 0x3F) as usize] as char);
        }
        out
    }

    /// A whole NONCE value: the cookie followed by the server's opaque part.
    pub fn nonce(&self, opaque: &str) -> String {
        let mut out = self.encode();
        out.push_str(opaque);
        out
    }

    /// The cookie at the start of `nonce`, if it has one.
    pub fn parse(nonce: &str) -> Option<Self> {
        let rest = nonce.strip_prefix(Self::PREFIX)?;
        let mut bits = 0u32;
        for &c in rest.as_bytes().get(..4)? {
            let digit = BASE64.iter().position(|&b| b == c)?;
            bits = (bits << 6) | digit as u32;
        }
        Some(Self::new(SecurityFeatures(bits)))
    }
}

/// What a client authenticates with (RFC 8489 §9).
#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    /// RFC 8489 §9.1: a username and password exchanged out of band (ICE uses these); the
    /// key is the password.
    ShortTerm {
        /// USERNAME to send.
        username: String,
        /// Password (the key, after OpaqueString).
        password: String,
    },
    /// RFC 8489 §9.2: the server challenges with REALM and NONCE; the key is derived from
    /// username, realm and password.
    LongTerm {
        /// USERNAME to send.
        username: String,
        /// Password the key is derived from.
        password: String,
    },
}

impl Credentials {
    /// The username.
    pub fn username(&self) -> &str {
        match self {
            Self::ShortTerm { username, .. } | Self::LongTerm { username, .. } => username,
        }
    }

    /// The MESSAGE-INTEGRITY key: the password for short-term credentials, the
    /// [`long_term_key`] over `realm` for long-term ones.
    pub fn key(&self, alg: PasswordAlgorithm, realm: &str) -> Vec<u8> {
        match self {
            Self::ShortTerm { password, .. } => short_term_key(password),
            Self::LongTerm { username, password } => long_term_key(alg, username, realm, password),
        }
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self {
            Self::ShortTerm { .. } => "ShortTerm",
            Self::LongTerm { .. } => "LongTerm",
        };
        f.debug_struct(kind)
            .field("username", &self.username())
            .field("password", &"<redacted>")
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn rfc5769_long_term_key() {
        // RFC 5769 §2.4: the username is six katakana characters, the password "TheMatrIX"
        // after SASLprep. The key is checked end to end against the sample's
        // MESSAGE-INTEGRITY in message.rs; here its value is pinned.
        let user = "\u{30DE}\u{30C8}\u{30EA}\u{30C3}\u{30AF}\u{30B9}";
        let key = long_term_key(PasswordAlgorithm::Md5, user, "example.org", "TheMatrIX");
        assert_eq!(key.len(), 16);
        let mut h = Md5::new();
        h.update(format!("{user}:example.org:TheMatrIX").as_bytes());
        assert_eq!(key, h.finalize().to_vec());
        let sha = long_term_key(PasswordAlgorithm::Sha256, "user", "realm", "pass");
        assert_eq!(sha, Sha256::digest(b"user:realm:pass").to_vec());
        assert!(long_term_key(PasswordAlgorithm::Unknown(9), "u", "r", "p").is_empty());
    }

    #[test]
    fn rfc5769_vector_through_opaque_string() {
        // The sample's strings are valid OpaqueStrings, so the checked path gives the same key.
        let user = "\u{30DE}\u{30C8}\u{30EA}\u{30C3}\u{30AF}\u{30B9}";
        let key = try_long_term_key(PasswordAlgorithm::Md5, user, "example.org", "TheMatrIX");
        assert_eq!(
            key.as_deref(),
            Ok(&long_term_key(PasswordAlgorithm::Md5, user, "example.org", "TheMatrIX")[..])
        );
        // RFC 5769 predates RFC 8265: its password before SASLprep holds a SOFT HYPHEN, which
        // SASLprep deleted and OpaqueString refuses (a default-ignorable code point).
        let raw = "The\u{00AD}M\u{00AA}tr\u{2168}";
        assert_eq!(
            try_long_term_key(PasswordAlgorithm::Md5, user, "example.org", raw),
            Err(OpaqueStringError::Disallowed {
                ch: '\u{00AD}',
                offset: 3
            })
        );
    }

    #[test]
    fn keys_hash_the_mapped_and_normalised_strings() {
        // A NO-BREAK SPACE and an IDEOGRAPHIC SPACE become U+0020; "e" + COMBINING ACUTE
        // ACCENT becomes U+00E9.
        let prepared = Md5::digest("Jos\u{00E9}:my realm:pass word".as_bytes()).to_vec();
        for key in [
            try_long_term_key(
                PasswordAlgorithm::Md5,
                "Jose\u{0301}",
                "my\u{00A0}realm",
                "pass\u{3000}word",
            )
            .unwrap(),
            long_term_key(
                PasswordAlgorithm::Md5,
                "Jose\u{0301}",
                "my\u{00A0}realm",
                "pass\u{3000}word",
            ),
        ] {
            assert_eq!(key, prepared);
        }
        let hash: [u8; 32] = Sha256::digest("Jos\u{00E9}:my realm".as_bytes()).into();
        assert_eq!(try_userhash("Jose\u{0301}", "my\u{2003}realm"), Ok(hash));
        assert_eq!(userhash("Jose\u{0301}", "my\u{2003}realm"), hash);
        assert_eq!(
            short_term_key("caf\u{0065}\u{0301}"),
            "caf\u{00E9}".as_bytes()
        );
    }

    #[test]
    fn invalid_opaque_strings_have_no_checked_key() {
        let md5 = PasswordAlgorithm::Md5;
        assert_eq!(
            try_long_term_key(md5, "", "realm", "pass"),
            Err(OpaqueStringError::Empty)
        );
        assert_eq!(
            try_long_term_key(md5, "user", "realm", "pa\u{0000}ss"),
            Err(OpaqueStringError::Disallowed {
                ch: '\u{0000}',
                offset: 2
            })
        );
        assert_eq!(try_userhash("user", ""), Err(OpaqueStringError::Empty));
        assert!(try_userhash("user", "re\u{200B}alm").is_err());
    }

    #[test]
    fn md5_and_userhash_values() {
        // MD5("user:realm:pass") and SHA-256("user:example.org"), computed independently.
        assert_eq!(
            hex(&long_term_key(
                PasswordAlgorithm::Md5,
                "user",
                "realm",
                "pass"
            )),
            "8493fbc53ba582fb4c044c456bdc40eb"
        );
        assert_eq!(
            hex(&userhash("user", "example.org")),
            "cf9fa894dfc9b7680968aec1efb3a6b8b2a1cac25c0461cab3b0c2f87c25eeaf"
        );
        assert_eq!(
            short_term_key("VOkJxbRl1RmTxUk/WvJxBt"),
            b"VOkJxbRl1RmTxUk/WvJxBt"
        );
    }

    #[test]
    fn password_algorithm_code_points() {
        for v in 0..8 {
            assert_eq!(PasswordAlgorithm::from_u16(v).to_u16(), v);
        }
        assert_eq!(PasswordAlgorithm::from_u16(2), PasswordAlgorithm::Sha256);
        assert!(!PasswordAlgorithm::Unknown(0).is_supported());
    }

    #[test]
    fn nonce_cookie() {
        let both = SecurityFeatures::PASSWORD_ALGORITHMS | SecurityFeatures::USERNAME_ANONYMITY;
        assert_eq!(NonceCookie::new(both).encode(), "obMatJos2AAAD");
        let anonymity = NonceCookie::parse("obMatJos2AAACf//499k954d6OL34oL9FSTvy64sA").unwrap();
        assert_eq!(anonymity.features, SecurityFeatures::USERNAME_ANONYMITY);
        let cookie = NonceCookie::new(SecurityFeatures(0xABCDEF));
        let nonce = cookie.nonce("xyz");
        assert!(nonce.ends_with("xyz"));
        assert_eq!(NonceCookie::parse(&nonce), Some(cookie));
        assert!(both.contains(SecurityFeatures::PASSWORD_ALGORITHMS));
        assert!(!SecurityFeatures::default().contains(SecurityFeatures::USERNAME_ANONYMITY));
        for bad in [
            "",
            "obMatJos2",
            "obMatJos2AA",
            "obMatJos2AA=A",
            "obMatJos3AAAA",
            "f//4",
        ] {
            assert_eq!(NonceCookie::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn credentials() {
        let st = Credentials::ShortTerm {
            username: "a:b".into(),
            password: "secret".into(),
        };
        assert_eq!(st.username(), "a:b");
        assert_eq!(st.key(PasswordAlgorithm::Sha256, "ignored"), b"secret");
        assert!(!format!("{st:?}").contains("secret"));
        let lt = Credentials::LongTerm {
            username: "user".into(),
            password: "pass".into(),
        };
        assert_eq!(
            lt.key(PasswordAlgorithm::Md5, "realm"),
            long_term_key(PasswordAlgorithm::Md5, "user", "realm", "pass")
        );
    }
}

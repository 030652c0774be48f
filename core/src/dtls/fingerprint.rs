//! Certificate fingerprints in SDP form (RFC 8122 §5) and the peer certificate's public key.

use core::fmt;

use p256::ecdsa::{DerSignature, VerifyingKey, signature::Verifier};
use sha2::{Digest, Sha256};

/// A SHA-256 certificate fingerprint.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint(pub [u8; 32]);

impl Fingerprint {
    /// The fingerprint of a DER certificate.
    pub fn of(der: &[u8]) -> Fingerprint {
        Fingerprint(Sha256::digest(der).into())
    }

    /// Parses the SDP form `sha-256 AB:CD:...` (RFC 8122 §5; the hash name is compared
    /// without regard to case, as RFC 4572 §5 says).
    pub fn parse(text: &str) -> Option<Fingerprint> {
        let (hash, hex) = text.trim().split_once(' ')?;
        if !hash.eq_ignore_ascii_case("sha-256") {
            return None;
        }
        let mut out = [0u8; 32];
        let mut parts = hex.trim().split(':');
        for byte in &mut out {
            let part = parts.next()?;
            if part.len() != 2 {
                return None;
            }
            *byte = u8::from_str_radix(part, 16).ok()?;
        }
        parts.next().is_none().then_some(Fingerprint(out))
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("sha-256 ")?;
        for (i, b) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(":")?;
            }
            write!(f, "{b:02X}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// The ECDSA P-256 key of the peer's certificate, used to check its ServerKeyExchange or
/// CertificateVerify signature.
#[derive(Debug, Clone)]
pub struct PeerPublicKey(VerifyingKey);

impl PeerPublicKey {
    /// Extracts the key from a DER certificate; `None` if it does not parse or is not an
    /// id-ecPublicKey on secp256r1 (the only kind pigeon's suites allow).
    pub fn from_certificate(der: &[u8]) -> Option<PeerPublicKey> {
        let (rest, cert) = x509_parser::parse_x509_certificate(der).ok()?;
        if !rest.is_empty() {
            return None;
        }
        let spki = cert.public_key();
        if spki.algorithm.algorithm != x509_parser::oid_registry::OID_KEY_TYPE_EC_PUBLIC_KEY {
            return None;
        }
        let curve = spki.algorithm.parameters.as_ref()?.as_oid().ok()?;
        if curve != x509_parser::oid_registry::OID_EC_P256 {
            return None;
        }
        VerifyingKey::from_sec1_bytes(&spki.subject_public_key.data)
            .ok()
            .map(PeerPublicKey)
    }

    /// Verifies a DER ECDSA signature over `message` with SHA-256.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        let Ok(signature) = DerSignature::try_from(signature) else {
            return false;
        };
        self.0.verify(message, &signature).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sdp_form_round_trip() {
        let fp = Fingerprint::of(b"certificate");
        let text = fp.to_string();
        assert!(text.starts_with("sha-256 "));
        assert_eq!(text.len(), 8 + 32 * 3 - 1);
        assert_eq!(Fingerprint::parse(&text), Some(fp));
        assert_eq!(Fingerprint::parse(&text.to_lowercase()), Some(fp));
        assert_eq!(Fingerprint::parse(&text.replace("sha-256", "sha-1")), None);
        assert_eq!(Fingerprint::parse(&text[..text.len() - 3]), None);
        assert_eq!(Fingerprint::parse(&format!("{text}:00")), None);
    }

    #[test]
    fn garbage_certificate_has_no_key() {
        assert!(PeerPublicKey::from_certificate(&[0x30, 0x03, 1, 2, 3]).is_none());
        assert!(PeerPublicKey::from_certificate(&[]).is_none());
    }
}

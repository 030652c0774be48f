//! A self-signed ECDSA P-256 certificate for WebRTC (RFC 8827 §6.5: endpoints authenticate
//! by the certificate fingerprint carried in SDP, so no CA is involved), written by a
//! minimal DER writer (X.690 §8, RFC 5280 §4.1).

use p256::ecdsa::{DerSignature, SigningKey, signature::Signer};
use p256::elliptic_curve::Generate;

use crate::dtls::fingerprint::Fingerprint;

/// DER tag numbers used below (X.690 §8).
const INTEGER: u8 = 0x02;
const BIT_STRING: u8 = 0x03;
const OID: u8 = 0x06;
const UTF8_STRING: u8 = 0x0c;
const UTC_TIME: u8 = 0x17;
const SEQUENCE: u8 = 0x30;
const SET: u8 = 0x31;
const CONTEXT_0: u8 = 0xa0;

/// ecdsa-with-SHA256, 1.2.840.10045.4.3.2 (RFC 5758 §3.2), content octets.
const OID_ECDSA_WITH_SHA256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
/// id-ecPublicKey, 1.2.840.10045.2.1 (RFC 5480 §2.1.1).
const OID_EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
/// secp256r1, 1.2.840.10045.3.1.7 (RFC 5480 §2.1.1.1).
const OID_SECP256R1: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
/// id-at-commonName, 2.5.4.3.
const OID_COMMON_NAME: &[u8] = &[0x55, 0x04, 0x03];

/// Appends a DER TLV (definite length, X.690 §8.1.3).
fn tlv(out: &mut Vec<u8>, tag: u8, content: &[u8]) {
    out.push(tag);
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
}

fn wrap(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 4);
    tlv(&mut out, tag, content);
    out
}

fn sequence(parts: &[&[u8]]) -> Vec<u8> {
    wrap(SEQUENCE, &parts.concat())
}

/// A positive INTEGER from big-endian magnitude bytes (X.690 §8.3: minimal, with a leading
/// zero when the top bit is set).
fn positive_integer(magnitude: &[u8]) -> Vec<u8> {
    let skip = magnitude
        .iter()
        .take_while(|b| **b == 0)
        .count()
        .min(magnitude.len().saturating_sub(1));
    let mut content = Vec::with_capacity(magnitude.len() + 1);
    if magnitude.get(skip).is_some_and(|b| b & 0x80 != 0) {
        content.push(0);
    }
    content.extend_from_slice(&magnitude[skip..]);
    wrap(INTEGER, &content)
}

fn name(common_name: &str) -> Vec<u8> {
    let attribute = sequence(&[
        &wrap(OID, OID_COMMON_NAME),
        &wrap(UTF8_STRING, common_name.as_bytes()),
    ]);
    sequence(&[&wrap(SET, &attribute)])
}

/// A local certificate: DER bytes and the private key that signs handshakes.
#[derive(Clone)]
pub struct DtlsCertificate {
    der: Vec<u8>,
    key: SigningKey,
}

impl core::fmt::Debug for DtlsCertificate {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "DtlsCertificate({})", self.fingerprint())
    }
}

impl DtlsCertificate {
    /// Generates a key pair and a self-signed certificate with subject and issuer
    /// `CN=<common_name>`, valid from 2025-01-01 to 2049-12-31 (fixed: `core` reads no clock,
    /// and WebRTC peers do not check validity, RFC 8827 §6.5).
    pub fn generate(rng: &mut crate::Rng, common_name: &str) -> DtlsCertificate {
        let key = SigningKey::generate_from_rng(&mut **rng);
        let mut serial = [0u8; 16];
        rng.fill_bytes(&mut serial);
        serial[0] &= 0x7f;
        let point = key.verifying_key().to_sec1_bytes();
        let algorithm = sequence(&[&wrap(OID, OID_ECDSA_WITH_SHA256)]);
        let mut key_bits = vec![0u8]; // no unused bits (X.690 §8.6.2.2)
        key_bits.extend_from_slice(&point);
        let spki = sequence(&[
            &sequence(&[&wrap(OID, OID_EC_PUBLIC_KEY), &wrap(OID, OID_SECP256R1)]),
            &wrap(BIT_STRING, &key_bits),
        ]);
        let validity = sequence(&[
            &wrap(UTC_TIME, b"250101000000Z"),
            &wrap(UTC_TIME, b"491231235959Z"),
        ]);
        let subject = name(common_name);
        let tbs = sequence(&[
            // RFC 5280 §4.1.2.1: version v3 = 2, explicitly tagged [0].
            &wrap(CONTEXT_0, &wrap(INTEGER, &[2])),
            &positive_integer(&serial),
            &algorithm,
            &subject,
            &validity,
            &subject,
            &spki,
        ]);
        let signature: DerSignature = key.sign(&tbs);
        let mut sig_bits = vec![0u8];
        sig_bits.extend_from_slice(signature.as_bytes());
        let der = sequence(&[&tbs, &algorithm, &wrap(BIT_STRING, &sig_bits)]);
        DtlsCertificate { der, key }
    }

    /// The DER encoding sent in the Certificate message.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The SHA-256 fingerprint to put in SDP (`a=fingerprint:sha-256 ...`, RFC 8122 §5).
    pub fn fingerprint(&self) -> Fingerprint {
        Fingerprint::of(&self.der)
    }

    /// Signs `message` with ECDSA P-256 / SHA-256, DER-encoded (RFC 8422 §5.4).
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        let signature: DerSignature = self.key.sign(message);
        signature.as_bytes().to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dtls::fingerprint::PeerPublicKey;
    use rand_core::SeedableRng;

    #[test]
    fn der_lengths() {
        assert_eq!(wrap(OID, &[1; 3]), [6, 3, 1, 1, 1]);
        assert_eq!(&wrap(SEQUENCE, &[0; 200])[..3], [0x30, 0x81, 200]);
        assert_eq!(&wrap(SEQUENCE, &[0; 300])[..4], [0x30, 0x82, 1, 44]);
        assert_eq!(positive_integer(&[0, 0, 5]), [2, 1, 5]);
        assert_eq!(positive_integer(&[0x80]), [2, 2, 0, 0x80]);
        assert_eq!(positive_integer(&[0]), [2, 1, 0]);
    }

    #[test]
    fn generated_certificate_parses_and_verifies() {
        let mut rng: crate::Rng = Box::new(rand_chacha::ChaCha20Rng::seed_from_u64(1));
        let cert = DtlsCertificate::generate(&mut rng, "pigeon");
        let (_, parsed) = x509_parser::parse_x509_certificate(cert.der()).unwrap();
        assert_eq!(parsed.version(), x509_parser::x509::X509Version::V3);
        assert_eq!(parsed.subject().to_string(), "CN=pigeon");
        let key = PeerPublicKey::from_certificate(cert.der()).unwrap();
        // The self-signature checks out with the embedded key.
        assert!(key.verify(
            parsed.tbs_certificate.as_ref(),
            &parsed.signature_value.data
        ));
        let sig = cert.sign(b"hello");
        assert!(key.verify(b"hello", &sig));
        assert!(!key.verify(b"hellO", &sig));
        // Deterministic from the seed.
        let mut again: crate::Rng = Box::new(rand_chacha::ChaCha20Rng::seed_from_u64(1));
        assert_eq!(
            DtlsCertificate::generate(&mut again, "pigeon").der(),
            cert.der()
        );
    }
}

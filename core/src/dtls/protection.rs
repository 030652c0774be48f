//! AEAD record protection (RFC 5246 §6.2.3.3 as RFC 6347 §4.1.2.1 adapts it): nonces from the
//! implicit IV and the epoch + sequence number, additional data over the record header.

use aes_gcm::aead::inout::InOutBuf;
use aes_gcm::aead::{AeadInOut, KeyInit};
use chacha20poly1305::ChaCha20Poly1305;

use crate::dtls::record::{ContentType, DTLS_1_2, MAX_SEQUENCE, RECORD_HEADER_LEN, RecordHeader};
use crate::dtls::suite::CipherSuite;
use crate::gcm::{Aes128Gcm, Aes256Gcm};

/// Length of every AEAD tag used here.
pub const TAG_LEN: usize = 16;

enum Cipher {
    Aes128Gcm(Box<Aes128Gcm>),
    Aes256Gcm(Box<Aes256Gcm>),
    Chacha(Box<ChaCha20Poly1305>),
}

/// A record failed authentication or was too short to carry a nonce and a tag. Such records
/// are silently discarded (RFC 6347 §4.1.2.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenError;

impl core::fmt::Display for OpenError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("record failed authentication")
    }
}

impl core::error::Error for OpenError {}

/// One direction's AEAD key and implicit IV.
pub struct RecordProtection {
    suite: CipherSuite,
    cipher: Cipher,
    /// 4-byte GCM salt (RFC 5288 §3) or 12-byte ChaCha20-Poly1305 IV (RFC 7905 §2).
    fixed_iv: [u8; 12],
}

impl core::fmt::Debug for RecordProtection {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "RecordProtection({:?})", self.suite)
    }
}

impl RecordProtection {
    /// Protection with `key` and implicit `iv` (lengths as [`CipherSuite::key_len`] and
    /// [`CipherSuite::fixed_iv_len`]); `None` if the lengths are wrong.
    pub fn new(suite: CipherSuite, key: &[u8], iv: &[u8]) -> Option<RecordProtection> {
        if key.len() != suite.key_len() || iv.len() != suite.fixed_iv_len() {
            return None;
        }
        let cipher = match suite {
            CipherSuite::EcdheEcdsaAes128GcmSha256 => {
                Cipher::Aes128Gcm(Box::new(Aes128Gcm::new_from_slice(key).ok()?))
            }
            CipherSuite::EcdheEcdsaAes256GcmSha384 => {
                Cipher::Aes256Gcm(Box::new(Aes256Gcm::new_from_slice(key).ok()?))
            }
            CipherSuite::EcdheEcdsaChacha20Poly1305Sha256 => {
                Cipher::Chacha(Box::new(ChaCha20Poly1305::new_from_slice(key).ok()?))
            }
        };
        let mut fixed_iv = [0u8; 12];
        fixed_iv[..iv.len()].copy_from_slice(iv);
        Some(RecordProtection {
            suite,
            cipher,
            fixed_iv,
        })
    }

    /// The suite this protection belongs to.
    pub fn suite(&self) -> CipherSuite {
        self.suite
    }

    fn nonce(&self, epoch_seq: u64, explicit: Option<&[u8]>) -> [u8; 12] {
        let mut nonce = self.fixed_iv;
        match self.suite {
            CipherSuite::EcdheEcdsaChacha20Poly1305Sha256 => {
                // RFC 7905 §2: the 64-bit sequence number (epoch included in DTLS), padded on
                // the left to 12 bytes, XORed with client/server_write_IV.
                for (n, s) in nonce[4..].iter_mut().zip(epoch_seq.to_be_bytes()) {
                    *n ^= s;
                }
            }
            _ => {
                // RFC 5288 §3: nonce = salt (4 bytes) || nonce_explicit (8 bytes). The
                // sender uses its epoch + sequence number as the explicit part, which is never
                // repeated under one key (RFC 5288 §3 recommends the sequence number).
                match explicit {
                    Some(explicit) => nonce[4..].copy_from_slice(explicit),
                    None => nonce[4..].copy_from_slice(&epoch_seq.to_be_bytes()),
                }
            }
        }
        nonce
    }

    /// RFC 5246 §6.2.3.3: additional_data = seq_num + TLSCompressed.type +
    /// TLSCompressed.version + TLSCompressed.length, with seq_num = epoch + sequence number in
    /// DTLS (RFC 6347 §4.1.2.1). The length is the plaintext length.
    fn additional_data(header: &RecordHeader, plaintext_len: usize) -> [u8; 13] {
        let mut aad = [0u8; 13];
        aad[..8].copy_from_slice(&header.epoch_seq().to_be_bytes());
        aad[8] = header.content_type.0;
        aad[9..11].copy_from_slice(&header.version.to_be_bytes());
        // Callers bound plaintexts by the record length (u16), so the saturation never bites.
        let len = u16::try_from(plaintext_len).unwrap_or(u16::MAX);
        aad[11..].copy_from_slice(&len.to_be_bytes());
        aad
    }

    /// Appends a protected record holding `plaintext` to `out`: header, explicit nonce,
    /// ciphertext, tag. Returns `false` (and appends nothing) if the plaintext is too long
    /// for one record.
    pub fn seal(
        &self,
        content_type: ContentType,
        epoch: u16,
        sequence_number: u64,
        plaintext: &[u8],
        out: &mut Vec<u8>,
    ) -> bool {
        let start = out.len();
        out.resize(start + self.sealed_len(plaintext.len()), 0);
        match self.seal_to(
            content_type,
            epoch,
            sequence_number,
            plaintext,
            &mut out[start..],
        ) {
            Some(_) => true,
            None => {
                out.truncate(start);
                false
            }
        }
    }

    /// Length of the record [`seal_to`](Self::seal_to) writes for a plaintext of `len` bytes.
    pub fn sealed_len(&self, len: usize) -> usize {
        RECORD_HEADER_LEN + self.suite.record_overhead() + len
    }

    /// Writes a protected record holding `plaintext` to the start of `out`, encrypting from
    /// `plaintext` straight into `out` (no copy, no allocation); returns the record's length.
    /// `None` if `out` is shorter than [`sealed_len`](Self::sealed_len) or the plaintext is
    /// too long for one record.
    pub fn seal_to(
        &self,
        content_type: ContentType,
        epoch: u16,
        sequence_number: u64,
        plaintext: &[u8],
        out: &mut [u8],
    ) -> Option<usize> {
        let explicit_len = self.suite.explicit_nonce_len();
        let length = u16::try_from(explicit_len + plaintext.len() + TAG_LEN).ok()?;
        let total = RECORD_HEADER_LEN + usize::from(length);
        let out = out.get_mut(..total)?;
        let header = RecordHeader {
            content_type,
            version: DTLS_1_2,
            epoch,
            sequence_number: sequence_number & MAX_SEQUENCE,
            length,
        };
        let nonce = self.nonce(header.epoch_seq(), None);
        let aad = Self::additional_data(&header, plaintext.len());
        let (head, rest) = out.split_at_mut(RECORD_HEADER_LEN);
        head.copy_from_slice(&header.to_bytes());
        let (explicit, rest) = rest.split_at_mut(explicit_len);
        explicit.copy_from_slice(&nonce[12 - explicit_len..]);
        let (body, tag_out) = rest.split_at_mut(plaintext.len());
        let buffer = InOutBuf::new(plaintext, body).ok()?;
        let tag = match &self.cipher {
            Cipher::Aes128Gcm(c) => c
                .encrypt_inout_detached(&nonce.into(), &aad, buffer)
                .map(<[u8; 16]>::from),
            Cipher::Aes256Gcm(c) => c
                .encrypt_inout_detached(&nonce.into(), &aad, buffer)
                .map(<[u8; 16]>::from),
            Cipher::Chacha(c) => c
                .encrypt_inout_detached(&nonce.into(), &aad, buffer)
                .map(<[u8; 16]>::from),
        }
        .ok()?;
        tag_out.copy_from_slice(&tag);
        Some(total)
    }

    /// Authenticates and decrypts a record's `fragment` in place; returns the plaintext range
    /// inside `fragment`. The caller checks the replay window first and updates it only on
    /// success (RFC 6347 §4.1.2.6).
    pub fn open(
        &self,
        header: &RecordHeader,
        fragment: &mut [u8],
    ) -> Result<core::ops::Range<usize>, OpenError> {
        let explicit_len = self.suite.explicit_nonce_len();
        if fragment.len() < explicit_len + TAG_LEN {
            return Err(OpenError);
        }
        let plaintext_len = fragment.len() - explicit_len - TAG_LEN;
        let nonce = self.nonce(header.epoch_seq(), Some(&fragment[..explicit_len]));
        let aad = Self::additional_data(header, plaintext_len);
        let (body, tag) = fragment[explicit_len..].split_at_mut(plaintext_len);
        let mut tag_bytes = [0u8; TAG_LEN];
        tag_bytes.copy_from_slice(tag);
        // The crates compare tags in constant time.
        let result = match &self.cipher {
            Cipher::Aes128Gcm(c) => {
                c.decrypt_inout_detached(&nonce.into(), &aad, body.into(), &tag_bytes.into())
            }
            Cipher::Aes256Gcm(c) => {
                c.decrypt_inout_detached(&nonce.into(), &aad, body.into(), &tag_bytes.into())
            }
            Cipher::Chacha(c) => {
                c.decrypt_inout_detached(&nonce.into(), &aad, body.into(), &tag_bytes.into())
            }
        };
        result.map_err(|_| OpenError)?;
        Ok(explicit_len..explicit_len + plaintext_len)
    }
}

/// Bytes one protected record adds to its plaintext, header included.
pub fn sealed_overhead(suite: CipherSuite) -> usize {
    RECORD_HEADER_LEN + suite.record_overhead()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dtls::prf::tests::hex;
    use crate::dtls::record::records;

    fn pair(suite: CipherSuite) -> RecordProtection {
        let key: Vec<u8> = (0..suite.key_len() as u8).collect();
        let iv: Vec<u8> = (100..100 + suite.fixed_iv_len() as u8).collect();
        RecordProtection::new(suite, &key, &iv).unwrap()
    }

    #[test]
    fn seal_open_round_trip_every_suite() {
        for suite in CipherSuite::ALL {
            let p = pair(suite);
            let mut datagram = Vec::new();
            assert!(p.seal(ContentType::APPLICATION_DATA, 1, 5, b"hello", &mut datagram));
            assert!(p.seal(ContentType::ALERT, 1, 6, &[1, 0], &mut datagram));
            assert_eq!(
                datagram.len(),
                2 * sealed_overhead(suite) + 5 + 2,
                "{suite:?}"
            );
            let recs: Vec<_> = records(&datagram).map(|r| r.unwrap()).collect();
            assert_eq!(recs.len(), 2);
            let mut frag = recs[0].fragment.to_vec();
            let range = p.open(&recs[0].header, &mut frag).unwrap();
            assert_eq!(&frag[range], b"hello");
            let mut frag = recs[1].fragment.to_vec();
            let range = p.open(&recs[1].header, &mut frag).unwrap();
            assert_eq!(&frag[range], [1, 0]);
        }
    }

    #[test]
    fn tampering_is_detected() {
        for suite in CipherSuite::ALL {
            let p = pair(suite);
            let mut rec = Vec::new();
            assert!(p.seal(ContentType::APPLICATION_DATA, 1, 9, b"secret", &mut rec));
            let header = RecordHeader::parse(&rec).unwrap();
            for flip in RECORD_HEADER_LEN..rec.len() {
                let mut frag = rec[RECORD_HEADER_LEN..].to_vec();
                frag[flip - RECORD_HEADER_LEN] ^= 1;
                assert_eq!(p.open(&header, &mut frag), Err(OpenError), "{suite:?}");
            }
            // A different sequence number changes the additional data.
            let mut other = header;
            other.sequence_number = 10;
            let mut frag = rec[RECORD_HEADER_LEN..].to_vec();
            assert_eq!(p.open(&other, &mut frag), Err(OpenError));
            let mut short = [0u8; 3];
            assert_eq!(p.open(&header, &mut short), Err(OpenError));
        }
    }

    // Expected ciphertexts computed independently with Python's `cryptography` package
    // (AESGCM / ChaCha20Poly1305) from the RFC 5288 / RFC 7905 nonce rules and the RFC 5246
    // §6.2.3.3 additional data: seq 0001000000000002, type 23, version fefd, length 4.
    #[test]
    fn record_vectors_from_independent_aead() {
        let p = RecordProtection::new(
            CipherSuite::EcdheEcdsaAes128GcmSha256,
            &hex("000102030405060708090a0b0c0d0e0f"),
            &hex("a0a1a2a3"),
        )
        .unwrap();
        let mut rec = Vec::new();
        assert!(p.seal(ContentType::APPLICATION_DATA, 1, 2, b"ping", &mut rec));
        assert_eq!(
            rec,
            hex(
                "17fefd0001000000000002 001c 0001000000000002 61388ce822cd7ea88629b496a7ab4ad798489fa5"
            )
        );
        let key: Vec<u8> = (0u8..32).collect();
        let iv: Vec<u8> = (100u8..112).collect();
        let p = RecordProtection::new(CipherSuite::EcdheEcdsaChacha20Poly1305Sha256, &key, &iv)
            .unwrap();
        let mut rec = Vec::new();
        assert!(p.seal(ContentType::APPLICATION_DATA, 1, 2, b"ping", &mut rec));
        assert_eq!(
            rec,
            hex("17fefd0001000000000002 0014 17edbee2da678e146fd714bb60904bb2926d87fd")
        );
    }
}

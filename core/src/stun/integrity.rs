//! MESSAGE-INTEGRITY (HMAC-SHA1, RFC 8489 §14.5) and MESSAGE-INTEGRITY-SHA256 (RFC 8489
//! §14.6): computing them when building, verifying them in constant time when receiving.

use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::stun::{AttributeType, HEADER_LEN, IntegrityError, Message, MessageBuilder};

/// Length of a MESSAGE-INTEGRITY value.
pub const MESSAGE_INTEGRITY_LEN: usize = 20;

fn mac<M: Mac + KeyInit>(key: &[u8], header: &[u8], adjusted_len: usize, body: &[u8]) -> Vec<u8> {
    // NOTE(unwrap): HMAC accepts keys of any length.
    let mut mac = <M as KeyInit>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(&header[..2]);
    // RFC 8489 §14.5: the length field counts the message "up to and including the
    // MESSAGE-INTEGRITY attribute itself, but excluding any attributes after it".
    // NOTE(unwrap): callers derive `adjusted_len` from a message of at most 65535 + 20 bytes.
    let len = u16::try_from(adjusted_len).expect("length of a parsed message");
    mac.update(&len.to_be_bytes());
    mac.update(&header[4..HEADER_LEN]);
    mac.update(body);
    mac.finalize().into_bytes().to_vec()
}

/// HMAC over `message[..end]` with the header length replaced by `adjusted_len`.
fn mac_over<M: Mac + KeyInit>(
    key: &[u8],
    message: &[u8],
    end: usize,
    adjusted_len: usize,
) -> Vec<u8> {
    mac::<M>(
        key,
        &message[..HEADER_LEN],
        adjusted_len,
        &message[HEADER_LEN..end],
    )
}

impl Message<'_> {
    /// Whether MESSAGE-INTEGRITY or MESSAGE-INTEGRITY-SHA256 is present (where it counts).
    pub fn has_integrity(&self) -> bool {
        self.visible_attributes().any(|raw| {
            raw.ty == AttributeType::MESSAGE_INTEGRITY
                || raw.ty == AttributeType::MESSAGE_INTEGRITY_SHA256
        })
    }

    /// Verifies MESSAGE-INTEGRITY (HMAC-SHA1, RFC 8489 §14.5) with `key`: the password for
    /// short-term credentials, [`long_term_key`](crate::stun::long_term_key) for long-term
    /// ones. The comparison is constant time.
    pub fn verify_integrity(&self, key: &[u8]) -> Result<(), IntegrityError> {
        let raw = self
            .visible_attributes()
            .find(|raw| raw.ty == AttributeType::MESSAGE_INTEGRITY)
            .ok_or(IntegrityError::Missing)?;
        if raw.value.len() != MESSAGE_INTEGRITY_LEN {
            return Err(IntegrityError::Malformed);
        }
        let end = raw.offset + 4 + MESSAGE_INTEGRITY_LEN;
        let expected = mac_over::<Hmac<Sha1>>(key, self.as_bytes(), raw.offset, end - HEADER_LEN);
        check(&expected, raw.value)
    }

    /// Verifies MESSAGE-INTEGRITY-SHA256 (HMAC-SHA256, RFC 8489 §14.6) with `key`. RFC 8489
    /// §14.6 allows the value truncated to 16..=32 bytes (a multiple of 4); the received
    /// length decides how much of the MAC is compared, in constant time.
    pub fn verify_integrity_sha256(&self, key: &[u8]) -> Result<(), IntegrityError> {
        let raw = self
            .visible_attributes()
            .find(|raw| raw.ty == AttributeType::MESSAGE_INTEGRITY_SHA256)
            .ok_or(IntegrityError::Missing)?;
        let len = raw.value.len();
        if !(16..=32).contains(&len) || len % 4 != 0 {
            return Err(IntegrityError::Malformed);
        }
        let end = raw.offset + 4 + len;
        let expected = mac_over::<Hmac<Sha256>>(key, self.as_bytes(), raw.offset, end - HEADER_LEN);
        check(&expected[..len], raw.value)
    }
}

fn check(expected: &[u8], received: &[u8]) -> Result<(), IntegrityError> {
    if bool::from(expected.ct_eq(received)) {
        Ok(())
    } else {
        Err(IntegrityError::Mismatch)
    }
}

impl MessageBuilder {
    /// Appends MESSAGE-INTEGRITY: HMAC-SHA1 keyed with `key` over the message so far, the
    /// header length already counting this attribute (RFC 8489 §14.5). Only
    /// MESSAGE-INTEGRITY-SHA256 and FINGERPRINT may follow.
    pub fn add_message_integrity(&mut self, key: &[u8]) -> &mut Self {
        self.append_trailer(
            AttributeType::MESSAGE_INTEGRITY,
            MESSAGE_INTEGRITY_LEN,
            |bytes| {
                mac_over::<Hmac<Sha1>>(key, bytes, bytes.len(), bytes.len() + 4 + 20 - HEADER_LEN)
            },
        )
    }

    /// Appends MESSAGE-INTEGRITY-SHA256 with the full 32-byte HMAC-SHA256 (RFC 8489 §14.6).
    pub fn add_message_integrity_sha256(&mut self, key: &[u8]) -> &mut Self {
        self.add_message_integrity_sha256_truncated(key, 32)
    }

    /// Appends MESSAGE-INTEGRITY-SHA256 truncated to `len` bytes; `len` is rounded down to a
    /// multiple of 4 and clamped to 16..=32 (RFC 8489 §14.6).
    pub fn add_message_integrity_sha256_truncated(&mut self, key: &[u8], len: usize) -> &mut Self {
        let len = len.clamp(16, 32) & !3;
        self.append_trailer(AttributeType::MESSAGE_INTEGRITY_SHA256, len, |bytes| {
            let end = bytes.len();
            let mut mac = mac_over::<Hmac<Sha256>>(key, bytes, end, end + 4 + len - HEADER_LEN);
            mac.truncate(len);
            mac
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stun::{Attribute, MessageType, TransactionId};

    fn signed(f: impl FnOnce(&mut MessageBuilder)) -> Vec<u8> {
        let mut b = MessageBuilder::new(MessageType::BINDING_REQUEST, TransactionId([9; 12]));
        b.add(&Attribute::Username("user"));
        f(&mut b);
        b.finish()
    }

    #[test]
    fn sha1_round_trip_and_tamper() {
        let bytes = signed(|b| {
            b.add_message_integrity(b"key");
        });
        let msg = Message::parse(&bytes).unwrap();
        assert!(msg.has_integrity());
        assert_eq!(msg.verify_integrity(b"key"), Ok(()));
        assert_eq!(
            msg.verify_integrity(b"other"),
            Err(IntegrityError::Mismatch)
        );
        assert_eq!(
            msg.verify_integrity_sha256(b"key"),
            Err(IntegrityError::Missing)
        );
        let mut tampered = bytes.clone();
        tampered[25] ^= 1;
        let msg = Message::parse(&tampered).unwrap();
        assert_eq!(msg.verify_integrity(b"key"), Err(IntegrityError::Mismatch));
    }

    #[test]
    fn sha256_full_and_truncated() {
        for len in [16, 20, 24, 28, 32] {
            let bytes = signed(|b| {
                b.add_message_integrity_sha256_truncated(b"key", len);
            });
            let msg = Message::parse(&bytes).unwrap();
            assert_eq!(
                msg.get(AttributeType::MESSAGE_INTEGRITY_SHA256)
                    .unwrap()
                    .map(|a| a.ty()),
                Ok(AttributeType::MESSAGE_INTEGRITY_SHA256)
            );
            assert_eq!(msg.verify_integrity_sha256(b"key"), Ok(()), "{len}");
            assert_eq!(
                msg.verify_integrity_sha256(b"kez"),
                Err(IntegrityError::Mismatch)
            );
        }
        // Both MACs: the SHA-256 one covers the SHA-1 one (RFC 8489 §14.6).
        let bytes = signed(|b| {
            b.add_message_integrity(b"k1")
                .add_message_integrity_sha256(b"k2")
                .add_fingerprint();
        });
        let msg = Message::parse(&bytes).unwrap();
        assert_eq!(msg.verify_integrity(b"k1"), Ok(()));
        assert_eq!(msg.verify_integrity_sha256(b"k2"), Ok(()));
        assert_eq!(msg.verify_fingerprint(), Ok(()));
    }

    #[test]
    fn malformed_integrity_values() {
        // MESSAGE-INTEGRITY of 16 bytes, MESSAGE-INTEGRITY-SHA256 of 12 and of 18 bytes.
        for (ty, len) in [
            (AttributeType::MESSAGE_INTEGRITY, 16),
            (AttributeType::MESSAGE_INTEGRITY_SHA256, 12),
            (AttributeType::MESSAGE_INTEGRITY_SHA256, 18),
        ] {
            let value = vec![0; len];
            let bytes = signed(|b| {
                b.add(&Attribute::Unknown { ty, value: &value });
            });
            let msg = Message::parse(&bytes).unwrap();
            assert!(msg.get(ty).unwrap().is_err());
            let result = if ty == AttributeType::MESSAGE_INTEGRITY {
                msg.verify_integrity(b"key")
            } else {
                msg.verify_integrity_sha256(b"key")
            };
            assert_eq!(result, Err(IntegrityError::Malformed));
        }
    }

    #[test]
    fn attributes_after_integrity_are_ignored() {
        // RFC 8489 §14.5: only MESSAGE-INTEGRITY-SHA256 and FINGERPRINT count after it.
        let bytes = signed(|b| {
            b.add_message_integrity(b"key")
                .add(&Attribute::Software("late"));
        });
        let msg = Message::parse(&bytes).unwrap();
        assert_eq!(msg.software(), None);
        assert_eq!(msg.raw_attributes().count(), 3);
        assert_eq!(msg.attributes().count(), 2);
        assert_eq!(msg.verify_integrity(b"key"), Ok(()));
    }
}

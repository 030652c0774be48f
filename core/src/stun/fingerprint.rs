//! FINGERPRINT (RFC 8489 §14.7): a CRC-32 that tells STUN apart from other protocols
//! sharing a port.

use crate::stun::{AttributeType, HEADER_LEN, IntegrityError, Message, MessageBuilder};

/// RFC 8489 §14.7: the CRC-32 is XORed with this constant ("STUN" in ASCII).
pub const FINGERPRINT_XOR: u32 = 0x5354_554E;

/// CRC-32 (ISO HDLC, as in crc32fast) of the header with `adjusted_len` in the length field
/// and `body`, XOR [`FINGERPRINT_XOR`].
fn fingerprint(header: &[u8], adjusted_len: u16, body: &[u8]) -> u32 {
    let mut crc = crc32fast::Hasher::new();
    crc.update(&header[..2]);
    crc.update(&adjusted_len.to_be_bytes());
    crc.update(&header[4..HEADER_LEN]);
    crc.update(body);
    crc.finalize() ^ FINGERPRINT_XOR
}

impl Message<'_> {
    /// Whether FINGERPRINT is present (where it counts).
    pub fn has_fingerprint(&self) -> bool {
        self.contains(AttributeType::FINGERPRINT)
    }

    /// Verifies FINGERPRINT: the CRC-32 of the message up to the attribute, XOR
    /// 0x5354554e (RFC 8489 §14.7). Not a security check: plain equality suffices.
    pub fn verify_fingerprint(&self) -> Result<(), IntegrityError> {
        let raw = self
            .visible_attributes()
            .find(|raw| raw.ty == AttributeType::FINGERPRINT)
            .ok_or(IntegrityError::Missing)?;
        let received: [u8; 4] = raw
            .value
            .try_into()
            .map_err(|_| IntegrityError::Malformed)?;
        let bytes = self.as_bytes();
        // The length counts the message through FINGERPRINT itself; attributes after it
        // (which §14.7 forbids and `attributes()` ignores) are excluded.
        let adjusted =
            u16::try_from(raw.offset + 8 - HEADER_LEN).map_err(|_| IntegrityError::Malformed)?;
        let expected = fingerprint(
            &bytes[..HEADER_LEN],
            adjusted,
            &bytes[HEADER_LEN..raw.offset],
        );
        if expected == u32::from_be_bytes(received) {
            Ok(())
        } else {
            Err(IntegrityError::Mismatch)
        }
    }
}

impl MessageBuilder {
    /// Appends FINGERPRINT. RFC 8489 §14.7: "When present, the FINGERPRINT attribute MUST be
    /// the last attribute in the message", so call this last.
    pub fn add_fingerprint(&mut self) -> &mut Self {
        self.append_trailer(AttributeType::FINGERPRINT, 4, |bytes| {
            let len = bytes.len() + 8 - HEADER_LEN;
            // NOTE(unwrap): `append_trailer` checked the message stays within bounds.
            let len = u16::try_from(len).expect("bounded by MAX_MESSAGE_SIZE");
            fingerprint(&bytes[..HEADER_LEN], len, &bytes[HEADER_LEN..])
                .to_be_bytes()
                .to_vec()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stun::{Attribute, MessageType, TransactionId};

    #[test]
    fn fingerprint_round_trip_and_tamper() {
        let mut b = MessageBuilder::new(MessageType::BINDING_INDICATION, TransactionId([3; 12]));
        b.add(&Attribute::Software("x")).add_fingerprint();
        let mut bytes = b.finish();
        let msg = Message::parse(&bytes).unwrap();
        assert!(msg.has_fingerprint());
        assert_eq!(msg.verify_fingerprint(), Ok(()));
        let Some(Ok(Attribute::Fingerprint(value))) = msg.get(AttributeType::FINGERPRINT) else {
            panic!("fingerprint decodes");
        };
        let mut crc = crc32fast::Hasher::new();
        crc.update(&bytes[..bytes.len() - 8]);
        assert_eq!(value, crc.finalize() ^ FINGERPRINT_XOR);
        bytes[24] ^= 0x40;
        assert_eq!(
            Message::parse(&bytes).unwrap().verify_fingerprint(),
            Err(IntegrityError::Mismatch)
        );
    }

    #[test]
    fn missing_and_malformed() {
        let b = MessageBuilder::new(MessageType::BINDING_REQUEST, TransactionId([3; 12]));
        let bytes = b.finish();
        assert_eq!(
            Message::parse(&bytes).unwrap().verify_fingerprint(),
            Err(IntegrityError::Missing)
        );
        let mut b = MessageBuilder::new(MessageType::BINDING_REQUEST, TransactionId([3; 12]));
        b.add(&Attribute::Unknown {
            ty: AttributeType::FINGERPRINT,
            value: &[1, 2],
        });
        let bytes = b.finish();
        let msg = Message::parse(&bytes).unwrap();
        assert_eq!(msg.verify_fingerprint(), Err(IntegrityError::Malformed));
        assert!(msg.get(AttributeType::FINGERPRINT).unwrap().is_err());
    }
}

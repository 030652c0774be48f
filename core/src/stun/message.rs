//! [`Message`]: a checked, zero-copy view of one STUN message (RFC 8489 §5, §14).
//!
//! [`Message::parse`] validates the header and the attribute framing once; afterwards no
//! accessor can panic, and attribute values are decoded only when asked for.

use core::fmt;

use crate::stun::wire::reader::Reader;
use crate::stun::{
    Attribute, AttributeType, DecodeError, HEADER_LEN, MAGIC_COOKIE, MessageType, TransactionId,
};

/// Largest message [`Message::parse`] accepts: the header plus the largest length a 16-bit,
/// 4-aligned length field can announce.
pub const MAX_MESSAGE_SIZE: usize = HEADER_LEN + 0xFFFC;

/// Most attributes [`Message::parse`] accepts in one message. Real messages carry about ten;
/// the bound keeps repeated lookups over a hostile message cheap.
pub const MAX_ATTRIBUTES: usize = 128;

/// RFC 7983 §7 / RFC 8489 §5: a cheap test of whether a datagram is STUN, for demultiplexing
/// it from DTLS, RTP and TURN ChannelData: first byte 0..=3, length field matching the
/// datagram and a multiple of 4, magic cookie present.
pub fn is_stun(bytes: &[u8]) -> bool {
    bytes.len() >= HEADER_LEN
        && bytes[0] <= 3
        && usize::from(u16::from_be_bytes([bytes[2], bytes[3]])) == bytes.len() - HEADER_LEN
        && bytes.len() % 4 == 0
        && bytes[4..8] == MAGIC_COOKIE.to_be_bytes()
}

/// One attribute as framed on the wire, before its value is decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawAttribute<'a> {
    /// The type.
    pub ty: AttributeType,
    /// The value, without padding.
    pub value: &'a [u8],
    /// Offset of the attribute's type field from the start of the message.
    pub offset: usize,
}

/// Iterator over every attribute TLV of a message, including those RFC 8489 §14.5 says to
/// ignore. See [`Message::raw_attributes`].
#[derive(Clone, Debug)]
pub struct RawAttributes<'a> {
    reader: Reader<'a>,
    offset: usize,
}

impl<'a> Iterator for RawAttributes<'a> {
    type Item = RawAttribute<'a>;

    fn next(&mut self) -> Option<Self::Item> {
        // Framing was validated by `Message::parse`, so these reads succeed; a failure just
        // ends the iteration.
        let offset = self.offset;
        let ty = AttributeType(self.reader.u16().ok()?);
        let len = usize::from(self.reader.u16().ok()?);
        let value = self.reader.take(len).ok()?;
        let pad = (4 - len % 4) % 4;
        self.reader.take(pad).ok()?;
        self.offset += 4 + len + pad;
        Some(RawAttribute { ty, value, offset })
    }
}

/// Tracks RFC 8489 §14.5-§14.7: after MESSAGE-INTEGRITY only MESSAGE-INTEGRITY-SHA256 and
/// FINGERPRINT count, after MESSAGE-INTEGRITY-SHA256 only FINGERPRINT, after FINGERPRINT
/// nothing.
#[derive(Clone, Copy, Debug, Default)]
struct Visibility {
    after_mi: bool,
    after_mi256: bool,
    after_fingerprint: bool,
}

impl Visibility {
    fn admit(&mut self, ty: AttributeType) -> bool {
        let visible = if self.after_fingerprint {
            false
        } else if self.after_mi256 {
            ty == AttributeType::FINGERPRINT
        } else if self.after_mi {
            ty == AttributeType::FINGERPRINT || ty == AttributeType::MESSAGE_INTEGRITY_SHA256
        } else {
            true
        };
        if visible {
            match ty {
                AttributeType::MESSAGE_INTEGRITY => self.after_mi = true,
                AttributeType::MESSAGE_INTEGRITY_SHA256 => self.after_mi256 = true,
                AttributeType::FINGERPRINT => self.after_fingerprint = true,
                _ => {}
            }
        }
        visible
    }
}

/// A STUN message whose header and attribute framing have been validated.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Message<'a> {
    bytes: &'a [u8],
    ty: MessageType,
    id: TransactionId,
}

impl<'a> Message<'a> {
    /// Checks `bytes` as exactly one STUN message: header (RFC 8489 §5), magic cookie, length,
    /// and that attribute TLVs with their padding tile the body exactly. Values are decoded
    /// lazily by [`attributes`](Self::attributes) and the typed getters.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, DecodeError> {
        if bytes.len() > MAX_MESSAGE_SIZE {
            return Err(DecodeError::TooLarge(bytes.len()));
        }
        let mut r = Reader::new(bytes);
        let raw_type = r.u16()?;
        let length = r.u16()?;
        let cookie = r.u32()?;
        let id = TransactionId(*r.array::<12>()?);
        // RFC 8489 §5: "The most significant 2 bits of every STUN message MUST be zeroes."
        if raw_type & 0xC000 != 0 {
            return Err(DecodeError::NotStun);
        }
        if cookie != MAGIC_COOKIE {
            return Err(DecodeError::BadMagicCookie(cookie));
        }
        // RFC 8489 §5: attributes are padded, so the length is a multiple of 4.
        if length % 4 != 0 {
            return Err(DecodeError::UnalignedLength(length));
        }
        if usize::from(length) != r.remaining() {
            return Err(DecodeError::LengthMismatch {
                header: usize::from(length),
                actual: r.remaining(),
            });
        }
        let mut count = 0;
        while !r.is_empty() {
            count += 1;
            if count > MAX_ATTRIBUTES {
                return Err(DecodeError::TooManyAttributes);
            }
            let ty = AttributeType(r.u16()?);
            let len = r.u16()?;
            let padded = (usize::from(len) + 3) & !3;
            r.take(padded)
                .map_err(|_| DecodeError::AttributeOverrun { ty, len })?;
        }
        Ok(Self {
            bytes,
            ty: MessageType::from_u16(raw_type),
            id,
        })
    }

    /// Method and class.
    pub fn message_type(&self) -> MessageType {
        self.ty
    }

    /// The transaction id.
    pub fn transaction_id(&self) -> TransactionId {
        self.id
    }

    /// The whole message.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// Every attribute TLV in wire order, undecoded, including attributes that follow
    /// MESSAGE-INTEGRITY or FINGERPRINT (which [`attributes`](Self::attributes) hides).
    pub fn raw_attributes(&self) -> RawAttributes<'a> {
        RawAttributes {
            reader: Reader::new(self.bytes.get(HEADER_LEN..).unwrap_or_default()),
            offset: HEADER_LEN,
        }
    }

    /// The attribute TLVs that count, in wire order: RFC 8489 §14.5: "agents MUST ignore all
    /// other attributes that follow MESSAGE-INTEGRITY" except MESSAGE-INTEGRITY-SHA256 and
    /// FINGERPRINT; §14.6 likewise after MESSAGE-INTEGRITY-SHA256; §14.7: FINGERPRINT is last.
    pub(crate) fn visible_attributes(&self) -> impl Iterator<Item = RawAttribute<'a>> + 'a {
        let mut visibility = Visibility::default();
        self.raw_attributes()
            .filter(move |raw| visibility.admit(raw.ty))
    }

    /// The attributes that count (see [`raw_attributes`](Self::raw_attributes) for all), in
    /// wire order, each decoded or the reason it could not be.
    pub fn attributes(&self) -> impl Iterator<Item = Result<Attribute<'a>, DecodeError>> + 'a {
        let id = self.id;
        self.visible_attributes()
            .map(move |raw| Attribute::decode(raw.ty, raw.value, &id))
    }

    /// The first attribute of type `ty` that counts, decoded.
    pub fn get(&self, ty: AttributeType) -> Option<Result<Attribute<'a>, DecodeError>> {
        let raw = self.visible_attributes().find(|raw| raw.ty == ty)?;
        Some(Attribute::decode(raw.ty, raw.value, &self.id))
    }

    /// Whether an attribute of type `ty` counts in this message.
    pub fn contains(&self, ty: AttributeType) -> bool {
        self.visible_attributes().any(|raw| raw.ty == ty)
    }

    /// RFC 8489 §6.3.1 / §7.3.1: the comprehension-required types (0x0000-0x7FFF) that the
    /// codec does not know, each once, in wire order. A server answers a request that has any
    /// with 420 and UNKNOWN-ATTRIBUTES (see
    /// [`MessageBuilder::unknown_attributes_response`](crate::stun::MessageBuilder::unknown_attributes_response)).
    pub fn unknown_comprehension_required(&self) -> Vec<AttributeType> {
        let mut unknown = Vec::new();
        for raw in self.visible_attributes() {
            if raw.ty.is_comprehension_required()
                && !raw.ty.is_known()
                && !unknown.contains(&raw.ty)
            {
                unknown.push(raw.ty);
            }
        }
        unknown
    }
}

impl fmt::Debug for Message<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Message")
            .field("type", &self.ty)
            .field("id", &self.id)
            .field("attributes", &self.attributes().collect::<Vec<_>>())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stun::{IntegrityError, MessageBuilder, PasswordAlgorithm, long_term_key};

    /// RFC 5769 §2.1: Binding request with short-term credentials; padding bytes are 0x20.
    const SAMPLE_REQUEST: &[u8] = &[
        0x00, 0x01, 0x00, 0x58, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6,
        0x86, 0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x10, 0x53, 0x54, 0x55, 0x4e, 0x20, 0x74,
        0x65, 0x73, 0x74, 0x20, 0x63, 0x6c, 0x69, 0x65, 0x6e, 0x74, 0x00, 0x24, 0x00, 0x04, 0x6e,
        0x00, 0x01, 0xff, 0x80, 0x29, 0x00, 0x08, 0x93, 0x2f, 0xf9, 0xb1, 0x51, 0x26, 0x3b, 0x36,
        0x00, 0x06, 0x00, 0x09, 0x65, 0x76, 0x74, 0x6a, 0x3a, 0x68, 0x36, 0x76, 0x59, 0x20, 0x20,
        0x20, 0x00, 0x08, 0x00, 0x14, 0x9a, 0xea, 0xa7, 0x0c, 0xbf, 0xd8, 0xcb, 0x56, 0x78, 0x1e,
        0xf2, 0xb5, 0xb2, 0xd3, 0xf2, 0x49, 0xc1, 0xb5, 0x71, 0xa2, 0x80, 0x28, 0x00, 0x04, 0xe5,
        0x7a, 0x3b, 0xcf,
    ];

    /// RFC 5769 §2.2: Binding success response with an IPv4 XOR-MAPPED-ADDRESS.
    const SAMPLE_IPV4_RESPONSE: &[u8] = &[
        0x01, 0x01, 0x00, 0x3c, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6,
        0x86, 0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74, 0x20, 0x76,
        0x65, 0x63, 0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x08, 0x00, 0x01, 0xa1, 0x47, 0xe1,
        0x12, 0xa6, 0x43, 0x00, 0x08, 0x00, 0x14, 0x2b, 0x91, 0xf5, 0x99, 0xfd, 0x9e, 0x90, 0xc3,
        0x8c, 0x74, 0x89, 0xf9, 0x2a, 0xf9, 0xba, 0x53, 0xf0, 0x6b, 0xe7, 0xd7, 0x80, 0x28, 0x00,
        0x04, 0xc0, 0x7d, 0x4c, 0x96,
    ];

    /// RFC 5769 §2.3: Binding success response with an IPv6 XOR-MAPPED-ADDRESS.
    const SAMPLE_IPV6_RESPONSE: &[u8] = &[
        0x01, 0x01, 0x00, 0x48, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6,
        0x86, 0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74, 0x20, 0x76,
        0x65, 0x63, 0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x14, 0x00, 0x02, 0xa1, 0x47, 0x01,
        0x13, 0xa9, 0xfa, 0xa5, 0xd3, 0xf1, 0x79, 0xbc, 0x25, 0xf4, 0xb5, 0xbe, 0xd2, 0xb9, 0xd9,
        0x00, 0x08, 0x00, 0x14, 0xa3, 0x82, 0x95, 0x4e, 0x4b, 0xe6, 0x7b, 0xf1, 0x17, 0x84, 0xc9,
        0x7c, 0x82, 0x92, 0xc2, 0x75, 0xbf, 0xe3, 0xed, 0x41, 0x80, 0x28, 0x00, 0x04, 0xc8, 0xfb,
        0x0b, 0x4c,
    ];

    /// RFC 5769 §2.4: Binding request with long-term credentials (no FINGERPRINT); zero
    /// padding.
    const SAMPLE_LONG_TERM_REQUEST: &[u8] = &[
        0x00, 0x01, 0x00, 0x60, 0x21, 0x12, 0xa4, 0x42, 0x78, 0xad, 0x34, 0x33, 0xc6, 0xad, 0x72,
        0xc0, 0x29, 0xda, 0x41, 0x2e, 0x00, 0x06, 0x00, 0x12, 0xe3, 0x83, 0x9e, 0xe3, 0x83, 0x88,
        0xe3, 0x83, 0xaa, 0xe3, 0x83, 0x83, 0xe3, 0x82, 0xaf, 0xe3, 0x82, 0xb9, 0x00, 0x00, 0x00,
        0x15, 0x00, 0x1c, 0x66, 0x2f, 0x2f, 0x34, 0x39, 0x39, 0x6b, 0x39, 0x35, 0x34, 0x64, 0x36,
        0x4f, 0x4c, 0x33, 0x34, 0x6f, 0x4c, 0x39, 0x46, 0x53, 0x54, 0x76, 0x79, 0x36, 0x34, 0x73,
        0x41, 0x00, 0x14, 0x00, 0x0b, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x2e, 0x6f, 0x72,
        0x67, 0x00, 0x00, 0x08, 0x00, 0x14, 0xf6, 0x70, 0x24, 0x65, 0x6d, 0xd6, 0x4a, 0x3e, 0x02,
        0xb8, 0xe0, 0x71, 0x2e, 0x85, 0xc9, 0xa2, 0x8c, 0xa8, 0x96, 0x66,
    ];

    const RFC5769_PASSWORD: &[u8] = b"VOkJxbRl1RmTxUk/WvJxBt";

    /// Rebuilds `msg` attribute by attribute, recomputing MESSAGE-INTEGRITY with `key` and
    /// FINGERPRINT, with `padding` as the padding byte.
    fn rebuild(msg: &Message<'_>, key: &[u8], padding: u8) -> Vec<u8> {
        let mut b = MessageBuilder::new(msg.message_type(), msg.transaction_id());
        b.padding_byte(padding);
        for attr in msg.attributes() {
            match attr.unwrap() {
                Attribute::MessageIntegrity(_) => b.add_message_integrity(key),
                Attribute::Fingerprint(_) => b.add_fingerprint(),
                other => b.add(&other),
            };
        }
        b.finish()
    }

    #[test]
    fn rfc5769_sample_request() {
        let msg = Message::parse(SAMPLE_REQUEST).unwrap();
        assert!(is_stun(SAMPLE_REQUEST));
        assert_eq!(msg.message_type(), MessageType::BINDING_REQUEST);
        assert_eq!(msg.transaction_id().to_string(), "b7e7a701bc34d686fa87dfae");
        assert_eq!(msg.software(), Some("STUN test client"));
        assert_eq!(msg.priority(), Some(0x6e0001ff));
        assert_eq!(msg.ice_controlled(), Some(0x932ff9b151263b36));
        assert_eq!(msg.ice_controlling(), None);
        assert_eq!(msg.username(), Some("evtj:h6vY"));
        assert!(!msg.use_candidate());
        assert_eq!(msg.verify_integrity(RFC5769_PASSWORD), Ok(()));
        assert_eq!(
            msg.verify_integrity(b"VOkJxbRl1RmTxUk/WvJxBT"),
            Err(IntegrityError::Mismatch)
        );
        assert_eq!(msg.verify_fingerprint(), Ok(()));
        assert!(msg.unknown_comprehension_required().is_empty());
        assert_eq!(rebuild(&msg, RFC5769_PASSWORD, 0x20), SAMPLE_REQUEST);
    }

    #[test]
    fn rfc5769_sample_responses() {
        for (bytes, mapped) in [
            (SAMPLE_IPV4_RESPONSE, "192.0.2.1:32853"),
            (
                SAMPLE_IPV6_RESPONSE,
                "[2001:db8:1234:5678:11:2233:4455:6677]:32853",
            ),
        ] {
            let msg = Message::parse(bytes).unwrap();
            assert_eq!(msg.message_type(), MessageType::BINDING_SUCCESS);
            assert_eq!(msg.software(), Some("test vector"));
            assert_eq!(msg.xor_mapped_address(), Some(mapped.parse().unwrap()));
            assert_eq!(msg.mapped_address(), None);
            assert_eq!(msg.verify_integrity(RFC5769_PASSWORD), Ok(()));
            assert_eq!(msg.verify_fingerprint(), Ok(()));
            assert_eq!(rebuild(&msg, RFC5769_PASSWORD, 0x20), bytes);
        }
    }

    #[test]
    fn rfc5769_sample_long_term_request() {
        let msg = Message::parse(SAMPLE_LONG_TERM_REQUEST).unwrap();
        let username = "\u{30DE}\u{30C8}\u{30EA}\u{30C3}\u{30AF}\u{30B9}";
        assert_eq!(msg.username(), Some(username));
        assert_eq!(msg.nonce(), Some("f//499k954d6OL34oL9FSTvy64sA"));
        assert_eq!(msg.realm(), Some("example.org"));
        // The password "The<U+00AD>M<U+00AA>tr<U+2168>" after SASLprep.
        let key = long_term_key(PasswordAlgorithm::Md5, username, "example.org", "TheMatrIX");
        assert_eq!(msg.verify_integrity(&key), Ok(()));
        assert_eq!(msg.verify_fingerprint(), Err(IntegrityError::Missing));
        assert!(!msg.has_fingerprint());
        assert!(msg.has_integrity());
        assert_eq!(rebuild(&msg, &key, 0), SAMPLE_LONG_TERM_REQUEST);
    }

    fn sample() -> Vec<u8> {
        SAMPLE_IPV4_RESPONSE.to_vec()
    }

    #[test]
    fn malformed_headers() {
        for len in 0..20 {
            assert_eq!(
                Message::parse(&SAMPLE_REQUEST[..len]),
                Err(DecodeError::Truncated)
            );
            assert!(!is_stun(&SAMPLE_REQUEST[..len]));
        }
        let mut bad = sample();
        bad[0] |= 0x40;
        assert_eq!(Message::parse(&bad), Err(DecodeError::NotStun));
        let mut bad = sample();
        bad[5] ^= 1;
        assert_eq!(
            Message::parse(&bad),
            Err(DecodeError::BadMagicCookie(0x2113a442))
        );
        assert!(!is_stun(&bad));
        let mut bad = sample();
        bad[3] -= 2;
        assert_eq!(
            Message::parse(&bad),
            Err(DecodeError::UnalignedLength(0x3a))
        );
        let mut bad = sample();
        bad[3] -= 4;
        assert_eq!(
            Message::parse(&bad),
            Err(DecodeError::LengthMismatch {
                header: 0x38,
                actual: 0x3c
            })
        );
        // A datagram cut short, and one with trailing bytes.
        assert!(Message::parse(&SAMPLE_REQUEST[..SAMPLE_REQUEST.len() - 4]).is_err());
        let mut long = sample();
        long.extend_from_slice(&[0; 4]);
        assert!(Message::parse(&long).is_err());
        assert!(!is_stun(&long));
        let huge = vec![0; MAX_MESSAGE_SIZE + 1];
        assert_eq!(
            Message::parse(&huge),
            Err(DecodeError::TooLarge(MAX_MESSAGE_SIZE + 1))
        );
    }

    #[test]
    fn malformed_attribute_framing() {
        // SOFTWARE claims 0x3c bytes: it overruns the message.
        let mut bad = sample();
        bad[23] = 0x3c;
        assert_eq!(
            Message::parse(&bad),
            Err(DecodeError::AttributeOverrun {
                ty: AttributeType::SOFTWARE,
                len: 0x3c
            })
        );
        // The last attribute's header is cut off: length 4 with only the TLV header left.
        let mut bad =
            MessageBuilder::new(MessageType::BINDING_REQUEST, TransactionId([0; 12])).finish();
        bad.extend_from_slice(&[0x80, 0x22, 0x00, 0x04]);
        bad[3] = 4;
        assert!(matches!(
            Message::parse(&bad),
            Err(DecodeError::AttributeOverrun { .. })
        ));
        // Value fits but padding does not: length 1 in a 8-byte body.
        bad.extend_from_slice(&[0; 4]);
        bad[3] = 8;
        bad[23] = 5;
        assert!(matches!(
            Message::parse(&bad),
            Err(DecodeError::AttributeOverrun { .. })
        ));
        bad[23] = 4;
        assert!(Message::parse(&bad).is_ok());
    }

    #[test]
    fn too_many_attributes() {
        let mut b = MessageBuilder::new(MessageType::BINDING_REQUEST, TransactionId([0; 12]));
        for _ in 0..MAX_ATTRIBUTES {
            b.add(&Attribute::UseCandidate);
        }
        let mut bytes = b.finish();
        assert!(Message::parse(&bytes).is_ok());
        bytes.extend_from_slice(&[0x00, 0x25, 0, 0]);
        let len = u16::from_be_bytes([bytes[2], bytes[3]]) + 4;
        bytes[2..4].copy_from_slice(&len.to_be_bytes());
        assert_eq!(Message::parse(&bytes), Err(DecodeError::TooManyAttributes));
    }

    #[test]
    fn malformed_values_are_errors_not_panics() {
        let id = TransactionId([5; 12]);
        let cases: &[(AttributeType, &[u8])] = &[
            (AttributeType::XOR_MAPPED_ADDRESS, &[0, 3, 0, 1, 1, 2, 3, 4]),
            (AttributeType::MAPPED_ADDRESS, &[0, 1, 0, 1, 1, 2]),
            (AttributeType::MESSAGE_INTEGRITY, &[0; 19]),
            (AttributeType::FINGERPRINT, &[0; 5]),
            (AttributeType::USERNAME, &[0xc3, 0x28]),
            (AttributeType::PRIORITY, &[0; 3]),
            (AttributeType::ICE_CONTROLLING, &[0; 4]),
            (AttributeType::USE_CANDIDATE, &[0]),
            (AttributeType::ERROR_CODE, &[0, 0, 9, 9]),
            (AttributeType::UNKNOWN_ATTRIBUTES, &[0, 1, 2]),
            (AttributeType::USERHASH, &[0; 31]),
            (AttributeType::CHANGE_REQUEST, &[0; 8]),
            (AttributeType::RESPONSE_PORT, &[0; 2]),
            (AttributeType::EVEN_PORT, &[0; 2]),
            (AttributeType::ALTERNATE_DOMAIN, "é".as_bytes()),
            (AttributeType::ICMP, &[0; 4]),
            (AttributeType::PASSWORD_ALGORITHMS, &[0, 1, 0, 4]),
        ];
        for &(ty, value) in cases {
            let mut b = MessageBuilder::new(MessageType::BINDING_REQUEST, id);
            b.add(&Attribute::Unknown { ty, value });
            let bytes = b.finish();
            let msg = Message::parse(&bytes).unwrap();
            assert!(msg.get(ty).unwrap().is_err(), "{ty:?} {value:?}");
            assert!(msg.attributes().all(|a| a.is_err()));
            assert_eq!(
                Attribute::decode(ty, value, &id).err(),
                msg.get(ty).unwrap().err()
            );
        }
        let msg = Message::parse(SAMPLE_REQUEST).unwrap();
        assert_eq!(msg.get(AttributeType::DATA), None);
    }
}

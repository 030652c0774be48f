//! The typed [`Attribute`] enum: decoding a TLV value into it and encoding it back.

use std::net::SocketAddr;

use super::address;
use super::nat::ChangeRequest;
use super::password_algorithms::{self, PasswordAlgorithms};
use super::reader::Reader;
use super::text::{MAX_TEXT_LEN, MAX_USERNAME_LEN, text};
use super::turn::{AddressErrorCode, Icmp};
use crate::stun::{
    AttributeType, DecodeError, ErrorCode, PasswordAlgorithm, TransactionId, UnknownAttributes,
};

/// One STUN attribute, decoded; borrowed values point into the message bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Attribute<'a> {
    /// MAPPED-ADDRESS (RFC 8489 §14.1), kept for RFC 3489 clients.
    MappedAddress(SocketAddr),
    /// XOR-MAPPED-ADDRESS (RFC 8489 §14.2): the reflexive transport address.
    XorMappedAddress(SocketAddr),
    /// USERNAME (RFC 8489 §14.3).
    Username(&'a str),
    /// USERHASH (RFC 8489 §14.4): SHA-256 of username and realm.
    UserHash(&'a [u8; 32]),
    /// MESSAGE-INTEGRITY (RFC 8489 §14.5): HMAC-SHA1. Usually added with
    /// [`MessageBuilder::add_message_integrity`](crate::stun::MessageBuilder::add_message_integrity).
    MessageIntegrity(&'a [u8; 20]),
    /// MESSAGE-INTEGRITY-SHA256 (RFC 8489 §14.6): HMAC-SHA256, 16 to 32 bytes.
    MessageIntegritySha256(&'a [u8]),
    /// FINGERPRINT (RFC 8489 §14.7): CRC-32 of the message XOR 0x5354554e.
    Fingerprint(u32),
    /// ERROR-CODE (RFC 8489 §14.8).
    ErrorCode(ErrorCode<'a>),
    /// REALM (RFC 8489 §14.9).
    Realm(&'a str),
    /// NONCE (RFC 8489 §14.10).
    Nonce(&'a str),
    /// PASSWORD-ALGORITHMS (RFC 8489 §14.11).
    PasswordAlgorithms(PasswordAlgorithms<'a>),
    /// PASSWORD-ALGORITHM (RFC 8489 §14.12).
    PasswordAlgorithm(PasswordAlgorithm),
    /// UNKNOWN-ATTRIBUTES (RFC 8489 §14.13).
    UnknownAttributes(UnknownAttributes<'a>),
    /// SOFTWARE (RFC 8489 §14.14).
    Software(&'a str),
    /// ALTERNATE-SERVER (RFC 8489 §14.15).
    AlternateServer(SocketAddr),
    /// ALTERNATE-DOMAIN (RFC 8489 §14.16).
    AlternateDomain(&'a str),
    /// PRIORITY (RFC 8445 §7.1.1).
    Priority(u32),
    /// USE-CANDIDATE (RFC 8445 §7.1.2), no value.
    UseCandidate,
    /// ICE-CONTROLLED (RFC 8445 §7.1.3): the tie-breaker.
    IceControlled(u64),
    /// ICE-CONTROLLING (RFC 8445 §7.1.3): the tie-breaker.
    IceControlling(u64),
    /// CHANGE-REQUEST (RFC 5780 §7.2).
    ChangeRequest(ChangeRequest),
    /// RESPONSE-ORIGIN (RFC 5780 §7.3): the address the response was sent from.
    ResponseOrigin(SocketAddr),
    /// OTHER-ADDRESS (RFC 5780 §7.4): the server's alternate address.
    OtherAddress(SocketAddr),
    /// RESPONSE-PORT (RFC 5780 §7.5): the port the response should go to.
    ResponsePort(u16),
    /// PADDING (RFC 5780 §7.6): bytes that enlarge the message.
    Padding(&'a [u8]),
    /// CHANNEL-NUMBER (RFC 8656 §18.1).
    ChannelNumber(u16),
    /// LIFETIME (RFC 8656 §18.2), seconds.
    Lifetime(u32),
    /// XOR-PEER-ADDRESS (RFC 8656 §18.3).
    XorPeerAddress(SocketAddr),
    /// DATA (RFC 8656 §18.4).
    Data(&'a [u8]),
    /// XOR-RELAYED-ADDRESS (RFC 8656 §18.5).
    XorRelayedAddress(SocketAddr),
    /// REQUESTED-ADDRESS-FAMILY (RFC 8656 §18.6): 0x01 IPv4, 0x02 IPv6.
    RequestedAddressFamily(u8),
    /// EVEN-PORT (RFC 8656 §18.7): whether to reserve the next port (the R bit).
    EvenPort(bool),
    /// REQUESTED-TRANSPORT (RFC 8656 §18.8): an IP protocol number (17 = UDP).
    RequestedTransport(u8),
    /// DONT-FRAGMENT (RFC 8656 §18.9), no value.
    DontFragment,
    /// RESERVATION-TOKEN (RFC 8656 §18.10).
    ReservationToken(&'a [u8; 8]),
    /// ADDITIONAL-ADDRESS-FAMILY (RFC 8656 §18.11).
    AdditionalAddressFamily(u8),
    /// ADDRESS-ERROR-CODE (RFC 8656 §18.12).
    AddressErrorCode(AddressErrorCode<'a>),
    /// ICMP (RFC 8656 §18.13).
    Icmp(Icmp),
    /// CONNECTION-ID (RFC 6062 §6.2.1).
    ConnectionId(u32),
    /// Any attribute type the codec does not decode.
    Unknown {
        /// The type.
        ty: AttributeType,
        /// The value, without padding.
        value: &'a [u8],
    },
}

fn exact<const N: usize>(ty: AttributeType, value: &[u8]) -> Result<&[u8; N], DecodeError> {
    value
        .try_into()
        .map_err(|_| DecodeError::BadAttributeLength {
            ty,
            len: value.len(),
        })
}

fn empty(ty: AttributeType, value: &[u8]) -> Result<(), DecodeError> {
    exact::<0>(ty, value).map(|_| ())
}

/// The first byte of a 4-byte value whose other three bytes are reserved (RFC 8656 §18.6,
/// §18.8, §18.11).
fn first_of_four(ty: AttributeType, value: &[u8]) -> Result<u8, DecodeError> {
    exact::<4>(ty, value).map(|v| v[0])
}

/// The first two bytes of a 4-byte value (RFC 8656 §18.1 "RFFU", RFC 5780 §7.5 padding).
fn u16_of_four(ty: AttributeType, value: &[u8]) -> Result<u16, DecodeError> {
    exact::<4>(ty, value).map(|v| u16::from_be_bytes([v[0], v[1]]))
}

impl<'a> Attribute<'a> {
    /// The attribute type this value is sent as.
    pub fn ty(&self) -> AttributeType {
        use AttributeType as T;
        match self {
            Self::MappedAddress(_) => T::MAPPED_ADDRESS,
            Self::XorMappedAddress(_) => T::XOR_MAPPED_ADDRESS,
            Self::Username(_) => T::USERNAME,
            Self::UserHash(_) => T::USERHASH,
            Self::MessageIntegrity(_) => T::MESSAGE_INTEGRITY,
            Self::MessageIntegritySha256(_) => T::MESSAGE_INTEGRITY_SHA256,
            Self::Fingerprint(_) => T::FINGERPRINT,
            Self::ErrorCode(_) => T::ERROR_CODE,
            Self::Realm(_) => T::REALM,
            Self::Nonce(_) => T::NONCE,
            Self::PasswordAlgorithms(_) => T::PASSWORD_ALGORITHMS,
            Self::PasswordAlgorithm(_) => T::PASSWORD_ALGORITHM,
            Self::UnknownAttributes(_) => T::UNKNOWN_ATTRIBUTES,
            Self::Software(_) => T::SOFTWARE,
            Self::AlternateServer(_) => T::ALTERNATE_SERVER,
            Self::AlternateDomain(_) => T::ALTERNATE_DOMAIN,
            Self::Priority(_) => T::PRIORITY,
            Self::UseCandidate => T::USE_CANDIDATE,
            Self::IceControlled(_) => T::ICE_CONTROLLED,
            Self::IceControlling(_) => T::ICE_CONTROLLING,
            Self::ChangeRequest(_) => T::CHANGE_REQUEST,
            Self::ResponseOrigin(_) => T::RESPONSE_ORIGIN,
            Self::OtherAddress(_) => T::OTHER_ADDRESS,
            Self::ResponsePort(_) => T::RESPONSE_PORT,
            Self::Padding(_) => T::PADDING,
            Self::ChannelNumber(_) => T::CHANNEL_NUMBER,
            Self::Lifetime(_) => T::LIFETIME,
            Self::XorPeerAddress(_) => T::XOR_PEER_ADDRESS,
            Self::Data(_) => T::DATA,
            Self::XorRelayedAddress(_) => T::XOR_RELAYED_ADDRESS,
            Self::RequestedAddressFamily(_) => T::REQUESTED_ADDRESS_FAMILY,
            Self::EvenPort(_) => T::EVEN_PORT,
            Self::RequestedTransport(_) => T::REQUESTED_TRANSPORT,
            Self::DontFragment => T::DONT_FRAGMENT,
            Self::ReservationToken(_) => T::RESERVATION_TOKEN,
            Self::AdditionalAddressFamily(_) => T::ADDITIONAL_ADDRESS_FAMILY,
            Self::AddressErrorCode(_) => T::ADDRESS_ERROR_CODE,
            Self::Icmp(_) => T::ICMP,
            Self::ConnectionId(_) => T::CONNECTION_ID,
            Self::Unknown { ty, .. } => *ty,
        }
    }

    /// Decodes the value (without padding) of an attribute of type `ty` in a message with
    /// transaction id `id` (needed by the XOR address attributes).
    pub fn decode(
        ty: AttributeType,
        value: &'a [u8],
        id: &TransactionId,
    ) -> Result<Self, DecodeError> {
        use AttributeType as T;
        Ok(match ty {
            T::MAPPED_ADDRESS => Self::MappedAddress(address::decode(ty, value)?),
            T::XOR_MAPPED_ADDRESS => Self::XorMappedAddress(address::decode_xor(ty, value, id)?),
            T::USERNAME => Self::Username(text(ty, value, MAX_USERNAME_LEN)?),
            T::USERHASH => Self::UserHash(exact(ty, value)?),
            T::MESSAGE_INTEGRITY => Self::MessageIntegrity(exact(ty, value)?),
            T::MESSAGE_INTEGRITY_SHA256 => {
                // RFC 8489 §14.6: at least 16 bytes, at most 32, a multiple of 4.
                if !(16..=32).contains(&value.len()) || value.len() % 4 != 0 {
                    return Err(DecodeError::BadAttributeLength {
                        ty,
                        len: value.len(),
                    });
                }
                Self::MessageIntegritySha256(value)
            }
            T::FINGERPRINT => Self::Fingerprint(u32::from_be_bytes(*exact(ty, value)?)),
            T::ERROR_CODE => Self::ErrorCode(ErrorCode::decode(ty, &mut Reader::new(value))?),
            T::REALM => Self::Realm(text(ty, value, MAX_TEXT_LEN)?),
            T::NONCE => Self::Nonce(text(ty, value, MAX_TEXT_LEN)?),
            T::PASSWORD_ALGORITHMS => Self::PasswordAlgorithms(PasswordAlgorithms::decode(value)?),
            T::PASSWORD_ALGORITHM => {
                Self::PasswordAlgorithm(password_algorithms::decode_one(value)?)
            }
            T::UNKNOWN_ATTRIBUTES => Self::UnknownAttributes(UnknownAttributes::decode(value)?),
            T::SOFTWARE => Self::Software(text(ty, value, MAX_TEXT_LEN)?),
            T::ALTERNATE_SERVER => Self::AlternateServer(address::decode(ty, value)?),
            // RFC 8489 §14.16: an ASCII domain name, at most 255 bytes.
            T::ALTERNATE_DOMAIN if !value.is_ascii() => {
                return Err(DecodeError::BadValue {
                    ty,
                    what: "domain is not ASCII",
                });
            }
            T::ALTERNATE_DOMAIN => Self::AlternateDomain(text(ty, value, 255)?),
            T::PRIORITY => Self::Priority(u32::from_be_bytes(*exact(ty, value)?)),
            T::USE_CANDIDATE => empty(ty, value).map(|_| Self::UseCandidate)?,
            T::ICE_CONTROLLED => Self::IceControlled(u64::from_be_bytes(*exact(ty, value)?)),
            T::ICE_CONTROLLING => Self::IceControlling(u64::from_be_bytes(*exact(ty, value)?)),
            T::CHANGE_REQUEST => Self::ChangeRequest(ChangeRequest::decode(value)?),
            T::RESPONSE_ORIGIN => Self::ResponseOrigin(address::decode(ty, value)?),
            T::OTHER_ADDRESS => Self::OtherAddress(address::decode(ty, value)?),
            T::RESPONSE_PORT => Self::ResponsePort(u16_of_four(ty, value)?),
            T::PADDING => Self::Padding(value),
            T::CHANNEL_NUMBER => Self::ChannelNumber(u16_of_four(ty, value)?),
            T::LIFETIME => Self::Lifetime(u32::from_be_bytes(*exact(ty, value)?)),
            T::XOR_PEER_ADDRESS => Self::XorPeerAddress(address::decode_xor(ty, value, id)?),
            T::DATA => Self::Data(value),
            T::XOR_RELAYED_ADDRESS => Self::XorRelayedAddress(address::decode_xor(ty, value, id)?),
            T::REQUESTED_ADDRESS_FAMILY => Self::RequestedAddressFamily(first_of_four(ty, value)?),
            // RFC 8656 §18.7: one byte whose most significant bit is R.
            T::EVEN_PORT => Self::EvenPort(exact::<1>(ty, value)?[0] & 0x80 != 0),
            T::REQUESTED_TRANSPORT => Self::RequestedTransport(first_of_four(ty, value)?),
            T::DONT_FRAGMENT => empty(ty, value).map(|_| Self::DontFragment)?,
            T::RESERVATION_TOKEN => Self::ReservationToken(exact(ty, value)?),
            T::ADDITIONAL_ADDRESS_FAMILY => {
                Self::AdditionalAddressFamily(first_of_four(ty, value)?)
            }
            T::ADDRESS_ERROR_CODE => Self::AddressErrorCode(AddressErrorCode::decode(value)?),
            T::ICMP => Self::Icmp(Icmp::decode(value)?),
            T::CONNECTION_ID => Self::ConnectionId(u32::from_be_bytes(*exact(ty, value)?)),
            _ => Self::Unknown { ty, value },
        })
    }

    /// Appends the value (without TLV header or padding) to `out`.
    pub fn encode_value(&self, id: &TransactionId, out: &mut Vec<u8>) {
        match *self {
            Self::MappedAddress(a)
            | Self::AlternateServer(a)
            | Self::ResponseOrigin(a)
            | Self::OtherAddress(a) => address::encode(a, out),
            Self::XorMappedAddress(a) | Self::XorPeerAddress(a) | Self::XorRelayedAddress(a) => {
                address::encode_xor(a, id, out)
            }
            Self::Username(s)
            | Self::Realm(s)
            | Self::Nonce(s)
            | Self::Software(s)
            | Self::AlternateDomain(s) => out.extend_from_slice(s.as_bytes()),
            Self::UserHash(h) => out.extend_from_slice(h),
            Self::MessageIntegrity(m) => out.extend_from_slice(m),
            Self::MessageIntegritySha256(m)
            | Self::Padding(m)
            | Self::Data(m)
            | Self::Unknown { value: m, .. } => out.extend_from_slice(m),
            Self::Fingerprint(v)
            | Self::Priority(v)
            | Self::Lifetime(v)
            | Self::ConnectionId(v) => out.extend_from_slice(&v.to_be_bytes()),
            Self::ErrorCode(e) => e.encode(0, out),
            Self::PasswordAlgorithms(list) => list.encode(out),
            Self::PasswordAlgorithm(alg) => password_algorithms::encode_one(alg, out),
            Self::UnknownAttributes(list) => list.encode(out),
            Self::UseCandidate | Self::DontFragment => {}
            Self::IceControlled(v) | Self::IceControlling(v) => {
                out.extend_from_slice(&v.to_be_bytes())
            }
            Self::ChangeRequest(c) => c.encode(out),
            Self::ResponsePort(v) | Self::ChannelNumber(v) => {
                out.extend_from_slice(&v.to_be_bytes());
                out.extend_from_slice(&[0, 0]);
            }
            Self::RequestedAddressFamily(b)
            | Self::RequestedTransport(b)
            | Self::AdditionalAddressFamily(b) => out.extend_from_slice(&[b, 0, 0, 0]),
            Self::EvenPort(r) => out.push(if r { 0x80 } else { 0 }),
            Self::ReservationToken(t) => out.extend_from_slice(t),
            Self::AddressErrorCode(e) => e.encode(out),
            Self::Icmp(i) => i.encode(out),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::stun::{Class, Message, MessageBuilder, MessageType, Method};

    /// Every attribute type, IPv4 and IPv6 for every address attribute.
    pub(crate) fn all_attributes() -> Vec<Attribute<'static>> {
        use crate::stun::{
            AddressErrorCode, ChangeRequest, FAMILY_IPV6, Icmp, PasswordAlgorithms,
            UnknownAttributes,
        };
        let v4: SocketAddr = "192.0.2.1:32853".parse().unwrap();
        let v6: SocketAddr = "[2001:db8::1]:3478".parse().unwrap();
        let mut attrs = Vec::new();
        for addr in [v4, v6] {
            attrs.extend([
                Attribute::MappedAddress(addr),
                Attribute::XorMappedAddress(addr),
                Attribute::AlternateServer(addr),
                Attribute::ResponseOrigin(addr),
                Attribute::OtherAddress(addr),
                Attribute::XorPeerAddress(addr),
                Attribute::XorRelayedAddress(addr),
            ]);
        }
        static ALGS: [PasswordAlgorithm; 3] = [
            PasswordAlgorithm::Sha256,
            PasswordAlgorithm::Md5,
            PasswordAlgorithm::Unknown(7),
        ];
        static UNKNOWN: [AttributeType; 2] = [AttributeType(0x0002), AttributeType(0x7ffe)];
        attrs.extend([
            Attribute::Username("user:name"),
            Attribute::UserHash(&[0xab; 32]),
            Attribute::ErrorCode(ErrorCode::STALE_NONCE),
            Attribute::ErrorCode(ErrorCode::new(699, "")),
            Attribute::Realm("example.org"),
            Attribute::Nonce("obMatJos2AAABxyz"),
            Attribute::PasswordAlgorithms(PasswordAlgorithms::new(&ALGS)),
            Attribute::PasswordAlgorithm(PasswordAlgorithm::Sha256),
            Attribute::UnknownAttributes(UnknownAttributes::new(&UNKNOWN)),
            Attribute::Software("pigeon"),
            Attribute::AlternateDomain("stun.example.org"),
            Attribute::Priority(0x6e0001ff),
            Attribute::UseCandidate,
            Attribute::IceControlled(u64::MAX),
            Attribute::IceControlling(1),
            Attribute::ChangeRequest(ChangeRequest {
                change_ip: true,
                change_port: false,
            }),
            Attribute::ResponsePort(40000),
            Attribute::Padding(&[0; 13]),
            Attribute::ChannelNumber(0x4000),
            Attribute::Lifetime(600),
            Attribute::Data(b"hello"),
            Attribute::RequestedAddressFamily(FAMILY_IPV6),
            Attribute::EvenPort(true),
            Attribute::EvenPort(false),
            Attribute::RequestedTransport(17),
            Attribute::DontFragment,
            Attribute::ReservationToken(&[1, 2, 3, 4, 5, 6, 7, 8]),
            Attribute::AdditionalAddressFamily(FAMILY_IPV6),
            Attribute::AddressErrorCode(AddressErrorCode {
                family: 1,
                error: ErrorCode::INSUFFICIENT_CAPACITY,
            }),
            Attribute::Icmp(Icmp {
                icmp_type: 3,
                code: 1,
                error_data: 0,
            }),
            Attribute::ConnectionId(0xdeadbeef),
            Attribute::Unknown {
                ty: AttributeType(0xc001),
                value: b"opaque",
            },
            Attribute::MessageIntegrity(&[9; 20]),
            Attribute::MessageIntegritySha256(&[7; 24]),
            Attribute::Fingerprint(0x1234_5678),
        ]);
        attrs
    }

    #[test]
    fn every_attribute_round_trips() {
        let id = TransactionId([0x42; 12]);
        let attrs = all_attributes();
        for attr in &attrs {
            let mut b = MessageBuilder::new(MessageType::new(Method::ALLOCATE, Class::Request), id);
            b.add(attr);
            let bytes = b.finish();
            let msg = Message::parse(&bytes).unwrap();
            assert_eq!(msg.get(attr.ty()), Some(Ok(*attr)), "{attr:?}");
            let mut value = Vec::new();
            attr.encode_value(&id, &mut value);
            assert_eq!(Attribute::decode(attr.ty(), &value, &id), Ok(*attr));
        }
        // All in one message (the trailers last, in their required order).
        let mut b = MessageBuilder::new(MessageType::BINDING_REQUEST, id);
        attrs.iter().for_each(|a| {
            b.add(a);
        });
        let bytes = b.finish();
        let msg = Message::parse(&bytes).unwrap();
        let decoded: Vec<_> = msg.attributes().map(Result::unwrap).collect();
        assert_eq!(decoded, attrs);
        assert_eq!(
            msg.unknown_comprehension_required(),
            Vec::<AttributeType>::new()
        );
        assert!(format!("{msg:?}").contains("XorRelayedAddress"));
    }
}

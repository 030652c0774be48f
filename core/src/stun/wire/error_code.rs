//! ERROR-CODE (RFC 8489 §14.8) and UNKNOWN-ATTRIBUTES (RFC 8489 §14.13): what an error
//! response says went wrong.

use core::fmt;

use super::reader::Reader;
use super::text::{MAX_TEXT_LEN, text};
use crate::stun::{AttributeType, DecodeError};

/// An error code and its reason phrase (RFC 8489 §14.8).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ErrorCode<'a> {
    /// The numeric code, 300..=699.
    pub code: u16,
    /// A human-readable phrase (UTF-8, fewer than 128 characters).
    pub reason: &'a str,
}

impl ErrorCode<'static> {
    /// 300: the client should contact ALTERNATE-SERVER (RFC 8489 §10).
    pub const TRY_ALTERNATE: Self = Self::new(300, "Try Alternate");
    /// 400: the request was malformed.
    pub const BAD_REQUEST: Self = Self::new(400, "Bad Request");
    /// 401: missing or wrong credentials (RFC 8489 renamed "Unauthorized" to this).
    pub const UNAUTHENTICATED: Self = Self::new(401, "Unauthenticated");
    /// 401 under its RFC 5389 name; same value as [`UNAUTHENTICATED`](Self::UNAUTHENTICATED).
    pub const UNAUTHORIZED: Self = Self::UNAUTHENTICATED;
    /// 403: the request is not permitted (RFC 8656).
    pub const FORBIDDEN: Self = Self::new(403, "Forbidden");
    /// 420: a comprehension-required attribute was not understood; the response lists them in
    /// UNKNOWN-ATTRIBUTES (RFC 8489 §6.3.1).
    pub const UNKNOWN_ATTRIBUTE: Self = Self::new(420, "Unknown Attribute");
    /// 437: the request does not match the allocation (RFC 8656).
    pub const ALLOCATION_MISMATCH: Self = Self::new(437, "Allocation Mismatch");
    /// 438: the NONCE is no longer valid (RFC 8489 §9.2.5).
    pub const STALE_NONCE: Self = Self::new(438, "Stale Nonce");
    /// 440: the server does not support the requested address family (RFC 8656).
    pub const ADDRESS_FAMILY_NOT_SUPPORTED: Self = Self::new(440, "Address Family not Supported");
    /// 441: credentials differ from those of the allocation (RFC 8656).
    pub const WRONG_CREDENTIALS: Self = Self::new(441, "Wrong Credentials");
    /// 442: the requested transport is not supported (RFC 8656).
    pub const UNSUPPORTED_TRANSPORT_PROTOCOL: Self =
        Self::new(442, "Unsupported Transport Protocol");
    /// 443: the peer address family differs from the relayed address (RFC 8656).
    pub const PEER_ADDRESS_FAMILY_MISMATCH: Self = Self::new(443, "Peer Address Family Mismatch");
    /// 446: a TCP connection to the peer already exists (RFC 6062).
    pub const CONNECTION_ALREADY_EXISTS: Self = Self::new(446, "Connection Already Exists");
    /// 447: the TCP connection to the peer failed or timed out (RFC 6062).
    pub const CONNECTION_TIMEOUT_OR_FAILURE: Self = Self::new(447, "Connection Timeout or Failure");
    /// 486: the user has too many allocations (RFC 8656).
    pub const ALLOCATION_QUOTA_REACHED: Self = Self::new(486, "Allocation Quota Reached");
    /// 487: both ICE agents claimed the same role (RFC 8445 §7.3.1.1).
    pub const ROLE_CONFLICT: Self = Self::new(487, "Role Conflict");
    /// 500: a temporary server error.
    pub const SERVER_ERROR: Self = Self::new(500, "Server Error");
    /// 508: the server cannot carry out the request now (RFC 8656).
    pub const INSUFFICIENT_CAPACITY: Self = Self::new(508, "Insufficient Capacity");
}

impl<'a> ErrorCode<'a> {
    /// An error code with a reason phrase.
    pub const fn new(code: u16, reason: &'a str) -> Self {
        Self { code, reason }
    }

    /// RFC 8489 §14.8: the hundreds digit, 3..=6.
    pub fn class(&self) -> u8 {
        (self.code / 100) as u8
    }

    /// RFC 8489 §14.8: the code modulo 100.
    pub fn number(&self) -> u8 {
        (self.code % 100) as u8
    }

    /// Decodes an ERROR-CODE value (`ty` names the attribute in errors, as ADDRESS-ERROR-CODE
    /// shares the layout).
    pub(crate) fn decode(ty: AttributeType, r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        let head = r.u32().map_err(|_| DecodeError::BadAttributeLength {
            ty,
            len: r.remaining(),
        })?;
        let class = (head >> 8) & 0x7;
        let number = head & 0xFF;
        // RFC 8489 §14.8: "The Class ... MUST be between 3 and 6", "the Number ... MUST be
        // between 0 and 99".
        if !(3..=6).contains(&class) || number > 99 {
            return Err(DecodeError::BadValue {
                ty,
                what: "error class must be 3..=6 and number 0..=99",
            });
        }
        let reason = text(ty, r.rest(), MAX_TEXT_LEN)?;
        Ok(Self::new((class * 100 + number) as u16, reason))
    }

    /// Appends the 4-byte code field (with `high` in the top 16 bits) and the reason.
    pub(crate) fn encode(&self, high: u16, out: &mut Vec<u8>) {
        out.extend_from_slice(&high.to_be_bytes());
        out.push(self.class() & 0x7);
        out.push(self.number());
        out.extend_from_slice(self.reason.as_bytes());
    }
}

impl fmt::Display for ErrorCode<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.code, self.reason)
    }
}

/// The attribute types an error response lists as not understood (RFC 8489 §14.13).
///
/// Decoded messages borrow the wire bytes; senders build one from a slice with
/// [`UnknownAttributes::new`].
#[derive(Clone, Copy)]
pub struct UnknownAttributes<'a>(Repr<'a>);

#[derive(Clone, Copy)]
enum Repr<'a> {
    /// Validated: an even number of bytes.
    Wire(&'a [u8]),
    List(&'a [AttributeType]),
}

impl<'a> UnknownAttributes<'a> {
    /// A list to send.
    pub fn new(types: &'a [AttributeType]) -> Self {
        Self(Repr::List(types))
    }

    /// The listed types in order.
    pub fn iter(&self) -> impl Iterator<Item = AttributeType> + 'a {
        let (wire, list): (&'a [u8], &'a [AttributeType]) = match self.0 {
            Repr::Wire(bytes) => (bytes, &[]),
            Repr::List(list) => (&[], list),
        };
        wire.chunks_exact(2)
            .map(|c| AttributeType(u16::from_be_bytes([c[0], c[1]])))
            .chain(list.iter().copied())
    }

    /// Number of listed types.
    pub fn len(&self) -> usize {
        match self.0 {
            Repr::Wire(bytes) => bytes.len() / 2,
            Repr::List(list) => list.len(),
        }
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub(crate) fn decode(value: &'a [u8]) -> Result<Self, DecodeError> {
        // RFC 8489 §14.13: a list of 16-bit values; RFC 3489's trick of repeating one to
        // reach a multiple of 4 is gone, so an odd byte count is malformed.
        if value.len() % 2 != 0 {
            return Err(DecodeError::BadAttributeLength {
                ty: AttributeType::UNKNOWN_ATTRIBUTES,
                len: value.len(),
            });
        }
        Ok(Self(Repr::Wire(value)))
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        for ty in self.iter() {
            out.extend_from_slice(&ty.0.to_be_bytes());
        }
    }
}

impl PartialEq for UnknownAttributes<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for UnknownAttributes<'_> {}

impl fmt::Debug for UnknownAttributes<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_code_layout() {
        let mut out = Vec::new();
        ErrorCode::UNKNOWN_ATTRIBUTE.encode(0, &mut out);
        assert_eq!(&out[..4], &[0, 0, 4, 20]);
        assert_eq!(&out[4..], b"Unknown Attribute");
        let ty = AttributeType::ERROR_CODE;
        let decoded = ErrorCode::decode(ty, &mut Reader::new(&out)).unwrap();
        assert_eq!(decoded, ErrorCode::UNKNOWN_ATTRIBUTE);
        assert_eq!(decoded.to_string(), "420 Unknown Attribute");
        // Class 7 and number 100 are outside the RFC's ranges.
        for bad in [[0, 0, 7, 0], [0, 0, 4, 100], [0, 0, 2, 0]] {
            let err = ErrorCode::decode(ty, &mut Reader::new(&bad)).unwrap_err();
            assert!(matches!(err, DecodeError::BadValue { .. }), "{err}");
        }
        assert!(ErrorCode::decode(ty, &mut Reader::new(&[0, 0, 4])).is_err());
        assert!(ErrorCode::decode(ty, &mut Reader::new(&[0, 0, 4, 0, 0xff])).is_err());
    }

    #[test]
    fn unknown_attributes_list() {
        let list = [AttributeType(0x0002), AttributeType(0x7fff)];
        let mut out = Vec::new();
        UnknownAttributes::new(&list).encode(&mut out);
        assert_eq!(out, [0x00, 0x02, 0x7f, 0xff]);
        let decoded = UnknownAttributes::decode(&out).unwrap();
        assert_eq!(decoded, UnknownAttributes::new(&list));
        assert_eq!(decoded.len(), 2);
        assert!(UnknownAttributes::decode(&out[..3]).is_err());
        assert!(UnknownAttributes::decode(&[]).unwrap().is_empty());
    }
}

//! Value types of RFC 8656 (TURN) attributes that are more than one integer:
//! ADDRESS-ERROR-CODE (§18.12) and ICMP (§18.13).

use super::reader::Reader;
use crate::stun::{AttributeType, DecodeError, ErrorCode};

/// RFC 8656 §18.6 / §18.11: the family byte of REQUESTED-ADDRESS-FAMILY and
/// ADDITIONAL-ADDRESS-FAMILY for IPv4.
pub const FAMILY_IPV4: u8 = 0x01;
/// The family byte for IPv6.
pub const FAMILY_IPV6: u8 = 0x02;

/// ADDRESS-ERROR-CODE (RFC 8656 §18.12): why the server could not allocate a relayed address
/// of one family while a dual allocation otherwise succeeded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AddressErrorCode<'a> {
    /// 0x01 IPv4, 0x02 IPv6.
    pub family: u8,
    /// The error for that family.
    pub error: ErrorCode<'a>,
}

impl<'a> AddressErrorCode<'a> {
    pub(crate) fn decode(value: &'a [u8]) -> Result<Self, DecodeError> {
        let ty = AttributeType::ADDRESS_ERROR_CODE;
        let family = *value
            .first()
            .ok_or(DecodeError::BadAttributeLength { ty, len: 0 })?;
        // The family sits where ERROR-CODE has its first reserved byte.
        let error = ErrorCode::decode(ty, &mut Reader::new(value))?;
        Ok(Self { family, error })
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        self.error.encode(u16::from(self.family) << 8, out);
    }
}

/// ICMP (RFC 8656 §18.13): an ICMP error the relay received for the allocation, carried in a
/// Data indication.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Icmp {
    /// ICMP type.
    pub icmp_type: u8,
    /// ICMP code.
    pub code: u8,
    /// Error data (e.g. the MTU for "fragmentation needed"), zero if none.
    pub error_data: u32,
}

impl Icmp {
    pub(crate) fn decode(value: &[u8]) -> Result<Self, DecodeError> {
        let bad_len = DecodeError::BadAttributeLength {
            ty: AttributeType::ICMP,
            len: value.len(),
        };
        if value.len() != 8 {
            return Err(bad_len);
        }
        let mut r = Reader::new(value);
        let _reserved = r.u16()?;
        Ok(Self {
            icmp_type: r.u8()?,
            code: r.u8()?,
            error_data: r.u32()?,
        })
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&[0, 0, self.icmp_type, self.code]);
        out.extend_from_slice(&self.error_data.to_be_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_error_code() {
        let value = AddressErrorCode {
            family: FAMILY_IPV6,
            error: ErrorCode::ADDRESS_FAMILY_NOT_SUPPORTED,
        };
        let mut out = Vec::new();
        value.encode(&mut out);
        assert_eq!(&out[..4], &[2, 0, 4, 40]);
        assert_eq!(AddressErrorCode::decode(&out), Ok(value));
        assert!(AddressErrorCode::decode(&[]).is_err());
        assert!(AddressErrorCode::decode(&[1, 0, 9, 0]).is_err());
    }

    #[test]
    fn icmp() {
        let value = Icmp {
            icmp_type: 3,
            code: 4,
            error_data: 1400,
        };
        let mut out = Vec::new();
        value.encode(&mut out);
        assert_eq!(out, [0, 0, 3, 4, 0, 0, 0x05, 0x78]);
        assert_eq!(Icmp::decode(&out), Ok(value));
        assert!(Icmp::decode(&out[..7]).is_err());
    }
}

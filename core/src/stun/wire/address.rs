//! Transport address values: MAPPED-ADDRESS layout (RFC 8489 §14.1) and its XOR-obfuscated
//! form (RFC 8489 §14.2), shared by every address attribute of RFC 8489, RFC 8656 and RFC 5780.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use super::reader::Reader;
use crate::stun::{AttributeType, DecodeError, MAGIC_COOKIE, TransactionId};

const FAMILY_IPV4: u8 = 0x01;
const FAMILY_IPV6: u8 = 0x02;

/// RFC 8489 §14.2: the port is XORed with the cookie's 16 most significant bits, an IPv4
/// address with the cookie, an IPv6 address with the cookie followed by the transaction id.
fn xor_mask(id: &TransactionId) -> [u8; 16] {
    let mut mask = [0; 16];
    mask[..4].copy_from_slice(&MAGIC_COOKIE.to_be_bytes());
    mask[4..].copy_from_slice(&id.0);
    mask
}

fn apply(addr: SocketAddr, id: &TransactionId) -> SocketAddr {
    let mask = xor_mask(id);
    let port = addr.port() ^ (MAGIC_COOKIE >> 16) as u16;
    let ip = match addr.ip() {
        IpAddr::V4(v4) => {
            let mut o = v4.octets();
            o.iter_mut().zip(&mask).for_each(|(b, m)| *b ^= m);
            IpAddr::V4(Ipv4Addr::from(o))
        }
        IpAddr::V6(v6) => {
            let mut o = v6.octets();
            o.iter_mut().zip(&mask).for_each(|(b, m)| *b ^= m);
            IpAddr::V6(Ipv6Addr::from(o))
        }
    };
    SocketAddr::new(ip, port)
}

/// Decodes a plain address value.
pub(crate) fn decode(ty: AttributeType, value: &[u8]) -> Result<SocketAddr, DecodeError> {
    let bad_len = DecodeError::BadAttributeLength {
        ty,
        len: value.len(),
    };
    let mut r = Reader::new(value);
    // RFC 8489 §14.1: the first byte "MUST be set to 0 and MUST be ignored by receivers".
    let _reserved = r.u8().map_err(|_| bad_len)?;
    let family = r.u8().map_err(|_| bad_len)?;
    let port = r.u16().map_err(|_| bad_len)?;
    let ip = match (family, r.remaining()) {
        (FAMILY_IPV4, 4) => IpAddr::V4(Ipv4Addr::from(*r.array::<4>()?)),
        (FAMILY_IPV6, 16) => IpAddr::V6(Ipv6Addr::from(*r.array::<16>()?)),
        (FAMILY_IPV4 | FAMILY_IPV6, _) => return Err(bad_len),
        (family, _) => return Err(DecodeError::BadAddressFamily { ty, family }),
    };
    Ok(SocketAddr::new(ip, port))
}

/// Decodes an XOR-obfuscated address value.
pub(crate) fn decode_xor(
    ty: AttributeType,
    value: &[u8],
    id: &TransactionId,
) -> Result<SocketAddr, DecodeError> {
    decode(ty, value).map(|addr| apply(addr, id))
}

/// Appends a plain address value.
pub(crate) fn encode(addr: SocketAddr, out: &mut Vec<u8>) {
    out.push(0);
    match addr.ip() {
        IpAddr::V4(v4) => {
            out.push(FAMILY_IPV4);
            out.extend_from_slice(&addr.port().to_be_bytes());
            out.extend_from_slice(&v4.octets());
        }
        IpAddr::V6(v6) => {
            out.push(FAMILY_IPV6);
            out.extend_from_slice(&addr.port().to_be_bytes());
            out.extend_from_slice(&v6.octets());
        }
    }
}

/// Appends an XOR-obfuscated address value.
pub(crate) fn encode_xor(addr: SocketAddr, id: &TransactionId, out: &mut Vec<u8>) {
    encode(apply(addr, id), out);
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: TransactionId = TransactionId([
        0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae,
    ]);

    #[test]
    fn rfc5769_xor_values() {
        // RFC 5769 §2.2 / §2.3: 192.0.2.1:32853 and [2001:db8:1234:5678:11:2233:4455:6677]:32853.
        let v4 = [0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43];
        let addr: SocketAddr = "192.0.2.1:32853".parse().unwrap();
        assert_eq!(
            decode_xor(AttributeType::XOR_MAPPED_ADDRESS, &v4, &ID),
            Ok(addr)
        );
        let mut out = Vec::new();
        encode_xor(addr, &ID, &mut out);
        assert_eq!(out, v4);
        let v6 = [
            0x00, 0x02, 0xa1, 0x47, 0x01, 0x13, 0xa9, 0xfa, 0xa5, 0xd3, 0xf1, 0x79, 0xbc, 0x25,
            0xf4, 0xb5, 0xbe, 0xd2, 0xb9, 0xd9,
        ];
        let addr: SocketAddr = "[2001:db8:1234:5678:11:2233:4455:6677]:32853"
            .parse()
            .unwrap();
        assert_eq!(
            decode_xor(AttributeType::XOR_MAPPED_ADDRESS, &v6, &ID),
            Ok(addr)
        );
        out.clear();
        encode_xor(addr, &ID, &mut out);
        assert_eq!(out, v6);
    }

    #[test]
    fn malformed_addresses() {
        let ty = AttributeType::MAPPED_ADDRESS;
        assert_eq!(
            decode(ty, &[0, 3, 0, 1, 1, 2, 3, 4]),
            Err(DecodeError::BadAddressFamily { ty, family: 3 })
        );
        // An IPv4 family with an IPv6-sized address, and the reverse, and truncation.
        assert!(decode(ty, &[0, 1, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8]).is_err());
        assert!(decode(ty, &[0, 2, 0, 1, 1, 2, 3, 4]).is_err());
        assert!(decode(ty, &[0, 1, 0]).is_err());
        assert!(decode(ty, &[]).is_err());
        // The reserved byte is ignored.
        assert_eq!(
            decode(ty, &[0xff, 1, 0, 80, 10, 0, 0, 1]),
            Ok("10.0.0.1:80".parse().unwrap())
        );
    }
}

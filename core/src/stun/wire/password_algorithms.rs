//! PASSWORD-ALGORITHMS (RFC 8489 §14.11) and PASSWORD-ALGORITHM (§14.12): which key
//! derivations a server offers and which one a client picked.

use core::fmt;

use super::reader::Reader;
use crate::stun::{AttributeType, DecodeError, PasswordAlgorithm};

/// Reads one `algorithm, parameters length, parameters, padding` entry.
fn entry<'a>(r: &mut Reader<'a>) -> Result<(PasswordAlgorithm, &'a [u8]), DecodeError> {
    let alg = PasswordAlgorithm::from_u16(r.u16()?);
    let len = usize::from(r.u16()?);
    let params = r.take(len)?;
    // RFC 8489 §14.11: parameters are padded to a 32-bit boundary.
    r.take((4 - len % 4) % 4)?;
    Ok((alg, params))
}

fn write_entry(alg: PasswordAlgorithm, out: &mut Vec<u8>) {
    // MD5 and SHA-256 take no parameters (RFC 8489 §18.5).
    out.extend_from_slice(&alg.to_u16().to_be_bytes());
    out.extend_from_slice(&0u16.to_be_bytes());
}

/// Decodes a PASSWORD-ALGORITHM value. Parameters (none are defined for MD5 or SHA-256) are
/// skipped.
pub(crate) fn decode_one(value: &[u8]) -> Result<PasswordAlgorithm, DecodeError> {
    let mut r = Reader::new(value);
    let bad_len = DecodeError::BadAttributeLength {
        ty: AttributeType::PASSWORD_ALGORITHM,
        len: value.len(),
    };
    let (alg, _params) = entry(&mut r).map_err(|_| bad_len)?;
    if !r.is_empty() {
        return Err(bad_len);
    }
    Ok(alg)
}

/// Appends a PASSWORD-ALGORITHM value.
pub(crate) fn encode_one(alg: PasswordAlgorithm, out: &mut Vec<u8>) {
    write_entry(alg, out);
}

/// The list of algorithms a server offers, in its order of preference (RFC 8489 §14.11).
///
/// A decoded list borrows the wire bytes and re-encodes them verbatim (RFC 8489 §9.2.4: the
/// client echoes the list unchanged); [`PasswordAlgorithms::new`] builds one to send.
#[derive(Clone, Copy)]
pub struct PasswordAlgorithms<'a>(Repr<'a>);

#[derive(Clone, Copy)]
enum Repr<'a> {
    /// Validated entries.
    Wire(&'a [u8]),
    List(&'a [PasswordAlgorithm]),
}

impl<'a> PasswordAlgorithms<'a> {
    /// A list to send.
    pub fn new(algorithms: &'a [PasswordAlgorithm]) -> Self {
        Self(Repr::List(algorithms))
    }

    /// The algorithms in order.
    pub fn iter(&self) -> impl Iterator<Item = PasswordAlgorithm> + 'a {
        let (wire, list): (&'a [u8], &'a [PasswordAlgorithm]) = match self.0 {
            Repr::Wire(bytes) => (bytes, &[]),
            Repr::List(list) => (&[], list),
        };
        let mut r = Reader::new(wire);
        core::iter::from_fn(move || entry(&mut r).ok().map(|(alg, _)| alg))
            .chain(list.iter().copied())
    }

    /// Whether `alg` is offered.
    pub fn contains(&self, alg: PasswordAlgorithm) -> bool {
        self.iter().any(|a| a == alg)
    }

    pub(crate) fn decode(value: &'a [u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(value);
        while !r.is_empty() {
            entry(&mut r).map_err(|_| DecodeError::BadAttributeLength {
                ty: AttributeType::PASSWORD_ALGORITHMS,
                len: value.len(),
            })?;
        }
        Ok(Self(Repr::Wire(value)))
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        match self.0 {
            Repr::Wire(bytes) => out.extend_from_slice(bytes),
            Repr::List(list) => list.iter().for_each(|&alg| write_entry(alg, out)),
        }
    }
}

impl PartialEq for PasswordAlgorithms<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for PasswordAlgorithms<'_> {}

impl fmt::Debug for PasswordAlgorithms<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_round_trip() {
        let offer = [PasswordAlgorithm::Sha256, PasswordAlgorithm::Md5];
        let mut out = Vec::new();
        PasswordAlgorithms::new(&offer).encode(&mut out);
        assert_eq!(out, [0, 2, 0, 0, 0, 1, 0, 0]);
        let decoded = PasswordAlgorithms::decode(&out).unwrap();
        assert_eq!(decoded, PasswordAlgorithms::new(&offer));
        assert!(decoded.contains(PasswordAlgorithm::Md5));
        assert!(!decoded.contains(PasswordAlgorithm::Unknown(3)));
    }

    #[test]
    fn parameters_are_kept_on_the_wire() {
        // An unknown algorithm with 3 bytes of parameters and one byte of padding.
        let wire = [0, 9, 0, 3, 1, 2, 3, 0, 0, 2, 0, 0];
        let decoded = PasswordAlgorithms::decode(&wire).unwrap();
        let algs: Vec<_> = decoded.iter().collect();
        assert_eq!(
            algs,
            [PasswordAlgorithm::Unknown(9), PasswordAlgorithm::Sha256]
        );
        let mut out = Vec::new();
        decoded.encode(&mut out);
        assert_eq!(out, wire);
        // Missing padding, truncated parameters.
        assert!(PasswordAlgorithms::decode(&wire[..7]).is_err());
        assert!(PasswordAlgorithms::decode(&wire[..6]).is_err());
    }

    #[test]
    fn single_algorithm() {
        let mut out = Vec::new();
        encode_one(PasswordAlgorithm::Sha256, &mut out);
        assert_eq!(decode_one(&out), Ok(PasswordAlgorithm::Sha256));
        assert!(decode_one(&[0, 1]).is_err());
        assert!(decode_one(&[0, 1, 0, 0, 0, 2, 0, 0]).is_err());
        assert_eq!(
            decode_one(&[0, 7, 0, 1, 9, 0, 0, 0]),
            Ok(PasswordAlgorithm::Unknown(7))
        );
    }
}

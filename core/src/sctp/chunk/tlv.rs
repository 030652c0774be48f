//! Type-length-value framing shared by chunk parameters (RFC 9260 §3.2.1) and error causes
//! (RFC 9260 §3.3.10): a 16-bit type, a 16-bit length counting the 4-byte header and the value
//! but not the padding, the value, then zero padding to a multiple of four.

use super::{Error, padded, read_u16};

/// Bytes of a parameter or error-cause header.
const TLV_HEADER_LEN: usize = 4;

/// A parameter or error cause that can be written as a TLV.
pub(super) trait Tlv {
    /// The type (parameter) or code (cause).
    fn code(&self) -> u16;
    /// Bytes of the value, without header or padding.
    fn value_len(&self) -> usize;
    /// Appends the value.
    fn encode_value(&self, out: &mut Vec<u8>);
}

/// Bytes `items` take in a chunk. RFC 9260 §3.2: the chunk length includes the padding of every
/// parameter except the last, whose padding is chunk padding.
pub(super) fn list_len<T: Tlv>(items: &[T]) -> usize {
    let mut len = 0;
    for item in items {
        len = padded(len) + TLV_HEADER_LEN + item.value_len();
    }
    len
}

/// Appends `items`, padding each but the last (see [`list_len`]).
pub(super) fn encode_list<T: Tlv>(items: &[T], out: &mut Vec<u8>) {
    let start = out.len();
    for item in items {
        out.resize(start + padded(out.len() - start), 0);
        let length = TLV_HEADER_LEN + item.value_len();
        out.extend_from_slice(&item.code().to_be_bytes());
        out.extend_from_slice(&u16::try_from(length).unwrap_or(u16::MAX).to_be_bytes());
        item.encode_value(out);
    }
}

/// Decodes a list of TLVs filling `bytes`, each with `parse(type, value)`. The last one may
/// come without its padding.
pub(super) fn parse_list<'a, T>(
    mut bytes: &'a [u8],
    what: &'static str,
    parse: impl Fn(u16, &'a [u8]) -> Result<T, Error>,
) -> Result<Vec<T>, Error> {
    // Each TLV takes at least four bytes of the input, so the list is bounded by it.
    let mut items = Vec::new();
    while !bytes.is_empty() {
        let code = read_u16(bytes, 0, what)?;
        let length = usize::from(read_u16(bytes, 2, what)?);
        if length < TLV_HEADER_LEN {
            return Err(Error::InvalidLength { what, length });
        }
        let value = bytes
            .get(TLV_HEADER_LEN..length)
            .ok_or(Error::Truncated { what })?;
        items.push(parse(code, value)?);
        bytes = bytes.get(padded(length)..).unwrap_or(&[]);
    }
    Ok(items)
}

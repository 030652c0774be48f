//! A bounded reader over a handshake body and the length-prefixed writers that mirror it
//! (the TLS presentation language of RFC 5246 §4: `<0..2^8-1>`, `<0..2^16-1>`, `<0..2^24-1>`).

/// Why a handshake message did not parse. Each maps to the decode_error alert
/// (RFC 5246 §7.2.2) except where noted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeError {
    /// Ran out of bytes.
    Truncated,
    /// Bytes left over after the last field.
    TrailingBytes,
    /// A field holds a value the specification forbids (wrong length, zero where non-zero
    /// is required, a duplicated extension).
    Invalid(&'static str),
}

impl core::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            DecodeError::Truncated => f.write_str("handshake message truncated"),
            DecodeError::TrailingBytes => f.write_str("bytes after the handshake message"),
            DecodeError::Invalid(what) => write!(f, "invalid handshake field: {what}"),
        }
    }
}

impl core::error::Error for DecodeError {}

/// Reads fields front to back; every read is bounds-checked.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    /// A reader over `bytes`.
    pub fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader { rest: bytes }
    }

    /// Bytes not read yet.
    pub fn remaining(&self) -> usize {
        self.rest.len()
    }

    /// The next `n` bytes.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if self.rest.len() < n {
            return Err(DecodeError::Truncated);
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    /// A fixed-size array.
    pub fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    /// A uint8.
    pub fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?[0])
    }

    /// A uint16.
    pub fn u16(&mut self) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    /// A uint24.
    pub fn u24(&mut self) -> Result<u32, DecodeError> {
        let b: [u8; 3] = self.array()?;
        Ok(u32::from_be_bytes([0, b[0], b[1], b[2]]))
    }

    /// An opaque vector with a one-byte length.
    pub fn vec8(&mut self) -> Result<&'a [u8], DecodeError> {
        let n = self.u8()?;
        self.take(usize::from(n))
    }

    /// An opaque vector with a two-byte length.
    pub fn vec16(&mut self) -> Result<&'a [u8], DecodeError> {
        let n = self.u16()?;
        self.take(usize::from(n))
    }

    /// An opaque vector with a three-byte length.
    pub fn vec24(&mut self) -> Result<&'a [u8], DecodeError> {
        let n = self.u24()?;
        // A u24 fits a usize on every target pigeon supports (>= 32 bit).
        self.take(usize::try_from(n).map_err(|_| DecodeError::Truncated)?)
    }

    /// A list of uint16 with a two-byte length in bytes, which must be even.
    pub fn u16_list(&mut self) -> Result<Vec<u16>, DecodeError> {
        let bytes = self.vec16()?;
        if bytes.len() % 2 != 0 {
            return Err(DecodeError::Invalid("odd length of a uint16 list"));
        }
        Ok(bytes
            .chunks_exact(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect())
    }

    /// Fails unless everything was read.
    pub fn finish(self) -> Result<(), DecodeError> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(DecodeError::TrailingBytes)
        }
    }
}

/// Appends a uint24 (the low 24 bits of `v`).
pub fn put_u24(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_be_bytes()[1..]);
}

/// Appends `bytes` with a one-byte length; callers keep `bytes` under 256.
pub fn put_vec8(out: &mut Vec<u8>, bytes: &[u8]) {
    out.push(u8::try_from(bytes.len()).unwrap_or(u8::MAX));
    out.extend_from_slice(&bytes[..bytes.len().min(255)]);
}

/// Appends `bytes` with a two-byte length; callers keep `bytes` under 65536.
pub fn put_vec16(out: &mut Vec<u8>, bytes: &[u8]) {
    let n = bytes.len().min(usize::from(u16::MAX));
    out.extend_from_slice(&(n as u16).to_be_bytes());
    out.extend_from_slice(&bytes[..n]);
}

/// Appends `bytes` with a three-byte length; callers keep `bytes` under 2^24.
pub fn put_vec24(out: &mut Vec<u8>, bytes: &[u8]) {
    let n = bytes.len().min((1 << 24) - 1);
    put_u24(out, n as u32);
    out.extend_from_slice(&bytes[..n]);
}

/// Appends a list of uint16 with a two-byte length in bytes.
pub fn put_u16_list(out: &mut Vec<u8>, list: &[u16]) {
    let n = (list.len() * 2).min(usize::from(u16::MAX) - 1);
    out.extend_from_slice(&(n as u16).to_be_bytes());
    for v in &list[..n / 2] {
        out.extend_from_slice(&v.to_be_bytes());
    }
}

/// Writes what `body` appends, preceded by its two-byte length.
pub fn with_len16(out: &mut Vec<u8>, body: impl FnOnce(&mut Vec<u8>)) {
    let at = out.len();
    out.extend_from_slice(&[0, 0]);
    body(out);
    let n = u16::try_from(out.len() - at - 2).unwrap_or(u16::MAX);
    out[at..at + 2].copy_from_slice(&n.to_be_bytes());
}

/// Writes what `body` appends, preceded by its three-byte length.
pub fn with_len24(out: &mut Vec<u8>, body: impl FnOnce(&mut Vec<u8>)) {
    let at = out.len();
    out.extend_from_slice(&[0, 0, 0]);
    body(out);
    let n = u32::try_from(out.len() - at - 3).unwrap_or(u32::MAX);
    out[at..at + 3].copy_from_slice(&n.to_be_bytes()[1..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reader_bounds_and_lists() {
        let mut out = Vec::new();
        put_u24(&mut out, 0x010203);
        put_vec8(&mut out, b"ab");
        put_u16_list(&mut out, &[1, 0xfffe]);
        with_len24(&mut out, |o| put_vec16(o, b"xyz"));
        let mut r = Reader::new(&out);
        assert_eq!(r.u24(), Ok(0x010203));
        assert_eq!(r.vec8(), Ok(&b"ab"[..]));
        assert_eq!(r.u16_list(), Ok(vec![1, 0xfffe]));
        let inner = r.vec24().unwrap();
        assert_eq!(Reader::new(inner).vec16(), Ok(&b"xyz"[..]));
        assert_eq!(r.finish(), Ok(()));

        assert_eq!(Reader::new(&[5, 1]).vec8(), Err(DecodeError::Truncated));
        assert!(Reader::new(&[0, 3, 1, 2, 3]).u16_list().is_err());
        assert_eq!(Reader::new(&[1]).finish(), Err(DecodeError::TrailingBytes));
    }
}

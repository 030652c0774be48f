//! A bounded reader over a borrowed byte slice: every read checks the remaining length and
//! returns [`DecodeError::Truncated`] instead of panicking.

use crate::stun::DecodeError;

/// A cursor over `&'a [u8]` whose reads hand out sub-slices of the input (zero-copy).
#[derive(Clone, Copy, Debug)]
pub struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    /// A reader over all of `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Self { buf }
    }

    /// Bytes not read yet.
    pub fn remaining(&self) -> usize {
        self.buf.len()
    }

    /// Whether everything has been read.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// The unread bytes, consuming them.
    pub fn rest(&mut self) -> &'a [u8] {
        core::mem::take(&mut self.buf)
    }

    /// The next `n` bytes.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if n > self.buf.len() {
            return Err(DecodeError::Truncated);
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }

    /// A reader over the next `len` bytes; this reader moves past them.
    pub fn sub(&mut self, len: usize) -> Result<Reader<'a>, DecodeError> {
        self.take(len).map(Reader::new)
    }

    /// The next `N` bytes as an array reference.
    pub fn array<const N: usize>(&mut self) -> Result<&'a [u8; N], DecodeError> {
        let bytes = self.take(N)?;
        // NOTE(unwrap): `take(N)` returned exactly N bytes.
        Ok(bytes.try_into().expect("take returned N bytes"))
    }

    /// One byte.
    pub fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.array::<1>()?[0])
    }

    /// A big-endian u16.
    pub fn u16(&mut self) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(*self.array()?))
    }

    /// A big-endian u32.
    pub fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(*self.array()?))
    }

    /// A big-endian u64.
    pub fn u64(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_be_bytes(*self.array()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_are_bounded() {
        let mut r = Reader::new(&[1, 2, 3, 4, 5, 6, 7]);
        assert_eq!(r.u16(), Ok(0x0102));
        let mut sub = r.sub(3).unwrap();
        assert_eq!(sub.u8(), Ok(3));
        assert_eq!(sub.u32(), Err(DecodeError::Truncated));
        assert_eq!(sub.u16(), Ok(0x0405));
        assert!(sub.is_empty());
        assert_eq!(r.remaining(), 2);
        assert_eq!(r.sub(3).map(|_| ()), Err(DecodeError::Truncated));
        assert_eq!(r.u64(), Err(DecodeError::Truncated));
        assert_eq!(r.array::<2>(), Ok(&[6, 7]));
        assert_eq!(r.take(1), Err(DecodeError::Truncated));
        assert_eq!(r.rest(), &[] as &[u8]);
    }
}

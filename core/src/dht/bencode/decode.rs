//! The bencode reader: zero-copy, bounded, never panics.

use core::fmt;

use super::Value;

/// Bounds on what one decode may build.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Deepest nesting of lists and dictionaries (the top level counts as 1).
    pub max_depth: usize,
    /// Most values (of any kind, at any depth) in one document.
    pub max_values: usize,
    /// Longest input accepted, in bytes.
    pub max_len: usize,
    /// Reject dictionaries whose keys are not sorted and unique (BEP 3 canonical form) and
    /// string lengths with leading zeros. Integers are always checked for canonical form.
    pub strict: bool,
}

impl Default for Limits {
    /// Enough for any KRPC message: 16 levels, 4,096 values, 64 KiB, strict.
    fn default() -> Limits {
        Limits {
            max_depth: 16,
            max_values: 4096,
            max_len: 65_536,
            strict: true,
        }
    }
}

/// Why a document was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeError {
    /// The input ended inside a value.
    UnexpectedEnd,
    /// A byte that cannot start or continue a value at this offset.
    UnexpectedByte(usize),
    /// An integer that is not canonical (leading zero, `-0`, empty) or does not fit in i64.
    BadInteger(usize),
    /// A string length that is not canonical or exceeds the input.
    BadLength(usize),
    /// Dictionary keys out of order or repeated (strict mode).
    UnsortedKeys(usize),
    /// Nesting deeper than [`Limits::max_depth`].
    TooDeep,
    /// More values than [`Limits::max_values`], or input longer than [`Limits::max_len`].
    TooLarge,
    /// Bytes left over after the top-level value.
    TrailingBytes(usize),
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::UnexpectedEnd => write!(f, "input ends inside a value"),
            DecodeError::UnexpectedByte(at) => write!(f, "unexpected byte at offset {at}"),
            DecodeError::BadInteger(at) => write!(f, "non-canonical integer at offset {at}"),
            DecodeError::BadLength(at) => write!(f, "bad string length at offset {at}"),
            DecodeError::UnsortedKeys(at) => write!(f, "unsorted or repeated key at offset {at}"),
            DecodeError::TooDeep => write!(f, "nesting too deep"),
            DecodeError::TooLarge => write!(f, "document too large"),
            DecodeError::TrailingBytes(at) => write!(f, "trailing bytes at offset {at}"),
        }
    }
}

impl core::error::Error for DecodeError {}

/// Decodes one complete document with the default (strict) [`Limits`].
pub fn decode(input: &[u8]) -> Result<Value<'_>, DecodeError> {
    decode_with(input, Limits::default())
}

/// Decodes one complete document: the whole input must be exactly one value.
pub fn decode_with(input: &[u8], limits: Limits) -> Result<Value<'_>, DecodeError> {
    if input.len() > limits.max_len {
        return Err(DecodeError::TooLarge);
    }
    let mut reader = Reader {
        input,
        pos: 0,
        values: 0,
        limits,
    };
    let value = reader.value(1)?;
    if reader.pos != input.len() {
        return Err(DecodeError::TrailingBytes(reader.pos));
    }
    Ok(value)
}

struct Reader<'a> {
    input: &'a [u8],
    pos: usize,
    values: usize,
    limits: Limits,
}

impl<'a> Reader<'a> {
    fn peek(&self) -> Result<u8, DecodeError> {
        self.input
            .get(self.pos)
            .copied()
            .ok_or(DecodeError::UnexpectedEnd)
    }

    fn value(&mut self, depth: usize) -> Result<Value<'a>, DecodeError> {
        self.values += 1;
        if self.values > self.limits.max_values {
            return Err(DecodeError::TooLarge);
        }
        match self.peek()? {
            b'i' => {
                self.pos += 1;
                self.integer().map(Value::Int)
            }
            b'0'..=b'9' => self.bytes().map(Value::Bytes),
            b'l' => {
                self.enter(depth)?;
                let mut items = Vec::new();
                while self.peek()? != b'e' {
                    items.push(self.value(depth + 1)?);
                }
                self.pos += 1;
                Ok(Value::List(items))
            }
            b'd' => {
                self.enter(depth)?;
                let mut entries: Vec<(&'a [u8], Value<'a>)> = Vec::new();
                while self.peek()? != b'e' {
                    let at = self.pos;
                    if !self.peek()?.is_ascii_digit() {
                        return Err(DecodeError::UnexpectedByte(at));
                    }
                    let key = self.bytes()?;
                    if self.limits.strict && entries.last().is_some_and(|(prev, _)| *prev >= key) {
                        // BEP 3: "Keys must be strings and appear in sorted order".
                        return Err(DecodeError::UnsortedKeys(at));
                    }
                    let item = self.value(depth + 1)?;
                    entries.push((key, item));
                }
                self.pos += 1;
                Ok(Value::Dict(entries))
            }
            _ => Err(DecodeError::UnexpectedByte(self.pos)),
        }
    }

    fn enter(&mut self, depth: usize) -> Result<(), DecodeError> {
        if depth > self.limits.max_depth {
            return Err(DecodeError::TooDeep);
        }
        self.pos += 1;
        Ok(())
    }

    /// Reads the digits of `i...e` after the `i`. BEP 3: "i-0e is invalid. All encodings with a
    /// leading zero, such as i03e, are invalid, other than i0e".
    fn integer(&mut self) -> Result<i64, DecodeError> {
        let start = self.pos;
        let rest = &self.input[start..];
        let end = rest
            .iter()
            .position(|&b| b == b'e')
            .ok_or(DecodeError::UnexpectedEnd)?;
        let text = &rest[..end];
        let (negative, digits) = match text.split_first() {
            Some((b'-', digits)) => (true, digits),
            _ => (false, text),
        };
        let canonical = match digits {
            [] => false,
            [b'0'] => !negative,
            [first, ..] => *first != b'0',
        };
        if !canonical || !digits.iter().all(u8::is_ascii_digit) {
            return Err(DecodeError::BadInteger(start));
        }
        let mut n: i64 = 0;
        for &d in digits {
            let d = i64::from(d - b'0');
            n = n
                .checked_mul(10)
                .and_then(|n| {
                    if negative {
                        n.checked_sub(d)
                    } else {
                        n.checked_add(d)
                    }
                })
                .ok_or(DecodeError::BadInteger(start))?;
        }
        self.pos = start + end + 1;
        Ok(n)
    }

    fn bytes(&mut self) -> Result<&'a [u8], DecodeError> {
        let start = self.pos;
        let rest = &self.input[start..];
        let colon = rest
            .iter()
            .position(|&b| b == b':')
            .ok_or(DecodeError::UnexpectedEnd)?;
        let digits = &rest[..colon];
        if digits.is_empty()
            || !digits.iter().all(u8::is_ascii_digit)
            || (self.limits.strict && digits.len() > 1 && digits[0] == b'0')
            || digits.len() > 9
        {
            return Err(DecodeError::BadLength(start));
        }
        let len = digits
            .iter()
            .fold(0usize, |n, &d| n * 10 + usize::from(d - b'0'));
        let body = start + colon + 1;
        let end = body.checked_add(len).ok_or(DecodeError::BadLength(start))?;
        let value = self
            .input
            .get(body..end)
            .ok_or(DecodeError::BadLength(start))?;
        self.pos = end;
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Value, encode};
    use super::*;

    fn round_trip(text: &[u8]) -> Value<'_> {
        let value = decode(text).unwrap();
        let mut out = Vec::new();
        encode(&value, &mut out);
        assert_eq!(out, text);
        value
    }

    #[test]
    fn bep3_examples() {
        assert_eq!(round_trip(b"4:spam"), Value::Bytes(b"spam"));
        assert_eq!(round_trip(b"i3e"), Value::Int(3));
        assert_eq!(round_trip(b"i-3e"), Value::Int(-3));
        assert_eq!(round_trip(b"i0e"), Value::Int(0));
        assert_eq!(
            round_trip(b"l4:spam4:eggse"),
            Value::List(vec![Value::Bytes(b"spam"), Value::Bytes(b"eggs")])
        );
        let d = round_trip(b"d3:cow3:moo4:spam4:eggse");
        assert_eq!(d.get(b"cow"), Some(&Value::Bytes(b"moo")));
        let d = round_trip(b"d4:spaml1:a1:bee");
        assert_eq!(
            d.get(b"spam").and_then(Value::as_list).map(<[_]>::len),
            Some(2)
        );
        assert_eq!(round_trip(b"0:"), Value::Bytes(b""));
        assert_eq!(round_trip(b"de"), Value::Dict(vec![]));
        assert_eq!(round_trip(b"le"), Value::List(vec![]));
    }

    #[test]
    fn integers_must_be_canonical() {
        for bad in [
            &b"i-0e"[..],
            b"i03e",
            b"ie",
            b"i-e",
            b"i1-e",
            b"i--1e",
            b"i+1e",
            b"i1",
        ] {
            assert!(decode(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
        assert_eq!(round_trip(b"i9223372036854775807e"), Value::Int(i64::MAX));
        assert_eq!(round_trip(b"i-9223372036854775808e"), Value::Int(i64::MIN));
        assert_eq!(round_trip(b"i10e"), Value::Int(10));
        assert_eq!(round_trip(b"i-100e"), Value::Int(-100));
        assert!(matches!(
            decode(b"i9223372036854775808e"),
            Err(DecodeError::BadInteger(1))
        ));
    }

    #[test]
    fn strict_keys_sorted_and_unique() {
        assert_eq!(decode(b"d1:b0:1:a0:e"), Err(DecodeError::UnsortedKeys(6)));
        assert_eq!(decode(b"d1:a0:1:a0:e"), Err(DecodeError::UnsortedKeys(6)));
        let lenient = Limits {
            strict: false,
            ..Limits::default()
        };
        let v = decode_with(b"d1:bi1e1:ai2ee", lenient).unwrap();
        assert_eq!(v.get(b"a"), Some(&Value::Int(2)));
        // Re-encoding sorts the keys.
        assert_eq!(v.to_bytes(), b"d1:ai2e1:bi1ee");
        assert_eq!(decode(b"d01:a0:e"), Err(DecodeError::BadLength(1)));
        assert!(decode_with(b"d01:a0:e", lenient).is_ok());
    }

    #[test]
    fn bounds_hold() {
        let deep = [vec![b'l'; 17], vec![b'e'; 17]].concat();
        assert_eq!(decode(&deep), Err(DecodeError::TooDeep));
        let ok = [vec![b'l'; 16], vec![b'e'; 16]].concat();
        assert!(decode(&ok).is_ok());
        let many = [b"l".to_vec(), b"i1e".repeat(5000), b"e".to_vec()].concat();
        assert_eq!(decode(&many), Err(DecodeError::TooLarge));
        assert_eq!(decode(&vec![b'0'; 70_000]), Err(DecodeError::TooLarge));
    }

    #[test]
    fn malformed_inputs_are_errors() {
        for bad in [
            &b""[..],
            b"l",
            b"d",
            b"di1ei2ee",
            b"5:abc",
            b"4294967296:a",
            b"x",
            b"i1ei2e",
            b"d1:ae",
            b"1",
            b"1a:",
            b"-1:",
            b"9999999999:",
        ] {
            assert!(decode(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
        assert_eq!(decode(b"i1ei2e"), Err(DecodeError::TrailingBytes(3)));
    }

    #[test]
    fn pseudo_random_inputs_never_panic() {
        // A tiny xorshift walks through byte soups built from bencode's own alphabet.
        let alphabet = b"ilde0123456789:-ab";
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..20_000 {
            let mut buf = Vec::new();
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            for i in 0..(x % 24) {
                buf.push(alphabet[((x >> (i * 2)) % alphabet.len() as u64) as usize]);
            }
            if let Ok(v) = decode(&buf) {
                assert_eq!(v.to_bytes(), buf);
            }
        }
    }

    #[test]
    fn encoder_sorts_and_dedups_built_dicts() {
        let v = Value::Dict(vec![
            (b"z", Value::Int(1)),
            (b"a", Value::List(vec![Value::Bytes(b"x")])),
            (b"z", Value::Int(2)),
        ]);
        assert_eq!(v.to_bytes(), b"d1:al1:xe1:zi1ee");
        assert_eq!(decode(&v.to_bytes()).unwrap().to_bytes(), v.to_bytes());
        // Past the entries sorted on the stack: the same order, the first of a repeated key.
        let keys: Vec<[u8; 2]> = (0..40u8).map(|i| [b'a' + i % 20, b'0' + i / 20]).collect();
        let mut entries: Vec<(&[u8], Value<'_>)> = keys
            .iter()
            .rev()
            .enumerate()
            .map(|(n, k)| (&k[..], Value::Int(n as i64)))
            .collect();
        entries.push((b"a0", Value::Int(-1)));
        let bytes = Value::Dict(entries).to_bytes();
        let back = decode(&bytes).unwrap();
        let dict = back.as_dict().unwrap();
        assert_eq!(dict.len(), 40);
        assert!(dict.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(back.get(b"a0"), Some(&Value::Int(39)));
    }
}

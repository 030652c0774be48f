//! Bencoding (BEP 3): the wire format of KRPC.
//!
//! Decoding is zero-copy: byte strings and dictionary keys borrow from the input. The decoder
//! never panics, limits nesting depth and the number of values, and checks the canonical forms
//! BEP 3 asks for.

mod decode;
mod encode;

pub use decode::{DecodeError, Limits, decode, decode_with};
pub use encode::encode;

/// One bencoded value. Dictionaries keep their entries in wire order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value<'a> {
    /// `i<n>e`.
    Int(i64),
    /// `<len>:<bytes>`, borrowed from the input.
    Bytes(&'a [u8]),
    /// `l ... e`.
    List(Vec<Value<'a>>),
    /// `d ... e`: (key, value) pairs in the order they were decoded or built.
    Dict(Vec<(&'a [u8], Value<'a>)>),
}

impl<'a> Value<'a> {
    /// The value stored under `key` if this is a dictionary (the first one, should keys repeat).
    pub fn get(&self, key: &[u8]) -> Option<&Value<'a>> {
        match self {
            Value::Dict(entries) => entries.iter().find(|(k, _)| *k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The bytes if this is a byte string.
    pub fn as_bytes(&self) -> Option<&'a [u8]> {
        match self {
            Value::Bytes(b) => Some(b),
            _ => None,
        }
    }

    /// The integer if this is one.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(n) => Some(*n),
            _ => None,
        }
    }

    /// The items if this is a list.
    pub fn as_list(&self) -> Option<&[Value<'a>]> {
        match self {
            Value::List(items) => Some(items),
            _ => None,
        }
    }

    /// The entries if this is a dictionary.
    pub fn as_dict(&self) -> Option<&[(&'a [u8], Value<'a>)]> {
        match self {
            Value::Dict(entries) => Some(entries),
            _ => None,
        }
    }

    /// The bencoding of this value (dictionary keys sorted, as BEP 3 requires).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        encode(self, &mut out);
        out
    }
}

//! RE-CONFIG (RFC 6525 §3.1). Its parameters are [`Parameter`] variants (RFC 6525 §4).

use super::tlv::{encode_list, list_len, parse_list};
use super::{Error, Parameter, ParameterType};

/// RFC 6525 §4.4: the Result field of a Re-configuration Response, an open code point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ReconfigResult(pub u32);

impl ReconfigResult {
    /// Success - Nothing to do.
    pub const SUCCESS_NOTHING_TO_DO: Self = Self(0);
    /// Success - Performed.
    pub const SUCCESS_PERFORMED: Self = Self(1);
    /// Denied.
    pub const DENIED: Self = Self(2);
    /// Error - Wrong SSN.
    pub const ERROR_WRONG_SSN: Self = Self(3);
    /// Error - Request already in progress.
    pub const ERROR_REQUEST_IN_PROGRESS: Self = Self(4);
    /// Error - Bad Sequence Number.
    pub const ERROR_BAD_SEQUENCE_NUMBER: Self = Self(5);
    /// In progress.
    pub const IN_PROGRESS: Self = Self(6);
}

/// A RE-CONFIG chunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reconfig {
    /// RFC 6525 §3.1: one or two re-configuration parameters (requests or responses). Which
    /// combinations are allowed is checked by the association, not the codec.
    pub params: Vec<Parameter>,
}

impl Reconfig {
    pub(super) fn parse(value: &[u8]) -> Result<Self, Error> {
        Ok(Self {
            params: parse_list(value, "RE-CONFIG parameter", |t, v| {
                Parameter::parse(ParameterType(t), v)
            })?,
        })
    }

    pub(super) fn value_len(&self) -> usize {
        list_len(&self.params)
    }

    pub(super) fn encode_value(&self, out: &mut Vec<u8>) {
        encode_list(&self.params, out);
    }
}

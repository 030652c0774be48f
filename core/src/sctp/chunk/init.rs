//! INIT and INIT ACK (RFC 9260 §3.3.2, §3.3.3): the same fixed fields, then parameters.

use super::tlv::{encode_list, list_len, parse_list};
use super::{Error, Parameter, ParameterType, read_u16, read_u32};

/// Initiate tag, a_rwnd, outbound and inbound stream counts, initial TSN.
const FIXED_LEN: usize = 16;

/// The body of an INIT or INIT ACK chunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Init {
    /// The verification tag the sender expects in every packet it receives.
    pub initiate_tag: u32,
    /// Advertised receiver window credit, in bytes.
    pub a_rwnd: u32,
    /// Number of Outbound Streams the sender wants to open.
    pub outbound_streams: u16,
    /// Maximum Inbound Streams the sender accepts.
    pub inbound_streams: u16,
    /// The TSN of the sender's first DATA chunk.
    pub initial_tsn: u32,
    /// Optional and variable-length parameters, in wire order.
    pub params: Vec<Parameter>,
}

impl Init {
    pub(super) fn parse(value: &[u8]) -> Result<Self, Error> {
        let what = "INIT chunk";
        if value.len() < FIXED_LEN {
            return Err(Error::Truncated { what });
        }
        Ok(Self {
            initiate_tag: read_u32(value, 0, what)?,
            a_rwnd: read_u32(value, 4, what)?,
            outbound_streams: read_u16(value, 8, what)?,
            inbound_streams: read_u16(value, 10, what)?,
            initial_tsn: read_u32(value, 12, what)?,
            params: parse_list(&value[FIXED_LEN..], "INIT parameter", |t, v| {
                Parameter::parse(ParameterType(t), v)
            })?,
        })
    }

    /// The State Cookie parameter, if there is one (RFC 9260 §3.3.3: mandatory in INIT ACK).
    pub fn state_cookie(&self) -> Option<&[u8]> {
        self.params.iter().find_map(|p| match p {
            Parameter::StateCookie(cookie) => Some(cookie.as_slice()),
            _ => None,
        })
    }

    /// Whether the sender announced RFC 3758 partial reliability.
    pub fn forward_tsn_supported(&self) -> bool {
        self.params.contains(&Parameter::ForwardTsnSupported)
    }

    pub(super) fn value_len(&self) -> usize {
        FIXED_LEN + list_len(&self.params)
    }

    pub(super) fn encode_value(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.initiate_tag.to_be_bytes());
        out.extend_from_slice(&self.a_rwnd.to_be_bytes());
        out.extend_from_slice(&self.outbound_streams.to_be_bytes());
        out.extend_from_slice(&self.inbound_streams.to_be_bytes());
        out.extend_from_slice(&self.initial_tsn.to_be_bytes());
        encode_list(&self.params, out);
    }
}

//! KRPC message decoding: bencode first, then the fields each message kind needs.

use core::fmt;

use super::{Body, ErrorBody, Message, Method, Put, Query, Response, Want, read_addr, read_nodes};
use crate::dht::bencode::{DecodeError, Limits, Value, decode_with};
use crate::dht::id::NodeId;

/// Most `values` entries read from one response; the rest are ignored.
const MAX_VALUES: usize = 256;

/// Why a datagram is not a KRPC message pigeon can act on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum KrpcError {
    /// Not valid bencode (or over the size and depth bounds).
    Bencode(DecodeError),
    /// Valid bencode, but a required field is missing or has the wrong type or size.
    Field(&'static str),
}

impl fmt::Display for KrpcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KrpcError::Bencode(e) => write!(f, "bencode: {e}"),
            KrpcError::Field(name) => write!(f, "missing or malformed field {name}"),
        }
    }
}

impl core::error::Error for KrpcError {}

/// Decodes one KRPC datagram. Key order is not enforced (real nodes do not all sort their
/// keys) but every bound of the bencode reader holds. Unknown keys are ignored (BEP 5 lets
/// messages carry additional keys).
pub fn decode(datagram: &[u8]) -> Result<Message<'_>, KrpcError> {
    let limits = Limits {
        strict: false,
        ..Limits::default()
    };
    let root = decode_with(datagram, limits).map_err(KrpcError::Bencode)?;
    let transaction_id = root
        .get(b"t")
        .and_then(Value::as_bytes)
        .ok_or(KrpcError::Field("t"))?;
    let version = root.get(b"v").and_then(Value::as_bytes);
    let ip = root
        .get(b"ip")
        .and_then(Value::as_bytes)
        .and_then(read_addr);
    let read_only = root.get(b"ro").and_then(Value::as_int) == Some(1);
    let kind = root
        .get(b"y")
        .and_then(Value::as_bytes)
        .ok_or(KrpcError::Field("y"))?;
    let body = match kind {
        b"q" => Body::Query(query(&root)?),
        b"r" => Body::Response(response(root.get(b"r").ok_or(KrpcError::Field("r"))?)?),
        b"e" => {
            let list = root
                .get(b"e")
                .and_then(Value::as_list)
                .ok_or(KrpcError::Field("e"))?;
            match list {
                [Value::Int(code), Value::Bytes(message), ..] => Body::Error(ErrorBody {
                    code: *code,
                    message,
                }),
                _ => return Err(KrpcError::Field("e")),
            }
        }
        _ => return Err(KrpcError::Field("y")),
    };
    Ok(Message {
        transaction_id,
        body,
        version,
        ip,
        read_only,
    })
}

fn id_field(dict: &Value<'_>, key: &'static str) -> Result<NodeId, KrpcError> {
    dict.get(key.as_bytes())
        .and_then(Value::as_bytes)
        .and_then(NodeId::from_slice)
        .ok_or(KrpcError::Field(key))
}

fn query<'a>(root: &Value<'a>) -> Result<Query<'a>, KrpcError> {
    let name = root
        .get(b"q")
        .and_then(Value::as_bytes)
        .ok_or(KrpcError::Field("q"))?;
    let args = root.get(b"a").ok_or(KrpcError::Field("a"))?;
    let id = id_field(args, "id")?;
    let method = match name {
        b"ping" => Method::Ping,
        b"find_node" => Method::FindNode {
            target: id_field(args, "target")?,
        },
        b"get_peers" => Method::GetPeers {
            info_hash: id_field(args, "info_hash")?,
        },
        b"announce_peer" => {
            let port = args
                .get(b"port")
                .and_then(Value::as_int)
                .and_then(|p| u16::try_from(p).ok());
            let implied_port = args
                .get(b"implied_port")
                .and_then(Value::as_int)
                .is_some_and(|n| n != 0);
            Method::AnnouncePeer {
                info_hash: id_field(args, "info_hash")?,
                // With implied_port the port argument may be anything (or absent).
                port: match (port, implied_port) {
                    (Some(p), _) => p,
                    (None, true) => 0,
                    (None, false) => return Err(KrpcError::Field("port")),
                },
                token: args
                    .get(b"token")
                    .and_then(Value::as_bytes)
                    .ok_or(KrpcError::Field("token"))?,
                implied_port,
            }
        }
        b"get" => Method::Get {
            target: id_field(args, "target")?,
            seq: args.get(b"seq").and_then(Value::as_int),
        },
        b"put" => Method::Put(Put {
            token: args
                .get(b"token")
                .and_then(Value::as_bytes)
                .ok_or(KrpcError::Field("token"))?,
            value: args.get(b"v").ok_or(KrpcError::Field("v"))?.to_bytes(),
            key: fixed(args, "k")?,
            signature: fixed(args, "sig")?,
            seq: args.get(b"seq").and_then(Value::as_int),
            salt: args.get(b"salt").and_then(Value::as_bytes).unwrap_or(b""),
            cas: args.get(b"cas").and_then(Value::as_int),
            target: match args.get(b"target") {
                Some(_) => Some(id_field(args, "target")?),
                None => None,
            },
        }),
        other => Method::Unknown(other),
    };
    // BEP 32: "want" is a list of strings; unknown entries are ignored.
    let want = args.get(b"want").and_then(Value::as_list).map(|list| {
        let mut want = Want::default();
        for item in list {
            match item.as_bytes() {
                Some(b"n4") => want.v4 = true,
                Some(b"n6") => want.v6 = true,
                _ => {}
            }
        }
        want
    });
    Ok(Query { id, method, want })
}

fn response<'a>(r: &Value<'a>) -> Result<Response<'a>, KrpcError> {
    let id = id_field(r, "id")?;
    let nodes = match r.get(b"nodes").and_then(Value::as_bytes) {
        Some(bytes) => read_nodes(bytes, false).ok_or(KrpcError::Field("nodes"))?,
        None => Vec::new(),
    };
    let nodes6 = match r.get(b"nodes6").and_then(Value::as_bytes) {
        Some(bytes) => read_nodes(bytes, true).ok_or(KrpcError::Field("nodes6"))?,
        None => Vec::new(),
    };
    let values = match r.get(b"values").and_then(Value::as_list) {
        // Entries that are not 6 or 18 bytes are skipped rather than failing the response.
        Some(list) => list
            .iter()
            .filter_map(Value::as_bytes)
            .filter_map(read_addr)
            .take(MAX_VALUES)
            .collect(),
        None => Vec::new(),
    };
    let token = r.get(b"token").and_then(Value::as_bytes);
    Ok(Response {
        id,
        nodes,
        nodes6,
        values,
        token,
        value: r.get(b"v").map(Value::to_bytes),
        key: fixed(r, "k")?,
        signature: fixed(r, "sig")?,
        seq: r.get(b"seq").and_then(Value::as_int),
    })
}

/// An optional byte string of exactly `N` bytes (BEP 44 `k` and `sig`); any other length is
/// malformed.
fn fixed<const N: usize>(
    dict: &Value<'_>,
    key: &'static str,
) -> Result<Option<[u8; N]>, KrpcError> {
    match dict.get(key.as_bytes()) {
        None => Ok(None),
        Some(value) => value
            .as_bytes()
            .and_then(|b| <[u8; N]>::try_from(b).ok())
            .map(Some)
            .ok_or(KrpcError::Field(key)),
    }
}

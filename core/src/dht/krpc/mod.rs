//! KRPC (BEP 5): queries, responses and errors as bencoded dictionaries over UDP, with the
//! extensions pigeon speaks: the `ip` field (BEP 42), read-only nodes (BEP 43) and IPv6
//! (`nodes6`, `want`, BEP 32).

mod compact;
mod decode;
mod encode;
#[cfg(test)]
mod tests;

use core::fmt;
use core::net::SocketAddr;

pub use compact::{
    NODE_V4_LEN, NODE_V6_LEN, NodeInfo, read_addr, read_nodes, write_addr, write_nodes,
};
pub use decode::{KrpcError, decode};

use crate::dht::id::NodeId;

/// BEP 5 error code 201: "Generic Error".
pub const ERROR_GENERIC: i64 = 201;
/// BEP 5 error code 202: "Server Error".
pub const ERROR_SERVER: i64 = 202;
/// BEP 5 error code 203: "Protocol Error, such as a malformed packet, invalid arguments, or bad token".
pub const ERROR_PROTOCOL: i64 = 203;
/// BEP 5 error code 204: "Method Unknown".
pub const ERROR_METHOD_UNKNOWN: i64 = 204;

/// Length of the transaction ids pigeon sends: some implementations (the `mainline` crate)
/// drop queries whose `t` is not exactly 4 bytes. Any length is accepted on receipt.
pub const TRANSACTION_ID_LEN: usize = 4;

/// One KRPC message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message<'a> {
    /// `t`: the transaction id, echoed by the response.
    pub transaction_id: &'a [u8],
    /// `y` with `q`/`a`, `r` or `e`.
    pub body: Body<'a>,
    /// `v`: the sender's client version, if given.
    pub version: Option<&'a [u8]>,
    /// `ip` (BEP 42): in a response, the requester's address as the responder saw it.
    pub ip: Option<SocketAddr>,
    /// `ro` (BEP 43): the querier is read-only and must not be added to routing tables.
    pub read_only: bool,
}

/// What a message is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Body<'a> {
    /// `y = q`.
    Query(Query<'a>),
    /// `y = r`.
    Response(Response<'a>),
    /// `y = e`.
    Error(ErrorBody<'a>),
}

/// A query: the querier's id, the method with its arguments, and `want` (BEP 32).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Query<'a> {
    /// `a.id`: the querying node's id.
    pub id: NodeId,
    /// `q` and its arguments.
    pub method: Method<'a>,
    /// `a.want` (BEP 32); `None` when absent.
    pub want: Option<Want>,
}

/// The query methods of BEP 5.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Method<'a> {
    /// `ping`.
    Ping,
    /// `find_node` with `target`.
    FindNode {
        /// The id searched for.
        target: NodeId,
    },
    /// `get_peers` with `info_hash`.
    GetPeers {
        /// The torrent's info-hash.
        info_hash: NodeId,
    },
    /// `announce_peer`.
    AnnouncePeer {
        /// The torrent's info-hash.
        info_hash: NodeId,
        /// The peer's port (ignored when `implied_port`).
        port: u16,
        /// The token from an earlier `get_peers` response.
        token: &'a [u8],
        /// BEP 5: "implied_port ... if it is present and non-zero, the port argument should
        /// be ignored and the source port of the UDP packet should be used as the peer's port".
        implied_port: bool,
    },
    /// BEP 44 `get` of the item stored under `target`.
    Get {
        /// The item's target (SHA-1 of `v`, or of `k` and `salt`).
        target: NodeId,
        /// `seq`: only answer with the item if the stored one is newer.
        seq: Option<i64>,
    },
    /// BEP 44 `put` of an immutable or mutable item.
    Put(Put<'a>),
    /// A method this node does not know (answered with error 204).
    Unknown(&'a [u8]),
}

/// The arguments of a BEP 44 `put`. Without `k` the item is immutable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Put<'a> {
    /// `token`: from an earlier `get` answer of this node.
    pub token: &'a [u8],
    /// `v`, bencoded (re-encoded canonically when decoded).
    pub value: Vec<u8>,
    /// `k`: the ed25519 public key of a mutable item.
    pub key: Option<[u8; 32]>,
    /// `sig`: its signature.
    pub signature: Option<[u8; 64]>,
    /// `seq`: its sequence number.
    pub seq: Option<i64>,
    /// `salt` (empty = none).
    pub salt: &'a [u8],
    /// `cas`: the sequence number the writer expects to replace.
    pub cas: Option<i64>,
    /// `target`: not in BEP 44 (the storing node computes it), but the `mainline` crate
    /// refuses puts without it, so pigeon sends it and checks it when present.
    pub target: Option<NodeId>,
}

impl Method<'_> {
    /// The `q` string.
    pub fn name(&self) -> &[u8] {
        match self {
            Method::Ping => b"ping",
            Method::FindNode { .. } => b"find_node",
            Method::GetPeers { .. } => b"get_peers",
            Method::AnnouncePeer { .. } => b"announce_peer",
            Method::Get { .. } => b"get",
            Method::Put(_) => b"put",
            Method::Unknown(name) => name,
        }
    }
}

/// BEP 32 `want`: which address families the querier wants nodes for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Want {
    /// `n4`: IPv4 nodes in `nodes`.
    pub v4: bool,
    /// `n6`: IPv6 nodes in `nodes6`.
    pub v6: bool,
}

/// A response (`r`). Which fields appear depends on the query it answers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Response<'a> {
    /// `r.id`: the responder's id.
    pub id: NodeId,
    /// `nodes`: IPv4 compact node info.
    pub nodes: Vec<NodeInfo>,
    /// `nodes6` (BEP 32): IPv6 compact node info.
    pub nodes6: Vec<NodeInfo>,
    /// `values`: peers for a `get_peers` info-hash.
    pub values: Vec<SocketAddr>,
    /// `token`: to present in a later `announce_peer` (or BEP 44 `put`).
    pub token: Option<&'a [u8]>,
    /// `v` (BEP 44 `get`), bencoded.
    pub value: Option<Vec<u8>>,
    /// `k` (BEP 44): a mutable item's public key.
    pub key: Option<[u8; 32]>,
    /// `sig` (BEP 44): a mutable item's signature.
    pub signature: Option<[u8; 64]>,
    /// `seq` (BEP 44): a mutable item's sequence number.
    pub seq: Option<i64>,
}

/// An error (`e`): BEP 5 "a list. The first element is an integer representing the error
/// code. The second element is a string containing the error message".
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ErrorBody<'a> {
    /// 201-204 or another code.
    pub code: i64,
    /// The message (not necessarily UTF-8).
    pub message: &'a [u8],
}

impl fmt::Debug for ErrorBody<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Error({} {:?})",
            self.code,
            String::from_utf8_lossy(self.message)
        )
    }
}

//! A Kademlia DHT speaking the BitTorrent mainline protocol (BEP 5), as a Sans-IO machine.
//!
//! - [`bencode`]: the zero-copy, bounded codec KRPC travels in.
//! - [`id`]: node ids, the XOR metric, BEP 42 ids bound to an external IP.
//! - [`krpc`]: the messages of BEP 5 with BEP 32, 42 and 43 fields.
//! - [`routing`]: k-buckets that split around our id, node states, replacement caches.
//! - [`token`]: announce tokens from a rotating secret bound to the querier's IP.
//! - [`lookup`], [`node`]: iterative lookups and the node ([`DhtNode`]) itself.
//! - [`peers`], [`ratelimit`], [`rtt`]: announced peers, per-IP limits, adaptive timeouts.
//!
//! See `docs/dht.md` for the BEP compliance table and what is not built yet.

pub mod bencode;
pub mod id;
pub mod krpc;
pub mod lookup;
pub mod node;
#[cfg(test)]
mod node_tests;
pub mod peers;
pub mod ratelimit;
pub mod routing;
pub mod rtt;
mod serve;
pub mod token;

pub use id::{Distance, NodeId};
pub use lookup::{LookupKind, QueryId};
pub use node::{DhtConfig, DhtEvent, DhtNode, DhtStats, LookupResult};

//! A Kademlia DHT speaking the BitTorrent mainline protocol (BEP 5), as a Sans-IO machine.
//!
//! - [`bencode`]: the zero-copy, bounded codec KRPC travels in.
//! - [`id`]: node ids, the XOR metric, BEP 42 ids bound to an external IP.
//! - [`krpc`]: the messages of BEP 5 with BEP 32, 42 and 43 fields.
//! - [`routing`]: k-buckets that split around our id, node states, replacement caches.
//! - [`token`]: announce tokens from a rotating secret bound to the querier's IP.
//! - [`lookup`], [`node`]: iterative lookups and the node ([`DhtNode`]) itself.
//! - [`dual`]: one node on IPv4 and IPv6 at once ([`DualStackNode`], BEP 32).
//! - [`peers`], [`ratelimit`], [`rtt`]: announced peers, per-IP limits, adaptive timeouts.
//! - [`item`], [`storage`]: BEP 44 items and the store that keeps them for others;
//!   [`republish`]: putting our items and announces again before stores forget them.
//! - [`external_ip`]: BEP 42 votes on our external IP; [`persist`]: saving the routing table.
//!
//! See `docs/dht.md` for the BEP compliance table and what is not built yet.

pub mod bencode;
pub mod dual;
mod dual_items;
pub mod external_ip;
mod fill;
pub mod id;
pub mod item;
mod item_client;
mod item_serve;
pub mod krpc;
pub mod lookup;
#[cfg(test)]
mod mem_net;
pub mod node;
#[cfg(test)]
mod node_tests;
pub mod peers;
pub mod persist;
pub mod ratelimit;
pub mod republish;
pub mod routing;
pub mod rtt;
mod serve;
pub mod storage;
pub mod token;

pub use dual::DualStackNode;
pub use id::{Distance, NodeId};
pub use item::{Item, ItemError, MutableItem};
pub use lookup::{LookupKind, QueryId};
pub use node::{DhtConfig, DhtEvent, DhtNode, DhtStats, LookupResult};
pub use republish::{KeepError, RepublishConfig};

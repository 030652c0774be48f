//! Saving the node's id and routing table as bytes the application stores, and joining again
//! from them after a restart (BEP 5 suggests a client keep its table across restarts).
//!
//! Format, version 1 (integers big-endian):
//! `"PGDHT" 0x00 | version (1) | id (20) | count (u16) | count x (family 4 or 6, id (20),
//! IP (4 or 16), port (2)) | CRC-32C of everything before (4)`.

use core::fmt;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use crate::dht::id::{ID_LEN, NodeId};
use crate::dht::krpc::NodeInfo;
use crate::dht::lookup::QueryId;
use crate::dht::node::DhtNode;
use crate::dht::routing::{NodeState, RoutingTable};
use crate::time::Instant;

const MAGIC: &[u8; 6] = b"PGDHT\0";
const VERSION: u8 = 1;
/// Most nodes a saved state may hold (160 buckets of 8 fit well below it).
pub const MAX_SAVED_NODES: usize = 4096;

/// A node's id and the contacts worth keeping.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SavedState {
    /// Our id (keep it: BEP 5 nodes remember ids, and a BEP 42 id stays valid for one IP).
    pub id: NodeId,
    /// Nodes from the routing table, good ones first.
    pub nodes: Vec<NodeInfo>,
}

/// Why saved bytes were refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PersistError {
    /// Not a pigeon DHT state.
    BadMagic,
    /// Written by a version this build does not read.
    UnsupportedVersion(u8),
    /// Shorter or longer than its header says.
    BadLength,
    /// The checksum does not match (corrupted on disk).
    BadChecksum,
    /// More than [`MAX_SAVED_NODES`] nodes.
    TooManyNodes,
    /// A node entry with an address family other than 4 or 6.
    BadFamily,
}

impl fmt::Display for PersistError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PersistError::BadMagic => write!(f, "not a saved pigeon DHT state"),
            PersistError::UnsupportedVersion(v) => write!(f, "unsupported state version {v}"),
            PersistError::BadLength => write!(f, "saved state has the wrong length"),
            PersistError::BadChecksum => write!(f, "saved state checksum mismatch"),
            PersistError::TooManyNodes => write!(f, "saved state lists too many nodes"),
            PersistError::BadFamily => write!(f, "saved node with an unknown address family"),
        }
    }
}

impl core::error::Error for PersistError {}

impl SavedState {
    /// The bytes to store.
    pub fn to_bytes(&self) -> Vec<u8> {
        let nodes = &self.nodes[..self.nodes.len().min(MAX_SAVED_NODES)];
        let mut out = Vec::with_capacity(33 + nodes.len() * 39);
        out.extend_from_slice(MAGIC);
        out.push(VERSION);
        out.extend_from_slice(&self.id.0);
        // NOTE(unwrap): at most MAX_SAVED_NODES (4096) entries, which fits in u16.
        let count = u16::try_from(nodes.len()).expect("bounded by MAX_SAVED_NODES");
        out.extend_from_slice(&count.to_be_bytes());
        for node in nodes {
            match node.addr.ip() {
                IpAddr::V4(ip) => {
                    out.push(4);
                    out.extend_from_slice(&node.id.0);
                    out.extend_from_slice(&ip.octets());
                }
                IpAddr::V6(ip) => {
                    out.push(6);
                    out.extend_from_slice(&node.id.0);
                    out.extend_from_slice(&ip.octets());
                }
            }
            out.extend_from_slice(&node.addr.port().to_be_bytes());
        }
        let crc = crc32c::crc32c(&out);
        out.extend_from_slice(&crc.to_be_bytes());
        out
    }

    /// Reads saved bytes; anything malformed is an error, never a panic.
    pub fn from_bytes(bytes: &[u8]) -> Result<SavedState, PersistError> {
        let header = MAGIC.len() + 1 + ID_LEN + 2;
        if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
            return Err(PersistError::BadMagic);
        }
        if bytes.len() < header + 4 {
            return Err(PersistError::BadLength);
        }
        if bytes[MAGIC.len()] != VERSION {
            return Err(PersistError::UnsupportedVersion(bytes[MAGIC.len()]));
        }
        let (body, crc) = bytes.split_at(bytes.len() - 4);
        if crc32c::crc32c(body).to_be_bytes() != crc {
            return Err(PersistError::BadChecksum);
        }
        let mut id = [0; ID_LEN];
        id.copy_from_slice(&body[MAGIC.len() + 1..MAGIC.len() + 1 + ID_LEN]);
        let count = usize::from(u16::from_be_bytes([body[header - 2], body[header - 1]]));
        if count > MAX_SAVED_NODES {
            return Err(PersistError::TooManyNodes);
        }
        let mut rest = &body[header..];
        let mut nodes = Vec::with_capacity(count);
        for _ in 0..count {
            let (&family, tail) = rest.split_first().ok_or(PersistError::BadLength)?;
            let ip_len = match family {
                4 => 4,
                6 => 16,
                _ => return Err(PersistError::BadFamily),
            };
            if tail.len() < ID_LEN + ip_len + 2 {
                return Err(PersistError::BadLength);
            }
            let (node_id, tail) = tail.split_at(ID_LEN);
            let (ip, tail) = tail.split_at(ip_len);
            let (port, tail) = tail.split_at(2);
            let ip = match <[u8; 4]>::try_from(ip) {
                Ok(v4) => IpAddr::V4(Ipv4Addr::from(v4)),
                Err(_) => {
                    let v6 = <[u8; 16]>::try_from(ip).map_err(|_| PersistError::BadLength)?;
                    IpAddr::V6(Ipv6Addr::from(v6))
                }
            };
            let id = NodeId::from_slice(node_id).ok_or(PersistError::BadLength)?;
            let port = u16::from_be_bytes([port[0], port[1]]);
            nodes.push(NodeInfo {
                id,
                addr: SocketAddr::new(ip, port),
            });
            rest = tail;
        }
        if !rest.is_empty() {
            return Err(PersistError::BadLength);
        }
        Ok(SavedState {
            id: NodeId(id),
            nodes,
        })
    }
}

impl DhtNode {
    /// Our id and the routing table's nodes (good ones first, bad ones left out), to save.
    pub fn save(&self, now: Instant) -> SavedState {
        let config = *self.table.config();
        let mut entries: Vec<(bool, NodeInfo)> = self
            .table
            .entries()
            .filter_map(|e| match e.state(now, &config) {
                NodeState::Bad => None,
                state => Some((state != NodeState::Good, e.info)),
            })
            .collect();
        entries.sort_by_key(|(questionable, _)| *questionable);
        SavedState {
            id: self.id(),
            nodes: entries
                .into_iter()
                .map(|(_, info)| info)
                .take(MAX_SAVED_NODES)
                .collect(),
        }
    }

    /// Joins again from a saved state: takes its id, puts its nodes in the table (as
    /// questionable: nobody has answered yet) and bootstraps through them and `extra`
    /// addresses. Ends with [`DhtEvent::Bootstrapped`](crate::dht::DhtEvent::Bootstrapped).
    pub fn restore(&mut self, now: Instant, state: &SavedState, extra: &[SocketAddr]) -> QueryId {
        let config = *self.table.config();
        self.table = RoutingTable::new(state.id, config, now);
        for node in &state.nodes {
            if node.addr.is_ipv4() == self.config.local.is_ipv4() {
                self.table.insert(now, *node);
            }
        }
        self.bootstrap(now, extra)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> SavedState {
        SavedState {
            id: NodeId([9; 20]),
            nodes: vec![
                NodeInfo {
                    id: NodeId([1; 20]),
                    addr: "192.0.2.1:6881".parse().unwrap(),
                },
                NodeInfo {
                    id: NodeId([2; 20]),
                    addr: "[2001:db8::2]:6882".parse().unwrap(),
                },
            ],
        }
    }

    #[test]
    fn round_trip_and_exact_layout() {
        let bytes = state().to_bytes();
        assert_eq!(
            bytes.len(),
            6 + 1 + 20 + 2 + (1 + 20 + 4 + 2) + (1 + 20 + 16 + 2) + 4
        );
        assert_eq!(&bytes[..7], b"PGDHT\0\x01");
        assert_eq!(SavedState::from_bytes(&bytes), Ok(state()));
    }

    #[test]
    fn malformed_input_is_refused() {
        let bytes = state().to_bytes();
        assert_eq!(SavedState::from_bytes(b""), Err(PersistError::BadMagic));
        assert_eq!(
            SavedState::from_bytes(b"PGDHT\0"),
            Err(PersistError::BadLength)
        );
        let mut v2 = bytes.clone();
        v2[6] = 2;
        assert_eq!(
            SavedState::from_bytes(&v2),
            Err(PersistError::UnsupportedVersion(2))
        );
        let mut flipped = bytes.clone();
        flipped[40] ^= 1;
        assert_eq!(
            SavedState::from_bytes(&flipped),
            Err(PersistError::BadChecksum)
        );
        // Every truncation and every single-byte change is refused without a panic.
        for len in 0..bytes.len() {
            assert!(SavedState::from_bytes(&bytes[..len]).is_err());
        }
        for i in 0..bytes.len() {
            let mut b = bytes.clone();
            b[i] = b[i].wrapping_add(0x55);
            assert!(SavedState::from_bytes(&b).is_err(), "byte {i}");
        }
        // A correct checksum over a lying count or family is still refused.
        let mut lie = bytes[..bytes.len() - 4].to_vec();
        lie[28] = 3;
        let crc = crc32c::crc32c(&lie);
        lie.extend_from_slice(&crc.to_be_bytes());
        assert_eq!(SavedState::from_bytes(&lie), Err(PersistError::BadLength));
        let mut family = bytes[..bytes.len() - 4].to_vec();
        family[29] = 5;
        let crc = crc32c::crc32c(&family);
        family.extend_from_slice(&crc.to_be_bytes());
        assert_eq!(
            SavedState::from_bytes(&family),
            Err(PersistError::BadFamily)
        );
    }
}

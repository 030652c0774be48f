//! Compact node and peer info (BEP 5; IPv6 forms from BEP 32).

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use crate::dht::id::{ID_LEN, NodeId};

/// Bytes of compact node info for IPv4 (id + address + port).
pub const NODE_V4_LEN: usize = ID_LEN + 6;
/// Bytes of compact node info for IPv6 (BEP 32).
pub const NODE_V6_LEN: usize = ID_LEN + 18;

/// A node as KRPC carries it: its id and UDP address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeInfo {
    /// The node's id.
    pub id: NodeId,
    /// Where it listens.
    pub addr: SocketAddr,
}

/// BEP 5: "Compact IP-address/port info": 4 or 16 bytes of address, 2 of port, network order.
pub fn write_addr(addr: &SocketAddr, out: &mut Vec<u8>) {
    match addr.ip() {
        IpAddr::V4(v4) => out.extend_from_slice(&v4.octets()),
        IpAddr::V6(v6) => out.extend_from_slice(&v6.octets()),
    }
    out.extend_from_slice(&addr.port().to_be_bytes());
}

/// The address in 6 (IPv4) or 18 (IPv6) bytes of compact peer info.
pub fn read_addr(bytes: &[u8]) -> Option<SocketAddr> {
    match bytes.len() {
        6 => {
            let ip = Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3]);
            Some(SocketAddr::new(
                ip.into(),
                u16::from_be_bytes([bytes[4], bytes[5]]),
            ))
        }
        18 => {
            let mut octets = [0u8; 16];
            octets.copy_from_slice(&bytes[..16]);
            let port = u16::from_be_bytes([bytes[16], bytes[17]]);
            Some(SocketAddr::new(Ipv6Addr::from(octets).into(), port))
        }
        _ => None,
    }
}

/// Appends the compact node info of `nodes` (all of one family) to `out`.
pub fn write_nodes<'n>(nodes: impl IntoIterator<Item = &'n NodeInfo>, out: &mut Vec<u8>) {
    for node in nodes {
        out.extend_from_slice(&node.id.0);
        write_addr(&node.addr, out);
    }
}

/// Parses a `nodes` (`v6 = false`) or `nodes6` string; `None` unless its length is a whole
/// number of entries.
pub fn read_nodes(bytes: &[u8], v6: bool) -> Option<Vec<NodeInfo>> {
    let size = if v6 { NODE_V6_LEN } else { NODE_V4_LEN };
    if bytes.len() % size != 0 {
        return None;
    }
    bytes
        .chunks_exact(size)
        .map(|chunk| {
            Some(NodeInfo {
                id: NodeId::from_slice(&chunk[..ID_LEN])?,
                addr: read_addr(&chunk[ID_LEN..])?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_round_trip() {
        for text in ["1.2.3.4:6881", "[2001:db8::7]:65535", "0.0.0.0:0"] {
            let addr: SocketAddr = text.parse().unwrap();
            let mut out = Vec::new();
            write_addr(&addr, &mut out);
            assert_eq!(read_addr(&out), Some(addr));
        }
        // BEP 5's example peer string "axje.u".
        assert_eq!(
            read_addr(b"axje.u"),
            Some("97.120.106.101:11893".parse().unwrap())
        );
        assert_eq!(read_addr(b"12345"), None);
    }

    #[test]
    fn nodes_round_trip_and_reject_partial_entries() {
        let nodes = vec![
            NodeInfo {
                id: NodeId([1; 20]),
                addr: "9.8.7.6:1".parse().unwrap(),
            },
            NodeInfo {
                id: NodeId([2; 20]),
                addr: "5.4.3.2:65000".parse().unwrap(),
            },
        ];
        let mut out = Vec::new();
        write_nodes(&nodes, &mut out);
        assert_eq!(out.len(), 52);
        assert_eq!(read_nodes(&out, false), Some(nodes));
        assert_eq!(read_nodes(&out[..51], false), None);
        let six = [NodeInfo {
            id: NodeId([3; 20]),
            addr: "[::1]:9".parse().unwrap(),
        }];
        let mut out = Vec::new();
        write_nodes(&six, &mut out);
        assert_eq!(out.len(), NODE_V6_LEN);
        assert_eq!(read_nodes(&out, true).as_deref(), Some(&six[..]));
        assert_eq!(read_nodes(b"", true), Some(vec![]));
    }
}

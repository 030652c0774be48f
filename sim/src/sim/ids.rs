//! Handles for nodes and networks, and the errors of building a topology.

use core::fmt;
use core::net::{IpAddr, SocketAddr};

/// A node (one hosted machine).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct NodeId(pub(crate) u32);

impl NodeId {
    /// The node's index, in order of `add_node` calls.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "n{}", self.0)
    }
}

/// A network: the public internet or the private realm behind one NAT.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct NetworkId(pub(crate) u32);

impl NetworkId {
    /// The public internet, which every simulation has.
    pub const PUBLIC: NetworkId = NetworkId(0);
}

impl fmt::Display for NetworkId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "net{}", self.0)
    }
}

/// A mistake in building the topology.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SimError {
    /// No network with that id.
    NoSuchNetwork(NetworkId),
    /// A node needs at least one address.
    NoAddresses,
    /// A NAT needs at least one external IP.
    NoExternalIp,
    /// The IP already belongs to another node or NAT in that network.
    AddressInUse(IpAddr),
    /// The same socket address was given twice.
    DuplicateSocket(SocketAddr),
    /// `port_min` is above `port_max`.
    EmptyPortRange,
}

impl fmt::Display for SimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SimError::NoSuchNetwork(n) => write!(f, "no network {n}"),
            SimError::NoAddresses => f.write_str("a node needs at least one socket address"),
            SimError::NoExternalIp => f.write_str("a NAT needs at least one external IP"),
            SimError::AddressInUse(ip) => write!(f, "{ip} is already in use in that network"),
            SimError::DuplicateSocket(a) => write!(f, "socket {a} given twice"),
            SimError::EmptyPortRange => f.write_str("NAT port range is empty"),
        }
    }
}

impl std::error::Error for SimError {}

impl NetworkId {
    pub(super) fn index(self) -> usize {
        self.0 as usize
    }
}

//! # pigeon-sim
//!
//! A deterministic discrete-event network simulator for pigeon's Sans-IO machines, with NATs
//! that behave as RFC 4787 describes.
//!
//! - **Virtual time.** Events (datagram arrivals, machine timers) sit in a min-heap ordered by
//!   (time, sequence); nothing reads a wall clock.
//! - **One seed.** Every random choice (loss, jitter, duplication, reordering, NAT ports) comes
//!   from one stream seeded by [`Sim::new`]; machines get generators derived from the same seed
//!   ([`Sim::fork_rng`]). The same seed and calls give the same [`Sim::trace_hash`].
//! - **Links** ([`LinkConfig`]): latency, jitter, uniform or Gilbert-Elliott loss, duplication,
//!   reordering, MTU, bandwidth with a tail-drop queue, up/down; partitions between nodes;
//!   optionally a round-trip time per pair of hosts ([`PairLatency`]).
//! - **NATs** ([`NatConfig`]): mapping and filtering behaviour, port assignment, mapping
//!   lifetime and refresh, hairpinning, address pools, nesting; the four classic presets.
//! - **Observability**: a text trace of every datagram and event, a pcap writer
//!   ([`PcapWriter`]) that tshark reads.
//!
//! ```
//! use std::time::Duration;
//! use pigeon_sim::{LinkConfig, NatConfig, NetworkId, Sim, probe::Probe};
//!
//! let mut sim = Sim::new(7);
//! let server_addr = "192.0.2.1:3478".parse().unwrap();
//! let server = sim
//!     .add_node(NetworkId::PUBLIC, &[server_addr], Probe::reflector(), LinkConfig::default())
//!     .unwrap();
//! let home = sim
//!     .add_nat(NetworkId::PUBLIC, NatConfig::full_cone().with_external_ip("198.51.100.1".parse().unwrap()))
//!     .unwrap();
//! let client_addr = "10.0.0.2:5000".parse().unwrap();
//! let client = sim.add_node(home, &[client_addr], Probe::default(), LinkConfig::default()).unwrap();
//! sim.command(client, |p: &mut Probe, _| p.send(client_addr, server_addr, b"hi".to_vec()));
//! sim.run_for(Duration::from_millis(100));
//! let got = sim.machine::<Probe>(client).unwrap().received();
//! // The reflector answers with the source address it saw: the NAT's mapping.
//! assert_eq!(got[0].payload, b"198.51.100.1:5000");
//! # let _ = server;
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod fxmap;
mod link;
mod nat;
mod node;
mod pair;
mod pcap;
pub mod probe;
mod queue;
mod rng;
pub mod scenarios;
mod sim;
mod trace;

pub use link::{LinkConfig, LossModel};
pub use nat::{
    AddressPooling, FilteringBehavior, MappingBehavior, MappingInfo, NatConfig, NatPreset,
    PortAssignment,
};
pub use pair::PairLatency;
pub use pcap::PcapWriter;
pub use sim::{NetworkId, NodeId, Sim, SimError, SimStats};
pub use trace::DropReason;

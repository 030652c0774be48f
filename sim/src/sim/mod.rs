//! The simulator: topology, nodes, and the API tests drive it with.

mod engine;
mod ids;

pub use ids::{NetworkId, NodeId, SimError};

use core::fmt::Debug;
use core::net::{IpAddr, SocketAddr};
use core::time::Duration;
use std::io::{self, Write};

use pigeon::{Instant, Machine};

use crate::fxmap::OwnerMap;
use crate::link::{LinkConfig, LinkState};
use crate::nat::{MappingInfo, NatConfig, NatTable};
use crate::node::{Host, Hosted};
use crate::pair::PairLatency;
use crate::pcap::PcapWriter;
use crate::queue::EventQueue;
use crate::rng::{self, SimRng};
use crate::trace::{DropReason, Trace};

/// Counters over a whole run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SimStats {
    /// Datagrams machines asked to send.
    pub sent: u64,
    /// Datagrams handed to a machine (duplicates included).
    pub delivered: u64,
    /// Extra copies made by link duplication.
    pub duplicated: u64,
    /// Timer calls (`handle_timeout`).
    pub timers: u64,
    /// Events machines emitted.
    pub events: u64,
    dropped: [u64; DropReason::ALL.len()],
}

impl SimStats {
    /// Datagrams dropped for `reason`.
    pub fn dropped(&self, reason: DropReason) -> u64 {
        self.dropped[reason.index()]
    }

    /// Datagrams dropped for any reason.
    pub fn dropped_total(&self) -> u64 {
        self.dropped.iter().sum()
    }
}

/// Who owns an IP in a network.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Owner {
    Node(u32),
    Nat(u32),
}

const NAT_BIT: u32 = 1 << 31;

impl Owner {
    fn pack(self) -> u32 {
        match self {
            Owner::Node(n) => n,
            Owner::Nat(k) => k | NAT_BIT,
        }
    }

    #[inline]
    fn unpack(v: u32) -> Owner {
        if v & NAT_BIT == 0 {
            Owner::Node(v)
        } else {
            Owner::Nat(v & !NAT_BIT)
        }
    }
}

impl OwnerMap {
    #[inline]
    fn owner(&self, network: u32, ip: IpAddr) -> Option<Owner> {
        self.get(network, ip).map(Owner::unpack)
    }
}

struct Network {
    nat: Option<u32>,
}

struct NatSlot {
    table: NatTable,
    realm: u32,
    parent: u32,
}

/// One node. `repr(C)` keeps the fields every delivery and timer touches together at the front
/// (one or two cache lines), ahead of the ones only sending needs.
#[repr(C, align(64))]
struct NodeSlot {
    /// Earliest timer entry in the queue for this node, `NEVER` if none.
    armed: u64,
    host: Option<Box<dyn Hosted>>,
    network: u32,
    partition: u16,
    up: bool,
    /// The first socket, checked before `addrs`.
    primary: SocketAddr,
    addrs: Vec<SocketAddr>,
    link: LinkState,
}

impl NodeSlot {
    #[inline]
    fn bound(&self, addr: &SocketAddr) -> bool {
        self.primary == *addr || self.addrs[1..].contains(addr)
    }
}

/// What the event queue holds.
enum Event {
    /// A node's timer (node index).
    Timer(u32),
    /// A datagram arriving.
    Deliver(Flight),
}

/// A datagram on its way.
struct Flight {
    /// Where the down phase starts: known at send time (owners never change).
    owner: Owner,
    /// The sender's partition group when it sent.
    partition: u16,
    source: SocketAddr,
    destination: SocketAddr,
    payload: Vec<u8>,
}

enum PcapSink {
    Memory(Vec<u8>),
    Writer(Box<dyn Write>),
}

impl Write for PcapSink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            PcapSink::Memory(v) => v.write(buf),
            PcapSink::Writer(w) => w.write(buf),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self {
            PcapSink::Memory(v) => {
                v.extend_from_slice(buf);
                Ok(())
            }
            PcapSink::Writer(w) => w.write_all(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            PcapSink::Memory(_) => Ok(()),
            PcapSink::Writer(w) => w.flush(),
        }
    }
}

const NEVER: u64 = u64::MAX;

/// A deterministic discrete-event network simulator.
///
/// Build a topology (NATs with [`add_nat`](Sim::add_nat), hosts with
/// [`add_node`](Sim::add_node)), then advance virtual time with [`run_for`](Sim::run_for) and
/// friends. One seed drives every random choice: the same seed and the same calls give the same
/// [`trace_hash`](Sim::trace_hash), byte for byte, on any machine.
pub struct Sim {
    seed: u64,
    now: u64,
    rng: SimRng,
    queue: EventQueue<Event>,
    networks: Vec<Network>,
    nats: Vec<NatSlot>,
    nodes: Vec<NodeSlot>,
    owners: OwnerMap,
    trace: Trace,
    pcap: Option<PcapWriter<PcapSink>>,
    stats: SimStats,
    event_capacity: usize,
    rng_counter: u64,
    /// Round trips per pair of hosts, on top of the links (off unless set).
    pair: Option<PairLatency>,
}

impl Sim {
    /// An empty simulation at time zero with only the public internet.
    pub fn new(seed: u64) -> Sim {
        Sim {
            seed,
            now: 0,
            rng: SimRng::new(seed),
            queue: EventQueue::default(),
            networks: vec![Network { nat: None }],
            nats: Vec::new(),
            nodes: Vec::new(),
            owners: OwnerMap::default(),
            trace: Trace::new(),
            pcap: None,
            stats: SimStats::default(),
            event_capacity: 1 << 16,
            rng_counter: 0,
            pair: None,
        }
    }

    /// The seed this simulation was made with.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Current virtual time.
    pub fn now(&self) -> Instant {
        Instant::from_nanos(self.now)
    }

    /// A generator for a machine, a function of the seed and `label` only (so adding other
    /// nodes never changes what this one draws).
    pub fn fork_rng(&self, label: &str) -> pigeon::Rng {
        rng::fork(self.seed, label)
    }

    /// The next generator in a per-simulation sequence (`fork_rng("rng/0")`, `"rng/1"`, ...).
    pub fn next_rng(&mut self) -> pigeon::Rng {
        let label = format!("rng/{}", self.rng_counter);
        self.rng_counter += 1;
        self.fork_rng(&label)
    }

    /// How many events per node are kept for [`take_events`](Sim::take_events) (oldest are
    /// dropped beyond it; 0 keeps none, which large runs want). Default 65,536. Applies to
    /// nodes added afterwards.
    pub fn set_event_capacity(&mut self, capacity: usize) {
        self.event_capacity = capacity;
    }

    fn check_network(&self, network: NetworkId) -> Result<(), SimError> {
        if (network.0 as usize) < self.networks.len() {
            Ok(())
        } else {
            Err(SimError::NoSuchNetwork(network))
        }
    }

    /// Adds a NAT whose external side is in `parent` (with `config.external_ips`) and returns the
    /// private realm behind it. A NAT whose parent is a private realm is nested.
    pub fn add_nat(&mut self, parent: NetworkId, config: NatConfig) -> Result<NetworkId, SimError> {
        self.check_network(parent)?;
        if config.external_ips.is_empty() {
            return Err(SimError::NoExternalIp);
        }
        if config.port_min > config.port_max {
            return Err(SimError::EmptyPortRange);
        }
        for (i, ip) in config.external_ips.iter().enumerate() {
            if self.owners.get(parent.0, *ip).is_some() || config.external_ips[..i].contains(ip) {
                return Err(SimError::AddressInUse(*ip));
            }
        }
        let nat = self.nats.len() as u32;
        let realm = self.networks.len() as u32;
        for ip in &config.external_ips {
            self.owners.insert(parent.0, *ip, Owner::Nat(nat).pack());
        }
        self.networks.push(Network { nat: Some(nat) });
        self.nats.push(NatSlot {
            table: NatTable::new(config),
            realm,
            parent: parent.0,
        });
        Ok(NetworkId(realm))
    }

    /// Adds a host in `network` with sockets `addrs`, running `machine` behind `link`.
    ///
    /// The machine is drained at once (anything it wants to send at construction goes out now).
    pub fn add_node<M>(
        &mut self,
        network: NetworkId,
        addrs: &[SocketAddr],
        machine: M,
        link: LinkConfig,
    ) -> Result<NodeId, SimError>
    where
        M: Machine + 'static,
        M::Event: Debug + 'static,
    {
        self.check_network(network)?;
        if addrs.is_empty() {
            return Err(SimError::NoAddresses);
        }
        for (i, a) in addrs.iter().enumerate() {
            if addrs[..i].contains(a) {
                return Err(SimError::DuplicateSocket(*a));
            }
            if self.owners.get(network.0, a.ip()).is_some() {
                return Err(SimError::AddressInUse(a.ip()));
            }
        }
        let id = self.nodes.len() as u32;
        for a in addrs {
            self.owners
                .insert(network.0, a.ip(), Owner::Node(id).pack());
        }
        let host: Box<dyn Hosted> = Box::new(Host {
            machine,
            events: Default::default(),
            capacity: self.event_capacity,
            overflow: 0,
        });
        self.nodes.push(NodeSlot {
            armed: NEVER,
            host: None,
            network: network.0,
            partition: 0,
            primary: addrs[0],
            up: true,
            addrs: addrs.to_vec(),
            link: LinkState::new(link),
        });
        self.after_call(id, host);
        Ok(NodeId(id))
    }

    /// Number of nodes.
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// The sockets a node was given.
    pub fn node_addrs(&self, node: NodeId) -> &[SocketAddr] {
        self.nodes.get(node.index()).map_or(&[], |n| &n.addrs)
    }

    /// The network a node lives in.
    pub fn node_network(&self, node: NodeId) -> Option<NetworkId> {
        self.nodes.get(node.index()).map(|n| NetworkId(n.network))
    }

    fn host<M>(&self, node: NodeId) -> Option<&Host<M>>
    where
        M: Machine + 'static,
    {
        self.nodes
            .get(node.index())?
            .host
            .as_ref()?
            .as_any()
            .downcast_ref::<Host<M>>()
    }

    fn host_mut<M>(&mut self, node: NodeId) -> Option<&mut Host<M>>
    where
        M: Machine + 'static,
    {
        self.nodes
            .get_mut(node.index())?
            .host
            .as_mut()?
            .as_any_mut()
            .downcast_mut::<Host<M>>()
    }

    /// The node's machine, if it is an `M`.
    pub fn machine<M>(&self, node: NodeId) -> Option<&M>
    where
        M: Machine + 'static,
    {
        self.host::<M>(node).map(|h| &h.machine)
    }

    /// The node's machine, mutably. Nothing is drained afterwards: to call a command that makes
    /// the machine send, use [`command`](Sim::command).
    pub fn machine_mut<M>(&mut self, node: NodeId) -> Option<&mut M>
    where
        M: Machine + 'static,
    {
        self.host_mut::<M>(node).map(|h| &mut h.machine)
    }

    /// Runs `f` on the node's machine at the current time, then drains it (transmits go out,
    /// events are queued and traced, the timer is re-armed). `None` if the node is not an `M`.
    pub fn command<M, R>(&mut self, node: NodeId, f: impl FnOnce(&mut M, Instant) -> R) -> Option<R>
    where
        M: Machine + 'static,
    {
        let now = self.now();
        let slot = self.nodes.get_mut(node.index())?;
        let mut host = slot.host.take()?;
        let result = host
            .as_any_mut()
            .downcast_mut::<Host<M>>()
            .map(|h| f(&mut h.machine, now));
        self.after_call(node.0, host);
        result
    }

    /// Takes the events the node's machine emitted so far, oldest first.
    pub fn take_events<M>(&mut self, node: NodeId) -> Vec<M::Event>
    where
        M: Machine + 'static,
    {
        self.host_mut::<M>(node)
            .map(|h| h.events.drain(..).collect())
            .unwrap_or_default()
    }

    /// Events lost because the node's queue was full.
    pub fn events_overflowed<M>(&self, node: NodeId) -> u64
    where
        M: Machine + 'static,
    {
        self.host::<M>(node).map_or(0, |h| h.overflow)
    }

    /// Replaces a node's link configuration (queue state and burst state are kept).
    pub fn set_link(&mut self, node: NodeId, link: LinkConfig) {
        if let Some(n) = self.nodes.get_mut(node.index()) {
            n.link.reconfigure(link);
        }
    }

    /// A node's link configuration.
    pub fn link(&self, node: NodeId) -> Option<&LinkConfig> {
        self.nodes.get(node.index()).map(|n| &n.link.config)
    }

    /// Gives every pair of hosts its own round-trip time (see [`PairLatency`]), added half
    /// each way to the senders' link latencies; `None` (the default) turns it off. It draws
    /// nothing from the random stream, so a run without it is unchanged.
    pub fn set_pair_latency(&mut self, pair: Option<PairLatency>) {
        self.pair = pair;
        match pair {
            Some(p) => self.trace.note(
                self.now(),
                format_args!("pair latency {:?}..={:?}", p.min_rtt, p.max_rtt),
            ),
            None => self
                .trace
                .note(self.now(), format_args!("pair latency off")),
        }
    }

    /// The per-pair model in use, if any.
    pub fn pair_latency(&self) -> Option<PairLatency> {
        self.pair
    }

    /// The round trip the per-pair model gives addresses `a` and `b` (zero when it is off),
    /// link latencies not included: the ground truth a scenario compares its measurements with.
    pub fn pair_rtt(&self, a: IpAddr, b: IpAddr) -> Duration {
        self.pair.map_or(Duration::ZERO, |p| p.rtt(self.seed, a, b))
    }

    /// Takes a node's link down (everything it sends or is sent is dropped) or up again.
    pub fn set_link_up(&mut self, node: NodeId, up: bool) {
        if let Some(n) = self.nodes.get_mut(node.index()) {
            n.up = up;
            let state = if up { "up" } else { "down" };
            self.trace
                .note(self.now(), format_args!("link {node} {state}"));
        }
    }

    /// Puts a node in partition `group`. Nodes talk only to nodes in the same group; all start
    /// in group 0. A datagram is checked against the sender's group when it was sent and the
    /// receiver's group when it arrives.
    pub fn set_partition(&mut self, node: NodeId, group: u16) {
        if let Some(n) = self.nodes.get_mut(node.index()) {
            n.partition = group;
            self.trace
                .note(self.now(), format_args!("partition {node} {group}"));
        }
    }

    /// Puts every node back in group 0.
    pub fn heal_partitions(&mut self) {
        for n in &mut self.nodes {
            n.partition = 0;
        }
        self.trace
            .note(self.now(), format_args!("partitions healed"));
    }

    /// The live mappings of the NAT in front of `realm`, sorted by external address.
    pub fn nat_mappings(&self, realm: NetworkId) -> Vec<MappingInfo> {
        self.nat_of(realm)
            .map(|k| self.nats[k].table.snapshot(self.now))
            .unwrap_or_default()
    }

    /// Makes the NAT in front of `realm` forget every mapping and filter entry, as a NAT
    /// reboot or a rebinding does: the next outbound datagram of each host gets a new mapping
    /// (with random port assignment, usually on another port) and old inbound paths close.
    pub fn reset_nat(&mut self, realm: NetworkId) {
        if let Some(k) = self.nat_of(realm) {
            let forgotten = self.nats[k].table.forget_mappings();
            self.trace.note(
                self.now(),
                format_args!("nat {k} reset: {forgotten} mappings forgotten"),
            );
        }
    }

    /// The configuration of the NAT in front of `realm`.
    pub fn nat_config(&self, realm: NetworkId) -> Option<&NatConfig> {
        self.nat_of(realm).map(|k| &self.nats[k].table.config)
    }

    fn nat_of(&self, realm: NetworkId) -> Option<usize> {
        self.networks.get(realm.index())?.nat.map(|k| k as usize)
    }

    /// Counters so far.
    pub fn stats(&self) -> &SimStats {
        &self.stats
    }

    /// Entries waiting in the event queue (datagrams in flight and armed timers).
    pub fn pending(&self) -> usize {
        self.queue.len()
    }

    /// A stable 64-bit hash of the trace so far (see the `trace` module docs for what it covers).
    pub fn trace_hash(&self) -> u64 {
        self.trace.hash()
    }

    /// Records the text trace in memory (read it with [`trace_text`](Sim::trace_text)).
    pub fn enable_trace(&mut self) {
        self.trace.record_in_memory();
    }

    /// Streams the text trace to `writer`, one line per record.
    pub fn set_trace_writer(&mut self, writer: Box<dyn Write>) {
        self.trace.write_to(writer);
    }

    /// The in-memory text trace (empty unless [`enable_trace`](Sim::enable_trace) was called).
    pub fn trace_text(&self) -> &str {
        self.trace.text()
    }

    /// Captures traffic as pcap in memory (take it with [`take_pcap`](Sim::take_pcap)).
    pub fn enable_pcap(&mut self) {
        // Writing the header to a Vec cannot fail, so `ok()` never discards an error.
        self.pcap = PcapWriter::new(PcapSink::Memory(Vec::new())).ok();
    }

    /// Streams captured traffic as pcap to `writer`.
    pub fn set_pcap_writer(&mut self, writer: Box<dyn Write>) -> io::Result<()> {
        self.pcap = Some(PcapWriter::new(PcapSink::Writer(writer))?);
        Ok(())
    }

    /// The in-memory capture so far (empty if capture is off or streams to a writer); capture
    /// stops.
    pub fn take_pcap(&mut self) -> Vec<u8> {
        match self.pcap.take().map(PcapWriter::into_inner) {
            Some(PcapSink::Memory(v)) => v,
            _ => Vec::new(),
        }
    }

    /// Flushes the trace and pcap writers.
    pub fn flush(&mut self) -> io::Result<()> {
        self.trace.flush()?;
        if let Some(p) = &mut self.pcap {
            p.flush()?;
        }
        Ok(())
    }

    /// Processes every event up to and including `deadline`, then sets the clock to it.
    pub fn run_until(&mut self, deadline: Instant) {
        let deadline = deadline.as_nanos();
        while let Some(t) = self.queue.peek_time() {
            if t > deadline {
                break;
            }
            self.step();
        }
        self.now = self.now.max(deadline);
    }

    /// Runs for `duration` of virtual time.
    pub fn run_for(&mut self, duration: Duration) {
        self.run_until(self.now() + duration);
    }

    /// Runs until nothing is scheduled, but no further than `limit` from now. Returns whether
    /// the simulation went idle; the clock stays at the last event if it did.
    pub fn run_until_idle(&mut self, limit: Duration) -> bool {
        let deadline = (self.now() + limit).as_nanos();
        while let Some(t) = self.queue.peek_time() {
            if t > deadline {
                self.now = deadline;
                return false;
            }
            self.step();
        }
        true
    }

    /// Processes the next event, whenever it is. Returns false if nothing was scheduled.
    pub fn step(&mut self) -> bool {
        match self.queue.pop() {
            Some((time, item)) => {
                self.now = self.now.max(time);
                self.dispatch(item);
                true
            }
            None => false,
        }
    }
}

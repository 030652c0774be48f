//! ICE agents in the simulator: pigeon's STUN and TURN servers on the public side, agents
//! anywhere behind NATs, and a signaling channel with its own delay that carries credentials,
//! trickled candidates and end-of-candidates (RFC 8838) between partnered agents.
//!
//! The NAT traversal matrix ([`super::ice_matrix`]) is built on it; so are the scenario tests
//! (hairpinning, mapping timeouts, ICE restarts) that need their own topologies.

use core::net::{IpAddr, SocketAddr};
use core::time::Duration;
use std::collections::VecDeque;

use pigeon::Instant;
use pigeon::ice::{Candidate, CandidateKind, IceAgent, IceConfig, IceEvent, IceState};
use pigeon::stun::{BindingServer, ServerConfig};
use pigeon::turn::{TurnServer, TurnServerConfig};

use crate::{LinkConfig, NetworkId, NodeId, Sim, SimError};

/// The public STUN server.
pub const STUN_SERVER: SocketAddr = SocketAddr::new(IpAddr::V4(IPV4_STUN), 3478);
/// The public TURN server (UDP).
pub const TURN_SERVER: SocketAddr = SocketAddr::new(IpAddr::V4(IPV4_TURN), 3478);
/// TURN credentials every agent of the world uses.
pub const TURN_USER: (&str, &str) = ("pigeon", "matrix");
/// The relayed ports of the TURN server (its node owns each as a socket).
pub const RELAY_PORTS: (u16, u16) = (50_000, 50_255);

const IPV4_STUN: core::net::Ipv4Addr = core::net::Ipv4Addr::new(192, 0, 2, 1);
const IPV4_TURN: core::net::Ipv4Addr = core::net::Ipv4Addr::new(192, 0, 2, 2);

/// Index of an agent in an [`IceWorld`].
pub type PeerId = usize;

/// What the signaling channel carries.
#[derive(Clone, Debug)]
enum Signal {
    Credentials(String, String),
    Candidate(Candidate),
    EndOfCandidates,
}

struct Peer {
    node: NodeId,
    partner: Option<PeerId>,
    events: Vec<(Instant, IceEvent)>,
    connected_at: Option<Instant>,
}

/// Servers, agents and the signaling channel. See the [module documentation](self).
pub struct IceWorld {
    /// The simulator; build NATs with [`Sim::add_nat`] before adding agents behind them.
    pub sim: Sim,
    signaling_delay: Duration,
    tick: Duration,
    peers: Vec<Peer>,
    /// Signals in flight: (arrival, recipient, signal), in send order.
    in_flight: VecDeque<(Instant, PeerId, Signal)>,
}

impl IceWorld {
    /// A world with the STUN and TURN servers behind `server_link`, and a signaling channel
    /// that delivers each message `signaling_delay` after it is sent.
    pub fn new(
        seed: u64,
        server_link: LinkConfig,
        signaling_delay: Duration,
    ) -> Result<IceWorld, SimError> {
        let mut sim = Sim::new(seed);
        // NOTE(unwrap): a fixed, valid IPv4 server address.
        let stun = BindingServer::new(ServerConfig::new(STUN_SERVER)).expect("STUN server address");
        sim.add_node(NetworkId::PUBLIC, &[STUN_SERVER], stun, server_link)?;
        let mut config =
            TurnServerConfig::new(TURN_SERVER, TURN_SERVER.ip(), RELAY_PORTS, "pigeon-sim")
                .with_user(TURN_USER.0, TURN_USER.1);
        // Every agent of the world shares one user name.
        config.max_allocations_per_user = usize::from(RELAY_PORTS.1 - RELAY_PORTS.0) + 1;
        let turn = TurnServer::new(config, sim.fork_rng("turn-server"));
        let mut sockets = vec![TURN_SERVER];
        sockets
            .extend((RELAY_PORTS.0..=RELAY_PORTS.1).map(|p| SocketAddr::new(TURN_SERVER.ip(), p)));
        sim.add_node(NetworkId::PUBLIC, &sockets, turn, server_link)?;
        Ok(IceWorld {
            sim,
            signaling_delay,
            tick: Duration::from_millis(1),
            peers: Vec::new(),
            in_flight: VecDeque::new(),
        })
    }

    /// Adds an agent at `local` in `network` behind `link`, with the world's STUN server and,
    /// if `turn`, its TURN server. Its generator is forked from the seed and `local`.
    pub fn add_agent(
        &mut self,
        network: NetworkId,
        local: SocketAddr,
        config: IceConfig,
        turn: bool,
        link: LinkConfig,
    ) -> Result<PeerId, SimError> {
        let label = format!("ice-agent/{network:?}/{local}");
        let agent = IceAgent::new(config, self.sim.fork_rng(&label));
        let node = self.sim.add_node(network, &[local], agent, link)?;
        self.sim.command(node, |agent: &mut IceAgent, now| {
            // The address is the node's only socket, so it cannot be a duplicate.
            let _ = agent.add_local_address(now, local);
            agent.add_stun_server(now, STUN_SERVER);
            if turn {
                agent.add_turn_server(now, TURN_SERVER, TURN_USER.0, TURN_USER.1);
            }
        });
        self.peers.push(Peer {
            node,
            partner: None,
            events: Vec::new(),
            connected_at: None,
        });
        Ok(self.peers.len() - 1)
    }

    /// Partners `a` and `b`: their credentials leave on the signaling channel now, and from
    /// now on their candidates and end-of-candidates are trickled to each other.
    pub fn connect(&mut self, a: PeerId, b: PeerId) {
        self.peers[a].partner = Some(b);
        self.peers[b].partner = Some(a);
        self.collect();
        self.send_credentials(a);
        self.send_credentials(b);
    }

    /// ICE restart (RFC 8445 §9) of `a` and its partner: both take new credentials, and each
    /// signals them with its candidates (peer-reflexive ones excepted) and end-of-candidates.
    pub fn restart(&mut self, a: PeerId) {
        let Some(b) = self.peers[a].partner else {
            return;
        };
        self.collect();
        for p in [a, b] {
            self.peers[p].connected_at = None;
            let node = self.peers[p].node;
            self.sim
                .command(node, |agent: &mut IceAgent, now| agent.restart(now));
        }
        self.collect();
        for p in [a, b] {
            self.send_credentials(p);
            let candidates = self.agent(p).local_candidates();
            for c in candidates {
                if c.kind != CandidateKind::PeerReflexive {
                    self.signal(p, Signal::Candidate(c));
                }
            }
            self.signal(p, Signal::EndOfCandidates);
        }
    }

    /// ICE restart (RFC 8445 §9) of `a` alone, as an application does when it sees its
    /// connection fail: `a` takes new credentials and signals them with its candidates
    /// (peer-reflexive ones excepted) and end-of-candidates; its partner, seeing the
    /// credentials change, restarts too and answers likewise.
    pub fn restart_one(&mut self, a: PeerId) {
        if self.peers[a].partner.is_none() {
            return;
        }
        self.collect();
        let node = self.peers[a].node;
        self.sim
            .command(node, |agent: &mut IceAgent, now| agent.restart(now));
        self.collect();
        self.resignal(a);
    }

    /// After a restart of `p`: its credentials, candidates and end-of-candidates go out.
    fn resignal(&mut self, p: PeerId) {
        self.peers[p].connected_at = None;
        self.send_credentials(p);
        let candidates = self.agent(p).local_candidates();
        for c in candidates {
            if c.kind != CandidateKind::PeerReflexive {
                self.signal(p, Signal::Candidate(c));
            }
        }
        self.signal(p, Signal::EndOfCandidates);
    }

    fn send_credentials(&mut self, p: PeerId) {
        let (u, pwd) = self.agent(p).local_credentials();
        let signal = Signal::Credentials(u.as_str().to_owned(), pwd.as_str().to_owned());
        self.signal(p, signal);
    }

    fn signal(&mut self, from: PeerId, signal: Signal) {
        if let Some(to) = self.peers[from].partner {
            let at = self.sim.now() + self.signaling_delay;
            self.in_flight.push_back((at, to, signal));
        }
    }

    /// The agent of `peer`.
    pub fn agent(&self, peer: PeerId) -> &IceAgent {
        // NOTE(unwrap): every peer's node was added with an IceAgent.
        self.sim
            .machine::<IceAgent>(self.peers[peer].node)
            .expect("ICE agent node")
    }

    /// Runs `f` on the agent of `peer` at the current time.
    pub fn command<R>(&mut self, peer: PeerId, f: impl FnOnce(&mut IceAgent, Instant) -> R) -> R {
        let node = self.peers[peer].node;
        // NOTE(unwrap): every peer's node was added with an IceAgent.
        let result = self.sim.command(node, f).expect("ICE agent node");
        self.collect();
        result
    }

    /// The simulator node of `peer`.
    pub fn node(&self, peer: PeerId) -> NodeId {
        self.peers[peer].node
    }

    /// Every event `peer` reported, with the time it was collected (within one tick of it).
    pub fn events(&self, peer: PeerId) -> &[(Instant, IceEvent)] {
        &self.peers[peer].events
    }

    /// When `peer` last became connected (state Connected or Completed with a selected pair).
    pub fn connected_at(&self, peer: PeerId) -> Option<Instant> {
        self.peers[peer].connected_at
    }

    /// Whether `peer` is connected now.
    pub fn is_connected(&self, peer: PeerId) -> bool {
        let agent = self.agent(peer);
        agent.selected_pair().is_some()
            && matches!(agent.state(), IceState::Connected | IceState::Completed)
    }

    /// Runs for `duration`, collecting events every tick (1 ms) and delivering signals when due.
    pub fn run_for(&mut self, duration: Duration) {
        let end = self.sim.now() + duration;
        self.run_until(end, |_| false);
    }

    /// Runs until `done(self)` holds (checked every tick) or `deadline`; returns whether
    /// `done` held.
    pub fn run_until(
        &mut self,
        deadline: Instant,
        mut done: impl FnMut(&IceWorld) -> bool,
    ) -> bool {
        loop {
            self.collect();
            self.deliver_due();
            if done(self) {
                return true;
            }
            let now = self.sim.now();
            if now >= deadline {
                return false;
            }
            let mut next = (now + self.tick).min(deadline);
            if let Some((at, _, _)) = self.in_flight.front() {
                next = next.min((*at).max(now));
            }
            self.sim.run_until(next);
        }
    }

    /// Takes new events from every partnered agent: candidates and end-of-candidates go onto the
    /// signaling channel, state changes update the connection times.
    fn collect(&mut self) {
        let now = self.sim.now();
        for p in 0..self.peers.len() {
            // Until it is partnered, an agent's events wait in the simulator.
            if self.peers[p].partner.is_none() {
                continue;
            }
            let node = self.peers[p].node;
            let events = self.sim.take_events::<IceAgent>(node);
            if events.is_empty() {
                continue;
            }
            for event in events {
                match &event {
                    IceEvent::LocalCandidate(c) => self.signal(p, Signal::Candidate(c.clone())),
                    IceEvent::GatheringComplete => self.signal(p, Signal::EndOfCandidates),
                    _ => {}
                }
                self.peers[p].events.push((now, event));
            }
            if self.peers[p].connected_at.is_none() && self.is_connected(p) {
                self.peers[p].connected_at = Some(now);
            }
        }
    }

    fn deliver_due(&mut self) {
        let now = self.sim.now();
        while self.in_flight.front().is_some_and(|(at, _, _)| *at <= now) {
            // NOTE(unwrap): front() was just checked.
            let (_, to, signal) = self.in_flight.pop_front().expect("a due signal");
            let node = self.peers[to].node;
            let ufrag = self.agent(to).local_credentials().0.clone();
            self.sim
                .command(node, |agent: &mut IceAgent, now| match signal {
                    Signal::Credentials(u, p) => {
                        // Credentials came from an agent, so they are valid.
                        let _ = agent.set_remote_credentials(now, &u, &p);
                    }
                    Signal::Candidate(c) => {
                        // A duplicate or unusable candidate is the agent's to refuse.
                        let _ = agent.add_remote_candidate(now, c);
                    }
                    Signal::EndOfCandidates => agent.end_of_remote_candidates(now),
                });
            // New credentials from the partner restarted the agent (RFC 8445 §9): it answers
            // with its own new credentials and candidates.
            if *self.agent(to).local_credentials().0 != ufrag {
                self.resignal(to);
            }
        }
        // Delivering may make agents report at once; pick that up in the same tick.
        self.collect();
    }
}

//! The NAT traversal matrix: ICE between two peers behind every pair of {no NAT, full cone,
//! restricted cone, port-restricted cone, symmetric}, with STUN and TURN servers on the public
//! side and trickled candidates on a delayed signaling channel (see [`super::ice_world`]).
//!
//! All 25 cells run side by side in one simulation, so one seed gives one trace hash and one
//! pcap for the whole matrix. NAT.md states the outcome each cell must have: a direct pair
//! everywhere except port-restricted x symmetric and symmetric x symmetric, which need the
//! relay.
//!
//! ```
//! use pigeon_sim::scenarios::ice_matrix::{MatrixConfig, run};
//!
//! let report = run(&MatrixConfig::default()).unwrap();
//! assert_eq!(report.cells.len(), 25);
//! assert!(report.meets_expectations());
//! ```

use core::fmt;
use core::net::{IpAddr, Ipv4Addr, SocketAddr};
use core::time::Duration;

use pigeon::ice::{CandidateKind, IceConfig, IceState};

use super::ice_world::IceWorld;
use crate::{LinkConfig, LossModel, NatConfig, NatPreset, NetworkId, SimError};

/// The rows and columns of the matrix: `None` is a host with a public address.
pub const KINDS: [Option<NatPreset>; 5] = [
    None,
    Some(NatPreset::FullCone),
    Some(NatPreset::RestrictedCone),
    Some(NatPreset::PortRestrictedCone),
    Some(NatPreset::Symmetric),
];

/// Short name of a row or column.
pub fn kind_name(kind: Option<NatPreset>) -> &'static str {
    match kind {
        None => "open",
        Some(NatPreset::FullCone) => "full cone",
        Some(NatPreset::RestrictedCone) => "restricted",
        Some(NatPreset::PortRestrictedCone) => "port-restr.",
        Some(NatPreset::Symmetric) => "symmetric",
    }
}

/// NAT.md's expectation: whether standard ICE needs the relay between `a` and `b`.
pub fn expects_relay(a: Option<NatPreset>, b: Option<NatPreset>) -> bool {
    use NatPreset::{PortRestrictedCone as Prc, Symmetric as Sym};
    matches!(
        (a, b),
        (Some(Prc), Some(Sym)) | (Some(Sym), Some(Prc)) | (Some(Sym), Some(Sym))
    )
}

/// A nomination wait for lossy links: the controlling agent nominates its best valid pair
/// `nomination_wait` after the first pair became valid, and a lost check is only retransmitted
/// after 500 ms, then 1 s and 2 s (RFC 8445 §14.3, RFC 8489 §6.2.1). With the agent's default
/// of 500 ms, one lost check on the direct pair hands the cell to the relay pair, which is
/// often valid first; 4 s lets a direct check be sent four times before that happens.
pub const LOSSY_NOMINATION_WAIT: Duration = Duration::from_secs(4);

/// How to run the matrix.
#[derive(Clone, Debug)]
pub struct MatrixConfig {
    /// Seed of every random choice.
    pub seed: u64,
    /// Uniform loss on every link (0.05 = 5%).
    pub loss: f64,
    /// Jitter on every link.
    pub jitter: Duration,
    /// One-way latency of every link (a datagram between two peers crosses two).
    pub latency: Duration,
    /// Delay of the signaling channel.
    pub signaling_delay: Duration,
    /// Capture every datagram as pcap ([`MatrixReport::pcap`]).
    pub pcap: bool,
    /// A cell not connected by then is reported as failed.
    pub time_limit: Duration,
    /// Every agent's [`IceConfig::nomination_wait`] (the agent's default, 500 ms, unless
    /// changed; see [`LOSSY_NOMINATION_WAIT`]).
    pub nomination_wait: Duration,
}

impl Default for MatrixConfig {
    fn default() -> Self {
        MatrixConfig {
            seed: 1,
            loss: 0.0,
            jitter: Duration::ZERO,
            latency: Duration::from_millis(10),
            signaling_delay: Duration::from_millis(50),
            pcap: false,
            time_limit: Duration::from_secs(30),
            nomination_wait: IceConfig::default().nomination_wait,
        }
    }
}

/// One cell: peer A (controlling) behind `a`, peer B behind `b`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CellResult {
    /// A's NAT.
    pub a: Option<NatPreset>,
    /// B's NAT.
    pub b: Option<NatPreset>,
    /// A's selected pair: (local, remote) candidate types.
    pub a_pair: Option<(CandidateKind, CandidateKind)>,
    /// B's selected pair: (local, remote) candidate types.
    pub b_pair: Option<(CandidateKind, CandidateKind)>,
    /// Virtual time from the start until both agents were connected.
    pub connected_after: Option<Duration>,
    /// Connectivity checks both agents started until then (or until the end, if never).
    pub checks_sent: u64,
    /// A's final state.
    pub a_state: IceState,
    /// B's final state.
    pub b_state: IceState,
}

impl CellResult {
    /// Both agents connected.
    pub fn connected(&self) -> bool {
        self.connected_after.is_some() && self.a_pair.is_some() && self.b_pair.is_some()
    }

    /// Connected, and a relayed candidate is part of either side's selected pair.
    pub fn relayed(&self) -> bool {
        let relay = |p: Option<(CandidateKind, CandidateKind)>| {
            p.is_some_and(|(l, r)| l == CandidateKind::Relayed || r == CandidateKind::Relayed)
        };
        self.connected() && (relay(self.a_pair) || relay(self.b_pair))
    }

    /// Connected with no relay on either side.
    pub fn direct(&self) -> bool {
        self.connected() && !self.relayed()
    }

    /// Whether the cell came out as NAT.md says it must.
    pub fn as_expected(&self) -> bool {
        if expects_relay(self.a, self.b) {
            self.relayed()
        } else {
            self.direct()
        }
    }

    /// The cell as the table prints it: A's pair, time to connected, checks sent.
    pub fn summary(&self) -> String {
        match (self.a_pair, self.connected_after) {
            (Some((l, r)), Some(t)) if self.connected() => format!(
                "{}-{} {}ms {}",
                l.as_str(),
                r.as_str(),
                t.as_millis(),
                self.checks_sent
            ),
            _ => format!("FAILED {}", self.checks_sent),
        }
    }
}

/// The whole matrix.
#[derive(Clone, Debug)]
pub struct MatrixReport {
    /// What was run.
    pub config: MatrixConfig,
    /// Row-major: `cells[5 * a + b]` for `KINDS[a]` x `KINDS[b]`.
    pub cells: Vec<CellResult>,
    /// Hash of the simulator's trace of the whole run.
    pub trace_hash: u64,
    /// Virtual time the run took.
    pub elapsed: Duration,
    /// The capture (empty unless [`MatrixConfig::pcap`]).
    pub pcap: Vec<u8>,
}

impl MatrixReport {
    /// The cell of row `a` and column `b` (indices into [`KINDS`]).
    pub fn cell(&self, a: usize, b: usize) -> &CellResult {
        &self.cells[a * KINDS.len() + b]
    }

    /// Every cell came out as NAT.md says.
    pub fn meets_expectations(&self) -> bool {
        self.cells.iter().all(CellResult::as_expected)
    }
}

impl fmt::Display for MatrixReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.config;
        writeln!(
            f,
            "NAT traversal matrix: seed {}, loss {:.1}%, jitter {} ms, latency {} ms per link, \
             signaling {} ms, nomination wait {} ms",
            c.seed,
            c.loss * 100.0,
            c.jitter.as_millis(),
            c.latency.as_millis(),
            c.signaling_delay.as_millis(),
            c.nomination_wait.as_millis()
        )?;
        // Lines are built whole so that the last column carries no trailing blanks.
        let mut line = format!("{:<12}", "A \\ B");
        for b in KINDS {
            line.push_str(&format!(" | {:<21}", kind_name(b)));
        }
        writeln!(f, "{}", line.trim_end())?;
        writeln!(f, "{}", "-".repeat(12 + 5 * 24))?;
        for (ai, a) in KINDS.iter().enumerate() {
            let mut line = format!("{:<12}", kind_name(*a));
            for bi in 0..KINDS.len() {
                let cell = self.cell(ai, bi);
                let mark = if cell.as_expected() { ' ' } else { '!' };
                line.push_str(&format!(" |{mark}{:<21}", cell.summary()));
            }
            writeln!(f, "{}", line.trim_end())?;
        }
        writeln!(
            f,
            "cell: A's selected pair (local-remote candidate types), virtual time until both \
             agents\nare connected, connectivity checks both sent until then; ! = not NAT.md's outcome"
        )?;
        let expected = self.cells.iter().filter(|c| c.as_expected()).count();
        writeln!(
            f,
            "{expected}/{} cells as NAT.md expects; {:.3} s virtual time",
            self.cells.len(),
            self.elapsed.as_secs_f64()
        )?;
        writeln!(f, "trace hash {:016x}", self.trace_hash)
    }
}

/// Runs the 25 cells side by side until each is connected or failed, or the time limit.
pub fn run(config: &MatrixConfig) -> Result<MatrixReport, SimError> {
    let mut link = LinkConfig::with_latency(config.latency);
    link.jitter = config.jitter;
    if config.loss > 0.0 {
        link.loss = LossModel::Uniform(config.loss);
    }
    let mut world = IceWorld::new(config.seed, link, config.signaling_delay)?;
    if config.pcap {
        world.sim.enable_pcap();
    }
    let start = world.sim.now();
    let mut cells = Vec::new();
    for a in KINDS {
        for b in KINDS {
            let index = cells.len();
            let mut peers = [0; 2];
            for (j, (kind, controlling)) in [(a, true), (b, false)].into_iter().enumerate() {
                let mut ice = IceConfig::new(controlling);
                ice.nomination_wait = config.nomination_wait;
                peers[j] = add_peer(&mut world, index, j, kind, ice, link)?;
            }
            world.connect(peers[0], peers[1]);
            cells.push((a, b, peers));
        }
    }
    // (time to connected, checks sent then) per cell, filled in as cells connect.
    let mut connected: Vec<Option<(Duration, u64)>> = vec![None; cells.len()];
    let deadline = start + config.time_limit;
    world.run_until(deadline, |w| {
        let mut all = true;
        for (i, (_, _, [pa, pb])) in cells.iter().enumerate() {
            if connected[i].is_some() {
                continue;
            }
            if w.is_connected(*pa) && w.is_connected(*pb) {
                let checks = w.agent(*pa).stats().checks_sent + w.agent(*pb).stats().checks_sent;
                connected[i] = Some((w.sim.now() - start, checks));
            } else if w.agent(*pa).state() != IceState::Failed
                && w.agent(*pb).state() != IceState::Failed
            {
                all = false;
            }
        }
        all
    });
    let elapsed = world.sim.now() - start;
    let results = cells
        .iter()
        .zip(&connected)
        .map(|((a, b, [pa, pb]), done)| {
            let (ea, eb) = (world.agent(*pa), world.agent(*pb));
            let pair = |agent: &pigeon::ice::IceAgent| {
                agent.selected_pair().map(|p| (p.local.kind, p.remote.kind))
            };
            CellResult {
                a: *a,
                b: *b,
                a_pair: pair(ea),
                b_pair: pair(eb),
                connected_after: done.map(|(t, _)| t),
                checks_sent: done.map_or(ea.stats().checks_sent + eb.stats().checks_sent, |d| d.1),
                a_state: ea.state(),
                b_state: eb.state(),
            }
        })
        .collect();
    Ok(MatrixReport {
        config: config.clone(),
        cells: results,
        trace_hash: world.sim.trace_hash(),
        elapsed,
        pcap: world.sim.take_pcap(),
    })
}

/// Peer `j` (0 = A, 1 = B) of cell `index`: a public host, or a host behind a new NAT.
fn add_peer(
    world: &mut IceWorld,
    index: usize,
    j: usize,
    kind: Option<NatPreset>,
    ice: IceConfig,
    link: LinkConfig,
) -> Result<usize, SimError> {
    // NOTE(unwrap): 25 cells of 2 peers number 1..=50, within a byte.
    let n = u8::try_from(2 * index + j + 1).expect("at most 50 peers");
    let cell = u8::try_from(index).expect("at most 25 cells");
    let (network, local) = match kind {
        None => (
            NetworkId::PUBLIC,
            SocketAddr::new(IpAddr::V4(Ipv4Addr::new(203, 0, 113, n)), 5000),
        ),
        Some(preset) => {
            let external = IpAddr::V4(Ipv4Addr::new(198, 51, 100, n));
            let realm = world.sim.add_nat(
                NetworkId::PUBLIC,
                NatConfig::preset(preset).with_external_ip(external),
            )?;
            let local = Ipv4Addr::new(10, cell, u8::from(j == 1) + 1, 2);
            (realm, SocketAddr::new(IpAddr::V4(local), 5000))
        }
    };
    world.add_agent(network, local, ice, true, link)
}

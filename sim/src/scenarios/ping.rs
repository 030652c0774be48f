//! A ping mesh: every node pings a random peer at a fixed interval and answers pings with pongs.
//! It is the workload of the throughput benchmark (`benches/datagrams.rs`,
//! `examples/throughput.rs`): two datagrams and one timer per ping, small payloads that the
//! machine allocates as a real protocol would.

use core::convert::Infallible;
use core::net::{Ipv4Addr, SocketAddr};
use core::time::Duration;

use pigeon::{Datagram, Instant, Machine, Transmit};

use crate::{LinkConfig, NetworkId, Sim};

/// The socket of mesh node `i`: `16.0.0.0 + i`, port 4000.
pub fn mesh_addr(i: usize) -> SocketAddr {
    let ip = Ipv4Addr::from(0x1000_0000u32.wrapping_add(i as u32));
    SocketAddr::new(ip.into(), 4000)
}

const PING: u8 = 1;
const PONG: u8 = 2;

/// One mesh node.
pub struct Pinger {
    local: SocketAddr,
    nodes: usize,
    interval: Duration,
    next: Instant,
    /// SplitMix64 state: the benchmark measures the simulator, not a boxed ChaCha per node.
    state: u64,
    outbox: Vec<Transmit>,
    seq: u64,
    /// Pongs received.
    pub pongs: u64,
}

impl Pinger {
    /// Node `index` of a mesh of `nodes`, pinging every `interval` from a random phase.
    pub fn new(index: usize, nodes: usize, interval: Duration, mut rng: pigeon::Rng) -> Pinger {
        let span = u64::try_from(interval.as_nanos())
            .unwrap_or(u64::MAX)
            .max(1);
        let phase = rng.next_u64() % span;
        Pinger {
            local: mesh_addr(index),
            nodes,
            interval,
            next: Instant::from_nanos(phase),
            state: rng.next_u64(),
            outbox: Vec::with_capacity(2),
            seq: 0,
            pongs: 0,
        }
    }
}

impl Machine for Pinger {
    type Event = Infallible;

    fn handle_datagram(&mut self, _now: Instant, datagram: Datagram<'_>) {
        match datagram.payload.first() {
            Some(&PING) => {
                let mut payload = datagram.payload.to_vec();
                payload[0] = PONG;
                self.outbox.push(Transmit {
                    source: self.local,
                    destination: datagram.source,
                    payload,
                });
            }
            Some(&PONG) => self.pongs += 1,
            _ => {}
        }
    }

    fn handle_timeout(&mut self, now: Instant) {
        if now < self.next {
            return;
        }
        self.next = now + self.interval;
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let peer = (crate::rng::mix64(self.state) % self.nodes as u64) as usize;
        self.seq += 1;
        let mut payload = Vec::with_capacity(32);
        payload.push(PING);
        payload.extend_from_slice(&self.seq.to_be_bytes());
        payload.resize(32, 0);
        self.outbox.push(Transmit {
            source: self.local,
            destination: mesh_addr(peer),
            payload,
        });
    }

    fn poll_transmit(&mut self) -> Option<Transmit> {
        self.outbox.pop()
    }

    fn poll_event(&mut self) -> Option<Infallible> {
        None
    }

    fn poll_timeout(&self) -> Option<Instant> {
        Some(self.next)
    }
}

/// A public mesh of `nodes` pingers on links of `link`.
pub fn ping_mesh(seed: u64, nodes: usize, interval: Duration, link: LinkConfig) -> Sim {
    let mut sim = Sim::new(seed);
    sim.set_event_capacity(0);
    for i in 0..nodes {
        let rng = sim.fork_rng(&format!("pinger/{i}"));
        let machine = Pinger::new(i, nodes, interval, rng);
        // NOTE(unwrap): mesh addresses are distinct by construction and PUBLIC always exists.
        sim.add_node(NetworkId::PUBLIC, &[mesh_addr(i)], machine, link)
            .expect("mesh addresses are distinct");
    }
    sim
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_ping_is_answered_on_a_clean_mesh() {
        let mut sim = ping_mesh(3, 50, Duration::from_millis(100), LinkConfig::default());
        sim.run_for(Duration::from_secs(2));
        let s = sim.stats();
        assert_eq!(s.dropped_total(), 0);
        // 50 nodes x 20 pings, each ping and pong delivered; the last pongs may be in flight.
        assert!(
            s.delivered >= 1950 && s.delivered <= 2000,
            "{}",
            s.delivered
        );
    }
}

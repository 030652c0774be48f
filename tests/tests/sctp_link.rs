//! SCTP over a long, lossy, rate-limited link (issue 7: "at least 50% of link rate" at
//! 100 Mbit/s, 100 ms RTT, 1% loss): a reliable ordered transfer between two associations
//! on pigeon-sim, goodput measured in virtual time once slow start is over.
//!
//! The link: each node's access link has a 50 ms one-way latency (100 ms RTT), a 100 Mbit/s
//! rate with a tail-drop queue of 256 KiB (20 ms at that rate), and loses 1% of the packets
//! at random; both directions (DATA and SACKs) are lossy. The bandwidth-delay product is
//! 1.25 MB.
//!
//! Goodput: bytes of user messages delivered to the receiving application, in order, within
//! a measurement window that opens `WARM_UP` after the first message is queued (slow start
//! takes about 2 s here) and lasts `WINDOW`, divided by `WINDOW`.

use std::net::SocketAddr;
use std::time::Duration;

use pigeon::sctp::{Config, Event, SctpOverUdp, SendOptions, Stats};
use pigeon_sim::{LinkConfig, LossModel, NodeId, Sim};
use pigeon_tests::sctp::connected_pair;

const A: &str = "192.0.2.10:5000";
const B: &str = "192.0.2.20:5000";
/// Link rate, bits per second.
const RATE: u64 = 100_000_000;
/// Message size.
const MESSAGE: usize = 16 * 1024;
/// Unsent bytes the sending application keeps queued, so the association never waits for it.
const BACKLOG: usize = 4 * 1024 * 1024;
const WARM_UP: Duration = Duration::from_secs(3);
const WINDOW: Duration = Duration::from_secs(5);
/// How often the application tops up the queue and collects messages.
const STEP: Duration = Duration::from_millis(50);

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn link(loss: f64) -> LinkConfig {
    LinkConfig {
        latency: Duration::from_millis(50),
        loss: LossModel::Uniform(loss),
        bandwidth: Some(RATE),
        queue_bytes: 256 * 1024,
        ..LinkConfig::default()
    }
}

/// The association configuration: the defaults, with a receive window above the path's
/// bandwidth-delay product (the default 1 MiB is below it: after a loss the receiver holds a
/// round trip of data, 1.25 MB here, until the hole fills).
fn config() -> Config {
    let mut config = Config::default();
    config.receive_window = 4 * 1024 * 1024;
    config
}

/// Two connected associations over `link`.
fn setup(seed: u64, link: LinkConfig) -> (Sim, NodeId, NodeId) {
    let addrs = (addr(A), addr(B));
    connected_pair(seed, config(), link, addrs, Duration::from_secs(60))
}

/// Runs a bulk transfer from `a` to `b`; returns the goodput in bits per second over the
/// measurement window and the sender's counters. Checks that messages arrive whole and in
/// order.
fn goodput(seed: u64, loss: f64) -> (f64, Stats) {
    let (mut sim, a, b) = setup(seed, link(loss));
    let start = sim.now();
    let (mut next_sent, mut next_received) = (0u32, 0u32);
    let mut measured = 0usize;
    // Bytes delivered per virtual second, for the log.
    let mut per_second = vec![0usize; (WARM_UP + WINDOW).as_secs() as usize + 1];
    while sim.now() - start < WARM_UP + WINDOW {
        sim.command::<SctpOverUdp, _>(a, |m, now| {
            while m.association.buffered_amount(0) < BACKLOG {
                let mut msg = vec![next_sent as u8; MESSAGE];
                msg[..4].copy_from_slice(&next_sent.to_be_bytes());
                m.association
                    .send(now, 0, 53, msg, SendOptions::default())
                    .unwrap();
                next_sent += 1;
            }
        })
        .unwrap();
        sim.run_for(STEP);
        let in_window = sim.now() - start > WARM_UP;
        for event in sim.take_events::<SctpOverUdp>(b) {
            if let Event::Message { data, .. } = event {
                let i = u32::from_be_bytes([data[0], data[1], data[2], data[3]]);
                assert_eq!(i, next_received, "seed {seed}: out of order");
                assert_eq!(data.len(), MESSAGE);
                assert!(data[4..].iter().all(|&byte| byte == i as u8));
                next_received += 1;
                per_second[(sim.now() - start).as_secs() as usize] += data.len();
                if in_window {
                    measured += data.len();
                }
            }
        }
    }
    let stats = sim
        .command::<SctpOverUdp, _>(a, |m, _| m.association.stats())
        .unwrap();
    let mbps: Vec<String> = per_second
        .iter()
        .map(|&bytes| format!("{:.0}", bytes as f64 * 8.0 / 1e6))
        .collect();
    eprintln!("Mbit/s per second: {}", mbps.join(" "));
    (measured as f64 * 8.0 / WINDOW.as_secs_f64(), stats)
}

#[test]
fn half_the_link_rate_at_100_ms_rtt_and_one_percent_loss() {
    let (bps, stats) = goodput(1, 0.01);
    eprintln!(
        "goodput {:.1} Mbit/s ({:.0}% of the link); {} fast retransmits, {} T3 expirations",
        bps / 1e6,
        bps / RATE as f64 * 100.0,
        stats.fast_retransmits,
        stats.t3_expirations
    );
    assert!(
        bps >= RATE as f64 * 0.5,
        "goodput {:.1} Mbit/s is below half of {} Mbit/s",
        bps / 1e6,
        RATE / 1_000_000
    );
}

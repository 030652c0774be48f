//! Two associations wired in memory on virtual time: handshake, transfer, shutdown, abort,
//! stream reset. The lossy link lives here too; `tests_loss` uses it.

use core::time::Duration;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

use rand_chacha::ChaCha20Rng;
use rand_core::{Rng as _, SeedableRng};

use super::*;

/// Link behaviour, the same both ways.
#[derive(Debug, Clone, Copy)]
pub(super) struct Link {
    pub(super) latency: Duration,
    pub(super) loss: f64,
    pub(super) duplicate: f64,
    pub(super) reorder: f64,
}

impl Default for Link {
    fn default() -> Link {
        Link {
            latency: Duration::from_millis(25),
            loss: 0.0,
            duplicate: 0.0,
            reorder: 0.0,
        }
    }
}

/// A packet on the wire: arrival time, sequence (ties), towards `b`, bytes.
type InFlight = Reverse<(Instant, u64, bool, Vec<u8>)>;

/// Two associations and the packets between them.
pub(super) struct Pair {
    pub(super) a: Association,
    pub(super) b: Association,
    pub(super) now: Instant,
    pub(super) link: Link,
    rng: ChaCha20Rng,
    wire: BinaryHeap<InFlight>,
    seq: u64,
    pub(super) events_a: Vec<Event>,
    pub(super) events_b: Vec<Event>,
    /// When false, packets from `a` are dropped (a crashed peer).
    pub(super) a_alive: bool,
}

pub(super) fn rng(seed: u64) -> crate::Rng {
    Box::new(ChaCha20Rng::seed_from_u64(seed))
}

impl Pair {
    pub(super) fn new(seed: u64, config: Config, link: Link) -> Pair {
        Pair {
            a: Association::new(config.clone(), rng(seed * 2)),
            b: Association::new(config, rng(seed * 2 + 1)),
            now: Instant::ZERO,
            link,
            rng: ChaCha20Rng::seed_from_u64(seed),
            wire: BinaryHeap::new(),
            seq: 0,
            events_a: Vec::new(),
            events_b: Vec::new(),
            a_alive: true,
        }
    }

    /// `a` connects, `b` listens; runs until both are up.
    pub(super) fn connected(seed: u64, config: Config, link: Link) -> Pair {
        let mut pair = Pair::new(seed, config, link);
        pair.a.connect(Instant::ZERO);
        pair.run_until(Duration::from_secs(120), |p| {
            p.a.is_established() && p.b.is_established()
        });
        assert!(pair.a.is_established() && pair.b.is_established());
        pair
    }

    fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && (self.rng.next_u64() as f64 / u64::MAX as f64) < p
    }

    fn flush(&mut self) {
        loop {
            let mut any = false;
            for to_b in [true, false] {
                let packet = if to_b {
                    self.a.poll_packet()
                } else {
                    self.b.poll_packet()
                };
                let Some(packet) = packet else { continue };
                any = true;
                if to_b && !self.a_alive {
                    continue;
                }
                if self.chance(self.link.loss) {
                    continue;
                }
                let copies = if self.chance(self.link.duplicate) {
                    2
                } else {
                    1
                };
                for _ in 0..copies {
                    let mut at = self.now + self.link.latency;
                    if self.chance(self.link.reorder) {
                        at +=
                            self.link.latency / 2 + Duration::from_millis(self.rng.next_u64() % 20);
                    }
                    self.seq += 1;
                    self.wire
                        .push(Reverse((at, self.seq, to_b, packet.clone())));
                }
            }
            if !any {
                break;
            }
        }
        self.events_a
            .extend(core::iter::from_fn(|| self.a.poll_event()));
        self.events_b
            .extend(core::iter::from_fn(|| self.b.poll_event()));
    }

    /// Advances to the next packet or timer; false when nothing is left to happen.
    pub(super) fn step(&mut self) -> bool {
        self.flush();
        let next_packet = self.wire.peek().map(|Reverse((at, ..))| *at);
        let next = [next_packet, self.a.poll_timeout(), self.b.poll_timeout()]
            .into_iter()
            .flatten()
            .min();
        let Some(next) = next else {
            return false;
        };
        self.now = self.now.max(next);
        while let Some(Reverse((at, ..))) = self.wire.peek() {
            if *at > self.now {
                break;
            }
            // NOTE(unwrap): peek() just returned Some.
            let Reverse((_, _, to_b, packet)) = self.wire.pop().expect("peeked");
            if to_b {
                self.b.handle_packet(self.now, &packet);
            } else {
                self.a.handle_packet(self.now, &packet);
            }
            self.flush();
        }
        if self.a.poll_timeout().is_some_and(|t| t <= self.now) {
            self.a.handle_timeout(self.now);
        }
        if self.b.poll_timeout().is_some_and(|t| t <= self.now) {
            self.b.handle_timeout(self.now);
        }
        self.flush();
        true
    }

    /// Steps until `done` or `limit` of virtual time passed.
    pub(super) fn run_until(&mut self, limit: Duration, mut done: impl FnMut(&mut Pair) -> bool) {
        let end = self.now + limit;
        while !done(self) && self.now < end {
            if !self.step() {
                break;
            }
        }
    }

    pub(super) fn messages_b(&self) -> Vec<(u16, u32, &[u8])> {
        self.events_b
            .iter()
            .filter_map(|e| match e {
                Event::Message { stream, ppid, data } => Some((*stream, *ppid, data.as_slice())),
                _ => None,
            })
            .collect()
    }
}

pub(super) fn closed(events: &[Event]) -> Option<CloseReason> {
    events.iter().find_map(|e| match e {
        Event::Closed { reason } => Some(*reason),
        _ => None,
    })
}

#[test]
fn handshake_and_one_message() {
    let mut p = Pair::connected(1, Config::default(), Link::default());
    assert_eq!(p.events_a.first(), Some(&Event::Connected));
    assert_eq!(p.events_b.first(), Some(&Event::Connected));
    // INIT, INIT ACK, COOKIE ECHO, COOKIE ACK: two round trips.
    assert_eq!(p.now, Instant::from_millis(100));
    p.a.send(p.now, 3, 51, b"hello".to_vec(), SendOptions::default())
        .unwrap();
    p.run_until(Duration::from_secs(1), |p| !p.messages_b().is_empty());
    assert_eq!(p.messages_b(), [(3, 51, &b"hello"[..])]);
    assert_eq!(p.a.stats().bad_tag + p.b.stats().bad_tag, 0);
}

#[test]
fn simultaneous_open_collides_into_one_association() {
    let mut p = Pair::new(2, Config::default(), Link::default());
    p.a.connect(Instant::ZERO);
    p.b.connect(Instant::ZERO);
    p.run_until(Duration::from_secs(30), |p| {
        p.a.is_established() && p.b.is_established()
    });
    assert!(p.a.is_established() && p.b.is_established());
    p.b.send(p.now, 0, 53, b"from b".to_vec(), SendOptions::default())
        .unwrap();
    p.a.send(p.now, 0, 53, b"from a".to_vec(), SendOptions::default())
        .unwrap();
    p.run_until(Duration::from_secs(5), |p| {
        !p.messages_b().is_empty()
            && p.events_a
                .iter()
                .any(|e| matches!(e, Event::Message { .. }))
    });
    assert_eq!(p.messages_b(), [(0, 53, &b"from a"[..])]);
}

#[test]
fn handshake_gives_up_without_a_peer() {
    let mut a = Association::new(Config::default(), rng(3));
    a.connect(Instant::ZERO);
    let mut now = Instant::ZERO;
    let mut inits = 0;
    while let Some(t) = a.poll_timeout() {
        while a.poll_packet().is_some() {
            inits += 1;
        }
        now = t;
        a.handle_timeout(now);
    }
    while a.poll_packet().is_some() {
        inits += 1;
    }
    assert_eq!(
        inits, 9,
        "one INIT and Max.Init.Retransmits = 8 retransmissions"
    );
    assert_eq!(
        a.poll_event(),
        Some(Event::Closed {
            reason: CloseReason::Timeout
        })
    );
    // 1 + 2 + 4 + ... + 60 s of backoff.
    assert_eq!(
        now,
        Instant::from_secs(1 + 2 + 4 + 8 + 16 + 32 + 60 + 60 + 60)
    );
}

#[test]
fn one_mebibyte_in_large_and_small_messages() {
    let mut p = Pair::connected(4, Config::default(), Link::default());
    let mut expected = Vec::new();
    for i in 0..64u32 {
        let len = if i % 2 == 0 { 30_000 } else { 2_768 };
        let msg: Vec<u8> = (0..len).map(|j| (i as usize * 7 + j) as u8).collect();
        expected.extend_from_slice(&msg);
        p.a.send(p.now, (i % 3) as u16, 53, msg, SendOptions::default())
            .unwrap();
    }
    assert_eq!(expected.len(), 1 << 20);
    let start = p.now;
    p.run_until(Duration::from_secs(60), |p| p.messages_b().len() == 64);
    let got: Vec<u8> = p
        .messages_b()
        .iter()
        .flat_map(|m| m.2.iter().copied())
        .collect();
    assert_eq!(got.len(), expected.len());
    // Streams 0, 1, 2 interleave, but per stream order holds; check per stream.
    for stream in 0..3u16 {
        let sent: Vec<usize> = (0..64).filter(|i| i % 3 == stream as usize).collect();
        let received: Vec<&[u8]> = p
            .messages_b()
            .iter()
            .filter(|m| m.0 == stream)
            .map(|m| m.2)
            .collect();
        assert_eq!(sent.len(), received.len());
        for (i, data) in sent.iter().zip(received) {
            let len = if i % 2 == 0 { 30_000 } else { 2_768 };
            assert_eq!(data.len(), len);
            assert_eq!(data[1], (*i * 7 + 1) as u8);
        }
    }
    assert_eq!(p.a.stats().timeout_retransmits, 0);
    assert!(
        p.now - start < Duration::from_secs(3),
        "took {:?}",
        p.now - start
    );
}

#[test]
fn graceful_shutdown_delivers_queued_data_first() {
    let mut p = Pair::connected(5, Config::default(), Link::default());
    p.a.send(p.now, 1, 51, vec![9; 100_000], SendOptions::default())
        .unwrap();
    p.a.close(p.now);
    assert_eq!(
        p.a.send(p.now, 1, 51, vec![1], SendOptions::default()),
        Err(SendError::NotConnected)
    );
    p.run_until(Duration::from_secs(30), |p| {
        closed(&p.events_a).is_some() && closed(&p.events_b).is_some()
    });
    assert_eq!(p.messages_b().len(), 1);
    assert_eq!(p.messages_b()[0].2.len(), 100_000);
    assert_eq!(closed(&p.events_a), Some(CloseReason::Shutdown));
    assert_eq!(closed(&p.events_b), Some(CloseReason::Shutdown));
    assert_eq!(p.a.state(), State::Terminated);
    assert_eq!(p.a.poll_timeout(), None);
}

#[test]
fn abort_closes_both_sides() {
    let mut p = Pair::connected(6, Config::default(), Link::default());
    p.a.send(p.now, 1, 51, vec![9; 10_000], SendOptions::default())
        .unwrap();
    p.b.abort(p.now);
    p.run_until(Duration::from_secs(5), |p| closed(&p.events_a).is_some());
    assert_eq!(closed(&p.events_a), Some(CloseReason::PeerAbort));
    assert_eq!(closed(&p.events_b), Some(CloseReason::LocalAbort));
}

#[test]
fn stream_reset_closes_a_stream_and_restarts_its_sequence() {
    let mut p = Pair::connected(7, Config::default(), Link::default());
    for i in 0..3u8 {
        p.a.send(p.now, 4, 51, vec![i; 10], SendOptions::default())
            .unwrap();
    }
    p.a.reset_streams(p.now, &[4]).unwrap();
    assert_eq!(
        p.a.send(p.now, 4, 51, vec![1], SendOptions::default()),
        Err(SendError::StreamResetting)
    );
    p.run_until(Duration::from_secs(5), |p| {
        p.events_a
            .iter()
            .any(|e| matches!(e, Event::StreamReset { .. }))
    });
    assert!(p.events_a.contains(&Event::StreamReset {
        streams: vec![4],
        incoming: false
    }));
    assert!(p.events_b.contains(&Event::StreamReset {
        streams: vec![4],
        incoming: true
    }));
    let before = p.messages_b().len();
    assert_eq!(before, 3);
    // The stream is usable again from SSN 0.
    p.a.send(p.now, 4, 51, b"again".to_vec(), SendOptions::default())
        .unwrap();
    p.run_until(Duration::from_secs(5), |p| p.messages_b().len() == 4);
    assert_eq!(p.messages_b()[3].2, b"again");
}

#[test]
fn buffered_amount_and_low_event() {
    let mut p = Pair::connected(10, Config::default(), Link::default());
    p.a.set_buffered_amount_low_threshold(2, 10_000);
    p.a.send(p.now, 2, 51, vec![1; 50_000], SendOptions::default())
        .unwrap();
    assert_eq!(p.a.buffered_amount(2), 50_000);
    assert_eq!(p.a.buffered_amount(3), 0);
    p.run_until(Duration::from_secs(5), |p| p.messages_b().len() == 1);
    assert_eq!(p.a.buffered_amount(2), 0);
    let lows: Vec<_> = p
        .events_a
        .iter()
        .filter(|e| matches!(e, Event::BufferedAmountLow { .. }))
        .collect();
    assert_eq!(lows, [&Event::BufferedAmountLow { stream: 2 }]);
}

#[test]
fn zero_checksum_only_when_both_announce_it() {
    let dtls = Config {
        zero_checksum: true,
        ..Config::default()
    };
    let mut p = Pair::connected(11, dtls.clone(), Link::default());
    p.a.send(p.now, 0, 51, b"x".to_vec(), SendOptions::default())
        .unwrap();
    let packet = p.a.poll_packet().unwrap();
    assert_eq!(packet[8..12], [0; 4]);
    p.b.handle_packet(p.now, &packet);
    p.run_until(Duration::from_secs(1), |p| p.messages_b().len() == 1);
    assert_eq!(p.messages_b().len(), 1);

    // Only one side announcing it: CRC32c stays.
    let mut p = Pair::new(12, Config::default(), Link::default());
    p.b = Association::new(dtls, rng(13));
    p.a.connect(Instant::ZERO);
    p.run_until(Duration::from_secs(5), |p| {
        p.a.is_established() && p.b.is_established()
    });
    p.b.send(p.now, 0, 51, b"x".to_vec(), SendOptions::default())
        .unwrap();
    let packet = p.b.poll_packet().unwrap();
    assert_eq!(
        packet[8..12],
        crate::sctp::packet::checksum(&packet).to_le_bytes()
    );
}

#[test]
fn send_refuses_misuse() {
    let mut a = Association::new(Config::default(), rng(8));
    assert_eq!(
        a.send(Instant::ZERO, 0, 51, vec![1], SendOptions::default()),
        Err(SendError::NotConnected)
    );
    let mut p = Pair::connected(
        8,
        Config {
            streams: 10,
            ..Config::default()
        },
        Link::default(),
    );
    let now = p.now;
    assert_eq!(
        p.a.send(now, 0, 51, vec![], SendOptions::default()),
        Err(SendError::Empty)
    );
    assert_eq!(
        p.a.send(now, 10, 51, vec![1], SendOptions::default()),
        Err(SendError::InvalidStream)
    );
    assert_eq!(
        p.a.send(now, 0, 51, vec![0; 256 * 1024 + 1], SendOptions::default()),
        Err(SendError::TooLarge)
    );
    assert_eq!(p.a.outbound_streams(), 10);
}

#[test]
fn heartbeats_keep_an_idle_association_and_detect_a_dead_peer() {
    let mut p = Pair::connected(9, Config::default(), Link::default());
    p.run_until(Duration::from_secs(300), |_| false);
    assert!(p.a.is_established() && p.b.is_established());
    p.a_alive = false;
    p.run_until(Duration::from_secs(3600), |p| closed(&p.events_b).is_some());
    assert_eq!(closed(&p.events_b), Some(CloseReason::Timeout));
}

#[test]
fn stale_cookie_error_and_a_preserved_retry() {
    // b's cookies live 10 ms but a round trip takes 50 ms: the first COOKIE ECHO is stale.
    let mut p = Pair::new(14, Config::default(), Link::default());
    p.b = Association::new(
        Config {
            cookie_lifetime: Duration::from_millis(10),
            ..Config::default()
        },
        rng(15),
    );
    p.a.connect(Instant::ZERO);
    p.run_until(Duration::from_secs(10), |p| {
        p.a.is_established() && p.b.is_established()
    });
    assert!(p.a.is_established() && p.b.is_established());
    assert_eq!(p.b.stats().bad_cookies, 1);
    // RFC 9260 §5.2.6: the ERROR made a start again at once (two more round trips), not
    // after a T1-cookie timeout.
    assert_eq!(p.now, Instant::from_millis(200));
}

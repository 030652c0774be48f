//! Two [`DataChannelPeer`]s wired in memory on virtual time: DTLS, SCTP and DCEP for real.

use core::net::SocketAddr;
use core::time::Duration;

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

use super::*;
use crate::dtls::{DtlsCertificate, DtlsError, DtlsRole};
use crate::{Instant, Machine};

fn rng(seed: u64) -> crate::Rng {
    Box::new(ChaCha20Rng::seed_from_u64(seed))
}

const A: &str = "192.0.2.1:5000";
const B: &str = "192.0.2.2:6000";

struct Pair {
    /// The DTLS client.
    a: DataChannelPeer,
    /// The DTLS server.
    b: DataChannelPeer,
    now: Instant,
    /// Datagrams sent so far, both ways, numbered from 0.
    sent: usize,
    /// Decides per datagram number whether the network loses it.
    lose: Box<dyn FnMut(usize) -> bool>,
    events_a: Vec<PeerEvent>,
    events_b: Vec<PeerEvent>,
}

impl Pair {
    fn new(seed: u64) -> Pair {
        Pair::with(seed, |_| {}, |_| {})
    }

    fn with(
        seed: u64,
        tweak_a: impl FnOnce(&mut DataChannelPeerConfig),
        tweak_b: impl FnOnce(&mut DataChannelPeerConfig),
    ) -> Pair {
        let ca = DtlsCertificate::generate(&mut rng(seed), "a");
        let cb = DtlsCertificate::generate(&mut rng(seed + 1), "b");
        let mut config_a = DataChannelPeerConfig::default();
        config_a.dtls.expected_fingerprint = Some(cb.fingerprint());
        let mut config_b = DataChannelPeerConfig::default();
        config_b.dtls.expected_fingerprint = Some(ca.fingerprint());
        tweak_a(&mut config_a);
        tweak_b(&mut config_b);
        let (a, b): (SocketAddr, SocketAddr) = (A.parse().unwrap(), B.parse().unwrap());
        Pair {
            a: DataChannelPeer::new(
                DtlsRole::Client,
                config_a,
                ca,
                rng(seed + 2),
                rng(seed + 3),
                a,
                b,
            ),
            b: DataChannelPeer::new(
                DtlsRole::Server,
                config_b,
                cb,
                rng(seed + 4),
                rng(seed + 5),
                b,
                a,
            ),
            now: Instant::ZERO,
            sent: 0,
            lose: Box::new(|_| false),
            events_a: Vec::new(),
            events_b: Vec::new(),
        }
    }

    fn connected(seed: u64) -> Pair {
        let mut p = Pair::new(seed);
        p.run(Duration::from_secs(5));
        assert!(p.a.is_connected() && p.b.is_connected());
        assert!(p.events_a.contains(&PeerEvent::Connected));
        assert!(p.events_b.contains(&PeerEvent::Connected));
        p.events_a.clear();
        p.events_b.clear();
        p
    }

    /// Moves datagrams both ways (no latency) until quiet, then advances time to the next
    /// timer; stops at `limit` of virtual time.
    fn run(&mut self, limit: Duration) {
        let end = self.now + limit;
        loop {
            let mut moved = false;
            while let Some(t) = self.a.poll_transmit() {
                moved = true;
                self.sent += 1;
                if !(self.lose)(self.sent - 1) {
                    self.b.handle_datagram(self.now, t.as_datagram());
                }
            }
            while let Some(t) = self.b.poll_transmit() {
                moved = true;
                self.sent += 1;
                if !(self.lose)(self.sent - 1) {
                    self.a.handle_datagram(self.now, t.as_datagram());
                }
            }
            self.events_a
                .extend(core::iter::from_fn(|| self.a.poll_event()));
            self.events_b
                .extend(core::iter::from_fn(|| self.b.poll_event()));
            if moved {
                continue;
            }
            let next = [self.a.poll_timeout(), self.b.poll_timeout()]
                .into_iter()
                .flatten()
                .min();
            match next {
                Some(at) if at <= end => {
                    self.now = self.now.max(at);
                    self.a.handle_timeout(self.now);
                    self.b.handle_timeout(self.now);
                }
                _ => {
                    self.now = end;
                    return;
                }
            }
        }
    }

    /// Runs until the association is quiet (no data outstanding: only heartbeats remain).
    fn settle(&mut self) {
        self.run(Duration::from_secs(20));
    }
}

fn channel_events(events: &[PeerEvent]) -> Vec<DataChannelEvent> {
    events
        .iter()
        .filter_map(|e| match e {
            PeerEvent::Channel(c) => Some(c.clone()),
            _ => None,
        })
        .collect()
}

fn messages(events: &[PeerEvent], id: ChannelId) -> Vec<MessageData> {
    channel_events(events)
        .into_iter()
        .filter_map(|e| match e {
            DataChannelEvent::Message { channel, data } if channel == id => Some(data),
            _ => None,
        })
        .collect()
}

fn text(s: &str) -> MessageData {
    MessageData::Text(s.to_owned())
}

#[test]
fn dtls_then_sctp_then_dcep_from_both_sides() {
    let mut p = Pair::new(1);
    p.run(Duration::from_secs(5));
    let fingerprint_b = p.b.local_fingerprint();
    assert_eq!(
        p.events_a[..2],
        [
            PeerEvent::DtlsConnected {
                peer_fingerprint: fingerprint_b
            },
            PeerEvent::Connected
        ]
    );
    let now = p.now;
    // RFC 8832 §6: the DTLS client picks even ids, the server odd ones.
    let ours =
        p.a.open(now, "from-a", "proto-a", ChannelOptions::default());
    let theirs = p.b.open(now, "from-b", "", ChannelOptions::default());
    let (ours, theirs) = (ours.unwrap(), theirs.unwrap());
    assert_eq!((ours.stream(), theirs.stream()), (0, 1));
    p.settle();
    for events in [&p.events_a, &p.events_b] {
        let opened: Vec<_> = channel_events(events)
            .into_iter()
            .filter(|e| matches!(e, DataChannelEvent::Open(_)))
            .collect();
        assert_eq!(opened.len(), 2, "{events:?}");
    }
    let seen = p.b.channel(ours).unwrap();
    assert_eq!((seen.label(), seen.protocol()), ("from-a", "proto-a"));
    assert_eq!(p.a.channel(theirs).unwrap().label(), "from-b");

    let now = p.now;
    p.a.send_text(now, ours, "hello").unwrap();
    p.a.send_text(now, ours, "").unwrap();
    p.a.send_binary(now, ours, &[]).unwrap();
    p.a.send_binary(now, ours, &[0, 1, 2, 255]).unwrap();
    p.b.send_text(now, theirs, "héllo").unwrap();
    p.b.send_text(now, ours, "on a's channel").unwrap();
    p.settle();
    assert_eq!(
        messages(&p.events_b, ours),
        [
            text("hello"),
            text(""),
            MessageData::Binary(Vec::new()),
            MessageData::Binary(vec![0, 1, 2, 255])
        ]
    );
    assert_eq!(messages(&p.events_a, theirs), [text("héllo")]);
    assert_eq!(messages(&p.events_a, ours), [text("on a's channel")]);
    assert_eq!(p.b.channel_stats().messages_received, 4);
    assert_eq!(p.a.stats(), PeerStats::default());
}

#[test]
fn negotiated_channels_open_with_the_association() {
    let mut p = Pair::new(2);
    let options = ChannelOptions {
        negotiated: Some(7),
        ..ChannelOptions::default()
    };
    let a = p.a.open(Instant::ZERO, "agreed", "", options).unwrap();
    let b = p.b.open(Instant::ZERO, "agreed", "", options).unwrap();
    assert_eq!((a, b), (ChannelId(7), ChannelId(7)));
    p.run(Duration::from_secs(5));
    assert!(channel_events(&p.events_a).contains(&DataChannelEvent::Open(a)));
    assert!(channel_events(&p.events_b).contains(&DataChannelEvent::Open(b)));
    let now = p.now;
    p.a.send_text(now, a, "no dcep needed").unwrap();
    p.b.send_binary(now, b, b"back").unwrap();
    p.settle();
    assert_eq!(messages(&p.events_b, b), [text("no dcep needed")]);
    assert_eq!(
        messages(&p.events_a, a),
        [MessageData::Binary(b"back".to_vec())]
    );
}

#[test]
fn a_large_message_arrives_whole() {
    let mut p = Pair::connected(3);
    let id =
        p.a.open(p.now, "big", "", ChannelOptions::default())
            .unwrap();
    p.settle();
    let big: Vec<u8> = (0..DEFAULT_MAX_MESSAGE_SIZE)
        .map(|i| (i % 251) as u8)
        .collect();
    p.a.send_binary(p.now, id, &big).unwrap();
    assert!(p.a.buffered_amount(id) >= big.len());
    p.settle();
    assert_eq!(p.a.buffered_amount(id), 0);
    assert_eq!(messages(&p.events_b, id), [MessageData::Binary(big)]);
}

#[test]
fn many_channels_from_both_sides() {
    let mut p = Pair::connected(4);
    let now = p.now;
    let mut ids = Vec::new();
    for i in 0..100 {
        let peer = if i % 2 == 0 { &mut p.a } else { &mut p.b };
        ids.push(
            peer.open(now, &format!("c{i}"), "", ChannelOptions::default())
                .unwrap(),
        );
    }
    p.settle();
    let now = p.now;
    for (i, id) in ids.iter().enumerate() {
        p.a.send_text(now, *id, &format!("a{i}")).unwrap();
        p.b.send_text(now, *id, &format!("b{i}")).unwrap();
    }
    p.settle();
    for (i, id) in ids.iter().enumerate() {
        assert_eq!(messages(&p.events_b, *id), [text(&format!("a{i}"))]);
        assert_eq!(messages(&p.events_a, *id), [text(&format!("b{i}"))]);
    }
    assert_eq!(p.a.channels().count(), 100);
}

#[test]
fn reliable_ordered_survives_loss_while_partial_reliability_gives_up() {
    let mut p = Pair::connected(5);
    let now = p.now;
    let reliable =
        p.a.open(now, "reliable", "", ChannelOptions::default())
            .unwrap();
    let once = ChannelOptions {
        ordered: false,
        limit: ReliabilityLimit::MaxRetransmits(0),
        ..ChannelOptions::default()
    };
    let lossy = p.a.open(now, "lossy", "", once).unwrap();
    let timed = ChannelOptions {
        limit: ReliabilityLimit::MaxPacketLifeTime(50),
        ..ChannelOptions::default()
    };
    let timed = p.a.open(now, "timed", "", timed).unwrap();
    p.settle();
    // The peer learned each channel's reliability from DATA_CHANNEL_OPEN (RFC 8832 §5.1).
    for id in [reliable, lossy, timed] {
        let (ours, theirs) = (p.a.channel(id).unwrap(), p.b.channel(id).unwrap());
        assert_eq!(ours.reliability(), theirs.reliability());
    }
    // One datagram in four lost from here on.
    let start = p.sent;
    p.lose = Box::new(move |n| n > start && n % 4 == 0);
    for i in 0..200u32 {
        let now = p.now;
        let body = i.to_be_bytes();
        p.a.send_binary(now, reliable, &body).unwrap();
        p.a.send_binary(now, lossy, &body).unwrap();
        p.a.send_binary(now, timed, &body).unwrap();
        p.run(Duration::from_millis(5));
    }
    p.run(Duration::from_secs(60));
    let expected: Vec<_> = (0..200u32)
        .map(|i| MessageData::Binary(i.to_be_bytes().to_vec()))
        .collect();
    assert_eq!(messages(&p.events_b, reliable), expected);
    let got = messages(&p.events_b, lossy);
    assert!(
        got.len() < 200,
        "messages sent once are lost with their datagram"
    );
    assert!(got.len() > 100, "{}", got.len());
    let mut unique = got.clone();
    unique.sort_by_key(|m| format!("{m:?}"));
    unique.dedup();
    assert_eq!(unique.len(), got.len(), "no message twice");
    assert!(messages(&p.events_b, timed).len() <= 200);
    // RFC 3758 §3.5: the receiver is told to skip what was abandoned.
    assert!(p.a.sctp_stats().forward_tsns_sent > 0);
}

#[test]
fn close_resets_the_stream_on_both_sides_and_frees_the_id() {
    let mut p = Pair::connected(6);
    let id =
        p.a.open(p.now, "short", "", ChannelOptions::default())
            .unwrap();
    p.settle();
    p.a.send_text(p.now, id, "last words").unwrap();
    p.a.close(p.now, id).unwrap();
    assert_eq!(p.a.channel(id).unwrap().state(), ChannelState::Closing);
    p.settle();
    assert_eq!(messages(&p.events_b, id), [text("last words")]);
    assert!(channel_events(&p.events_a).contains(&DataChannelEvent::Close(id)));
    assert!(channel_events(&p.events_b).contains(&DataChannelEvent::Close(id)));
    assert!(p.a.channel(id).is_none() && p.b.channel(id).is_none());
    // The stream is usable again once both sides reset it.
    let again = ChannelOptions {
        negotiated: Some(id.stream()),
        ..ChannelOptions::default()
    };
    p.a.open(p.now, "again", "", again).unwrap();
    p.b.open(p.now, "again", "", again).unwrap();
    p.a.send_text(p.now, id, "second life").unwrap();
    p.settle();
    assert_eq!(messages(&p.events_b, id).last(), Some(&text("second life")));
}

#[test]
fn buffered_amount_low_fires_after_a_burst() {
    let mut p = Pair::connected(7);
    let id =
        p.a.open(p.now, "flow", "", ChannelOptions::default())
            .unwrap();
    p.settle();
    p.a.set_buffered_amount_low_threshold(id, 32 * 1024)
        .unwrap();
    for _ in 0..16 {
        p.a.send_binary(p.now, id, &[9; 16 * 1024]).unwrap();
    }
    assert_eq!(p.a.buffered_amount(id), 256 * 1024);
    p.settle();
    let low: Vec<_> = channel_events(&p.events_a)
        .into_iter()
        .filter(|e| *e == DataChannelEvent::BufferedAmountLow(id))
        .collect();
    assert_eq!(low.len(), 1);
    assert_eq!(messages(&p.events_b, id).len(), 16);
}

#[test]
fn a_wrong_fingerprint_ends_the_connection() {
    let mut p = Pair::with(
        8,
        |c| c.dtls.expected_fingerprint = Some(crate::dtls::Fingerprint([7; 32])),
        |_| {},
    );
    let id =
        p.a.open(Instant::ZERO, "never", "", ChannelOptions::default())
            .unwrap();
    p.run(Duration::from_secs(5));
    assert!(!p.a.is_connected());
    assert!(p.events_a.iter().any(|e| matches!(
        e,
        PeerEvent::Closed(PeerCloseCause::Dtls(DtlsError::FingerprintMismatch { .. }))
    )));
    assert!(channel_events(&p.events_a).contains(&DataChannelEvent::Close(id)));
    assert!(!p.events_b.contains(&PeerEvent::Connected));
}

#[test]
fn strangers_and_other_protocols_are_dropped() {
    let mut p = Pair::connected(9);
    let stranger: SocketAddr = "203.0.113.9:5000".parse().unwrap();
    let us: SocketAddr = B.parse().unwrap();
    p.b.handle_datagram(
        p.now,
        crate::Datagram {
            source: stranger,
            destination: us,
            payload: &[23, 254, 253, 0, 1],
        },
    );
    // A STUN binding request's first byte is 0 (RFC 7983 §7).
    p.b.handle_datagram(
        p.now,
        crate::Datagram {
            source: A.parse().unwrap(),
            destination: us,
            payload: &[0, 1, 0, 0],
        },
    );
    // Garbage that looks like a DTLS record.
    p.b.handle_datagram(
        p.now,
        crate::Datagram {
            source: A.parse().unwrap(),
            destination: us,
            payload: &[23, 254, 253, 0, 1, 0, 0, 0, 0, 0, 9, 0, 3, 1, 2, 3],
        },
    );
    let stats = p.b.stats();
    assert_eq!((stats.foreign_datagrams, stats.not_dtls), (1, 1));
    assert!(p.b.is_connected());
}

#[test]
fn shutdown_closes_every_channel_on_both_sides() {
    let mut p = Pair::connected(10);
    let id =
        p.a.open(p.now, "bye", "", ChannelOptions::default())
            .unwrap();
    p.settle();
    p.a.shutdown(p.now);
    p.settle();
    for events in [&p.events_a, &p.events_b] {
        assert!(channel_events(events).contains(&DataChannelEvent::Close(id)));
        assert!(events.iter().any(|e| matches!(e, PeerEvent::Closed(_))));
    }
    assert!(!p.a.is_connected() && !p.b.is_connected());
}

#[test]
fn same_seed_same_bytes() {
    let trace = |seed| {
        let mut p = Pair::connected(seed);
        let id =
            p.a.open(p.now, "det", "", ChannelOptions::default())
                .unwrap();
        p.settle();
        p.a.send_text(p.now, id, "x").unwrap();
        let mut out = Vec::new();
        while let Some(t) = p.a.poll_transmit() {
            out.push(t.payload);
        }
        out
    };
    assert_eq!(trace(11), trace(11));
}

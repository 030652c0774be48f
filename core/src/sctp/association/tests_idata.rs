//! Pair tests of RFC 8260: I-DATA negotiation and its DATA fallback, interleaving of a large
//! message with small ones on another stream, MIDs, partial reliability with I-FORWARD-TSN,
//! and the protocol violation of mixing DATA into an I-DATA association.

use core::time::Duration;

use super::tests::{Link, Pair, closed};
use super::tests_loss::{lossy, transfer_with};
use super::*;
use crate::sctp::Packet;
use crate::sctp::chunk::Data;

const MIB: usize = 1024 * 1024;

fn interleaving(p: &Pair) -> (bool, bool) {
    let flag = |a: &Association| a.tcb.as_ref().is_some_and(|t| t.interleaving);
    (flag(&p.a), flag(&p.b))
}

fn data_only() -> Config {
    Config {
        interleaving: false,
        ..Config::default()
    }
}

/// The user-data chunks of the next packet `a` sends.
fn next_data_chunks(a: &mut Association) -> Vec<Chunk> {
    let packet = a.poll_packet().expect("a packet to send");
    Packet::decode(&packet)
        .expect("our own packet decodes")
        .chunks
        .into_iter()
        .filter(|c| matches!(c, Chunk::Data(_) | Chunk::IData(_)))
        .collect()
}

/// Sends one `big` message on stream 1, then 20 small ones on stream 2, and returns the
/// position among b's messages at which the big one arrived, with the pair.
fn big_then_small(seed: u64, config: Config, big: usize) -> (usize, Pair) {
    let mut p = Pair::connected(seed, config, Link::default());
    let data: Vec<u8> = (0..big).map(|i| (i % 253) as u8).collect();
    p.a.send(p.now, 1, 53, data.clone(), SendOptions::default())
        .unwrap();
    for i in 0..20u8 {
        p.a.send(p.now, 2, 51, vec![i; 100], SendOptions::default())
            .unwrap();
    }
    p.run_until(Duration::from_secs(120), |p| p.messages_b().len() == 21);
    let got = p.messages_b();
    assert_eq!(got.len(), 21);
    let at = got.iter().position(|m| m.0 == 1).unwrap();
    assert_eq!(got[at].2, &data[..], "the big message arrives whole");
    let small: Vec<&[u8]> = got.iter().filter(|m| m.0 == 2).map(|m| m.2).collect();
    for (i, m) in small.iter().enumerate() {
        assert_eq!(*m, &[i as u8; 100][..], "small messages in order");
    }
    (at, p)
}

#[test]
fn large_message_does_not_block_small_ones_on_other_streams() {
    let config = Config {
        max_message_size: 4 * MIB,
        ..Config::default()
    };
    let (at, p) = big_then_small(40, config, 4 * MIB);
    assert_eq!(interleaving(&p), (true, true));
    // RFC 8260 §3.2: the small messages went out between the big one's chunks.
    assert_eq!(
        at, 20,
        "every small message arrived before the 4 MiB one completed"
    );
}

#[test]
fn data_fallback_when_one_side_does_not_offer_idata() {
    for (seed, a_on, b_on) in [(41, false, true), (42, true, false), (43, false, false)] {
        let mut p = Pair::new(
            seed,
            Config {
                interleaving: a_on,
                max_message_size: MIB,
                ..Config::default()
            },
            Link::default(),
        );
        p.b = Association::new(
            Config {
                interleaving: b_on,
                max_message_size: MIB,
                ..Config::default()
            },
            super::tests::rng(seed * 7),
        );
        p.a.connect(p.now);
        p.run_until(Duration::from_secs(10), |p| {
            p.a.is_established() && p.b.is_established()
        });
        assert_eq!(interleaving(&p), (false, false), "seed {seed}");
        p.a.send(p.now, 0, 51, b"x".to_vec(), SendOptions::default())
            .unwrap();
        assert!(matches!(next_data_chunks(&mut p.a)[..], [Chunk::Data(_)]));
        p.run_until(Duration::from_secs(5), |p| p.messages_b().len() == 1);
        assert_eq!(p.messages_b().len(), 1);
    }
    // DATA cannot interleave: the big message holds the small ones back, but all arrive.
    let (at, _) = big_then_small(
        44,
        Config {
            max_message_size: MIB,
            ..data_only()
        },
        MIB,
    );
    assert_eq!(at, 0);
}

#[test]
fn data_fallback_survives_loss() {
    transfer_with(45, data_only(), lossy(0.05));
    let p = transfer_with(46, data_only(), lossy(0.30));
    assert_eq!(interleaving(&p), (false, false));
}

#[test]
fn idata_on_the_wire_with_separate_mid_counters() {
    let mut p = Pair::connected(47, Config::default(), Link::default());
    let ordered = SendOptions::default();
    let unordered = SendOptions {
        unordered: true,
        ..SendOptions::default()
    };
    p.a.send(p.now, 3, 51, b"o0".to_vec(), ordered).unwrap();
    p.a.send(p.now, 3, 51, b"u0".to_vec(), unordered).unwrap();
    p.a.send(p.now, 3, 51, b"o1".to_vec(), ordered).unwrap();
    let mids: Vec<(bool, u32, u32)> = next_data_chunks(&mut p.a)
        .into_iter()
        .map(|c| match c {
            Chunk::IData(d) => {
                assert!(d.beginning && d.ending && d.fsn == 0);
                (d.unordered, d.mid, d.ppid)
            }
            other => panic!("expected I-DATA, got {other:?}"),
        })
        .collect();
    // RFC 8260 §2.2.2: ordered and unordered messages of a stream count MIDs apart.
    assert_eq!(mids, [(false, 0, 51), (true, 0, 51), (false, 1, 51)]);

    // A fragmented message: FSNs count up from 0, the PPID only in the first.
    p.a.send(p.now, 4, 53, vec![7; 3000], ordered).unwrap();
    let mut fsns = Vec::new();
    while fsns.len() < 3 {
        for c in next_data_chunks(&mut p.a) {
            if let Chunk::IData(d) = c {
                fsns.push((d.fsn, d.beginning, d.ending, d.ppid));
            }
        }
    }
    assert_eq!(
        fsns,
        [
            (0, true, false, 53),
            (1, false, false, 0),
            (2, false, true, 0)
        ]
    );
}

#[test]
fn partial_reliability_with_i_forward_tsn_clears_partial_messages() {
    for (seed, config) in [(48, Config::default()), (49, data_only())] {
        let mut p = Pair::connected(seed, config, lossy(0.2));
        let options = SendOptions {
            unordered: true,
            reliability: Reliability::MaxRetransmits(0),
        };
        for i in 0..200u32 {
            let mut msg = vec![0; 3000];
            msg[..4].copy_from_slice(&i.to_be_bytes());
            p.a.send(p.now, 5 + (i % 2) as u16, 51, msg, options)
                .unwrap();
        }
        p.run_until(Duration::from_secs(600), |p| {
            p.a.bytes_outstanding() == 0 && p.now > Instant::from_secs(5)
        });
        p.link.loss = 0.0;
        p.a.send(p.now, 5, 51, b"reliable".to_vec(), SendOptions::default())
            .unwrap();
        p.run_until(Duration::from_secs(30), |p| {
            p.messages_b().last().map(|m| m.2) == Some(&b"reliable"[..])
        });
        let got = p.messages_b();
        assert_eq!(got.last().map(|m| m.2), Some(&b"reliable"[..]));
        assert!(got.len() > 20 && got.len() < 201, "{} delivered", got.len());
        assert!(p.a.stats().forward_tsns_sent > 0);
        // Abandoned messages leave nothing behind at the receiver.
        p.run_until(Duration::from_secs(5), |_| false);
        assert_eq!(p.b.tcb.as_ref().map(|t| t.held()), Some(0), "seed {seed}");
    }
}

#[test]
fn data_chunk_in_an_idata_association_is_a_protocol_violation() {
    let mut p = Pair::connected(50, Config::default(), Link::default());
    let tag = p.b.tcb.as_ref().unwrap().my_tag;
    let cum = p.b.tcb.as_ref().unwrap().recv.cum_tsn();
    let packet = Packet {
        source_port: 5000,
        destination_port: 5000,
        verification_tag: tag,
        chunks: vec![Chunk::Data(Data {
            unordered: false,
            beginning: true,
            ending: true,
            immediate: false,
            tsn: cum.wrapping_add(1),
            stream_id: 0,
            ssn: 0,
            ppid: 51,
            payload: b"old style".to_vec(),
        })],
    };
    p.b.handle_packet(p.now, &packet.encode());
    p.run_until(Duration::from_secs(1), |p| closed(&p.events_a).is_some());
    assert_eq!(closed(&p.events_b), Some(CloseReason::ProtocolViolation));
    assert_eq!(closed(&p.events_a), Some(CloseReason::PeerAbort));
    assert!(p.messages_b().is_empty());
}

#[test]
fn interleaved_large_messages_never_fill_the_receiver_with_halves() {
    // Each message is most of the receiver's buffer: interleaving both from the start would
    // leave the receiver full of halves, neither of which could complete.
    let config = Config {
        max_message_size: MIB,
        ..Config::default()
    };
    let mut p = Pair::connected(51, config, Link::default());
    for stream in [1u16, 2] {
        p.a.send(
            p.now,
            stream,
            53,
            vec![stream as u8; MIB],
            SendOptions::default(),
        )
        .unwrap();
        p.a.send(p.now, stream, 51, vec![9; 10], SendOptions::default())
            .unwrap();
    }
    p.run_until(Duration::from_secs(60), |p| p.messages_b().len() == 4);
    let got: Vec<(u16, usize)> = p.messages_b().iter().map(|m| (m.0, m.2.len())).collect();
    // Stream 2's big message waits until stream 1's is wholly sent, and its small one (in
    // stream order) behind it.
    assert_eq!(got, [(1, MIB), (1, 10), (2, MIB), (2, 10)]);
    assert_eq!(p.a.stats().t3_expirations, 0);
}

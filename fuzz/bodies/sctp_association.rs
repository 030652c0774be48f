//! Fuzz body for the SCTP association (RFC 9260): an association established with an honest
//! peer in memory is fed arbitrary packets, interleaved with time passing and the peer's own
//! traffic. Shared by the `sctp_association` target and `tests/tests/fuzz_corpus.rs`.
//!
//! Input: records of `[flags][len_hi][len_lo][len bytes]`. Flag bit 0 writes the target's
//! verification tag into the packet, bit 1 fixes its CRC32c (so the chunks, not the checksum
//! check, are exercised), bit 2 lets 300 ms pass afterwards, bit 3 has the honest peer queue a
//! message first, bit 4 gives the packet to a fresh (closed) association as well.
//!
//! Every input runs twice: with RFC 8260 I-DATA negotiated (the default) and with DATA (the
//! fallback when a peer does not offer I-DATA), so DATA and I-DATA chunks each meet an
//! association that expects them.

#![allow(dead_code, unreachable_pub)]

use pigeon::Instant;
use pigeon::sctp::packet::checksum;
use pigeon::sctp::{Association, Chunk, Config, Packet, SendOptions};
use rand_core::SeedableRng;

fn rng(seed: u64) -> pigeon::Rng {
    Box::new(rand_chacha::ChaCha20Rng::seed_from_u64(seed))
}

/// Exchanges packets until both are quiet; returns the verification tag of the last packet
/// `peer` sent to `target` (the target's own tag once established).
fn exchange(peer: &mut Association, target: &mut Association, now: Instant, tag: &mut u32) {
    for _ in 0..64 {
        let mut any = false;
        while let Some(p) = peer.poll_packet() {
            if p.len() >= 8 && p[4..8] != [0; 4] {
                *tag = u32::from_be_bytes([p[4], p[5], p[6], p[7]]);
            }
            target.handle_packet(now, &p);
            any = true;
        }
        while let Some(p) = target.poll_packet() {
            peer.handle_packet(now, &p);
            any = true;
        }
        while peer.poll_event().is_some() || target.poll_event().is_some() {}
        if !any {
            break;
        }
    }
}

/// Feeds the records in `data` to an established association, once with I-DATA and once
/// with DATA.
pub fn association(data: &[u8]) {
    run(data, true);
    run(data, false);
}

fn run(data: &[u8], interleaving: bool) {
    let mut config = Config::default();
    config.interleaving = interleaving;
    let mut peer = Association::new(config.clone(), rng(1));
    let mut target = Association::new(config.clone(), rng(2));
    let mut fresh = Association::new(config, rng(3));
    let mut now = Instant::ZERO;
    let mut tag = 0;
    peer.connect(now);
    exchange(&mut peer, &mut target, now, &mut tag);
    assert!(target.is_established(), "the honest handshake completes");

    let mut rest = data;
    for _ in 0..64 {
        let [flags, hi, lo, tail @ ..] = rest else {
            break;
        };
        let len = usize::from(u16::from_be_bytes([*hi, *lo])).min(tail.len());
        let (body, next) = tail.split_at(len);
        rest = next;
        let mut packet = body.to_vec();
        if flags & 1 != 0 && packet.len() >= 8 {
            packet[4..8].copy_from_slice(&tag.to_be_bytes());
        }
        if flags & 2 != 0 && packet.len() >= 12 {
            let sum = checksum(&packet);
            packet[8..12].copy_from_slice(&sum.to_le_bytes());
        }
        if flags & 8 != 0 {
            let _ = peer.send(
                now,
                u16::from(flags >> 5),
                53,
                body.to_vec(),
                SendOptions::default(),
            );
        }
        target.handle_packet(now, &packet);
        if flags & 16 != 0 {
            fresh.handle_packet(now, &packet);
            while fresh.poll_packet().is_some() || fresh.poll_event().is_some() {}
        }
        exchange(&mut peer, &mut target, now, &mut tag);
        if flags & 4 != 0 {
            now += core::time::Duration::from_millis(300);
            peer.handle_timeout(now);
            target.handle_timeout(now);
            exchange(&mut peer, &mut target, now, &mut tag);
        }
    }
}

/// The honest peer's initial TSN (the seeded generator makes it the same every run), so that
/// seeds can carry the TSN the target expects next and reach reassembly.
fn peer_initial_tsn() -> u32 {
    let mut peer = Association::new(Config::default(), rng(1));
    peer.connect(Instant::ZERO);
    let init = peer.poll_packet().and_then(|p| Packet::decode(&p).ok());
    match init.as_ref().and_then(|p| p.chunks.first()) {
        Some(Chunk::Init(init)) => init.initial_tsn,
        _ => 0,
    }
}

/// One record of [`association`]'s input for `packet`, with the tag and checksum fixed up.
fn record(flags: u8, packet: &Packet) -> Vec<u8> {
    let bytes = packet.encode();
    let mut out = vec![flags | 3];
    out.extend_from_slice(&(bytes.len() as u16).to_be_bytes());
    out.extend_from_slice(&bytes);
    out
}

/// Named seeds: packets of each kind the association handles.
pub fn seeds() -> Vec<(&'static str, Vec<u8>)> {
    use pigeon::sctp::chunk::{
        Data, ForwardTsn, GapAckBlock, Heartbeat, IData, IForwardTsn, Init, Parameter, Reconfig,
        Sack, Shutdown, SkippedMessage, SkippedStream,
    };
    let packet = |chunks: Vec<Chunk>| Packet {
        source_port: 5000,
        destination_port: 5000,
        verification_tag: 0,
        chunks,
    };
    let data = |tsn: u32, b: bool, e: bool| {
        Chunk::Data(Data {
            unordered: false,
            beginning: b,
            ending: e,
            immediate: false,
            tsn,
            stream_id: 1,
            ssn: 0,
            ppid: 51,
            payload: b"fuzz".to_vec(),
        })
    };
    let base = peer_initial_tsn();
    let idata = |tsn: u32, mid: u32, fsn: u32, e: bool| {
        Chunk::IData(IData {
            unordered: false,
            beginning: fsn == 0,
            ending: e,
            immediate: false,
            tsn: base.wrapping_add(tsn),
            stream_id: 1 + (mid % 2) as u16,
            mid,
            ppid: if fsn == 0 { 51 } else { 0 },
            fsn,
            payload: b"fuzz".to_vec(),
        })
    };
    let sack = Chunk::Sack(Sack {
        cumulative_tsn_ack: 0,
        a_rwnd: 1 << 16,
        gap_ack_blocks: vec![GapAckBlock { start: 2, end: 3 }],
        duplicate_tsns: vec![7],
    });
    let mut seeds = vec![
        ("data", record(8, &packet(vec![data(0, true, true)]))),
        (
            "fragments_and_sack",
            [
                record(12, &packet(vec![data(5, true, false), sack])),
                record(4, &packet(vec![data(6, false, true)])),
            ]
            .concat(),
        ),
        (
            "forward_tsn",
            record(
                4,
                &packet(vec![Chunk::ForwardTsn(ForwardTsn {
                    new_cumulative_tsn: 9,
                    streams: vec![SkippedStream {
                        stream_id: 1,
                        ssn: 3,
                    }],
                })]),
            ),
        ),
        (
            "reconfig",
            record(
                0,
                &packet(vec![Chunk::Reconfig(Reconfig {
                    params: vec![Parameter::OutgoingSsnResetRequest {
                        request_seq: 0,
                        response_seq: 0,
                        last_tsn: 0,
                        streams: vec![1],
                    }],
                })]),
            ),
        ),
        ("idata", record(8, &packet(vec![idata(0, 0, 0, true)]))),
        (
            "idata_interleaved",
            [
                record(
                    12,
                    &packet(vec![idata(0, 0, 0, false), idata(1, 1, 0, false)]),
                ),
                record(0, &packet(vec![idata(3, 1, 1, true), idata(2, 0, 1, true)])),
            ]
            .concat(),
        ),
        (
            "iforward_tsn",
            record(
                4,
                &packet(vec![
                    idata(3, 2, 0, false),
                    Chunk::IForwardTsn(IForwardTsn {
                        new_cumulative_tsn: base.wrapping_add(2),
                        skipped: vec![
                            SkippedMessage {
                                stream_id: 1,
                                unordered: false,
                                mid: 2,
                            },
                            SkippedMessage {
                                stream_id: 2,
                                unordered: true,
                                mid: 0,
                            },
                        ],
                    }),
                ]),
            ),
        ),
        (
            "heartbeat_shutdown",
            record(
                4,
                &packet(vec![
                    Chunk::Heartbeat(Heartbeat { info: vec![1; 16] }),
                    Chunk::Shutdown(Shutdown {
                        cumulative_tsn_ack: 0,
                    }),
                ]),
            ),
        ),
        (
            "init",
            record(
                16,
                &packet(vec![Chunk::Init(Init {
                    initiate_tag: 77,
                    a_rwnd: 1 << 20,
                    outbound_streams: 10,
                    inbound_streams: 10,
                    initial_tsn: 5,
                    params: vec![Parameter::ForwardTsnSupported],
                })]),
            ),
        ),
    ];
    // An INIT goes with tag zero: clear the "write the tag" bit.
    if let Some(init) = seeds.last_mut() {
        init.1[0] &= !1;
    }
    seeds
}

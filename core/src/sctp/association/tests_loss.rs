//! Pair tests over a bad link: loss, reordering and duplication must deliver every byte
//! exactly once and in order; unordered and partially reliable messages behave as asked; a
//! restarted peer is noticed.

use core::time::Duration;

use super::tests::{Link, Pair, closed};
use super::*;

pub(super) fn lossy(loss: f64) -> Link {
    Link {
        latency: Duration::from_millis(30),
        loss,
        duplicate: 0.02,
        reorder: 0.05,
    }
}

/// 1 MiB in 256 ordered messages of 4 KiB (each fragmented into four chunks) over `link`.
fn transfer(seed: u64, link: Link) -> Pair {
    transfer_with(seed, Config::default(), link)
}

/// [`transfer`] with a given configuration (I-DATA or DATA).
pub(super) fn transfer_with(seed: u64, config: Config, link: Link) -> Pair {
    let mut p = Pair::connected(seed, config, link);
    for i in 0..256u32 {
        let mut msg = vec![(i % 251) as u8; 4096];
        msg[..4].copy_from_slice(&i.to_be_bytes());
        p.a.send(p.now, 1, 53, msg, SendOptions::default()).unwrap();
    }
    p.run_until(Duration::from_secs(3600), |p| p.messages_b().len() >= 256);
    // Let late duplicates arrive: nothing more may be delivered.
    p.run_until(Duration::from_secs(10), |_| false);
    let got = p.messages_b();
    assert_eq!(got.len(), 256, "seed {seed}, loss {}", link.loss);
    for (i, (stream, ppid, data)) in got.iter().enumerate() {
        assert_eq!((*stream, *ppid, data.len()), (1, 53, 4096));
        assert_eq!(
            data[..4],
            (i as u32).to_be_bytes(),
            "message {i} out of order"
        );
        assert!(data[4..].iter().all(|&b| b == (i % 251) as u8));
    }
    assert!(p.a.is_established() && p.b.is_established());
    p
}

#[test]
fn reliable_ordered_at_0_1_5_30_percent_loss() {
    let p = transfer(10, lossy(0.0));
    // Reordering alone may trigger fast retransmits, never a timeout.
    assert_eq!(p.a.stats().t3_expirations, 0);
    let p = transfer(11, lossy(0.01));
    assert!(p.a.stats().fast_retransmits + p.a.stats().t3_expirations > 0);
    transfer(12, lossy(0.05));
    let p = transfer(13, lossy(0.30));
    assert!(p.b.stats().duplicate_data > 0);
}

#[test]
fn more_seeds_at_five_percent() {
    for seed in 20..24 {
        transfer(seed, lossy(0.05));
    }
}

#[test]
fn unordered_messages_all_arrive() {
    let mut p = Pair::connected(30, Config::default(), lossy(0.05));
    let options = SendOptions {
        unordered: true,
        reliability: Reliability::Reliable,
    };
    for i in 0..200u32 {
        let mut msg = vec![0; 1000];
        msg[..4].copy_from_slice(&i.to_be_bytes());
        p.a.send(p.now, 2, 51, msg, options).unwrap();
    }
    p.run_until(Duration::from_secs(600), |p| p.messages_b().len() >= 200);
    let mut got: Vec<u32> = p
        .messages_b()
        .iter()
        .map(|m| u32::from_be_bytes([m.2[0], m.2[1], m.2[2], m.2[3]]))
        .collect();
    let in_order = got.windows(2).all(|w| w[0] < w[1]);
    got.sort_unstable();
    assert_eq!(got, (0..200).collect::<Vec<_>>());
    assert!(
        !in_order,
        "with loss some unordered messages overtake others"
    );
}

#[test]
fn max_retransmits_zero_drops_lost_messages_and_keeps_going() {
    let mut p = Pair::connected(31, Config::default(), lossy(0.2));
    let options = SendOptions {
        unordered: false,
        reliability: Reliability::MaxRetransmits(0),
    };
    for i in 0..300u32 {
        let mut msg = vec![0; 2000];
        msg[..4].copy_from_slice(&i.to_be_bytes());
        p.a.send(p.now, 5, 51, msg, options).unwrap();
    }
    p.run_until(Duration::from_secs(600), |p| {
        p.a.bytes_outstanding() == 0 && p.now > Instant::from_secs(5)
    });
    p.run_until(Duration::from_secs(5), |_| false);
    let got: Vec<u32> = p
        .messages_b()
        .iter()
        .map(|m| u32::from_be_bytes([m.2[0], m.2[1], m.2[2], m.2[3]]))
        .collect();
    assert!(
        got.len() < 300 && got.len() > 100,
        "{} delivered",
        got.len()
    );
    assert!(
        got.windows(2).all(|w| w[0] < w[1]),
        "ordered, no duplicates"
    );
    assert!(p.a.stats().forward_tsns_sent > 0);
    // Every message not delivered was abandoned, each counted once (some delivered ones too:
    // the sender gives up on a message whose chunk arrived but whose SACK did not).
    let abandoned = p.a.stats().abandoned;
    assert!(
        (300 - got.len() as u64..=300).contains(&abandoned),
        "{abandoned} abandoned, {} delivered",
        got.len()
    );
    assert_eq!(
        p.a.stats().timeout_retransmits + p.a.stats().fast_retransmits,
        0
    );
    // Reliable messages after the lossy ones still arrive.
    p.link.loss = 0.0;
    p.a.send(p.now, 5, 51, b"reliable".to_vec(), SendOptions::default())
        .unwrap();
    let n = got.len();
    p.run_until(Duration::from_secs(30), |p| p.messages_b().len() > n);
    assert_eq!(p.messages_b().last().map(|m| m.2), Some(&b"reliable"[..]));
}

#[test]
fn lifetime_expires_messages_never_sent() {
    let mut p = Pair::connected(32, Config::default(), Link::default());
    let options = SendOptions {
        unordered: false,
        reliability: Reliability::Lifetime(Duration::from_millis(1)),
    };
    // Far more than one window: most wait in the queue past their lifetime.
    for _ in 0..200 {
        p.a.send(p.now, 6, 51, vec![7; 1000], options).unwrap();
    }
    p.run_until(Duration::from_secs(10), |p| p.a.bytes_outstanding() == 0);
    let n = p.messages_b().len();
    assert!(n > 0 && n < 200, "{n} delivered");
    assert_eq!(p.a.buffered_amount(6), 0);
    // Nothing was lost: exactly the messages not delivered expired.
    assert_eq!(p.a.stats().abandoned, 200 - n as u64);
}

/// RFC 9260 §3.2 pads every chunk to four bytes: with an MTU that is not a multiple of four a
/// full-size fragment must still fit (it once never did, and a large message stalled).
#[test]
fn mtu_not_a_multiple_of_four_still_carries_large_messages() {
    for interleaving in [false, true] {
        let config = Config {
            mtu: 1163,
            interleaving,
            ..Config::default()
        };
        let mut p = Pair::connected(34, config, Link::default());
        let big: Vec<u8> = (0..65_536u32).map(|i| i as u8).collect();
        p.a.send(p.now, 1, 53, big.clone(), SendOptions::default())
            .unwrap();
        p.run_until(Duration::from_secs(10), |p| p.messages_b().len() == 1);
        assert_eq!(p.messages_b().len(), 1, "interleaving {interleaving}");
        assert_eq!(p.messages_b()[0].2, &big[..]);
    }
}

#[test]
fn peer_restart_is_detected() {
    let config = Config::default();
    let mut p = Pair::connected(33, config.clone(), Link::default());
    p.a.send(p.now, 0, 51, b"before".to_vec(), SendOptions::default())
        .unwrap();
    p.run_until(Duration::from_secs(2), |p| p.messages_b().len() == 1);
    // `a` loses its state and starts over.
    p.a = Association::new(config, super::tests::rng(999));
    p.a.connect(p.now);
    p.run_until(Duration::from_secs(30), |p| {
        p.events_b.contains(&Event::Restarted) && p.a.is_established()
    });
    assert!(p.events_b.contains(&Event::Restarted));
    p.a.send(p.now, 0, 51, b"after".to_vec(), SendOptions::default())
        .unwrap();
    p.run_until(Duration::from_secs(5), |p| p.messages_b().len() == 2);
    assert_eq!(p.messages_b()[1].2, b"after", "SSNs start again at zero");
}

#[test]
fn peer_that_lost_state_answers_with_abort() {
    let config = Config::default();
    let mut p = Pair::connected(34, config.clone(), Link::default());
    // `a` restarts without connecting: our next DATA is out of the blue to it.
    p.a = Association::new(config, super::tests::rng(998));
    p.b.send(p.now, 0, 51, b"anyone?".to_vec(), SendOptions::default())
        .unwrap();
    p.run_until(Duration::from_secs(5), |p| closed(&p.events_b).is_some());
    assert_eq!(closed(&p.events_b), Some(CloseReason::PeerAbort));
}

#[test]
fn sixteen_mebibyte_message_when_configured() {
    let config = Config {
        max_message_size: 16 << 20,
        ..Config::default()
    };
    let mut p = Pair::connected(35, config, lossy(0.01));
    let msg: Vec<u8> = (0..16 << 20).map(|i: u32| (i ^ (i >> 9)) as u8).collect();
    p.a.send(p.now, 0, 53, msg.clone(), SendOptions::default())
        .unwrap();
    p.run_until(Duration::from_secs(3600), |p| !p.messages_b().is_empty());
    assert_eq!(p.messages_b().len(), 1);
    assert!(p.messages_b()[0].2 == msg.as_slice());
}

#[test]
fn garbage_never_panics_and_is_counted() {
    let mut p = Pair::connected(36, Config::default(), Link::default());
    let now = p.now;
    p.b.handle_packet(now, &[]);
    p.b.handle_packet(now, &[0; 11]);
    p.b.handle_packet(
        now,
        &[0x13, 0x88, 0x13, 0x88, 0, 0, 0, 0, 1, 2, 3, 4, 0, 0, 0, 4],
    );
    let s = p.b.stats();
    assert_eq!(s.malformed, 2);
    assert_eq!(s.bad_checksum, 1);
    assert!(p.b.is_established());

    // A HEARTBEAT bigger than the MTU is answered, and does not block what follows.
    let tag = {
        p.a.send(now, 0, 51, b"probe".to_vec(), SendOptions::default())
            .unwrap();
        let packet = p.a.poll_packet().unwrap();
        u32::from_be_bytes([packet[4], packet[5], packet[6], packet[7]])
    };
    let big = crate::sctp::Packet {
        source_port: 5000,
        destination_port: 5000,
        verification_tag: tag,
        chunks: vec![Chunk::Heartbeat(crate::sctp::chunk::Heartbeat {
            info: vec![1; 4000],
        })],
    };
    p.b.handle_packet(now, &big.encode());
    let answer = p.b.poll_packet().unwrap();
    assert!(answer.len() > 4000);
    p.b.send(now, 0, 51, b"after".to_vec(), SendOptions::default())
        .unwrap();
    p.run_until(Duration::from_secs(2), |p| {
        p.events_a
            .iter()
            .any(|e| matches!(e, Event::Message { .. }))
    });
    assert!(
        p.events_a
            .iter()
            .any(|e| matches!(e, Event::Message { .. }))
    );
}

//! pigeon: two `DataChannelPeer`s, the DTLS client sending.

use std::time::{Duration, Instant as WallClock};

use pigeon::datachannel::{
    ChannelOptions, DataChannelEvent, DataChannelPeer, DataChannelPeerConfig, MessageData,
    PeerEvent,
};
use pigeon::dtls::{DtlsCertificate, DtlsRole};
use pigeon::{Instant, Machine};
use rand_core::SeedableRng;

fn rng(seed: u64) -> pigeon::Rng {
    Box::new(rand_chacha::ChaCha20Rng::seed_from_u64(seed))
}

/// Moves every pending datagram across both ways; returns the bytes of user data `b` got.
fn pump(a: &mut DataChannelPeer, b: &mut DataChannelPeer, now: Instant) -> (usize, bool) {
    let mut got = 0;
    let mut moved = false;
    while let Some(t) = a.poll_transmit() {
        moved = true;
        b.handle_datagram(now, t.as_datagram());
    }
    while let Some(t) = b.poll_transmit() {
        moved = true;
        a.handle_datagram(now, t.as_datagram());
    }
    while a.poll_event().is_some() {}
    while let Some(e) = b.poll_event() {
        if let PeerEvent::Channel(DataChannelEvent::Message {
            data: MessageData::Binary(data),
            ..
        }) = e
        {
            got += data.len();
        }
    }
    (got, moved)
}

/// Sends `total` bytes in `message`-byte messages from one peer to the other; the wall time
/// from the first send to the last byte received (the handshakes are not timed).
pub fn transfer(total: usize, message: usize) -> Duration {
    let (ca, cb) = (
        DtlsCertificate::generate(&mut rng(1), "a"),
        DtlsCertificate::generate(&mut rng(2), "b"),
    );
    let config = |fingerprint| {
        let mut c = DataChannelPeerConfig::default();
        c.dtls.expected_fingerprint = Some(fingerprint);
        c
    };
    let (la, lb) = (
        "10.0.0.1:5000".parse().unwrap(),
        "10.0.0.2:5000".parse().unwrap(),
    );
    let mut a = DataChannelPeer::new(
        DtlsRole::Client,
        config(cb.fingerprint()),
        ca.clone(),
        rng(3),
        rng(4),
        la,
        lb,
    );
    let mut b = DataChannelPeer::new(
        DtlsRole::Server,
        config(ca.fingerprint()),
        cb,
        rng(5),
        rng(6),
        lb,
        la,
    );
    let wall = WallClock::now();
    let now = || Instant::ZERO + wall.elapsed();
    let id = a
        .open(now(), "bench", "", ChannelOptions::default())
        .expect("open");
    let mut open = false;
    for _ in 0..10_000 {
        let t = now();
        a.handle_timeout(t);
        b.handle_timeout(t);
        pump(&mut a, &mut b, t);
        if a.channel(id)
            .is_some_and(|c| c.state() == pigeon::datachannel::ChannelState::Open)
        {
            open = true;
            break;
        }
    }
    assert!(open, "pigeon: channel did not open");
    let payload = vec![0xa5u8; message];
    let start = WallClock::now();
    // Virtual time: it jumps to the next timer whenever nothing is in flight (a delayed SACK),
    // so the figure is CPU cost, not timer waits.
    let mut t = now();
    let (mut sent, mut received) = (0, 0);
    while received < total {
        while sent < total && a.buffered_amount(id) < crate::buffer_high() {
            a.send_binary(t, id, &payload).expect("send");
            sent += message;
        }
        let (got, moved) = pump(&mut a, &mut b, t);
        received += got;
        if !moved {
            let next = [a.poll_timeout(), b.poll_timeout()]
                .into_iter()
                .flatten()
                .min();
            if let Some(at) = next {
                t = t.max(at);
                a.handle_timeout(t);
                b.handle_timeout(t);
            }
        }
    }
    start.elapsed()
}

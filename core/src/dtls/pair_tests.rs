//! A client and a server wired together in memory on virtual time.

use core::net::SocketAddr;
use core::time::Duration;

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

use crate::dtls::message::AlertDescription;
use crate::dtls::{
    CipherSuite, Dtls, DtlsCertificate, DtlsConfig, DtlsError, DtlsEvent, NamedGroup,
    SRTP_EXPORTER_LABEL, SrtpKeys, SrtpProfile,
};
use crate::{Instant, Machine};

fn rng(seed: u64) -> crate::Rng {
    Box::new(ChaCha20Rng::seed_from_u64(seed))
}

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

struct Pair {
    client: Dtls,
    server: Dtls,
    now: Instant,
    sent: usize,
    /// Decides per datagram (numbered from 0) whether the network loses it.
    lose: Box<dyn FnMut(usize) -> bool>,
    client_events: Vec<DtlsEvent>,
    server_events: Vec<DtlsEvent>,
    wire: Vec<Vec<u8>>,
}

impl Pair {
    fn new(client_config: DtlsConfig, server_config: DtlsConfig, seed: u64) -> Pair {
        let mut r = rng(seed);
        let client_cert = DtlsCertificate::generate(&mut r, "client");
        let server_cert = DtlsCertificate::generate(&mut r, "server");
        Pair::with_certs(client_config, server_config, seed, client_cert, server_cert)
    }

    fn with_certs(
        mut client_config: DtlsConfig,
        mut server_config: DtlsConfig,
        seed: u64,
        client_cert: DtlsCertificate,
        server_cert: DtlsCertificate,
    ) -> Pair {
        client_config
            .expected_fingerprint
            .get_or_insert(server_cert.fingerprint());
        server_config
            .expected_fingerprint
            .get_or_insert(client_cert.fingerprint());
        let (a, b) = (addr("192.0.2.1:1000"), addr("192.0.2.2:2000"));
        Pair {
            client: Dtls::client(client_config, client_cert, rng(seed + 1), a, b),
            server: Dtls::server(server_config, server_cert, rng(seed + 2), b),
            now: Instant::ZERO,
            sent: 0,
            lose: Box::new(|_| false),
            client_events: Vec::new(),
            server_events: Vec::new(),
            wire: Vec::new(),
        }
    }

    /// Moves datagrams both ways until quiet, then advances time to the next timer; stops
    /// at `limit` of virtual time.
    fn run(&mut self, limit: Duration) {
        let end = self.now + limit;
        loop {
            let mut moved = false;
            while let Some(t) = self.client.poll_transmit() {
                moved = true;
                let n = self.sent;
                self.sent += 1;
                self.wire.push(t.payload.clone());
                if !(self.lose)(n) {
                    self.server.handle_datagram(self.now, t.as_datagram());
                }
            }
            while let Some(t) = self.server.poll_transmit() {
                moved = true;
                let n = self.sent;
                self.sent += 1;
                self.wire.push(t.payload.clone());
                if !(self.lose)(n) {
                    self.client.handle_datagram(self.now, t.as_datagram());
                }
            }
            self.client_events
                .extend(core::iter::from_fn(|| self.client.poll_event()));
            self.server_events
                .extend(core::iter::from_fn(|| self.server.poll_event()));
            if moved {
                continue;
            }
            let next = [self.client.poll_timeout(), self.server.poll_timeout()]
                .into_iter()
                .flatten()
                .min();
            match next {
                Some(at) if at <= end => {
                    self.now = self.now.max(at);
                    self.client.handle_timeout(self.now);
                    self.server.handle_timeout(self.now);
                }
                _ => return,
            }
        }
    }

    fn connected(events: &[DtlsEvent]) -> Option<(CipherSuite, Option<SrtpProfile>)> {
        events.iter().find_map(|e| match e {
            DtlsEvent::Connected {
                cipher_suite,
                srtp_profile,
                ..
            } => Some((*cipher_suite, *srtp_profile)),
            _ => None,
        })
    }
}

fn only_suite(suite: CipherSuite) -> DtlsConfig {
    DtlsConfig {
        cipher_suites: vec![suite],
        ..DtlsConfig::default()
    }
}

#[test]
fn every_suite_and_group_connects_and_exchanges_data() {
    for suite in CipherSuite::ALL {
        for group in [NamedGroup::Secp256r1, NamedGroup::X25519] {
            let config = DtlsConfig {
                groups: vec![group],
                ..only_suite(suite)
            };
            let mut pair = Pair::new(config.clone(), config, 10);
            pair.run(Duration::from_secs(5));
            assert_eq!(
                Pair::connected(&pair.client_events).map(|c| c.0),
                Some(suite),
                "{suite:?} {group:?}: {:?}",
                pair.client_events
            );
            assert_eq!(
                Pair::connected(&pair.server_events).map(|c| c.0),
                Some(suite)
            );
            let ck = pair
                .client
                .export_keying_material(b"EXPERIMENTAL", None, 32);
            let sk = pair
                .server
                .export_keying_material(b"EXPERIMENTAL", None, 32);
            assert_eq!(ck.unwrap(), sk.unwrap());

            pair.client.send(pair.now, b"ping").unwrap();
            pair.server.send(pair.now, b"pong").unwrap();
            pair.run(Duration::from_millis(1));
            assert!(
                pair.server_events
                    .contains(&DtlsEvent::ApplicationData(b"ping".to_vec()))
            );
            assert!(
                pair.client_events
                    .contains(&DtlsEvent::ApplicationData(b"pong".to_vec()))
            );
        }
    }
}

#[test]
fn connected_reports_peer_fingerprints() {
    let mut pair = Pair::new(DtlsConfig::default(), DtlsConfig::default(), 20);
    let client_fp = pair.client.local_fingerprint();
    let server_fp = pair.server.local_fingerprint();
    pair.run(Duration::from_secs(5));
    assert!(pair.client_events.iter().any(|e| matches!(e,
        DtlsEvent::Connected { peer_fingerprint, .. } if *peer_fingerprint == server_fp)));
    assert!(pair.server_events.iter().any(|e| matches!(e,
        DtlsEvent::Connected { peer_fingerprint, .. } if *peer_fingerprint == client_fp)));
    // Defaults: AES-128-GCM first, X25519, AEAD_AES_128_GCM first.
    assert_eq!(
        Pair::connected(&pair.client_events),
        Some((
            CipherSuite::EcdheEcdsaAes128GcmSha256,
            Some(SrtpProfile::AeadAes128Gcm)
        ))
    );
    assert_eq!(pair.server.stats().hello_verify_requests, 1);
}

#[test]
fn every_srtp_profile_negotiates_and_keys_agree() {
    for profile in SrtpProfile::ALL {
        let client = DtlsConfig {
            srtp_profiles: vec![profile],
            ..DtlsConfig::default()
        };
        let mut pair = Pair::new(client, DtlsConfig::default(), 30);
        pair.run(Duration::from_secs(5));
        assert_eq!(
            Pair::connected(&pair.server_events).and_then(|c| c.1),
            Some(profile)
        );
        let keys = pair.client.srtp_keys().unwrap();
        assert_eq!(Some(keys.clone()), pair.server.srtp_keys());
        let material = pair
            .client
            .export_keying_material(SRTP_EXPORTER_LABEL, None, SrtpKeys::material_len(profile))
            .unwrap();
        assert_eq!(SrtpKeys::split(profile, &material), Some(keys));
    }
    // No profile in common: the extension is left out, the handshake goes on.
    let client = DtlsConfig {
        srtp_profiles: vec![SrtpProfile::Aes128CmHmacSha1_32],
        ..DtlsConfig::default()
    };
    let server = DtlsConfig {
        srtp_profiles: vec![SrtpProfile::AeadAes256Gcm],
        ..DtlsConfig::default()
    };
    let mut pair = Pair::new(client, server, 31);
    pair.run(Duration::from_secs(5));
    assert_eq!(
        Pair::connected(&pair.client_events),
        Some((CipherSuite::EcdheEcdsaAes128GcmSha256, None))
    );
    assert_eq!(pair.client.srtp_keys(), None);
}

#[test]
fn wrong_fingerprint_is_refused_with_bad_certificate() {
    let mut r = rng(40);
    let impostor = DtlsCertificate::generate(&mut r, "impostor");
    let expected = DtlsCertificate::generate(&mut r, "server");
    let client_cert = DtlsCertificate::generate(&mut r, "client");
    let client_config = DtlsConfig {
        expected_fingerprint: Some(expected.fingerprint()),
        ..DtlsConfig::default()
    };
    let mut pair = Pair::with_certs(
        client_config,
        DtlsConfig::default(),
        40,
        client_cert,
        impostor.clone(),
    );
    pair.run(Duration::from_secs(5));
    assert_eq!(
        pair.client_events,
        [DtlsEvent::Failed(DtlsError::FingerprintMismatch {
            expected: expected.fingerprint(),
            actual: impostor.fingerprint(),
        })]
    );
    assert_eq!(
        pair.server_events,
        [DtlsEvent::Failed(DtlsError::PeerAlert(
            AlertDescription::BAD_CERTIFICATE
        ))]
    );
    assert!(pair.client.send(pair.now, b"x").is_err());
}

#[test]
fn small_mtu_fragments_and_loss_is_repaired() {
    let config = DtlsConfig {
        mtu: 150,
        ..DtlsConfig::default()
    };
    let mut pair = Pair::new(config.clone(), config, 50);
    // Lose 30% of the datagrams, chosen by a seeded generator.
    let mut loss = ChaCha20Rng::seed_from_u64(5);
    pair.lose = Box::new(move |_| rand_core::Rng::next_u32(&mut loss) % 10 < 3);
    pair.run(Duration::from_secs(60));
    assert!(
        Pair::connected(&pair.client_events).is_some(),
        "{:?}",
        pair.client_events
    );
    assert!(
        Pair::connected(&pair.server_events).is_some(),
        "{:?}",
        pair.server_events
    );
    assert!(pair.wire.iter().all(|d| d.len() <= 150));
    let stats =
        pair.client.stats().flight_retransmissions + pair.server.stats().flight_retransmissions;
    assert!(stats > 0);
}

#[test]
fn same_seed_same_bytes() {
    let run = || {
        let mut pair = Pair::new(DtlsConfig::default(), DtlsConfig::default(), 60);
        pair.run(Duration::from_secs(5));
        pair.wire
    };
    let first = run();
    assert!(first.len() >= 6);
    assert_eq!(first, run());
}

#[test]
fn silent_peer_times_out() {
    let mut pair = Pair::new(DtlsConfig::default(), DtlsConfig::default(), 70);
    pair.lose = Box::new(|_| true);
    pair.run(Duration::from_secs(3600));
    assert_eq!(pair.client_events, [DtlsEvent::Failed(DtlsError::Timeout)]);
    // 1 + 8 retransmissions of the ClientHello.
    assert_eq!(pair.wire.len(), 9);
}

#[test]
fn close_notify_both_ways_and_tampering_dropped() {
    let mut pair = Pair::new(DtlsConfig::default(), DtlsConfig::default(), 80);
    pair.run(Duration::from_secs(5));
    // A forged application record is dropped and counted, the connection survives.
    let mut forged = pair.wire.last().unwrap().clone();
    let last = forged.len() - 1;
    forged[last] ^= 1;
    let datagram = crate::Datagram {
        source: addr("192.0.2.1:1000"),
        destination: addr("192.0.2.2:2000"),
        payload: &forged,
    };
    pair.server.handle_datagram(pair.now, datagram);
    let before = pair.server.stats().records;
    assert!(before.discarded_auth + before.discarded_replay >= 1);
    pair.client.close(pair.now);
    pair.run(Duration::from_millis(1));
    assert_eq!(pair.client_events.last(), Some(&DtlsEvent::Closed));
    assert_eq!(pair.server_events.last(), Some(&DtlsEvent::Closed));
    assert!(pair.server.send(pair.now, b"late").is_err());
}

#[test]
fn lossless_handshake_takes_six_datagrams_and_drops_nothing() {
    let mut pair = Pair::new(DtlsConfig::default(), DtlsConfig::default(), 90);
    pair.run(Duration::from_secs(5));
    assert!(Pair::connected(&pair.client_events).is_some());
    assert!(Pair::connected(&pair.server_events).is_some());
    // ClientHello, HelloVerifyRequest, ClientHello, server flight, client flight, server
    // ChangeCipherSpec + Finished: all at time zero, nothing retransmitted.
    assert_eq!(pair.wire.len(), 6);
    assert_eq!(pair.now, Instant::ZERO);
    for stats in [pair.client.stats(), pair.server.stats()] {
        assert_eq!(stats.flight_retransmissions, 0);
        let r = stats.records;
        assert_eq!(
            r.discarded_auth + r.discarded_epoch + r.discarded_replay + r.discarded_malformed,
            0,
            "{r:?}"
        );
    }
}

/// The caller-buffer API: `send_into` appends sealed records to the caller's buffer, `recv`
/// opens them in place and hands plaintexts over without events; both work beside the
/// queueing API on one connection.
#[test]
fn send_into_and_recv_use_caller_buffers() {
    use crate::dtls::DtlsConnection;
    use crate::dtls::protection::sealed_overhead;

    let mut r = rng(120);
    let client_cert = DtlsCertificate::generate(&mut r, "client");
    let server_cert = DtlsCertificate::generate(&mut r, "server");
    let config = |fp| DtlsConfig {
        expected_fingerprint: Some(fp),
        ..DtlsConfig::default()
    };
    let mut client = DtlsConnection::client(
        config(server_cert.fingerprint()),
        client_cert.clone(),
        rng(121),
    );
    let mut server =
        DtlsConnection::server(config(client_cert.fingerprint()), server_cert, rng(122));
    let mut wire = [0u8; 2048];
    assert_eq!(
        client.send_into(b"early", &mut wire),
        Err(DtlsError::NotConnected)
    );
    let now = Instant::ZERO;
    client.handle_timeout(now);
    for _ in 0..6 {
        while let Some(p) = client.poll_packet() {
            server.handle_packet(now, &p);
        }
        while let Some(p) = server.poll_packet() {
            // The handshake goes through `recv` as well.
            let mut p = p;
            client.recv(now, &mut p, |_| panic!("no data during the handshake"));
        }
    }
    assert!(client.is_connected() && server.is_connected());
    while server.poll_event().is_some() {}
    while client.poll_event().is_some() {}

    // Two records in one datagram, written into one caller buffer.
    let overhead = sealed_overhead(CipherSuite::EcdheEcdsaAes128GcmSha256);
    assert_eq!(
        client.send_into(&[7u8; 1200], &mut wire[..1200 + overhead - 1]),
        Err(DtlsError::BufferTooSmall {
            needed: 1200 + overhead
        })
    );
    let n = client.send_into(&[7u8; 1200], &mut wire).unwrap();
    assert_eq!(n, 1200 + overhead);
    let m = client.send_into(b"second", &mut wire[n..]).unwrap();
    let datagram = &mut wire[..n + m];
    let original = datagram.to_vec();
    let mut got: Vec<Vec<u8>> = Vec::new();
    server.recv(now, datagram, |data| got.push(data.to_vec()));
    assert_eq!(got, [vec![7u8; 1200], b"second".to_vec()]);
    assert_eq!(
        server.poll_event(),
        None,
        "recv hands data over, not as events"
    );
    assert!(client.poll_packet().is_none(), "send_into queues nothing");
    assert_eq!(server.stats().records.discarded_auth, 0);

    // Replayed: dropped and counted; tampered: dropped and counted.
    server.recv(now, &mut original.clone(), |_| panic!("replay delivered"));
    assert_eq!(server.stats().records.discarded_replay, 2);
    let n = client.send_into(b"third", &mut wire).unwrap();
    wire[n - 1] ^= 1;
    server.recv(now, &mut wire[..n], |_| panic!("forgery delivered"));
    assert_eq!(server.stats().records.discarded_auth, 1);

    // The queueing API still works on the same connection.
    server.send(b"back").unwrap();
    let p = server.poll_packet().unwrap();
    client.handle_packet(now, &p);
    assert_eq!(
        client.poll_event(),
        Some(DtlsEvent::ApplicationData(b"back".to_vec()))
    );
}

//! DTLS on the simulator: handshakes that complete through loss, reordering and duplication,
//! and a server presenting the wrong certificate being refused by fingerprint.

use std::net::SocketAddr;
use std::time::Duration;

use pigeon::dtls::{Dtls, DtlsCertificate, DtlsConfig, DtlsError, DtlsEvent};
use pigeon_sim::{LinkConfig, LossModel, NetworkId, NodeId, Sim};

const CLIENT: &str = "192.0.2.10:40000";
const SERVER: &str = "192.0.2.20:50000";

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn lossy(loss: f64) -> LinkConfig {
    LinkConfig {
        latency: Duration::from_millis(30),
        jitter: Duration::from_millis(20),
        loss: LossModel::Uniform(loss),
        duplicate: 0.05,
        reorder: 0.1,
        reorder_delay: Duration::from_millis(40),
        ..LinkConfig::default()
    }
}

/// Client and server on the public network; `server_cert` is what the server presents,
/// `expected` what the client was told (by signaling) to expect.
fn setup(
    seed: u64,
    link: LinkConfig,
    server_cert: DtlsCertificate,
    expected: DtlsCertificate,
) -> (Sim, NodeId, NodeId) {
    let mut sim = Sim::new(seed);
    let mut rng = sim.fork_rng("certs");
    let client_cert = DtlsCertificate::generate(&mut rng, "client");
    let server_config = DtlsConfig {
        expected_fingerprint: Some(client_cert.fingerprint()),
        ..DtlsConfig::default()
    };
    let client_config = DtlsConfig {
        expected_fingerprint: Some(expected.fingerprint()),
        ..DtlsConfig::default()
    };
    let server = Dtls::server(
        server_config,
        server_cert,
        sim.fork_rng("server"),
        addr(SERVER),
    );
    let client = Dtls::client(
        client_config,
        client_cert,
        sim.fork_rng("client"),
        addr(CLIENT),
        addr(SERVER),
    );
    let s = sim
        .add_node(NetworkId::PUBLIC, &[addr(SERVER)], server, link)
        .unwrap();
    let c = sim
        .add_node(NetworkId::PUBLIC, &[addr(CLIENT)], client, link)
        .unwrap();
    (sim, c, s)
}

fn connected(events: &[DtlsEvent]) -> bool {
    events
        .iter()
        .any(|e| matches!(e, DtlsEvent::Connected { .. }))
}

#[test]
fn handshake_survives_loss_reordering_and_duplication() {
    for (seed, loss) in [(1, 0.1), (2, 0.2), (3, 0.3), (4, 0.3), (5, 0.25)] {
        let mut r = Sim::new(seed).fork_rng("server-cert");
        let cert = DtlsCertificate::generate(&mut r, "server");
        let (mut sim, c, s) = setup(seed, lossy(loss), cert.clone(), cert);
        let mut client_events = Vec::new();
        let mut server_events = Vec::new();
        for _ in 0..120 {
            sim.run_for(Duration::from_secs(1));
            client_events.extend(sim.take_events::<Dtls>(c));
            server_events.extend(sim.take_events::<Dtls>(s));
            if connected(&client_events) && connected(&server_events) {
                break;
            }
        }
        assert!(
            connected(&client_events) && connected(&server_events),
            "seed {seed} loss {loss}: client {client_events:?} server {server_events:?}"
        );
        // Application data both ways; retry over the lossy link until it gets through.
        let mut got_ping = false;
        let mut got_pong = false;
        for _ in 0..50 {
            if !got_ping {
                sim.command(c, |d: &mut Dtls, now| d.send(now, b"ping").unwrap());
            }
            if !got_pong {
                sim.command(s, |d: &mut Dtls, now| d.send(now, b"pong").unwrap());
            }
            sim.run_for(Duration::from_millis(200));
            got_ping |= sim
                .take_events::<Dtls>(s)
                .contains(&DtlsEvent::ApplicationData(b"ping".to_vec()));
            got_pong |= sim
                .take_events::<Dtls>(c)
                .contains(&DtlsEvent::ApplicationData(b"pong".to_vec()));
            if got_ping && got_pong {
                break;
            }
        }
        assert!(got_ping && got_pong, "seed {seed}: data did not flow");
        let ck = sim.machine::<Dtls>(c).unwrap().srtp_keys().unwrap();
        let sk = sim.machine::<Dtls>(s).unwrap().srtp_keys().unwrap();
        assert_eq!(ck, sk);
    }
}

#[test]
fn swapped_certificate_is_refused_by_fingerprint() {
    let mut r = Sim::new(9).fork_rng("certs-mitm");
    let genuine = DtlsCertificate::generate(&mut r, "server");
    let attacker = DtlsCertificate::generate(&mut r, "server");
    // The node at the server's address presents the attacker's certificate while the client
    // was told the genuine fingerprint.
    let (mut sim, c, s) = setup(9, LinkConfig::default(), attacker.clone(), genuine.clone());
    sim.run_for(Duration::from_secs(5));
    let client_events = sim.take_events::<Dtls>(c);
    let server_events = sim.take_events::<Dtls>(s);
    assert_eq!(
        client_events,
        [DtlsEvent::Failed(DtlsError::FingerprintMismatch {
            expected: genuine.fingerprint(),
            actual: attacker.fingerprint(),
        })]
    );
    assert!(
        matches!(
            server_events.as_slice(),
            [DtlsEvent::Failed(DtlsError::PeerAlert(_))]
        ),
        "{server_events:?}"
    );
    assert!(!connected(&server_events));
}

#[test]
fn same_seed_same_trace() {
    let run = || {
        let mut r = Sim::new(11).fork_rng("server-cert");
        let cert = DtlsCertificate::generate(&mut r, "server");
        let (mut sim, _, _) = setup(11, lossy(0.2), cert.clone(), cert);
        sim.run_for(Duration::from_secs(30));
        sim.trace_hash()
    };
    assert_eq!(run(), run());
}

/// RFC 6347 §4.1: with a small MTU the client's last flight spans several datagrams, and a
/// reordering link delivers the one with ChangeCipherSpec + Finished (epoch 1) ahead of the
/// ClientKeyExchange. The server keeps that record and uses it once the keys are in, instead
/// of waiting a retransmission timeout (1 s) for the client to send its flight again.
#[test]
fn finished_overtaking_the_key_exchange_is_kept_not_dropped() {
    let mut buffered = 0;
    for seed in 10..30 {
        let link = LinkConfig {
            latency: Duration::from_millis(20),
            jitter: Duration::from_millis(5),
            reorder: 0.5,
            reorder_delay: Duration::from_millis(30),
            ..LinkConfig::default()
        };
        let mut sim = Sim::new(seed);
        let mut rng = sim.fork_rng("certs");
        let client_cert = DtlsCertificate::generate(&mut rng, "client");
        let server_cert = DtlsCertificate::generate(&mut rng, "server");
        let config = |fp| DtlsConfig {
            mtu: 200,
            expected_fingerprint: Some(fp),
            ..DtlsConfig::default()
        };
        let server = Dtls::server(
            config(client_cert.fingerprint()),
            server_cert.clone(),
            sim.fork_rng("server"),
            addr(SERVER),
        );
        let client = Dtls::client(
            config(server_cert.fingerprint()),
            client_cert,
            sim.fork_rng("client"),
            addr(CLIENT),
            addr(SERVER),
        );
        let s = sim
            .add_node(NetworkId::PUBLIC, &[addr(SERVER)], server, link)
            .unwrap();
        let c = sim
            .add_node(NetworkId::PUBLIC, &[addr(CLIENT)], client, link)
            .unwrap();
        sim.run_for(Duration::from_secs(5));
        assert!(connected(&sim.take_events::<Dtls>(c)), "seed {seed}");
        assert!(connected(&sim.take_events::<Dtls>(s)), "seed {seed}");
        let stats = sim.machine::<Dtls>(s).unwrap().stats();
        if stats.early_records_buffered > 0 {
            buffered += 1;
            // The kept Finished completed the handshake: the server never had to give up
            // on a record for lack of keys.
            assert_eq!(stats.records.discarded_epoch, 0, "seed {seed}: {stats:?}");
        }
    }
    assert!(buffered > 0, "no seed reordered the client's Finished");
}

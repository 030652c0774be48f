//! TURN interop with coturn, an implementation nobody here wrote (see shared/INTEROP.md):
//!
//! - pigeon's `TurnClient` (over the std adapter) allocates on coturn's `turnserver` and relays
//!   data to a plain UDP peer socket and back, first in Send/Data indications, then over a
//!   channel (ChannelData), then releases the allocation;
//! - coturn's `turnutils_uclient` allocates on `pigeon turn-server`, binds channels and relays
//!   its messages with 0 loss.
//!
//! Run by `tests/run` inside a loopback-only network namespace; fails when coturn is missing.
#![cfg(feature = "interop")]

use std::net::{SocketAddr, UdpSocket};
use std::ops::ControlFlow;
use std::process::{Command, Stdio};
use std::time::Duration;

use pigeon::turn::{TurnClient, TurnClientConfig, TurnEvent};
use pigeon_std::Driver;
use pigeon_tests::peers::{seeded, start_coturn, temp_dir, wait_until_stun_answers};
use pigeon_tests::{ChildGuard, addr, free_udp_port, pigeon_binary, require_tool};

/// Runs the driver until `want` picks an event, failing after five seconds.
fn until<T>(
    driver: &mut Driver<TurnClient>,
    what: &str,
    mut want: impl FnMut(&TurnEvent) -> Option<T>,
) -> T {
    driver
        .run_for(Duration::from_secs(5), |event| {
            if let TurnEvent::Failed { .. } = event {
                panic!("{what}: {event:?}");
            }
            match want(&event) {
                Some(t) => ControlFlow::Break(t),
                None => ControlFlow::Continue(()),
            }
        })
        .expect("drive the TURN client")
        .unwrap_or_else(|| panic!("timed out waiting for {what}"))
}

fn peer_receives(peer: &UdpSocket) -> (SocketAddr, Vec<u8>) {
    let mut buf = [0u8; 2048];
    let (len, from) = peer
        .recv_from(&mut buf)
        .expect("the peer receives relayed data");
    (from, buf[..len].to_vec())
}

#[test]
fn pigeon_turn_client_relays_through_coturn() {
    let dir = temp_dir("coturn-turn");
    let port = free_udp_port("127.0.0.1");
    let _coturn = start_coturn(&dir, port);
    let server = addr(&format!("127.0.0.1:{port}"));

    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind client socket");
    let local = socket.local_addr().expect("local address");
    let peer = UdpSocket::bind("127.0.0.1:0").expect("bind peer socket");
    peer.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("peer timeout");
    let peer_addr = peer.local_addr().expect("peer address");

    let mut config = TurnClientConfig::new(server, local, "alice", "secret");
    config.fingerprint = true;
    let client = TurnClient::new(config, seeded(3));
    let mut driver = Driver::new(client, vec![socket]).expect("std driver");

    driver.command(|c, now| c.allocate(now)).expect("allocate");
    let (relayed, mapped) = until(&mut driver, "Allocate", |e| match e {
        TurnEvent::Allocated {
            relayed, mapped, ..
        } => Some((*relayed, *mapped)),
        _ => None,
    });
    assert_eq!(relayed.ip(), local.ip());
    assert_eq!(mapped, Some(local));

    // Send indication: the first send waits for the permission the client creates itself.
    driver
        .command(|c, now| c.send_to(now, peer_addr, b"hello via indication"))
        .expect("send");
    until(&mut driver, "CreatePermission", |e| {
        matches!(e, TurnEvent::PermissionCreated { .. }).then_some(())
    });
    // Let the driver send what the permission released.
    let _ = driver.run_for(Duration::from_millis(50), |_| {
        ControlFlow::<()>::Continue(())
    });
    assert_eq!(
        peer_receives(&peer),
        (relayed, b"hello via indication".to_vec())
    );
    peer.send_to(b"reply in a Data indication", relayed)
        .expect("peer sends");
    let data = until(&mut driver, "Data indication", |e| match e {
        TurnEvent::Data { peer, data } if *peer == peer_addr => Some(data.clone()),
        _ => None,
    });
    assert_eq!(data, b"reply in a Data indication");

    // ChannelData.
    driver
        .command(|c, now| c.bind_channel(now, peer_addr))
        .expect("bind a channel");
    until(&mut driver, "ChannelBind", |e| {
        matches!(e, TurnEvent::ChannelBound { .. }).then_some(())
    });
    driver
        .command(|c, now| c.send_to(now, peer_addr, b"over the channel"))
        .expect("send on the channel");
    assert_eq!(
        peer_receives(&peer),
        (relayed, b"over the channel".to_vec())
    );
    peer.send_to(b"back over the channel", relayed)
        .expect("peer sends");
    let data = until(&mut driver, "ChannelData", |e| match e {
        TurnEvent::Data { data, .. } => Some(data.clone()),
        _ => None,
    });
    assert_eq!(data, b"back over the channel");
    let stats = driver.machine().stats();
    assert_eq!(stats.channel_data_sent, 1);
    assert_eq!(stats.channel_data_received, 1);
    assert_eq!(stats.send_indications, 1);

    driver
        .command(|c, now| c.deallocate(now))
        .expect("deallocate");
    until(&mut driver, "deallocation", |e| {
        matches!(e, TurnEvent::Deallocated).then_some(())
    });
}

/// The "Total lost packets N" figure of `turnutils_uclient`'s report.
fn lost_packets(report: &str) -> Option<u64> {
    let line = report.lines().find(|l| l.contains("Total lost packets"))?;
    let rest = line.split("Total lost packets").nth(1)?;
    rest.split_whitespace().next()?.parse().ok()
}

#[test]
fn coturn_uclient_relays_through_pigeon_turn_server_without_loss() {
    require_tool("turnutils_uclient", "coturn");
    let port = free_udp_port("127.0.0.1");
    let listen = format!("127.0.0.1:{port}");
    let child = Command::new(pigeon_binary())
        .args([
            "turn-server",
            "--listen",
            &listen,
            "--relay-range",
            "49260-49300",
            "--user",
            "alice:secret",
            "--realm",
            "example.org",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn pigeon turn-server");
    let _server = ChildGuard(child);
    wait_until_stun_answers(addr(&listen));

    let output = Command::new("timeout")
        .args(["60", "turnutils_uclient"])
        .args(["-u", "alice", "-w", "secret", "-r", "example.org", "-y"])
        .args(["-n", "5", "-m", "1", "-l", "100", "-e", "127.0.0.1", "-X"])
        .args(["-g", "127.0.0.1", "-p", &port.to_string(), "127.0.0.1"])
        .output()
        .expect("run turnutils_uclient");
    let mut report = String::from_utf8_lossy(&output.stdout).into_owned();
    report.push_str(&String::from_utf8_lossy(&output.stderr));
    println!("{report}");
    assert!(
        output.status.success(),
        "turnutils_uclient failed: {report}"
    );
    assert!(
        report.contains("tot_recv_msgs=20"),
        "not every message came back: {report}"
    );
    assert_eq!(lost_packets(&report), Some(0), "loss reported: {report}");
}

#[test]
fn parses_the_uclient_loss_figure() {
    let report = "4: : Total lost packets 3 (0.150000%), total send dropped 0 (0.000000%)";
    assert_eq!(lost_packets(report), Some(3));
    assert_eq!(lost_packets("nothing"), None);
}

//! TURN over TCP with coturn (RFC 8656 §3.1): pigeon's `TurnClient` in stream mode talks to
//! coturn's `turnserver` over one TCP connection, allocates a UDP relay, creates a permission,
//! relays to a plain UDP peer socket and back in Send/Data indications, binds a channel and
//! relays ChannelData (padded on the stream, RFC 8656 §12.5) both ways, then deallocates.
//!
//! The TCP connection is carried by a small blocking loop here: every chunk read from the
//! socket goes to `handle_datagram` as it came, every transmit is written in order.
//! Run by `tests/run` inside a loopback-only network namespace; fails when coturn is missing.
#![cfg(feature = "interop")]

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::time::Duration;

use pigeon::turn::{TurnClient, TurnClientConfig, TurnEvent, TurnTransport};
use pigeon::{Datagram, Machine};
use pigeon_std::Clock;
use pigeon_tests::peers::{seeded, start_coturn, temp_dir};
use pigeon_tests::{addr, free_udp_port};

/// A `TurnClient` carried over a blocking TCP stream.
struct TcpLink {
    stream: TcpStream,
    client: TurnClient,
    clock: Clock,
    server: SocketAddr,
    local: SocketAddr,
    /// Bytes written to the stream, to show the framing kept 4-byte alignment.
    written: usize,
}

impl TcpLink {
    fn connect(server: SocketAddr) -> Self {
        let stream = TcpStream::connect(server).expect("connect to coturn over TCP");
        stream.set_nodelay(true).expect("TCP_NODELAY");
        let local = stream.local_addr().expect("local address");
        let mut config = TurnClientConfig::new(server, local, "alice", "secret");
        config.fingerprint = true;
        config.transport = TurnTransport::Stream;
        Self {
            stream,
            client: TurnClient::new(config, seeded(4)),
            clock: Clock::new(),
            server,
            local,
            written: 0,
        }
    }

    fn command<T>(&mut self, f: impl FnOnce(&mut TurnClient, pigeon::Instant) -> T) -> T {
        let now = self.clock.now();
        f(&mut self.client, now)
    }

    /// Writes what the client has to send.
    fn flush(&mut self) {
        while let Some(t) = self.client.poll_transmit() {
            assert_eq!(t.destination, self.server);
            self.stream.write_all(&t.payload).expect("write to coturn");
            self.written += t.payload.len();
        }
    }

    /// Drives the client until `want` picks an event, failing after five seconds.
    fn until<T>(&mut self, what: &str, mut want: impl FnMut(&TurnEvent) -> Option<T>) -> T {
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        let mut buf = [0u8; 4096];
        loop {
            self.flush();
            while let Some(event) = self.client.poll_event() {
                match event {
                    TurnEvent::Failed { .. } | TurnEvent::FramingLost { .. } => {
                        panic!("{what}: {event:?}")
                    }
                    _ => {}
                }
                if let Some(t) = want(&event) {
                    return t;
                }
            }
            let os_now = std::time::Instant::now();
            assert!(os_now < deadline, "timed out waiting for {what}");
            let mut wait = deadline - os_now;
            if let Some(at) = self.client.poll_timeout() {
                let at = self.clock.os_instant(at).unwrap_or(deadline);
                wait = wait.min(at.saturating_duration_since(os_now));
            }
            self.stream
                .set_read_timeout(Some(wait.max(Duration::from_millis(1))))
                .expect("read timeout");
            match self.stream.read(&mut buf) {
                Ok(0) => panic!("{what}: coturn closed the connection"),
                Ok(n) => {
                    let now = self.clock.now();
                    self.client.handle_datagram(
                        now,
                        Datagram {
                            source: self.server,
                            destination: self.local,
                            payload: &buf[..n],
                        },
                    );
                }
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    let now = self.clock.now();
                    self.client.handle_timeout(now);
                }
                Err(e) => panic!("{what}: reading from coturn: {e}"),
            }
        }
    }
}

fn peer_receives(peer: &UdpSocket) -> (SocketAddr, Vec<u8>) {
    let mut buf = [0u8; 2048];
    let (len, from) = peer
        .recv_from(&mut buf)
        .expect("the peer receives relayed data");
    (from, buf[..len].to_vec())
}

#[test]
fn pigeon_turn_client_relays_through_coturn_over_tcp() {
    let dir = temp_dir("coturn-turn-tcp");
    let port = free_udp_port("127.0.0.1");
    let _coturn = start_coturn(&dir, port);
    let server = addr(&format!("127.0.0.1:{port}"));

    let peer = UdpSocket::bind("127.0.0.1:0").expect("bind peer socket");
    peer.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("peer timeout");
    let peer_addr = peer.local_addr().expect("peer address");

    let mut link = TcpLink::connect(server);
    link.command(|c, now| c.allocate(now)).expect("allocate");
    let (relayed, mapped) = link.until("Allocate", |e| match e {
        TurnEvent::Allocated {
            relayed, mapped, ..
        } => Some((*relayed, *mapped)),
        _ => None,
    });
    assert_eq!(relayed.ip(), link.local.ip());
    // Over TCP the mapped address is the client's end of the connection.
    assert_eq!(mapped, Some(link.local));

    link.command(|c, now| c.create_permission(now, peer_addr.ip()))
        .expect("create a permission");
    link.until("CreatePermission", |e| {
        matches!(e, TurnEvent::PermissionCreated { .. }).then_some(())
    });
    link.command(|c, now| c.send_to(now, peer_addr, b"hello via indication over tcp"))
        .expect("send");
    link.flush();
    assert_eq!(
        peer_receives(&peer),
        (relayed, b"hello via indication over tcp".to_vec())
    );
    peer.send_to(b"reply in a Data indication", relayed)
        .expect("peer sends");
    let data = link.until("Data indication", |e| match e {
        TurnEvent::Data { peer, data } if *peer == peer_addr => Some(data.clone()),
        _ => None,
    });
    assert_eq!(data, b"reply in a Data indication");

    link.command(|c, now| c.bind_channel(now, peer_addr))
        .expect("bind a channel");
    link.until("ChannelBind", |e| {
        matches!(e, TurnEvent::ChannelBound { .. }).then_some(())
    });
    // Lengths that need 3, 2, 1 and 0 bytes of padding on the stream, and a full-size packet.
    for len in [1usize, 2, 3, 4, 1_201] {
        let data: Vec<u8> = (0..len).map(|i| (i * 7 + len) as u8).collect();
        link.command(|c, now| c.send_to(now, peer_addr, &data))
            .expect("send on the channel");
        link.flush();
        assert_eq!(peer_receives(&peer), (relayed, data.clone()));
        peer.send_to(&data, relayed).expect("peer sends");
        let back = link.until("ChannelData", |e| match e {
            TurnEvent::Data { data, .. } => Some(data.clone()),
            _ => None,
        });
        assert_eq!(back, data);
    }
    let stats = link.client.stats();
    assert_eq!(stats.channel_data_sent, 5);
    assert_eq!(stats.channel_data_received, 5);
    assert_eq!(stats.send_indications, 1);
    assert_eq!(stats.dropped, 0);
    assert_eq!(link.written % 4, 0, "every frame written is padded");

    link.command(|c, now| c.deallocate(now))
        .expect("deallocate");
    link.until("deallocation", |e| {
        matches!(e, TurnEvent::Deallocated).then_some(())
    });
}

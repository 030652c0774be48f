//! A [`TurnClient`] in stream mode against a [`TurnServer`] behind an in-memory "TCP
//! connection": the shim frames what the server sends (padding ChannelData, RFC 8656 §12.5),
//! splits what the client writes back into messages, and hands the client its bytes in chunks
//! that split and glue messages (one byte at a time, everything at once, random sizes).

use core::net::SocketAddr;
use core::time::Duration;

use rand_chacha::ChaCha20Rng;
use rand_core::{Rng as _, SeedableRng};

use super::{STREAM_TRANSACTION_TIMEOUT, TurnTransport};
use crate::turn::{
    ChannelData, Frame, Operation, StreamDecoder, StreamError, TurnClient, TurnClientConfig,
    TurnEvent, TurnServer, TurnServerConfig, encode_frame, is_channel_data,
};
use crate::{Datagram, Instant, Machine};

const SERVER: &str = "192.0.2.1:3478";
const CLIENT: &str = "203.0.113.5:40000";
const PEER: &str = "198.51.100.9:7000";

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

#[derive(Clone, Copy)]
enum Chunks {
    /// Every byte its own read.
    ByteByByte,
    /// Everything the server said in one settle round in one read.
    Glued,
    /// Reads of 1..=97 bytes.
    Random,
}

struct Link {
    now: Instant,
    client: TurnClient,
    server: TurnServer,
    chunks: Chunks,
    rng: ChaCha20Rng,
    /// Bytes the client wrote, not yet framed for the server.
    from_client: StreamDecoder,
    /// Total bytes the client wrote (every frame ends on a 4-byte boundary).
    client_bytes: usize,
    /// Bytes on their way to the client.
    to_client: Vec<u8>,
    events: Vec<TurnEvent>,
    at_peer: Vec<(SocketAddr, Vec<u8>)>,
    connected: bool,
}

impl Link {
    fn new(chunks: Chunks) -> Self {
        let mut config = TurnClientConfig::new(addr(SERVER), addr(CLIENT), "alice", "secret");
        config.transport = TurnTransport::Stream;
        let server_config = TurnServerConfig::new(
            addr(SERVER),
            "192.0.2.1".parse().unwrap(),
            (50_000, 50_009),
            "example.org",
        )
        .with_user("alice", "secret");
        Self {
            now: Instant::ZERO,
            client: TurnClient::new(config, Box::new(ChaCha20Rng::seed_from_u64(5))),
            server: TurnServer::new(server_config, Box::new(ChaCha20Rng::seed_from_u64(6))),
            chunks,
            rng: ChaCha20Rng::seed_from_u64(7),
            from_client: StreamDecoder::default(),
            client_bytes: 0,
            to_client: Vec::new(),
            events: Vec::new(),
            at_peer: Vec::new(),
            connected: true,
        }
    }

    fn deliver_to_client(&mut self) {
        let bytes = core::mem::take(&mut self.to_client);
        let mut rest = bytes.as_slice();
        while !rest.is_empty() {
            let n = match self.chunks {
                Chunks::ByteByByte => 1,
                Chunks::Glued => rest.len(),
                Chunks::Random => (self.rng.next_u32() % 97 + 1) as usize,
            }
            .min(rest.len());
            let (chunk, tail) = rest.split_at(n);
            rest = tail;
            self.client.handle_datagram(
                self.now,
                Datagram {
                    source: addr(SERVER),
                    destination: addr(CLIENT),
                    payload: chunk,
                },
            );
        }
    }

    fn settle(&mut self) {
        loop {
            let mut moved = false;
            while let Some(t) = self.client.poll_transmit() {
                moved = true;
                assert_eq!(t.destination, addr(SERVER));
                self.client_bytes += t.payload.len();
                if self.connected {
                    self.from_client.push(&t.payload).unwrap();
                }
            }
            while let Some(frame) = self.from_client.next_frame().unwrap() {
                let payload = match frame {
                    Frame::Stun(bytes) => bytes,
                    Frame::ChannelData { channel, data } => ChannelData {
                        channel,
                        data: &data,
                    }
                    .to_vec(),
                };
                let datagram = Datagram {
                    source: addr(CLIENT),
                    destination: addr(SERVER),
                    payload: &payload,
                };
                self.server.handle_datagram(self.now, datagram);
            }
            while let Some(e) = self.client.poll_event() {
                self.events.push(e);
            }
            while let Some(t) = self.server.poll_transmit() {
                moved = true;
                if t.destination == addr(PEER) {
                    self.at_peer.push((t.source, t.payload));
                } else if self.connected {
                    // The server machine speaks datagrams; over TCP it would frame them.
                    let frame = if is_channel_data(&t.payload) {
                        let msg = ChannelData::parse(&t.payload).unwrap();
                        Frame::ChannelData {
                            channel: msg.channel,
                            data: msg.data.to_vec(),
                        }
                    } else {
                        Frame::Stun(t.payload)
                    };
                    encode_frame(&frame, &mut self.to_client);
                }
            }
            while self.server.poll_event().is_some() {}
            if !self.to_client.is_empty() {
                moved = true;
                self.deliver_to_client();
            }
            if !moved {
                return;
            }
        }
    }

    fn run_until(&mut self, until: Instant) {
        loop {
            self.settle();
            let next = [self.client.poll_timeout(), self.server.poll_timeout()]
                .into_iter()
                .flatten()
                .min();
            match next {
                Some(at) if at <= until => {
                    self.now = self.now.max(at);
                    self.client.handle_timeout(self.now);
                    self.server.handle_timeout(self.now);
                }
                _ => break,
            }
        }
        self.now = until;
        self.client.handle_timeout(until);
        self.server.handle_timeout(until);
        self.settle();
    }

    fn peer_sends(&mut self, relayed: SocketAddr, data: &[u8]) {
        self.server.handle_datagram(
            self.now,
            Datagram {
                source: addr(PEER),
                destination: relayed,
                payload: data,
            },
        );
        self.settle();
    }
}

/// Allocation, permission, indications and a channel both ways, with odd sizes so
/// ChannelData needs padding on the stream.
fn relay_session(chunks: Chunks) -> Link {
    let mut link = Link::new(chunks);
    link.client.allocate(link.now).unwrap();
    link.settle();
    let relayed = match link.events.as_slice() {
        [TurnEvent::Allocated { relayed, .. }] => *relayed,
        other => panic!("expected Allocated, got {other:?}"),
    };
    link.events.clear();

    let peer = addr(PEER);
    link.client.send_to(link.now, peer, b"hello").unwrap();
    link.settle();
    assert_eq!(link.at_peer, vec![(relayed, b"hello".to_vec())]);
    link.peer_sends(relayed, b"indication back");
    assert!(link.events.contains(&TurnEvent::Data {
        peer,
        data: b"indication back".to_vec()
    }));

    link.client.bind_channel(link.now, peer).unwrap();
    link.settle();
    assert!(
        link.events
            .iter()
            .any(|e| matches!(e, TurnEvent::ChannelBound { .. }))
    );
    link.events.clear();
    link.at_peer.clear();
    for len in [1, 2, 3, 4, 1_200, 1_201] {
        let data = vec![len as u8; len];
        link.client.send_to(link.now, peer, &data).unwrap();
        link.settle();
        assert_eq!(link.at_peer.pop(), Some((relayed, data.clone())));
        link.peer_sends(relayed, &data);
        assert_eq!(link.events.pop(), Some(TurnEvent::Data { peer, data }));
    }
    let stats = link.client.stats();
    assert_eq!(stats.channel_data_sent, 6);
    assert_eq!(stats.channel_data_received, 6);
    assert_eq!(stats.dropped, 0);
    // RFC 8656 §12.5: the padded ChannelData kept the client's stream on 4-byte frames.
    assert_eq!(link.client_bytes % 4, 0);
    assert_eq!(link.from_client.buffered(), 0);
    link
}

#[test]
fn relays_with_every_chunking() {
    for chunks in [Chunks::ByteByByte, Chunks::Glued, Chunks::Random] {
        let mut link = relay_session(chunks);
        // Refreshes keep working over the stream for half an hour.
        link.run_until(Instant::ZERO + Duration::from_secs(1_800));
        assert!(link.client.relayed_address().is_some());
        assert!(
            !link
                .events
                .iter()
                .any(|e| matches!(e, TurnEvent::Failed { .. }))
        );
        link.client.deallocate(link.now).unwrap();
        link.settle();
        assert_eq!(link.events.last(), Some(&TurnEvent::Deallocated));
    }
}

#[test]
fn no_retransmission_one_transaction_timeout() {
    let mut link = Link::new(Chunks::Glued);
    link.connected = false;
    link.client.allocate(link.now).unwrap();
    link.settle();
    let sent = link.client_bytes;
    assert!(sent > 0);
    // RFC 8489 §6.2.2: nothing is resent over a reliable transport.
    link.run_until(Instant::ZERO + STREAM_TRANSACTION_TIMEOUT - Duration::from_millis(1));
    assert_eq!(link.client_bytes, sent);
    assert!(link.events.is_empty());
    link.run_until(Instant::ZERO + STREAM_TRANSACTION_TIMEOUT);
    assert_eq!(link.client_bytes, sent);
    assert_eq!(
        link.events,
        vec![TurnEvent::Failed {
            operation: Operation::Allocate,
            code: None
        }]
    );
}

#[test]
fn lost_framing_closes_the_client() {
    let mut link = relay_session(Chunks::Random);
    let relayed = link.client.relayed_address().unwrap();
    // A request in flight, then a STUN header without the magic cookie, split in two reads.
    let other_peer = "198.51.100.10".parse().unwrap();
    link.client.create_permission(link.now, other_peer).unwrap();
    link.client.handle_datagram(
        link.now,
        Datagram {
            source: addr(SERVER),
            destination: addr(CLIENT),
            payload: &[0x00, 0x01, 0x00, 0x00, 0xC0],
        },
    );
    link.client.handle_datagram(
        link.now,
        Datagram {
            source: addr(SERVER),
            destination: addr(CLIENT),
            payload: &[0x80; 20],
        },
    );
    while let Some(e) = link.client.poll_event() {
        link.events.push(e);
    }
    assert_eq!(
        link.events.last(),
        Some(&TurnEvent::FramingLost {
            error: StreamError::BadStunHeader
        })
    );
    assert_eq!(link.client.relayed_address(), None);
    // The CreatePermission written before the failure was never polled: it stays unsent.
    assert!(link.client.poll_transmit().is_none());
    // Nothing more is reported, and nothing is scheduled, whatever arrives.
    link.events.clear();
    link.peer_sends(relayed, b"late");
    link.run_until(Instant::ZERO + Duration::from_secs(3_600));
    assert!(link.events.is_empty(), "{:?}", link.events);
    assert_eq!(link.client.poll_timeout(), None);
}

#[test]
fn udp_is_unchanged_by_default() {
    let config = TurnClientConfig::new(addr(SERVER), addr(CLIENT), "alice", "secret");
    assert_eq!(config.transport, TurnTransport::Udp);
    let mut client = TurnClient::new(config, Box::new(ChaCha20Rng::seed_from_u64(1)));
    client.allocate(Instant::ZERO).unwrap();
    let mut sends = 0;
    let mut now = Instant::ZERO;
    while let Some(at) = client.poll_timeout() {
        while client.poll_transmit().is_some() {
            sends += 1;
        }
        now = at;
        client.handle_timeout(now);
    }
    while client.poll_transmit().is_some() {
        sends += 1;
    }
    // RFC 8489 §6.2.1: Rc = 7 sends over UDP, the last wait ending at 39.5 s.
    assert_eq!(sends, 7);
    assert_eq!(now, Instant::ZERO + STREAM_TRANSACTION_TIMEOUT);
}

#[test]
fn arbitrary_bytes_never_panic() {
    let mut rng = ChaCha20Rng::seed_from_u64(11);
    for round in 0..200u32 {
        let mut link = if round % 2 == 0 {
            relay_session(Chunks::Glued)
        } else {
            Link::new(Chunks::Glued)
        };
        // Plausible headers (STUN with the cookie, ChannelData on a bound channel) followed
        // by random bytes, in random reads.
        let mut bytes = match round % 3 {
            0 => vec![0x00, 0x17, 0x00, 0x08, 0x21, 0x12, 0xA4, 0x42],
            1 => vec![0x40, 0x00, 0x00, 0x05],
            _ => Vec::new(),
        };
        let extra = (rng.next_u32() % 300) as usize;
        bytes.extend((0..extra).map(|_| rng.next_u32() as u8));
        for chunk in bytes.chunks((rng.next_u32() % 16 + 1) as usize) {
            link.client.handle_datagram(
                link.now,
                Datagram {
                    source: addr(SERVER),
                    destination: addr(CLIENT),
                    payload: chunk,
                },
            );
        }
        link.run_until(link.now + Duration::from_secs(120));
        let lost = link
            .events
            .iter()
            .filter(|e| matches!(e, TurnEvent::FramingLost { .. }))
            .count();
        assert!(lost <= 1, "round {round}: {:?}", link.events);
    }
}

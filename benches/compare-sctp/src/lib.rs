//! Two SCTP stacks driven the same way, in memory, on one core: pigeon's `Association` and
//! `sctp-proto`'s (the crate str0m uses). Each pair is a sender and a receiver; every packet
//! one side produces is handed straight to the other; virtual time moves only when neither
//! side has anything to send (then both are woken at the earliest timer). Reliable, ordered,
//! one stream, CRC32c on every packet, SCTP packets of the same size (1,228 bytes, the
//! sctp-proto default, so 1,200 bytes of payload per DATA chunk in both).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant as StdInstant};

use bytes::Bytes;
use pigeon::sctp::{Association, Config, Event as PigeonEvent, SendOptions};
use rand_core::SeedableRng;
use sctp_proto::{
    AssociationHandle, ClientConfig, DatagramEvent, Endpoint, EndpointConfig, Event as ProtoEvent,
    Payload, PayloadProtocolIdentifier, ServerConfig, StreamEvent,
};

/// The SCTP packet size both stacks use: sctp-proto's default (`INITIAL_MTU`).
pub const PACKET: usize = 1228;
/// Bytes the application keeps queued but not yet delivered: above the 1 MiB receive window
/// of both, so the sender is never starved by the application.
pub const APP_WINDOW: usize = 2 * 1024 * 1024;
/// PPID for binary data channel messages (RFC 8831 §8).
const PPID: u32 = 53;

/// A pigeon association configured for the comparison.
pub fn pigeon_association(seed: u64) -> Association {
    let mut config = Config::default();
    config.mtu = PACKET;
    let rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
    Association::new(config, Box::new(rng))
}

/// A connected pair of pigeon associations in memory.
pub struct PigeonPair {
    /// The sender.
    pub a: Association,
    /// The receiver.
    pub b: Association,
    now: pigeon::Instant,
    buf: Vec<u8>,
}

impl PigeonPair {
    /// Two associations, handshake done.
    pub fn new(seed: u64) -> PigeonPair {
        let mut pair = PigeonPair {
            a: pigeon_association(seed),
            b: pigeon_association(seed + 1),
            now: pigeon::Instant::from_millis(1),
            buf: Vec::with_capacity(PACKET),
        };
        pair.a.connect(pair.now);
        for _ in 0..100 {
            pair.exchange(&mut |_| {});
            if pair.a.is_established() && pair.b.is_established() {
                while pair.a.poll_event().is_some() {}
                while pair.b.poll_event().is_some() {}
                return pair;
            }
            pair.wake();
        }
        panic!("pigeon: no association");
    }

    /// Hands packets both ways until neither side has one. Returns whether any moved.
    fn exchange(&mut self, on_message: &mut impl FnMut(Vec<u8>)) -> bool {
        let mut moved = false;
        loop {
            let mut any = false;
            while self.a.poll_packet_into(&mut self.buf) {
                self.b.handle_packet(self.now, &self.buf);
                any = true;
            }
            while let Some(event) = self.b.poll_event() {
                if let PigeonEvent::Message { data, .. } = event {
                    on_message(data);
                }
            }
            while self.b.poll_packet_into(&mut self.buf) {
                self.a.handle_packet(self.now, &self.buf);
                any = true;
            }
            while self.a.poll_event().is_some() {}
            if !any {
                return moved;
            }
            moved = true;
        }
    }

    /// Moves virtual time to the earliest timer and fires it.
    fn wake(&mut self) {
        let next = [self.a.poll_timeout(), self.b.poll_timeout()]
            .into_iter()
            .flatten()
            .min();
        if let Some(at) = next {
            self.now = self.now.max(at);
        }
        self.a.handle_timeout(self.now);
        self.b.handle_timeout(self.now);
    }

    /// Sends `total` bytes as messages of `size` bytes from `a` to `b`; returns the bytes
    /// delivered (always `total`: every message is checked to arrive).
    pub fn transfer(&mut self, total: usize, size: usize) -> usize {
        let message = vec![0x5a; size];
        let (mut sent, mut received) = (0usize, 0usize);
        let mut stalls = 0;
        while received < total {
            while sent < total && sent - received < APP_WINDOW {
                self.a
                    .send(self.now, 0, PPID, message.clone(), SendOptions::default())
                    .expect("pigeon send");
                sent += size;
            }
            let mut delivered = 0;
            let moved = self.exchange(&mut |data| delivered += data.len());
            received += delivered;
            if !moved {
                stalls += 1;
                assert!(stalls < 10_000, "pigeon: transfer stalled");
                self.wake();
            }
        }
        received
    }
}

/// One side of an sctp-proto pair: its endpoint and association.
pub struct ProtoPeer {
    /// The endpoint (routes packets to associations).
    pub endpoint: Endpoint,
    /// The association.
    pub association: Option<(AssociationHandle, sctp_proto::Association)>,
    addr: SocketAddr,
}

impl ProtoPeer {
    fn handle(&mut self, now: StdInstant, from: SocketAddr, packet: Bytes) {
        let Some((handle, event)) = self.endpoint.handle(now, from, None, None, packet) else {
            return;
        };
        match event {
            DatagramEvent::NewAssociation(association) => {
                self.association = Some((handle, association));
            }
            DatagramEvent::AssociationEvent(event) => {
                if let Some((_, association)) = self.association.as_mut() {
                    association.handle_event(event);
                }
            }
        }
    }

    /// Collects the packets this side wants to send, after routing endpoint events.
    fn transmit(&mut self, now: StdInstant, out: &mut Vec<Bytes>) {
        if let Some((handle, association)) = self.association.as_mut() {
            while let Some(event) = association.poll_endpoint_event() {
                if let Some(event) = self.endpoint.handle_event(*handle, event) {
                    association.handle_event(event);
                }
            }
            while let Some(t) = association.poll_transmit(now) {
                if let Payload::RawEncode(packets) = t.payload {
                    out.extend(packets);
                }
            }
        }
        while let Some(t) = self.endpoint.poll_transmit() {
            if let Payload::RawEncode(packets) = t.payload {
                out.extend(packets);
            }
        }
    }
}

/// A connected pair of sctp-proto associations in memory (a client endpoint and a server
/// endpoint, the full four-way handshake).
pub struct ProtoPair {
    /// The sender (the client).
    pub a: ProtoPeer,
    /// The receiver (the server).
    pub b: ProtoPeer,
    now: StdInstant,
    packets: Vec<Bytes>,
}

impl ProtoPair {
    /// Two associations, handshake done, stream 0 open at the sender.
    pub fn new() -> ProtoPair {
        let mut pair = ProtoPair::connect();
        let (_, a) = pair.a.association.as_mut().expect("client association");
        a.open_stream(0, PayloadProtocolIdentifier::Binary)
            .expect("open stream");
        pair
    }

    /// Two associations, handshake done, no stream open.
    pub fn connect() -> ProtoPair {
        let addr_a: SocketAddr = "192.0.2.1:5000".parse().expect("address");
        let addr_b: SocketAddr = "192.0.2.2:5000".parse().expect("address");
        let mut client = Endpoint::new(Arc::new(EndpointConfig::new()), None);
        let server = Endpoint::new(
            Arc::new(EndpointConfig::new()),
            Some(Arc::new(ServerConfig::new())),
        );
        let association = client
            .connect(ClientConfig::new(), addr_b)
            .expect("sctp-proto connect");
        let mut pair = ProtoPair {
            a: ProtoPeer {
                endpoint: client,
                association: Some(association),
                addr: addr_a,
            },
            b: ProtoPeer {
                endpoint: server,
                association: None,
                addr: addr_b,
            },
            now: StdInstant::now(),
            packets: Vec::new(),
        };
        for _ in 0..100 {
            pair.exchange(&mut |_| {});
            let up = |p: &ProtoPeer| {
                p.association
                    .as_ref()
                    .is_some_and(|(_, a)| !a.is_handshaking())
            };
            if up(&pair.a) && up(&pair.b) {
                return pair;
            }
            pair.wake();
        }
        panic!("sctp-proto: no association");
    }

    /// Hands packets both ways until neither side has one; reads every complete message at
    /// the receiver. Returns whether any packet moved.
    fn exchange(&mut self, on_message: &mut impl FnMut(Vec<u8>)) -> bool {
        let mut moved = false;
        loop {
            let mut any = false;
            self.a.transmit(self.now, &mut self.packets);
            for packet in self.packets.drain(..) {
                self.b.handle(self.now, self.a.addr, packet);
                any = true;
            }
            if let Some((_, b)) = self.b.association.as_mut() {
                let mut readable = false;
                while let Some(event) = b.poll() {
                    if let ProtoEvent::Stream(StreamEvent::Readable { .. }) = event {
                        readable = true;
                    }
                }
                while b.accept_stream().is_some() {
                    readable = true;
                }
                if readable && let Ok(mut stream) = b.stream(0) {
                    while let Ok(Some(chunks)) = stream.read() {
                        let mut data = vec![0; chunks.len()];
                        let n = chunks.read(&mut data).expect("read message");
                        data.truncate(n);
                        on_message(data);
                    }
                }
            }
            self.b.transmit(self.now, &mut self.packets);
            for packet in self.packets.drain(..) {
                self.a.handle(self.now, self.b.addr, packet);
                any = true;
            }
            if let Some((_, a)) = self.a.association.as_mut() {
                while a.poll().is_some() {}
            }
            if !any {
                return moved;
            }
            moved = true;
        }
    }

    fn wake(&mut self) {
        let timeout = |p: &ProtoPeer| p.association.as_ref().and_then(|(_, a)| a.poll_timeout());
        let next = [timeout(&self.a), timeout(&self.b)]
            .into_iter()
            .flatten()
            .min();
        self.now = match next {
            Some(at) => self.now.max(at),
            None => self.now + Duration::from_millis(1),
        };
        for p in [&mut self.a, &mut self.b] {
            if let Some((_, a)) = p.association.as_mut() {
                a.handle_timeout(self.now);
            }
        }
    }

    /// Sends `total` bytes as messages of `size` bytes from `a` to `b`; returns the bytes
    /// delivered.
    pub fn transfer(&mut self, total: usize, size: usize) -> usize {
        let message = vec![0x5a; size];
        let (mut sent, mut received) = (0usize, 0usize);
        let mut stalls = 0;
        while received < total {
            if let Some((_, a)) = self.a.association.as_mut() {
                let mut stream = a.stream(0).expect("stream 0");
                while sent < total && sent - received < APP_WINDOW {
                    let n = stream.write(&message).expect("sctp-proto write");
                    assert_eq!(n, size);
                    sent += size;
                }
            }
            let mut delivered = 0;
            let moved = self.exchange(&mut |data| delivered += data.len());
            received += delivered;
            if !moved {
                stalls += 1;
                assert!(stalls < 10_000, "sctp-proto: transfer stalled");
                self.wake();
            }
        }
        received
    }
}

impl Default for ProtoPair {
    fn default() -> ProtoPair {
        ProtoPair::new()
    }
}

/// CPU time this thread has used, in seconds: on a machine shared with other work it counts
/// only the time this benchmark ran, not the time it waited for a core.
pub fn thread_cpu_seconds() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec into the valid, exclusively borrowed `ts`.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime");
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

//! A [`TurnClient`] and a [`TurnServer`] wired in memory on virtual time, with a peer that
//! records what reaches it.

use core::net::SocketAddr;
use core::time::Duration;

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

use super::{TurnServer, TurnServerConfig, TurnServerEvent};
use crate::stun::{
    Attribute, AttributeType, Class, Message, MessageBuilder, MessageType, Method,
    PasswordAlgorithm, TransactionId, long_term_key,
};
use crate::turn::{Operation, TurnClient, TurnClientConfig, TurnEvent};
use crate::{Datagram, Instant, Machine, Transmit};

const SERVER: &str = "192.0.2.1:3478";
const PEER: &str = "198.51.100.9:7000";

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn server_config() -> TurnServerConfig {
    TurnServerConfig::new(
        addr(SERVER),
        "192.0.2.1".parse().unwrap(),
        (50_000, 50_009),
        "example.org",
    )
    .with_user("alice", "secret")
    .with_user("bob", "hunter2")
}

struct Net {
    now: Instant,
    server: TurnServer,
    clients: Vec<TurnClient>,
    events: Vec<Vec<TurnEvent>>,
    server_events: Vec<TurnServerEvent>,
    /// What reached the peer: (from, payload).
    at_peer: Vec<(SocketAddr, Vec<u8>)>,
    /// Deliver nothing to or from the server while false.
    connected: bool,
}

impl Net {
    fn new(config: TurnServerConfig) -> Self {
        Self {
            now: Instant::ZERO,
            server: TurnServer::new(config, Box::new(ChaCha20Rng::seed_from_u64(1))),
            clients: Vec::new(),
            events: Vec::new(),
            server_events: Vec::new(),
            at_peer: Vec::new(),
            connected: true,
        }
    }

    fn add_client(&mut self, local: &str, user: &str, pass: &str) -> usize {
        let config = TurnClientConfig::new(addr(SERVER), addr(local), user, pass);
        let seed = self.clients.len() as u64 + 10;
        self.clients.push(TurnClient::new(
            config,
            Box::new(ChaCha20Rng::seed_from_u64(seed)),
        ));
        self.events.push(Vec::new());
        self.clients.len() - 1
    }

    fn deliver_to_server(&mut self, t: Transmit) {
        if self.connected {
            self.server.handle_datagram(self.now, t.as_datagram());
        }
    }

    /// Drains every machine until nothing moves.
    fn settle(&mut self) {
        loop {
            let mut moved = false;
            for i in 0..self.clients.len() {
                while let Some(t) = self.clients[i].poll_transmit() {
                    moved = true;
                    self.deliver_to_server(t);
                }
                while let Some(e) = self.clients[i].poll_event() {
                    self.events[i].push(e);
                }
            }
            while let Some(t) = self.server.poll_transmit() {
                moved = true;
                if t.destination == addr(PEER) {
                    self.at_peer.push((t.source, t.payload));
                } else if self.connected {
                    // Two clients may share a local address (the 437 test): both hear it.
                    for c in &mut self.clients {
                        if c.config().local == t.destination {
                            c.handle_datagram(self.now, t.as_datagram());
                        }
                    }
                }
            }
            while let Some(e) = self.server.poll_event() {
                self.server_events.push(e);
            }
            if !moved {
                return;
            }
        }
    }

    /// Advances virtual time to `until`, firing every timer on the way.
    fn run_until(&mut self, until: Instant) {
        loop {
            self.settle();
            let next = self
                .clients
                .iter()
                .filter_map(|c| c.poll_timeout())
                .chain(self.server.poll_timeout())
                .min();
            match next {
                Some(at) if at <= until => {
                    self.now = self.now.max(at);
                    for c in &mut self.clients {
                        c.handle_timeout(self.now);
                    }
                    self.server.handle_timeout(self.now);
                }
                _ => break,
            }
        }
        self.now = until;
        for c in &mut self.clients {
            c.handle_timeout(until);
        }
        self.server.handle_timeout(until);
        self.settle();
    }

    fn run_for(&mut self, d: Duration) {
        self.run_until(self.now + d);
    }

    fn command<R>(&mut self, i: usize, f: impl FnOnce(&mut TurnClient, Instant) -> R) -> R {
        let r = f(&mut self.clients[i], self.now);
        self.settle();
        r
    }

    fn peer_sends(&mut self, to: SocketAddr, payload: &[u8]) {
        self.server.handle_datagram(
            self.now,
            Datagram {
                source: addr(PEER),
                destination: to,
                payload,
            },
        );
        self.settle();
    }

    fn allocated(&mut self, i: usize) -> SocketAddr {
        self.command(i, |c, now| c.allocate(now)).unwrap();
        self.run_for(Duration::from_millis(10));
        match self.events[i].first() {
            Some(TurnEvent::Allocated { relayed, .. }) => *relayed,
            other => panic!("expected Allocated, got {other:?}"),
        }
    }

    fn data_events(&self, i: usize) -> Vec<(SocketAddr, Vec<u8>)> {
        self.events[i]
            .iter()
            .filter_map(|e| match e {
                TurnEvent::Data { peer, data } => Some((*peer, data.clone())),
                _ => None,
            })
            .collect()
    }
}

#[test]
fn allocate_and_relay_with_indications() {
    let mut net = Net::new(server_config());
    let c = net.add_client("203.0.113.5:40000", "alice", "secret");
    let relayed = net.allocated(c);
    assert_eq!(
        relayed.ip(),
        "192.0.2.1".parse::<core::net::IpAddr>().unwrap()
    );
    assert!(matches!(
        net.events[c][0],
        TurnEvent::Allocated { mapped: Some(m), lifetime: 600, .. } if m == addr("203.0.113.5:40000")
    ));
    // The first request was challenged (401), the retry succeeded.
    assert!(net.server_events.contains(&TurnServerEvent::Rejected {
        client: addr("203.0.113.5:40000"),
        code: 401
    }));

    net.command(c, |cl, now| cl.send_to(now, addr(PEER), b"ping"))
        .unwrap();
    assert!(net.events[c].contains(&TurnEvent::PermissionCreated {
        peer: addr(PEER).ip()
    }));
    assert_eq!(net.at_peer, vec![(relayed, b"ping".to_vec())]);

    net.peer_sends(relayed, b"pong");
    assert_eq!(net.data_events(c), vec![(addr(PEER), b"pong".to_vec())]);
    assert_eq!(net.clients[c].stats().send_indications, 1);
    assert_eq!(net.clients[c].stats().data_indications, 1);
}

#[test]
fn channel_binding_path() {
    let mut net = Net::new(server_config());
    let c = net.add_client("203.0.113.5:40000", "alice", "secret");
    let relayed = net.allocated(c);
    let channel = net
        .command(c, |cl, now| cl.bind_channel(now, addr(PEER)))
        .unwrap();
    assert_eq!(channel, 0x4000);
    assert!(net.events[c].contains(&TurnEvent::ChannelBound {
        peer: addr(PEER),
        channel
    }));
    net.command(c, |cl, now| cl.send_to(now, addr(PEER), b"over a channel"))
        .unwrap();
    assert_eq!(net.clients[c].stats().channel_data_sent, 1);
    assert_eq!(net.at_peer, vec![(relayed, b"over a channel".to_vec())]);
    net.peer_sends(relayed, b"back");
    assert_eq!(net.clients[c].stats().channel_data_received, 1);
    assert_eq!(net.data_events(c), vec![(addr(PEER), b"back".to_vec())]);

    // Refreshes keep channel and permission alive well past their 10 and 5 minutes.
    net.run_for(Duration::from_secs(1500));
    net.peer_sends(relayed, b"still there");
    assert_eq!(net.data_events(c).len(), 2);
    assert!(net.clients[c].stats().refreshes >= 3);
    assert_eq!(net.server.stats().expired, 0);
}

#[test]
fn permission_expiry_drops_data() {
    let mut net = Net::new(server_config());
    let c = net.add_client("203.0.113.5:40000", "alice", "secret");
    let relayed = net.allocated(c);
    net.command(c, |cl, now| cl.create_permission(now, addr(PEER).ip()))
        .unwrap();
    net.peer_sends(relayed, b"one");
    assert_eq!(net.server.stats().relayed_to_client, 1);
    // The client is cut off, so nothing refreshes the permission (300 s, RFC 8656 §9).
    net.connected = false;
    net.run_for(Duration::from_secs(299));
    net.peer_sends(relayed, b"two");
    assert_eq!(net.server.stats().relayed_to_client, 2);
    net.run_for(Duration::from_secs(2));
    let dropped = net.server.stats().dropped;
    net.peer_sends(relayed, b"three");
    assert_eq!(net.server.stats().relayed_to_client, 2);
    assert_eq!(net.server.stats().dropped, dropped + 1);
}

#[test]
fn data_without_permission_is_not_relayed() {
    let mut net = Net::new(server_config());
    let c = net.add_client("203.0.113.5:40000", "alice", "secret");
    let relayed = net.allocated(c);
    net.peer_sends(relayed, b"unsolicited");
    assert!(net.data_events(c).is_empty());
    assert_eq!(net.server.stats().dropped, 1);
}

#[test]
fn quotas_per_user_and_in_total() {
    let mut config = server_config();
    config.max_allocations_per_user = 1;
    config.max_allocations = 2;
    let mut net = Net::new(config);
    let a1 = net.add_client("203.0.113.5:40000", "alice", "secret");
    let a2 = net.add_client("203.0.113.5:40001", "alice", "secret");
    let b1 = net.add_client("203.0.113.6:40000", "bob", "hunter2");
    let b2 = net.add_client("203.0.113.6:40001", "bob", "hunter2");
    net.allocated(a1);
    net.command(a2, |c, now| c.allocate(now)).unwrap();
    net.run_for(Duration::from_millis(10));
    assert_eq!(
        net.events[a2],
        vec![TurnEvent::Failed {
            operation: Operation::Allocate,
            code: Some(486)
        }]
    );
    net.allocated(b1);
    net.command(b2, |c, now| c.allocate(now)).unwrap();
    net.run_for(Duration::from_millis(10));
    assert!(matches!(
        net.events[b2][..],
        [TurnEvent::Failed {
            code: Some(486 | 508),
            ..
        }]
    ));
    assert_eq!(net.server.allocation_count(), 2);
}

#[test]
fn total_quota_gives_508() {
    let mut config = server_config();
    config.max_allocations = 1;
    let mut net = Net::new(config);
    let a = net.add_client("203.0.113.5:40000", "alice", "secret");
    let b = net.add_client("203.0.113.6:40000", "bob", "hunter2");
    net.allocated(a);
    net.command(b, |c, now| c.allocate(now)).unwrap();
    net.run_for(Duration::from_millis(10));
    assert_eq!(
        net.events[b],
        vec![TurnEvent::Failed {
            operation: Operation::Allocate,
            code: Some(508)
        }]
    );
}

#[test]
fn second_allocate_on_same_five_tuple_is_437() {
    let mut net = Net::new(server_config());
    let a = net.add_client("203.0.113.5:40000", "alice", "secret");
    let again = net.add_client("203.0.113.5:40000", "alice", "secret");
    net.allocated(a);
    net.command(again, |c, now| c.allocate(now)).unwrap();
    net.run_for(Duration::from_millis(10));
    assert_eq!(
        net.events[again],
        vec![TurnEvent::Failed {
            operation: Operation::Allocate,
            code: Some(437)
        }]
    );
}

#[test]
fn wrong_password_fails_with_401() {
    let mut net = Net::new(server_config());
    let c = net.add_client("203.0.113.5:40000", "alice", "wrong");
    net.command(c, |cl, now| cl.allocate(now)).unwrap();
    net.run_for(Duration::from_millis(10));
    assert_eq!(
        net.events[c],
        vec![TurnEvent::Failed {
            operation: Operation::Allocate,
            code: Some(401)
        }]
    );
    assert_eq!(net.server.allocation_count(), 0);
}

#[test]
fn refresh_survives_stale_nonces_and_deallocation_frees_the_port() {
    let mut config = server_config();
    config.nonce_lifetime = Duration::from_secs(300);
    let mut net = Net::new(config);
    let c = net.add_client("203.0.113.5:40000", "alice", "secret");
    net.allocated(c);
    net.run_for(Duration::from_secs(3000));
    assert!(
        net.server_events
            .iter()
            .any(|e| matches!(e, TurnServerEvent::Rejected { code: 438, .. }))
    );
    assert_eq!(net.server.allocation_count(), 1);
    assert!(
        !net.events[c]
            .iter()
            .any(|e| matches!(e, TurnEvent::Failed { .. }))
    );

    net.command(c, |cl, now| cl.deallocate(now)).unwrap();
    net.run_for(Duration::from_millis(10));
    assert_eq!(net.events[c].last(), Some(&TurnEvent::Deallocated));
    assert_eq!(net.server.allocation_count(), 0);
    assert_eq!(net.server.poll_timeout(), None);
}

#[test]
fn unrefreshed_allocation_expires() {
    let mut net = Net::new(server_config());
    let c = net.add_client("203.0.113.5:40000", "alice", "secret");
    let relayed = net.allocated(c);
    net.connected = false;
    net.run_for(Duration::from_secs(601));
    assert_eq!(net.server.allocation_count(), 0);
    assert!(net.server_events.contains(&TurnServerEvent::Released {
        client: addr("203.0.113.5:40000"),
        relayed,
        expired: true
    }));
}

#[test]
fn same_seed_same_bytes() {
    let run = || {
        let mut net = Net::new(server_config());
        let c = net.add_client("203.0.113.5:40000", "alice", "secret");
        net.allocated(c);
        net.command(c, |cl, now| cl.send_to(now, addr(PEER), b"x"))
            .unwrap();
        net.at_peer.clone()
    };
    assert_eq!(run(), run());
}

/// Raw requests against the server, authenticated as alice with a nonce from a first 401.
struct Raw {
    server: TurnServer,
    nonce: String,
    next_id: u8,
}

impl Raw {
    fn new() -> Self {
        let mut server = TurnServer::new(server_config(), Box::new(ChaCha20Rng::seed_from_u64(3)));
        let probe = MessageBuilder::new(
            MessageType::new(Method::ALLOCATE, Class::Request),
            TransactionId([0; 12]),
        )
        .finish();
        server.handle_datagram(
            Instant::ZERO,
            Datagram {
                source: addr("203.0.113.5:1"),
                destination: addr(SERVER),
                payload: &probe,
            },
        );
        let answer = server.poll_transmit().unwrap();
        let msg = Message::parse(&answer.payload).unwrap();
        assert_eq!(msg.error_code().map(|e| e.code), Some(401));
        let nonce = msg.nonce().unwrap().to_owned();
        Self {
            server,
            nonce,
            next_id: 1,
        }
    }

    /// Sends an authenticated request (or `repeat` of an earlier id) and returns the answer.
    fn ask(
        &mut self,
        from: &str,
        method: Method,
        attrs: &[Attribute<'_>],
        repeat: Option<u8>,
    ) -> Vec<u8> {
        let id = repeat.unwrap_or_else(|| {
            self.next_id += 1;
            self.next_id
        });
        let key = long_term_key(PasswordAlgorithm::Md5, "alice", "example.org", "secret");
        let mut b = MessageBuilder::new(
            MessageType::new(method, Class::Request),
            TransactionId([id; 12]),
        );
        for attr in attrs {
            b.add(attr);
        }
        b.add(&Attribute::Username("alice"));
        b.add(&Attribute::Realm("example.org"));
        b.add(&Attribute::Nonce(&self.nonce));
        b.add_message_integrity(&key);
        let request = b.finish();
        self.server.handle_datagram(
            Instant::ZERO,
            Datagram {
                source: addr(from),
                destination: addr(SERVER),
                payload: &request,
            },
        );
        let answer = self.server.poll_transmit().expect("an answer");
        let msg = Message::parse(&answer.payload).unwrap();
        assert!(
            msg.verify_integrity(&key).is_ok(),
            "authenticated answers carry integrity"
        );
        answer.payload
    }

    fn code(&mut self, from: &str, attrs: &[Attribute<'_>]) -> Option<u16> {
        let answer = self.ask(from, Method::ALLOCATE, attrs, None);
        Message::parse(&answer)
            .unwrap()
            .error_code()
            .map(|e| e.code)
    }
}

const UDP: Attribute<'static> = Attribute::RequestedTransport(17);

#[test]
fn allocate_checks_follow_rfc_8656_section_7_2() {
    let mut raw = Raw::new();
    assert_eq!(raw.code("203.0.113.5:2", &[]), Some(400));
    assert_eq!(
        raw.code("203.0.113.5:2", &[Attribute::RequestedTransport(6)]),
        Some(442)
    );
    assert_eq!(
        raw.code(
            "203.0.113.5:2",
            &[UDP, Attribute::RequestedAddressFamily(2)]
        ),
        Some(440)
    );
    assert_eq!(
        raw.code(
            "203.0.113.5:2",
            &[UDP, Attribute::AdditionalAddressFamily(1)]
        ),
        Some(400)
    );
    assert_eq!(
        raw.code(
            "203.0.113.5:2",
            &[
                UDP,
                Attribute::EvenPort(false),
                Attribute::ReservationToken(&[1; 8])
            ]
        ),
        Some(400)
    );
    assert_eq!(
        raw.code(
            "203.0.113.5:2",
            &[UDP, Attribute::ReservationToken(&[1; 8])]
        ),
        Some(508)
    );
    // A dual allocation is half met: IPv4 relayed address plus ADDRESS-ERROR-CODE for IPv6.
    let answer = raw.ask(
        "203.0.113.5:3",
        Method::ALLOCATE,
        &[UDP, Attribute::AdditionalAddressFamily(2)],
        None,
    );
    let msg = Message::parse(&answer).unwrap();
    assert!(msg.xor_relayed_address().unwrap().is_ipv4());
    assert!(msg.contains(AttributeType::ADDRESS_ERROR_CODE));
}

#[test]
fn even_port_reservation_and_retransmitted_allocate() {
    let mut raw = Raw::new();
    let answer = raw.ask(
        "203.0.113.5:2",
        Method::ALLOCATE,
        &[UDP, Attribute::EvenPort(true)],
        None,
    );
    let msg = Message::parse(&answer).unwrap();
    let relayed = msg.xor_relayed_address().unwrap();
    assert_eq!(relayed.port() % 2, 0);
    let token = *msg.reservation_token().expect("a reservation token");
    let id = raw.next_id;
    // RFC 8656 §7.2: the same request again gets the same answer, another one 437.
    let again = raw.ask(
        "203.0.113.5:2",
        Method::ALLOCATE,
        &[UDP, Attribute::EvenPort(true)],
        Some(id),
    );
    assert_eq!(again, answer);
    assert_eq!(raw.code("203.0.113.5:2", &[UDP]), Some(437));
    // The reserved odd port goes to whoever presents the token, once.
    let other = raw.ask(
        "203.0.113.6:2",
        Method::ALLOCATE,
        &[UDP, Attribute::ReservationToken(&token)],
        None,
    );
    let reserved = Message::parse(&other)
        .unwrap()
        .xor_relayed_address()
        .unwrap();
    assert_eq!(reserved.port(), relayed.port() + 1);
    assert_eq!(
        raw.code("203.0.113.7:2", &[UDP, Attribute::ReservationToken(&token)]),
        Some(508)
    );
}

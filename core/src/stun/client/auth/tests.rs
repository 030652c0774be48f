use core::net::SocketAddr;
use core::time::Duration;
use std::collections::VecDeque;

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

use crate::stun::testnet::{Host, Net};
use crate::stun::{
    Attribute, Class, ClientConfig, ClientEvent, Credentials, ErrorCode, Message, MessageBuilder,
    NonceCookie, PasswordAlgorithm, PasswordAlgorithms, SecurityFeatures, StunClient,
    long_term_key,
};
use crate::{Datagram, Instant, Machine, Transmit};

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

const LOCAL: &str = "10.0.0.1:5000";
const SERVER: &str = "192.0.2.1:3478";

fn client(seed: u64) -> StunClient {
    StunClient::new(
        ClientConfig::default(),
        Box::new(ChaCha20Rng::seed_from_u64(seed)),
    )
}

/// A server that demands long-term credentials (RFC 8489 §9.2.4), enough for the client's
/// retry logic: nonces are numbered, and a nonce goes stale after one successful use.
struct AuthServer {
    addr: SocketAddr,
    realm: &'static str,
    username: &'static str,
    password: &'static str,
    /// Offer PASSWORD-ALGORITHMS (SHA-256 first) with the feature bit in the nonce cookie.
    algorithms: bool,
    nonce: u32,
    /// Refuse the next authenticated request with a 401, as a restarted server would.
    forget: bool,
    out: VecDeque<Transmit>,
    /// (had credentials, code answered) per request.
    log: Vec<(bool, u16)>,
}

impl AuthServer {
    fn new(algorithms: bool) -> Self {
        Self {
            addr: addr(SERVER),
            realm: "example.org",
            username: "alice",
            password: "secret",
            algorithms,
            nonce: 1,
            forget: false,
            out: VecDeque::new(),
            log: Vec::new(),
        }
    }

    fn nonce(&self) -> String {
        let features = if self.algorithms {
            SecurityFeatures::PASSWORD_ALGORITHMS
        } else {
            SecurityFeatures::default()
        };
        NonceCookie::new(features).nonce(&format!("n{}", self.nonce))
    }

    fn challenge(&self, req: &Message<'_>, code: ErrorCode<'static>) -> Vec<u8> {
        let nonce = self.nonce();
        let mut b = MessageBuilder::error_response(req, code);
        b.add(&Attribute::Realm(self.realm))
            .add(&Attribute::Nonce(&nonce));
        if self.algorithms {
            let offered = [PasswordAlgorithm::Sha256, PasswordAlgorithm::Md5];
            b.add(&Attribute::PasswordAlgorithms(PasswordAlgorithms::new(
                &offered,
            )));
        }
        b.finish()
    }

    fn answer(&mut self, req: &Message<'_>, from: SocketAddr) -> (bool, u16, Vec<u8>) {
        if !req.has_integrity() {
            return (false, 401, self.challenge(req, ErrorCode::UNAUTHENTICATED));
        }
        let alg = req.password_algorithm().unwrap_or(PasswordAlgorithm::Md5);
        let key = long_term_key(alg, self.username, self.realm, self.password);
        let ok = if self.algorithms {
            req.password_algorithms().is_some() && req.verify_integrity_sha256(&key).is_ok()
        } else {
            req.verify_integrity(&key).is_ok()
        };
        if req.username() != Some(self.username) || !ok || std::mem::take(&mut self.forget) {
            return (true, 401, self.challenge(req, ErrorCode::UNAUTHENTICATED));
        }
        if req.nonce() != Some(self.nonce().as_str()) {
            return (true, 438, self.challenge(req, ErrorCode::STALE_NONCE));
        }
        self.nonce += 1;
        let mut b = MessageBuilder::success_response(req);
        b.add(&Attribute::XorMappedAddress(from));
        if self.algorithms {
            b.add_message_integrity_sha256(&key);
        } else {
            b.add_message_integrity(&key);
        }
        (true, 0, b.finish())
    }
}

impl Machine for AuthServer {
    type Event = ();

    fn handle_datagram(&mut self, _now: Instant, d: Datagram<'_>) {
        let Ok(req) = Message::parse(d.payload) else {
            return;
        };
        let (authed, code, payload) = self.answer(&req, d.source);
        self.log.push((authed, code));
        self.out.push_back(Transmit {
            source: self.addr,
            destination: d.source,
            payload,
        });
    }
    fn handle_timeout(&mut self, _now: Instant) {}
    fn poll_transmit(&mut self) -> Option<Transmit> {
        self.out.pop_front()
    }
    fn poll_event(&mut self) -> Option<()> {
        None
    }
    fn poll_timeout(&self) -> Option<Instant> {
        None
    }
}

fn long_term_run(algorithms: bool, password: &str) -> (Host<StunClient>, Host<AuthServer>) {
    let creds = Credentials::LongTerm {
        username: "alice".into(),
        password: password.into(),
    };
    let mut c = Host::new(client(12).with_credentials(creds), vec![addr(LOCAL)]);
    let mut s = Host::new(AuthServer::new(algorithms), vec![addr(SERVER)]);
    let mut net = Net::new(Duration::from_millis(10));
    c.machine
        .binding(Instant::ZERO, addr(LOCAL), addr(SERVER))
        .unwrap();
    net.run(&mut [&mut c, &mut s], Instant::from_secs(1));
    c.machine
        .binding(net.now, addr(LOCAL), addr(SERVER))
        .unwrap();
    net.run(&mut [&mut c, &mut s], Instant::from_secs(2));
    (c, s)
}

#[test]
fn long_term_credentials_answer_401_and_438() {
    for algorithms in [false, true] {
        let (c, s) = long_term_run(algorithms, "secret");
        // First request bare (RFC 8489 §9.2.3.1), 401, retry accepted; the second request
        // reuses the cached nonce (§9.2.3.2), which went stale: 438, retry accepted.
        assert_eq!(
            s.machine.log,
            [(false, 401), (true, 0), (true, 438), (true, 0)],
            "{algorithms}"
        );
        assert_eq!(c.events.len(), 2);
        for (_, event) in &c.events {
            assert!(
                matches!(event, ClientEvent::Response { class: Class::SuccessResponse, mapped: Some(m), .. } if *m == addr(LOCAL)),
                "{event:?}"
            );
        }
        assert_eq!(c.machine.stats().auth_retries, 2);
    }
}

#[test]
fn wrong_password_ends_with_the_401() {
    let (c, s) = long_term_run(false, "guess");
    // RFC 8489 §9.2.5: no second retry with unchanged credentials; the 401 is the answer.
    assert_eq!(
        s.machine.log,
        [(false, 401), (true, 401), (false, 401), (true, 401)]
    );
    for (_, event) in &c.events {
        let ClientEvent::Response {
            class, response, ..
        } = event
        else {
            panic!("{event:?}")
        };
        assert_eq!(*class, Class::ErrorResponse);
        assert_eq!(
            Message::parse(response)
                .unwrap()
                .error_code()
                .map(|e| e.code),
            Some(401)
        );
    }
}

#[test]
fn stripped_password_algorithms_are_not_retried() {
    // RFC 8489 §9.2.5: a nonce cookie announcing password algorithms without the attribute
    // (a bid-down attempt) must not be answered with credentials.
    let creds = Credentials::LongTerm {
        username: "alice".into(),
        password: "secret".into(),
    };
    let mut c = client(13).with_credentials(creds);
    c.binding(Instant::ZERO, addr(LOCAL), addr(SERVER)).unwrap();
    let request = c.poll_transmit().expect("a request");
    let req = Message::parse(&request.payload).unwrap();
    let nonce = NonceCookie::new(SecurityFeatures::PASSWORD_ALGORITHMS).nonce("x");
    let mut b = MessageBuilder::error_response(&req, ErrorCode::UNAUTHENTICATED);
    b.add(&Attribute::Realm("r")).add(&Attribute::Nonce(&nonce));
    let response = b.finish();
    c.handle_datagram(
        Instant::ZERO,
        Datagram {
            source: addr(SERVER),
            destination: addr(LOCAL),
            payload: &response,
        },
    );
    assert!(c.poll_transmit().is_none());
    assert!(matches!(
        c.poll_event(),
        Some(ClientEvent::Response {
            class: Class::ErrorResponse,
            ..
        })
    ));
    assert_eq!(c.stats().auth_retries, 0);
}

#[test]
fn a_final_401_forgets_the_cached_nonce() {
    let creds = Credentials::LongTerm {
        username: "alice".into(),
        password: "secret".into(),
    };
    let mut c = Host::new(client(16).with_credentials(creds), vec![addr(LOCAL)]);
    let mut s = Host::new(AuthServer::new(false), vec![addr(SERVER)]);
    let mut net = Net::new(Duration::from_millis(10));
    for round in 0..3 {
        s.machine.forget = round == 1;
        c.machine
            .binding(net.now, addr(LOCAL), addr(SERVER))
            .unwrap();
        net.run(&mut [&mut c, &mut s], Instant::from_secs(round + 1));
    }
    // Round 1 reuses the cached nonce and is refused with the same realm: no retry (RFC 8489
    // §9.2.5), the 401 is the answer. Round 2 starts over without credentials.
    assert_eq!(
        s.machine.log,
        [
            (false, 401),
            (true, 0),
            (true, 401),
            (false, 401),
            (true, 0)
        ]
    );
    let classes: Vec<Class> = c
        .events
        .iter()
        .map(|(_, e)| match e {
            ClientEvent::Response { class, .. } => *class,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        classes,
        [
            Class::SuccessResponse,
            Class::ErrorResponse,
            Class::SuccessResponse
        ]
    );
}

/// Sends the client's first request back as a 401 with `realm` and a plain nonce; returns the
/// retry, if the client made one.
fn retry_after_401(username: &str, password: &str, realm: &str) -> (StunClient, Option<Vec<u8>>) {
    let creds = Credentials::LongTerm {
        username: username.into(),
        password: password.into(),
    };
    let mut c = client(17).with_credentials(creds);
    c.binding(Instant::ZERO, addr(LOCAL), addr(SERVER)).unwrap();
    let request = c.poll_transmit().expect("a request");
    let req = Message::parse(&request.payload).unwrap();
    let mut b = MessageBuilder::error_response(&req, ErrorCode::UNAUTHENTICATED);
    b.add(&Attribute::Realm(realm)).add(&Attribute::Nonce("n1"));
    let response = b.finish();
    c.handle_datagram(
        Instant::ZERO,
        Datagram {
            source: addr(SERVER),
            destination: addr(LOCAL),
            payload: &response,
        },
    );
    let retry = c.poll_transmit().map(|t| t.payload);
    (c, retry)
}

#[test]
fn retries_send_the_opaque_string_username_and_key() {
    // RFC 8489 §14.3 / RFC 8265 §4.2: "e" + COMBINING ACUTE ACCENT is sent as U+00E9, and the
    // key hashes the NFC username, the realm with its NO-BREAK SPACE mapped, and the password.
    let (_, retry) = retry_after_401("Jose\u{0301}", "pa\u{2002}ss", "my\u{00A0}realm");
    let retry = retry.expect("a retry with credentials");
    let msg = Message::parse(&retry).unwrap();
    assert_eq!(msg.username(), Some("Jos\u{00E9}"));
    let key =
        crate::stun::try_long_term_key(PasswordAlgorithm::Md5, "Jos\u{00E9}", "my realm", "pa ss")
            .unwrap();
    assert!(msg.verify_integrity(&key).is_ok());
}

#[test]
fn a_realm_that_is_no_opaque_string_is_not_answered() {
    // A realm holding a control character (or credentials the profile refuses) can make no
    // long-term key: no retry, the 401 is the answer.
    for (username, password, realm) in [
        ("alice", "secret", "bad\u{0007}realm"),
        ("alice", "", "example.org"),
        ("al\u{200B}ice", "secret", "example.org"),
    ] {
        let (mut c, retry) = retry_after_401(username, password, realm);
        assert_eq!(retry, None, "{username:?} {password:?} {realm:?}");
        assert!(matches!(
            c.poll_event(),
            Some(ClientEvent::Response {
                class: Class::ErrorResponse,
                ..
            })
        ));
        assert_eq!(c.stats().auth_retries, 0);
    }
}

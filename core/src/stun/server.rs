//! A STUN Binding server (RFC 8489 §6.3) with the NAT behaviour discovery usage of RFC 5780
//! §6: given a second IP address and port it answers on four sockets and honours
//! CHANGE-REQUEST, RESPONSE-PORT and PADDING.
//!
//! The server keeps no per-client state: RFC 8489 §6.3.1 allows reprocessing a retransmitted
//! request because Binding is idempotent, so every request is answered afresh.

use core::fmt;
use core::net::SocketAddr;
use std::collections::VecDeque;

use super::{Attribute, AttributeType, Class, ErrorCode, Message, MessageBuilder, Method};
use crate::{Datagram, Instant, Machine, Transmit};

/// Configuration of a [`BindingServer`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerConfig {
    /// The primary address A1:P1.
    pub primary: SocketAddr,
    /// The alternate address A2:P2, with an IP and a port both different from the primary's.
    /// With it the server serves A1:P1, A1:P2, A2:P1 and A2:P2 (RFC 5780 §6); without it,
    /// CHANGE-REQUEST is answered with 420 and no OTHER-ADDRESS is sent.
    pub alternate: Option<SocketAddr>,
    /// SOFTWARE attribute added to every response (RFC 8489 §6.3.1.1: SHOULD).
    pub software: Option<String>,
    /// Add FINGERPRINT to every response (RFC 8489 §14.7).
    pub fingerprint: bool,
}

impl ServerConfig {
    /// A single-address server: no alternate, no SOFTWARE, no FINGERPRINT.
    pub fn new(primary: SocketAddr) -> Self {
        Self {
            primary,
            alternate: None,
            software: None,
            fingerprint: false,
        }
    }
}

/// Counters of a [`BindingServer`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ServerStats {
    /// Datagrams handed to the server.
    pub received: u64,
    /// Binding requests among them.
    pub requests: u64,
    /// Success responses sent.
    pub responses: u64,
    /// Error responses sent (400, 420).
    pub errors: u64,
    /// Datagrams that were not well-formed STUN, or failed FINGERPRINT.
    pub malformed: u64,
    /// Binding indications (keepalives; RFC 8489 §6.3.2: no response).
    pub indications: u64,
    /// Well-formed STUN that gets no answer: responses, other methods (RFC 8489 §6.3), or a
    /// datagram to an address the server does not serve.
    pub ignored: u64,
    /// Events dropped because the owner did not drain them.
    pub events_dropped: u64,
}

/// What a [`BindingServer`] reports.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ServerEvent {
    /// A Binding request got a success response.
    Answered {
        /// The client's address, which is also the mapped address reported to it.
        from: SocketAddr,
        /// The local address the request arrived on.
        local: SocketAddr,
        /// The local address the response left from (differs after CHANGE-REQUEST).
        source: SocketAddr,
        /// Where the response went (differs from `from` after RESPONSE-PORT).
        destination: SocketAddr,
    },
    /// A request got an error response.
    Rejected {
        /// The client's address.
        from: SocketAddr,
        /// The error code sent.
        code: u16,
    },
    /// A datagram that was not well-formed STUN.
    Malformed {
        /// Where it came from.
        from: SocketAddr,
    },
}

/// Why [`BindingServer::new`] refused a [`ServerConfig`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ServerConfigError {
    /// RFC 5780 §6: the alternate address must differ from the primary in both IP address
    /// and port.
    AlternateNotDistinct {
        /// The primary address.
        primary: SocketAddr,
        /// The alternate address given.
        alternate: SocketAddr,
    },
    /// The alternate address is IPv4 and the primary IPv6, or the other way round.
    AlternateFamily {
        /// The primary address.
        primary: SocketAddr,
        /// The alternate address given.
        alternate: SocketAddr,
    },
}

impl fmt::Display for ServerConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::AlternateNotDistinct { primary, alternate } => write!(
                f,
                "RFC 5780 alternate {alternate} must differ from primary {primary} in IP and port"
            ),
            Self::AlternateFamily { primary, alternate } => write!(
                f,
                "RFC 5780 alternate {alternate} is not of the same address family as primary {primary}"
            ),
        }
    }
}

impl std::error::Error for ServerConfigError {}

/// Events kept for an owner that does not drain them; more are counted and dropped.
const MAX_EVENTS: usize = 1024;
/// Largest PADDING value sent: RFC 5780 §7.6 keeps the datagram under 64 KiB, and this leaves
/// room for the other attributes of the response.
const MAX_PADDING: usize = 60_000;

/// The STUN Binding server machine. See the [module documentation](self).
pub struct BindingServer {
    config: ServerConfig,
    /// A1:P1, then (with an alternate) A1:P2, A2:P1, A2:P2.
    addresses: Vec<SocketAddr>,
    transmits: VecDeque<Transmit>,
    events: VecDeque<ServerEvent>,
    stats: ServerStats,
}

impl fmt::Debug for BindingServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BindingServer")
            .field("addresses", &self.addresses)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

/// How to answer a request, decided before any bytes are written.
enum Answer<'a> {
    Success {
        source: SocketAddr,
        destination: SocketAddr,
        padding: Option<usize>,
    },
    Error(ErrorCode<'static>, &'a [AttributeType]),
}

impl BindingServer {
    /// A server for `config`.
    ///
    /// Fails when the alternate address shares its IP address or its port with the primary,
    /// or is of another address family: RFC 5780 §6 needs two IPs and two ports to form four
    /// sockets.
    pub fn new(config: ServerConfig) -> Result<Self, ServerConfigError> {
        let p = config.primary;
        let addresses = match config.alternate {
            None => vec![p],
            Some(a) => {
                if a.is_ipv4() != p.is_ipv4() {
                    return Err(ServerConfigError::AlternateFamily {
                        primary: p,
                        alternate: a,
                    });
                }
                if a.ip() == p.ip() || a.port() == p.port() {
                    return Err(ServerConfigError::AlternateNotDistinct {
                        primary: p,
                        alternate: a,
                    });
                }
                vec![
                    p,
                    SocketAddr::new(p.ip(), a.port()),
                    SocketAddr::new(a.ip(), p.port()),
                    a,
                ]
            }
        };
        Ok(Self {
            config,
            addresses,
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            stats: ServerStats::default(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &ServerConfig {
        &self.config
    }

    /// The sockets a driver must bind and feed: one, or four with an alternate address.
    pub fn local_addresses(&self) -> Vec<SocketAddr> {
        self.addresses.clone()
    }

    /// Counters.
    pub fn stats(&self) -> ServerStats {
        self.stats
    }

    /// RFC 5780 §6.1, Table 1: the address a response leaves from, given the address the
    /// request arrived on (Da:Dp) and the CHANGE-REQUEST flags. `None` without an alternate.
    fn changed(&self, local: SocketAddr, change_ip: bool, change_port: bool) -> Option<SocketAddr> {
        let alternate = self.config.alternate?;
        let primary = self.config.primary;
        let other_ip = if local.ip() == primary.ip() {
            alternate.ip()
        } else {
            primary.ip()
        };
        let other_port = if local.port() == primary.port() {
            alternate.port()
        } else {
            primary.port()
        };
        Some(SocketAddr::new(
            if change_ip { other_ip } else { local.ip() },
            if change_port {
                other_port
            } else {
                local.port()
            },
        ))
    }

    fn event(&mut self, event: ServerEvent) {
        if self.events.len() >= MAX_EVENTS {
            self.stats.events_dropped += 1;
        } else {
            self.events.push_back(event);
        }
    }

    /// RFC 8489 §6.3.1 and RFC 5780 §6.1: decides the answer to a Binding request.
    fn decide<'m>(
        &self,
        msg: &Message<'m>,
        local: SocketAddr,
        from: SocketAddr,
        unknown: &'m [AttributeType],
    ) -> Answer<'m> {
        if !unknown.is_empty() {
            return Answer::Error(ErrorCode::UNKNOWN_ATTRIBUTE, unknown);
        }
        // A known attribute whose value does not decode makes the request malformed.
        if msg.attributes().any(|a| a.is_err()) {
            return Answer::Error(ErrorCode::BAD_REQUEST, &[]);
        }
        let change = msg.change_request();
        let response_port = msg.response_port();
        let padding = msg.padding_len();
        // RFC 5780 §6.1: "If the Request also contains the RESPONSE-PORT attribute the server
        // MUST return an error response of type 400" (PADDING towards another port would
        // amplify an attack, §10). Port 0 cannot be sent to.
        if (padding.is_some() && response_port.is_some()) || response_port == Some(0) {
            return Answer::Error(ErrorCode::BAD_REQUEST, &[]);
        }
        let source = match change {
            // RFC 5780 §6: a server without a second address "MUST respond with a 420 (Unknown
            // Attribute) to any Request with a CHANGE-REQUEST attribute".
            Some(_) if self.config.alternate.is_none() => {
                return Answer::Error(
                    ErrorCode::UNKNOWN_ATTRIBUTE,
                    &[AttributeType::CHANGE_REQUEST],
                );
            }
            Some(cr) => self
                .changed(local, cr.change_ip, cr.change_port)
                .unwrap_or(local),
            None => local,
        };
        // RFC 5780 §7.5: the response goes "to the source IP address of the Binding Request
        // and the port contained in RESPONSE-PORT".
        let destination = response_port.map_or(from, |port| SocketAddr::new(from.ip(), port));
        Answer::Success {
            source,
            destination,
            padding: padding.map(|len| (len.min(MAX_PADDING) + 3) & !3),
        }
    }

    fn finish(&self, mut b: MessageBuilder) -> Vec<u8> {
        if let Some(software) = &self.config.software {
            b.add(&Attribute::Software(software));
        }
        if self.config.fingerprint {
            b.add_fingerprint();
        }
        b.finish()
    }

    fn answer(&mut self, msg: &Message<'_>, local: SocketAddr, from: SocketAddr) {
        let unknown = msg.unknown_comprehension_required();
        match self.decide(msg, local, from, &unknown) {
            Answer::Error(code, unknown) => {
                let b = if unknown.is_empty() {
                    MessageBuilder::error_response(msg, code)
                } else {
                    MessageBuilder::unknown_attributes_response(msg, unknown)
                };
                let payload = self.finish(b);
                tracing::debug!(%from, code = code.code, "rejecting STUN request");
                self.stats.errors += 1;
                // Errors go back the way the request came, whatever it asked for.
                self.transmits.push_back(Transmit {
                    source: local,
                    destination: from,
                    payload,
                });
                self.event(ServerEvent::Rejected {
                    from,
                    code: code.code,
                });
            }
            Answer::Success {
                source,
                destination,
                padding,
            } => {
                let mut b = MessageBuilder::success_response(msg);
                // RFC 8489 §6.3.1.1: XOR-MAPPED-ADDRESS; RFC 5780 §6.1: "The server MUST
                // include both MAPPED-ADDRESS and XOR-MAPPED-ADDRESS" and "MUST add a
                // RESPONSE-ORIGIN attribute"; OTHER-ADDRESS only with a second address (§7.4).
                b.add(&Attribute::XorMappedAddress(from));
                b.add(&Attribute::MappedAddress(from));
                b.add(&Attribute::ResponseOrigin(source));
                if let Some(other) = self.changed(local, true, true) {
                    b.add(&Attribute::OtherAddress(other));
                }
                // RFC 5780 §6.1: "PADDING MUST be included in the Binding Response". Its
                // length mirrors the request's rather than the MTU the RFC suggests, so a
                // small spoofed request cannot be amplified.
                let zeros;
                if let Some(len) = padding {
                    zeros = vec![0; len];
                    b.add(&Attribute::Padding(&zeros));
                }
                let payload = self.finish(b);
                self.stats.responses += 1;
                self.transmits.push_back(Transmit {
                    source,
                    destination,
                    payload,
                });
                self.event(ServerEvent::Answered {
                    from,
                    local,
                    source,
                    destination,
                });
            }
        }
    }
}

impl Machine for BindingServer {
    type Event = ServerEvent;

    fn handle_datagram(&mut self, _now: Instant, datagram: Datagram<'_>) {
        self.stats.received += 1;
        let from = datagram.source;
        if !self.addresses.contains(&datagram.destination) || from.port() == 0 {
            self.stats.ignored += 1;
            return;
        }
        let msg = match Message::parse(datagram.payload) {
            Ok(msg) => msg,
            Err(error) => {
                self.stats.malformed += 1;
                tracing::debug!(%from, %error, "dropping malformed datagram");
                self.event(ServerEvent::Malformed { from });
                return;
            }
        };
        // RFC 8489 §6.3: a wrong FINGERPRINT means "silently discarded".
        if msg.has_fingerprint() && msg.verify_fingerprint().is_err() {
            self.stats.malformed += 1;
            tracing::debug!(%from, "dropping STUN message with bad FINGERPRINT");
            self.event(ServerEvent::Malformed { from });
            return;
        }
        let ty = msg.message_type();
        match (ty.method, ty.class) {
            (Method::BINDING, Class::Request) => {
                self.stats.requests += 1;
                self.answer(&msg, datagram.destination, from);
            }
            // RFC 8489 §6.3.2: an indication gets no response; a Binding indication has
            // already done its job of refreshing NAT bindings on the way.
            (Method::BINDING, Class::Indication) => self.stats.indications += 1,
            // RFC 8489 §6.3: responses match no transaction of ours, and a method the server
            // does not support is "silently discarded".
            _ => {
                self.stats.ignored += 1;
                tracing::trace!(%from, ?ty, "ignoring STUN message");
            }
        }
    }

    fn handle_timeout(&mut self, _now: Instant) {}

    fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    fn poll_event(&mut self) -> Option<ServerEvent> {
        self.events.pop_front()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        None
    }
}

#[cfg(test)]
mod tests;

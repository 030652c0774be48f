//! What a [`StunClient`](super::StunClient) reports: the end of each transaction, refusals
//! and counters.

use core::fmt;
use core::net::SocketAddr;
use core::time::Duration;

use crate::stun::{AttributeType, Class, MessageType, TransactionId};

/// A request the client refused to start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientError {
    /// [`ClientConfig::max_in_flight`](super::ClientConfig::max_in_flight) transactions are
    /// already in progress.
    TooManyInFlight {
        /// The configured limit.
        limit: usize,
    },
    /// The message type given is not of class Request.
    NotARequest(MessageType),
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooManyInFlight { limit } => {
                write!(f, "{limit} STUN transactions already in progress")
            }
            Self::NotARequest(ty) => write!(f, "{ty:?} is not a request"),
        }
    }
}

impl std::error::Error for ClientError {}

/// Why a transaction ended without a usable response.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransactionFailure {
    /// RFC 8489 §9.1.4, §9.2.5: responses arrived but none carried valid message integrity.
    IntegrityViolated,
    /// RFC 8489 §6.3.3, §6.3.4: the response carried comprehension-required attributes this
    /// client does not understand.
    UnknownAttributes(Vec<AttributeType>),
    /// RFC 8489 §6.3.4: an error response without an ERROR-CODE attribute.
    MissingErrorCode,
}

impl fmt::Display for TransactionFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::IntegrityViolated => f.write_str("response integrity check failed"),
            Self::UnknownAttributes(types) => {
                write!(
                    f,
                    "response has unknown comprehension-required attributes {types:?}"
                )
            }
            Self::MissingErrorCode => f.write_str("error response without ERROR-CODE"),
        }
    }
}

/// What a [`StunClient`](super::StunClient) tells its owner. Every transaction ends with exactly one event.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientEvent {
    /// A response (success or error) arrived and passed every check.
    Response {
        /// The id [`StunClient::request`](super::StunClient::request) returned (stays the same across credential retries).
        id: TransactionId,
        /// The local socket the request was sent from.
        local: SocketAddr,
        /// The server the request was sent to.
        server: SocketAddr,
        /// [`Class::SuccessResponse`] or [`Class::ErrorResponse`].
        class: Class,
        /// The whole response; read it with [`Message::parse`](crate::stun::Message::parse).
        response: Vec<u8>,
        /// XOR-MAPPED-ADDRESS, or MAPPED-ADDRESS from an RFC 3489 server.
        mapped: Option<SocketAddr>,
        /// Time since the request (of the last credential attempt) was first sent.
        rtt: Duration,
    },
    /// RFC 8489 §6.2.1: no response after Rc sends and a final wait of Rm·RTO.
    Timeout {
        /// The transaction.
        id: TransactionId,
        /// The local socket the request was sent from.
        local: SocketAddr,
        /// The server the request was sent to.
        server: SocketAddr,
    },
    /// The transaction ended with a response that could not be used.
    Failed {
        /// The transaction.
        id: TransactionId,
        /// The local socket the request was sent from.
        local: SocketAddr,
        /// The server the request was sent to.
        server: SocketAddr,
        /// Why.
        reason: TransactionFailure,
    },
}

impl ClientEvent {
    /// The transaction this event ends.
    pub fn id(&self) -> TransactionId {
        match self {
            Self::Response { id, .. } | Self::Timeout { id, .. } | Self::Failed { id, .. } => *id,
        }
    }
}

/// Counters of a [`StunClient`](super::StunClient).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ClientStats {
    /// Transactions started (credential retries not included).
    pub transactions: u64,
    /// Requests sent, retransmissions included.
    pub sent: u64,
    /// Of which retransmissions.
    pub retransmissions: u64,
    /// Responses delivered as [`ClientEvent::Response`].
    pub responses: u64,
    /// Transactions that timed out.
    pub timeouts: u64,
    /// Transactions that ended as [`ClientEvent::Failed`].
    pub failures: u64,
    /// New attempts after a 401 or 438 (RFC 8489 §9.2.5).
    pub auth_retries: u64,
    /// Datagrams that parsed but matched no transaction (unknown id, wrong address, not a
    /// response, wrong method).
    pub stray: u64,
    /// Datagrams that were not STUN or failed FINGERPRINT.
    pub malformed: u64,
    /// Responses discarded as if never received (RFC 8489 §9: failed integrity, a bare 400).
    pub discarded: u64,
}

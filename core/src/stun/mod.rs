//! STUN (RFC 8489): the message codec, message integrity, fingerprint and credentials, with
//! the attributes of TURN (RFC 8656), ICE (RFC 8445) and NAT behaviour discovery (RFC 5780).
//!
//! Receiving: [`Message::parse`] checks the framing of one datagram and gives a zero-copy
//! view; typed getters ([`Message::xor_mapped_address`], ...) and [`Message::attributes`]
//! decode values on demand; [`Message::verify_integrity`] and
//! [`Message::verify_fingerprint`] authenticate it.
//!
//! Sending: [`MessageBuilder`] appends attributes, then MESSAGE-INTEGRITY and FINGERPRINT.
//!
//! ```
//! use pigeon::stun::{Attribute, Message, MessageBuilder, MessageType, TransactionId};
//!
//! let request = MessageBuilder::new(MessageType::BINDING_REQUEST, TransactionId([1; 12])).finish();
//! let request = Message::parse(&request).unwrap();
//! assert!(request.unknown_comprehension_required().is_empty());
//!
//! let mut response = MessageBuilder::success_response(&request);
//! response.add(&Attribute::XorMappedAddress("203.0.113.5:40000".parse().unwrap()));
//! response.add_fingerprint();
//! let bytes = response.finish();
//!
//! let response = Message::parse(&bytes).unwrap();
//! assert_eq!(response.xor_mapped_address(), Some("203.0.113.5:40000".parse().unwrap()));
//! assert!(response.verify_fingerprint().is_ok());
//! ```

mod builder;
pub mod client;
mod credentials;
pub mod discovery;
mod error;
mod fingerprint;
mod integrity;
mod message;
mod opaque_string;
pub mod server;
#[cfg(test)]
mod testnet;
mod wire;

pub use builder::MessageBuilder;
pub use client::{
    ClientConfig, ClientError, ClientEvent, ClientStats, RequestOptions, StunClient,
    TransactionFailure,
};
pub use credentials::{
    Credentials, NonceCookie, PasswordAlgorithm, SecurityFeatures, long_term_key, short_term_key,
    try_long_term_key, try_userhash, userhash,
};
pub use discovery::{
    DiscoveryConfig, DiscoveryError, DiscoveryEvent, DiscoveryStep, FilteringBehavior,
    LifetimeConfig, MappingBehavior, NatDiscovery, NatReport,
};
pub use error::{DecodeError, IntegrityError};
pub use fingerprint::FINGERPRINT_XOR;
pub use integrity::MESSAGE_INTEGRITY_LEN;
pub use message::{
    MAX_ATTRIBUTES, MAX_MESSAGE_SIZE, Message, RawAttribute, RawAttributes, is_stun,
};
pub use opaque_string::{OpaqueStringError, opaque_string};
pub use server::{BindingServer, ServerConfig, ServerConfigError, ServerEvent, ServerStats};
pub use wire::attribute::Attribute;
pub use wire::attribute_type::AttributeType;
pub use wire::error_code::{ErrorCode, UnknownAttributes};
pub use wire::header::{Class, HEADER_LEN, MAGIC_COOKIE, MessageType, Method, TransactionId};
pub use wire::nat::ChangeRequest;
pub use wire::password_algorithms::PasswordAlgorithms;
pub use wire::reader::Reader;
pub use wire::turn::{AddressErrorCode, FAMILY_IPV4, FAMILY_IPV6, Icmp};

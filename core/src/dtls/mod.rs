//! DTLS 1.2 (RFC 6347) over RustCrypto primitives: the key schedule, the record layer, the
//! handshake messages and the client and server machines.
//!
//! Only what WebRTC needs and what is safe is implemented: ECDHE-ECDSA with AEAD suites,
//! the extended master secret (RFC 7627) and DTLS-SRTP (RFC 5764). See `docs/dtls.md`.

pub mod cert;
mod client;
pub mod config;
pub mod connection;
pub mod cookie;
pub mod early;
pub mod ecdhe;
mod endpoint;
pub mod fingerprint;
pub mod flight;
pub mod fragment;
pub mod handshake;
pub mod keys;
pub mod message;
#[cfg(test)]
mod pair_tests;
pub mod prf;
pub mod protection;
pub mod record;
pub mod record_layer;
pub mod replay;
mod server;
pub mod suite;

pub use cert::DtlsCertificate;
pub use config::{DtlsConfig, DtlsError, DtlsEvent, DtlsRole};
pub use connection::{DtlsConnection, DtlsStats};
pub use ecdhe::NamedGroup;
pub use endpoint::Dtls;
pub use fingerprint::Fingerprint;
pub use keys::{KeyBlock, SRTP_EXPORTER_LABEL, SrtpKeys, expand_keys};
pub use prf::PrfHash;
pub use suite::{CipherSuite, SrtpProfile};

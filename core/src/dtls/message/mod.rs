//! Handshake messages (RFC 5246 §7.4, RFC 6347 §4.2, RFC 8422 §5), one file per message, and
//! the Alert and ChangeCipherSpec record bodies.

pub mod alert;
pub mod certificate;
pub mod certificate_request;
pub mod certificate_verify;
pub mod change_cipher_spec;
pub mod client_hello;
pub mod client_key_exchange;
pub mod codec;
pub mod extensions;
pub mod finished;
pub mod header;
pub mod hello_verify_request;
pub mod server_hello;
pub mod server_hello_done;
pub mod server_key_exchange;

pub use alert::{Alert, AlertDescription, AlertLevel};
pub use certificate::Certificate;
pub use certificate_request::CertificateRequest;
pub use certificate_verify::CertificateVerify;
pub use client_hello::ClientHello;
pub use client_key_exchange::ClientKeyExchange;
pub use codec::DecodeError;
pub use extensions::{Extensions, UseSrtp};
pub use finished::Finished;
pub use header::{HANDSHAKE_HEADER_LEN, HandshakeHeader, HandshakeType};
pub use hello_verify_request::HelloVerifyRequest;
pub use server_hello::ServerHello;
pub use server_hello_done::ServerHelloDone;
pub use server_key_exchange::ServerKeyExchange;

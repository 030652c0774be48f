//! Configuration, events and errors of a DTLS connection.

use core::time::Duration;

use crate::dtls::ecdhe::NamedGroup;
use crate::dtls::fingerprint::Fingerprint;
use crate::dtls::fragment::ReassemblyLimits;
use crate::dtls::message::{AlertDescription, DecodeError};
use crate::dtls::suite::{CipherSuite, SrtpProfile};

/// What a DTLS connection may negotiate and how it behaves on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DtlsConfig {
    /// Largest datagram sent (handshake messages are fragmented to fit, RFC 6347 §4.1.1.1).
    pub mtu: usize,
    /// Offered (client) or accepted (server) suites, in order of preference.
    pub cipher_suites: Vec<CipherSuite>,
    /// Offered or accepted ECDHE groups, in order of preference.
    pub groups: Vec<NamedGroup>,
    /// DTLS-SRTP profiles offered or accepted (RFC 5764); empty disables use_srtp.
    pub srtp_profiles: Vec<SrtpProfile>,
    /// The peer certificate's fingerprint from signaling; `None` accepts any certificate
    /// (and reports its fingerprint in `Connected`).
    pub expected_fingerprint: Option<Fingerprint>,
    /// RFC 7627 §5.2/§5.3: abort when the peer does not negotiate the extended master secret.
    pub require_extended_master_secret: bool,
    /// Server: send CertificateRequest and require the client's certificate (WebRTC does,
    /// RFC 8827 §6.5).
    pub require_client_certificate: bool,
    /// Server: answer a ClientHello without a valid cookie with HelloVerifyRequest.
    pub hello_verify: bool,
    /// RFC 6347 §4.2.4.1: initial retransmission timer (1 s recommended).
    pub initial_retransmit: Duration,
    /// Upper bound of the doubled timer (RFC 6347 §4.2.4.1: doubling "up to no less than the
    /// RFC 6298 maximum of 60 seconds").
    pub max_retransmit: Duration,
    /// Retransmissions of one flight before the handshake fails.
    pub max_retransmissions: u32,
    /// Bounds of handshake reassembly.
    pub reassembly: ReassemblyLimits,
}

impl Default for DtlsConfig {
    fn default() -> Self {
        DtlsConfig {
            mtu: 1200,
            cipher_suites: CipherSuite::ALL.to_vec(),
            groups: vec![NamedGroup::X25519, NamedGroup::Secp256r1],
            srtp_profiles: SrtpProfile::ALL.to_vec(),
            expected_fingerprint: None,
            require_extended_master_secret: true,
            require_client_certificate: true,
            hello_verify: true,
            initial_retransmit: Duration::from_secs(1),
            max_retransmit: Duration::from_secs(60),
            max_retransmissions: 8,
            reassembly: ReassemblyLimits::default(),
        }
    }
}

/// Which side of the handshake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DtlsRole {
    /// Sends the ClientHello.
    Client,
    /// Answers it.
    Server,
}

/// What the application learns from a DTLS connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DtlsEvent {
    /// The handshake finished.
    Connected {
        /// The negotiated suite.
        cipher_suite: CipherSuite,
        /// The negotiated DTLS-SRTP profile, if any.
        srtp_profile: Option<SrtpProfile>,
        /// The peer certificate's fingerprint.
        peer_fingerprint: Fingerprint,
    },
    /// Decrypted application data.
    ApplicationData(Vec<u8>),
    /// The peer sent close_notify, or the application closed.
    Closed,
    /// The connection failed; a fatal alert was sent where the RFCs call for one.
    Failed(DtlsError),
}

/// Why a handshake or connection failed, or why a local call was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DtlsError {
    /// The peer's certificate does not match the expected fingerprint (bad_certificate).
    FingerprintMismatch {
        /// From signaling.
        expected: Fingerprint,
        /// What the peer presented.
        actual: Fingerprint,
    },
    /// The peer sent no certificate where one is required.
    NoCertificate,
    /// The certificate did not parse or does not hold a P-256 key.
    BadCertificate,
    /// A ServerKeyExchange or CertificateVerify signature did not verify (decrypt_error).
    BadSignature,
    /// The peer's Finished did not verify (decrypt_error).
    BadFinished,
    /// No cipher suite in common (handshake_failure).
    NoCommonCipherSuite,
    /// No ECDHE group in common, or an invalid public value (handshake_failure /
    /// illegal_parameter).
    KeyExchange,
    /// The peer did not negotiate the extended master secret (RFC 7627 §5.2).
    ExtendedMasterSecretRequired,
    /// The peer picked something pigeon did not offer (illegal_parameter).
    IllegalParameter(&'static str),
    /// A handshake message did not parse (decode_error).
    Decode(DecodeError),
    /// A message arrived that the state does not allow (unexpected_message).
    UnexpectedMessage,
    /// The peer sent a fatal alert.
    PeerAlert(AlertDescription),
    /// A flight was retransmitted the maximum number of times without an answer.
    Timeout,
    /// Local misuse: the connection is not established (or already closed).
    NotConnected,
    /// Local misuse: the data does not fit one record.
    TooLarge,
    /// Local misuse: the output buffer is shorter than the record.
    BufferTooSmall {
        /// Bytes the record needs.
        needed: usize,
    },
}

impl core::fmt::Display for DtlsError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            DtlsError::FingerprintMismatch { expected, actual } => write!(
                f,
                "peer certificate fingerprint {actual} does not match the expected {expected}"
            ),
            DtlsError::NoCertificate => f.write_str("peer sent no certificate"),
            DtlsError::BadCertificate => f.write_str("peer certificate is not ECDSA P-256 DER"),
            DtlsError::BadSignature => f.write_str("handshake signature did not verify"),
            DtlsError::BadFinished => f.write_str("Finished did not verify"),
            DtlsError::NoCommonCipherSuite => f.write_str("no cipher suite in common"),
            DtlsError::KeyExchange => f.write_str("ECDHE key exchange failed"),
            DtlsError::ExtendedMasterSecretRequired => {
                f.write_str("peer did not negotiate the extended master secret")
            }
            DtlsError::IllegalParameter(what) => write!(f, "illegal parameter: {what}"),
            DtlsError::Decode(e) => write!(f, "{e}"),
            DtlsError::UnexpectedMessage => f.write_str("unexpected handshake message"),
            DtlsError::PeerAlert(d) => write!(f, "peer sent fatal alert {}", d.0),
            DtlsError::Timeout => f.write_str("handshake timed out"),
            DtlsError::NotConnected => f.write_str("connection not established"),
            DtlsError::TooLarge => f.write_str("data does not fit one record"),
            DtlsError::BufferTooSmall { needed } => {
                write!(
                    f,
                    "output buffer too small, the record needs {needed} bytes"
                )
            }
        }
    }
}

impl core::error::Error for DtlsError {}

impl DtlsError {
    /// The alert to send for this error (RFC 5246 §7.2.2), if any.
    pub fn alert(&self) -> Option<AlertDescription> {
        Some(match self {
            DtlsError::FingerprintMismatch { .. }
            | DtlsError::NoCertificate
            | DtlsError::BadCertificate => AlertDescription::BAD_CERTIFICATE,
            DtlsError::BadSignature | DtlsError::BadFinished => AlertDescription::DECRYPT_ERROR,
            DtlsError::NoCommonCipherSuite | DtlsError::ExtendedMasterSecretRequired => {
                AlertDescription::HANDSHAKE_FAILURE
            }
            DtlsError::KeyExchange | DtlsError::IllegalParameter(_) => {
                AlertDescription::ILLEGAL_PARAMETER
            }
            DtlsError::Decode(_) => AlertDescription::DECODE_ERROR,
            DtlsError::UnexpectedMessage => AlertDescription::UNEXPECTED_MESSAGE,
            DtlsError::PeerAlert(_)
            | DtlsError::Timeout
            | DtlsError::NotConnected
            | DtlsError::TooLarge
            | DtlsError::BufferTooSmall { .. } => return None,
        })
    }
}

impl From<DecodeError> for DtlsError {
    fn from(e: DecodeError) -> Self {
        DtlsError::Decode(e)
    }
}

//! The client side of the handshake (RFC 6347 §4.2, RFC 5246 §7.3):
//!
//! ```text
//! ClientHello            -->
//!                        <--  HelloVerifyRequest
//! ClientHello + cookie   -->
//!                        <--  ServerHello, Certificate, ServerKeyExchange,
//!                             CertificateRequest, ServerHelloDone
//! Certificate, ClientKeyExchange, CertificateVerify,
//! [ChangeCipherSpec], Finished  -->
//!                        <--  [ChangeCipherSpec], Finished
//! ```

use subtle::ConstantTimeEq;

use crate::dtls::config::DtlsError;
use crate::dtls::connection::{DtlsConnection, State};
use crate::dtls::ecdhe::{KeyShare, NamedGroup};
use crate::dtls::fingerprint::{Fingerprint, PeerPublicKey};
use crate::dtls::message::extensions::{
    ECDSA_SECP256R1_SHA256, POINT_FORMAT_UNCOMPRESSED, UseSrtp,
};
use crate::dtls::message::{
    Certificate, CertificateRequest, CertificateVerify, ClientHello, ClientKeyExchange, Extensions,
    Finished, HandshakeType, HelloVerifyRequest, ServerHello, ServerHelloDone, ServerKeyExchange,
};
use crate::dtls::prf::FinishedLabel;
use crate::dtls::record::DTLS_1_2;
use crate::dtls::suite::{CipherSuite, SrtpProfile};
use crate::time::Instant;

impl DtlsConnection {
    pub(crate) fn start_client(&mut self, now: Instant) {
        self.rng.fill_bytes(&mut self.hs.client_random);
        self.state = State::ExpectServerHello;
        self.send_client_hello(now);
    }

    fn client_hello(&self) -> ClientHello {
        let config = &self.config;
        ClientHello {
            client_version: DTLS_1_2,
            random: self.hs.client_random,
            session_id: Vec::new(),
            cookie: self.hs.cookie.clone(),
            cipher_suites: config.cipher_suites.iter().map(|s| s.id()).collect(),
            // RFC 5246 §7.4.1.2: null compression only; compression is unsafe (RFC 7457 §2.6).
            compression_methods: vec![0],
            extensions: Extensions {
                supported_groups: Some(config.groups.iter().map(|g| g.id()).collect()),
                ec_point_formats: Some(vec![POINT_FORMAT_UNCOMPRESSED]),
                signature_algorithms: Some(vec![ECDSA_SECP256R1_SHA256]),
                use_srtp: (!config.srtp_profiles.is_empty()).then(|| UseSrtp {
                    profiles: config.srtp_profiles.iter().map(|p| p.id()).collect(),
                    mki: Vec::new(),
                }),
                extended_master_secret: true,
                // RFC 5746 §3.4: an initial handshake signals secure renegotiation support
                // with an empty renegotiation_info (pigeon then never renegotiates).
                renegotiation_info: Some(Vec::new()),
            },
        }
    }

    /// RFC 6347 §4.2.6: the handshake hash starts over with the ClientHello that answers a
    /// HelloVerifyRequest, so each ClientHello begins a fresh transcript.
    fn send_client_hello(&mut self, now: Instant) {
        let mut body = Vec::new();
        self.client_hello().emit(&mut body);
        self.hs.transcript.clear();
        self.flight.start();
        self.queue_message(0, HandshakeType::CLIENT_HELLO, body);
        self.send_flight(now, false);
    }

    pub(crate) fn client_message(
        &mut self,
        now: Instant,
        msg_type: HandshakeType,
        seq: u16,
        body: &[u8],
    ) -> Result<(), DtlsError> {
        match (self.state, msg_type) {
            (State::ExpectServerHello, HandshakeType::HELLO_VERIFY_REQUEST) => {
                let hvr = HelloVerifyRequest::parse(body)?;
                self.hs.cookie = hvr.cookie;
                self.records.reset_plaintext_replay();
                self.send_client_hello(now);
            }
            (State::ExpectServerHello, HandshakeType::SERVER_HELLO) => {
                let hello = ServerHello::parse(body)?;
                self.accept_server_hello(&hello)?;
                self.hs.add(msg_type, seq, body);
                self.state = State::ExpectServerCertificate;
            }
            (State::ExpectServerCertificate, HandshakeType::CERTIFICATE) => {
                let certificate = Certificate::parse(body)?;
                self.accept_peer_certificate(certificate)?;
                self.hs.add(msg_type, seq, body);
                self.state = State::ExpectServerKeyExchange;
            }
            (State::ExpectServerKeyExchange, HandshakeType::SERVER_KEY_EXCHANGE) => {
                let ske = ServerKeyExchange::parse(body)?;
                self.accept_server_key_exchange(&ske)?;
                self.hs.add(msg_type, seq, body);
                self.state = State::ExpectCertificateRequestOrDone;
            }
            (State::ExpectCertificateRequestOrDone, HandshakeType::CERTIFICATE_REQUEST) => {
                let request = CertificateRequest::parse(body)?;
                // RFC 8422 §5.5 / RFC 5246 §7.4.4: the only certificate pigeon holds is an
                // ECDSA one signed with SHA-256; if the server cannot take it, it decides.
                if !request
                    .supported_signature_algorithms
                    .contains(&ECDSA_SECP256R1_SHA256)
                {
                    tracing::debug!("dtls: server does not list ecdsa_secp256r1_sha256");
                }
                self.hs.certificate_requested = true;
                self.hs.add(msg_type, seq, body);
                self.state = State::ExpectServerHelloDone;
            }
            (
                State::ExpectCertificateRequestOrDone | State::ExpectServerHelloDone,
                HandshakeType::SERVER_HELLO_DONE,
            ) => {
                ServerHelloDone::parse(body)?;
                self.hs.add(msg_type, seq, body);
                self.send_client_flight(now)?;
                self.state = State::ExpectFinished;
            }
            (State::ExpectFinished, HandshakeType::FINISHED) => {
                let finished = Finished::parse(body)?;
                let expected = self.hs.verify_data(FinishedLabel::Server);
                if !bool::from(expected.ct_eq(&finished.verify_data)) {
                    return Err(DtlsError::BadFinished);
                }
                self.hs.add(msg_type, seq, body);
                self.flight.disarm();
                self.connected();
            }
            _ => return Err(DtlsError::UnexpectedMessage),
        }
        Ok(())
    }

    fn accept_server_hello(&mut self, hello: &ServerHello) -> Result<(), DtlsError> {
        if hello.server_version != DTLS_1_2 {
            return Err(DtlsError::IllegalParameter("server_version"));
        }
        let suite = CipherSuite::from_id(hello.cipher_suite)
            .filter(|s| self.config.cipher_suites.contains(s))
            .ok_or(DtlsError::IllegalParameter("cipher_suite not offered"))?;
        if hello.compression_method != 0 {
            return Err(DtlsError::IllegalParameter("compression_method"));
        }
        let ext = &hello.extensions;
        // RFC 7627 §5.3: a client that requires the extension aborts without it.
        if !ext.extended_master_secret && self.config.require_extended_master_secret {
            return Err(DtlsError::ExtendedMasterSecretRequired);
        }
        // RFC 5746 §3.4: on an initial handshake the server's renegotiated_connection is empty.
        if ext
            .renegotiation_info
            .as_ref()
            .is_some_and(|info| !info.is_empty())
        {
            return Err(DtlsError::IllegalParameter("renegotiation_info"));
        }
        self.hs.srtp_profile = match &ext.use_srtp {
            None => None,
            // RFC 5764 §4.1.1: the server answers with exactly one profile the client offered.
            Some(srtp) => match srtp.profiles.as_slice() {
                [one] => Some(
                    SrtpProfile::from_id(*one)
                        .filter(|p| self.config.srtp_profiles.contains(p))
                        .ok_or(DtlsError::IllegalParameter("use_srtp profile not offered"))?,
                ),
                _ => return Err(DtlsError::IllegalParameter("use_srtp")),
            },
        };
        self.hs.suite = Some(suite);
        self.hs.extended_master_secret = ext.extended_master_secret;
        self.hs.server_random = hello.random;
        Ok(())
    }

    /// Checks the peer's certificate against the expected fingerprint and extracts its key
    /// (RFC 8122 §5, RFC 8827 §6.5). Shared by both roles.
    pub(crate) fn accept_peer_certificate(
        &mut self,
        certificate: Certificate,
    ) -> Result<(), DtlsError> {
        let der = certificate
            .certificate_list
            .into_iter()
            .next()
            .ok_or(DtlsError::NoCertificate)?;
        let actual = Fingerprint::of(&der);
        if let Some(expected) = self.config.expected_fingerprint
            && expected != actual
        {
            return Err(DtlsError::FingerprintMismatch { expected, actual });
        }
        let key = PeerPublicKey::from_certificate(&der).ok_or(DtlsError::BadCertificate)?;
        self.hs.peer_key = Some(key);
        self.hs.peer_certificate = Some(der);
        Ok(())
    }

    fn accept_server_key_exchange(&mut self, ske: &ServerKeyExchange) -> Result<(), DtlsError> {
        let group = NamedGroup::from_id(ske.named_group)
            .filter(|g| self.config.groups.contains(g))
            .ok_or(DtlsError::IllegalParameter("named_group not offered"))?;
        if ske.signature_scheme != ECDSA_SECP256R1_SHA256 {
            return Err(DtlsError::IllegalParameter(
                "signature algorithm not offered",
            ));
        }
        let signed = ske.signed_content(&self.hs.client_random, &self.hs.server_random);
        let key = self.hs.peer_key.as_ref().ok_or(DtlsError::NoCertificate)?;
        if !key.verify(&signed, &ske.signature) {
            return Err(DtlsError::BadSignature);
        }
        let share = KeyShare::generate(group, &mut self.rng);
        self.hs.group = Some(group);
        self.hs.pending_public = share.public();
        let pms = share.agree(&ske.public).ok_or(DtlsError::KeyExchange)?;
        self.hs.pre_master_secret = pms;
        Ok(())
    }

    fn send_client_flight(&mut self, now: Instant) -> Result<(), DtlsError> {
        self.flight.start();
        if self.hs.certificate_requested {
            let mut body = Vec::new();
            Certificate {
                certificate_list: vec![self.certificate.der().to_vec()],
            }
            .emit(&mut body);
            self.queue_message(0, HandshakeType::CERTIFICATE, body);
        }
        let mut body = Vec::new();
        ClientKeyExchange {
            public: core::mem::take(&mut self.hs.pending_public),
        }
        .emit(&mut body);
        self.queue_message(0, HandshakeType::CLIENT_KEY_EXCHANGE, body);
        let pms = core::mem::take(&mut self.hs.pre_master_secret);
        self.hs.derive_master_secret(&pms);
        if !self.hs.install_keys(self.role, &mut self.records) {
            return Err(DtlsError::KeyExchange);
        }
        if self.hs.certificate_requested {
            let mut body = Vec::new();
            CertificateVerify {
                signature_scheme: ECDSA_SECP256R1_SHA256,
                signature: self.hs.sign_transcript(&self.certificate),
            }
            .emit(&mut body);
            self.queue_message(0, HandshakeType::CERTIFICATE_VERIFY, body);
        }
        self.queue_change_cipher_spec();
        let mut body = Vec::new();
        Finished {
            verify_data: self.hs.verify_data(FinishedLabel::Client),
        }
        .emit(&mut body);
        self.queue_message(1, HandshakeType::FINISHED, body);
        self.send_flight(now, false);
        Ok(())
    }
}

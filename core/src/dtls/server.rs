//! The server side of the handshake (RFC 6347 §4.2, RFC 5246 §7.3): stateless cookie
//! exchange, then ServerHello through ServerHelloDone, then the client's flight and our
//! ChangeCipherSpec + Finished.

use subtle::ConstantTimeEq;

use crate::dtls::config::DtlsError;
use crate::dtls::connection::{DtlsConnection, State};
use crate::dtls::ecdhe::{KeyShare, NamedGroup};
use crate::dtls::message::certificate_request::CERT_TYPE_ECDSA_SIGN;
use crate::dtls::message::extensions::{
    ECDSA_SECP256R1_SHA256, GROUP_SECP256R1, POINT_FORMAT_UNCOMPRESSED, UseSrtp,
};
use crate::dtls::message::{
    Certificate, CertificateRequest, CertificateVerify, ClientHello, ClientKeyExchange, Extensions,
    Finished, HandshakeHeader, HandshakeType, HelloVerifyRequest, ServerHello, ServerKeyExchange,
};
use crate::dtls::prf::FinishedLabel;
use crate::dtls::record::{ContentType, DTLS_1_0, DTLS_1_2, RecordHeader};
use crate::dtls::suite::{CipherSuite, SrtpProfile};
use crate::time::Instant;

/// TLS_EMPTY_RENEGOTIATION_INFO_SCSV (RFC 5746 §3.3).
const EMPTY_RENEGOTIATION_INFO_SCSV: u16 = 0x00ff;

impl DtlsConnection {
    /// A handshake fragment while no ClientHello has been accepted. Nothing is kept for a
    /// hello without a valid cookie (RFC 6347 §4.2.1: the exchange is stateless).
    pub(crate) fn on_initial_client_hello(
        &mut self,
        now: Instant,
        record: &RecordHeader,
        header: &HandshakeHeader,
        fragment: &[u8],
    ) {
        // A fragmented ClientHello would need state before the cookie: refused, as the RFC
        // lets a server do (clients keep their first hello within one datagram).
        if header.msg_type != HandshakeType::CLIENT_HELLO
            || header.fragment_offset != 0
            || header.fragment_length != header.length
        {
            self.stats.records_out_of_state += 1;
            return;
        }
        let hello = match ClientHello::parse(fragment) {
            Ok(hello) => hello,
            Err(error) => {
                self.stats.handshake_malformed += 1;
                tracing::debug!(?error, "dtls: malformed ClientHello");
                return;
            }
        };
        if self.config.hello_verify && !self.cookie_key.verify(&self.peer_identity, &hello) {
            self.send_hello_verify_request(record, header, &hello);
            return;
        }
        if let Err(error) = self.accept_client_hello(now, record, header, fragment, &hello) {
            self.fail(error);
        }
    }

    fn send_hello_verify_request(
        &mut self,
        record: &RecordHeader,
        header: &HandshakeHeader,
        hello: &ClientHello,
    ) {
        let mut body = Vec::new();
        HelloVerifyRequest {
            // RFC 6347 §4.2.1: "DTLS 1.2 server implementations SHOULD use DTLS version 1.0
            // regardless of the version of TLS that is expected to be negotiated."
            server_version: DTLS_1_0,
            cookie: self.cookie_key.cookie(&self.peer_identity, hello).to_vec(),
        }
        .emit(&mut body);
        let mut message = Vec::new();
        HandshakeHeader::whole(
            HandshakeType::HELLO_VERIFY_REQUEST,
            header.message_seq,
            body.len() as u32,
        )
        .emit(&mut message);
        message.extend_from_slice(&body);
        // RFC 6347 §4.2.1: the HelloVerifyRequest reuses the ClientHello's record sequence
        // number, so the server keeps no state at all.
        let mut datagram = Vec::new();
        RecordHeader {
            content_type: ContentType::HANDSHAKE,
            version: DTLS_1_0,
            epoch: 0,
            sequence_number: record.sequence_number,
            length: message.len() as u16,
        }
        .emit(&mut datagram);
        datagram.extend_from_slice(&message);
        self.stats.hello_verify_requests += 1;
        self.out.push_back(datagram);
    }

    fn accept_client_hello(
        &mut self,
        now: Instant,
        record: &RecordHeader,
        header: &HandshakeHeader,
        body: &[u8],
        hello: &ClientHello,
    ) -> Result<(), DtlsError> {
        // DTLS versions count down: {254, 253} (1.2) is below {254, 255} (1.0).
        if hello.client_version > DTLS_1_2 {
            return Err(DtlsError::IllegalParameter("client_version below DTLS 1.2"));
        }
        if !hello.compression_methods.contains(&0) {
            return Err(DtlsError::IllegalParameter("no null compression"));
        }
        let suite = hello
            .cipher_suites
            .iter()
            .filter_map(|id| CipherSuite::from_id(*id))
            .find(|s| self.config.cipher_suites.contains(s))
            .ok_or(DtlsError::NoCommonCipherSuite)?;
        let ext = &hello.extensions;
        // RFC 8422 §4: a client without supported_groups is taken to support secp256r1.
        let offered_groups = ext
            .supported_groups
            .clone()
            .unwrap_or_else(|| vec![GROUP_SECP256R1]);
        let group = offered_groups
            .iter()
            .filter_map(|id| NamedGroup::from_id(*id))
            .find(|g| self.config.groups.contains(g))
            .ok_or(DtlsError::NoCommonCipherSuite)?;
        if let Some(algs) = &ext.signature_algorithms
            && !algs.contains(&ECDSA_SECP256R1_SHA256)
        {
            return Err(DtlsError::NoCommonCipherSuite);
        }
        // RFC 7627 §5.2: a server that requires the extension aborts without it.
        if !ext.extended_master_secret && self.config.require_extended_master_secret {
            return Err(DtlsError::ExtendedMasterSecretRequired);
        }
        if ext
            .renegotiation_info
            .as_ref()
            .is_some_and(|i| !i.is_empty())
        {
            return Err(DtlsError::IllegalParameter("renegotiation_info"));
        }
        let secure_renegotiation = ext.renegotiation_info.is_some()
            || hello.cipher_suites.contains(&EMPTY_RENEGOTIATION_INFO_SCSV);
        // RFC 5764 §4.1.1: pick one of the client's profiles; without one in common the
        // extension is simply not returned.
        let srtp_profile = ext.use_srtp.as_ref().and_then(|srtp| {
            srtp.profiles
                .iter()
                .filter_map(|id| SrtpProfile::from_id(*id))
                .find(|p| self.config.srtp_profiles.contains(p))
        });

        self.hs.suite = Some(suite);
        self.hs.group = Some(group);
        self.hs.srtp_profile = srtp_profile;
        self.hs.extended_master_secret = ext.extended_master_secret;
        self.hs.client_random = hello.random;
        self.rng.fill_bytes(&mut self.hs.server_random);
        self.hs.transcript.clear();
        self.hs
            .add(HandshakeType::CLIENT_HELLO, header.message_seq, body);
        // RFC 6347 §4.2.2: the server's messages continue from the ClientHello's message_seq
        // (1 after a cookie exchange), the client's next one follows it.
        self.reassembler.reset(header.message_seq.wrapping_add(1));
        self.next_send_seq = header.message_seq;
        self.records
            .skip_plaintext_write_seq(record.sequence_number.saturating_add(1));

        self.flight.start();
        let mut sh = Vec::new();
        ServerHello {
            server_version: DTLS_1_2,
            random: self.hs.server_random,
            session_id: Vec::new(),
            cipher_suite: suite.id(),
            compression_method: 0,
            extensions: Extensions {
                ec_point_formats: ext
                    .ec_point_formats
                    .is_some()
                    .then(|| vec![POINT_FORMAT_UNCOMPRESSED]),
                use_srtp: srtp_profile.map(|p| UseSrtp {
                    profiles: vec![p.id()],
                    mki: Vec::new(),
                }),
                extended_master_secret: ext.extended_master_secret,
                renegotiation_info: secure_renegotiation.then(Vec::new),
                ..Extensions::default()
            },
        }
        .emit(&mut sh);
        self.queue_message(0, HandshakeType::SERVER_HELLO, sh);

        let mut cert = Vec::new();
        Certificate {
            certificate_list: vec![self.certificate.der().to_vec()],
        }
        .emit(&mut cert);
        self.queue_message(0, HandshakeType::CERTIFICATE, cert);

        let share = KeyShare::generate(group, &mut self.rng);
        let mut ske = ServerKeyExchange {
            named_group: group.id(),
            public: share.public(),
            signature_scheme: ECDSA_SECP256R1_SHA256,
            signature: Vec::new(),
        };
        ske.signature = self
            .certificate
            .sign(&ske.signed_content(&self.hs.client_random, &self.hs.server_random));
        self.hs.key_share = Some(share);
        let mut body = Vec::new();
        ske.emit(&mut body);
        self.queue_message(0, HandshakeType::SERVER_KEY_EXCHANGE, body);

        if self.config.require_client_certificate {
            let mut body = Vec::new();
            CertificateRequest {
                certificate_types: vec![CERT_TYPE_ECDSA_SIGN],
                supported_signature_algorithms: vec![ECDSA_SECP256R1_SHA256],
                certificate_authorities: Vec::new(),
            }
            .emit(&mut body);
            self.queue_message(0, HandshakeType::CERTIFICATE_REQUEST, body);
            self.hs.certificate_requested = true;
        }
        self.queue_message(0, HandshakeType::SERVER_HELLO_DONE, Vec::new());
        self.send_flight(now, false);
        self.state = if self.hs.certificate_requested {
            State::ExpectClientCertificate
        } else {
            State::ExpectClientKeyExchange
        };
        Ok(())
    }

    pub(crate) fn server_message(
        &mut self,
        now: Instant,
        msg_type: HandshakeType,
        seq: u16,
        body: &[u8],
    ) -> Result<(), DtlsError> {
        match (self.state, msg_type) {
            (State::ExpectClientCertificate, HandshakeType::CERTIFICATE) => {
                let certificate = Certificate::parse(body)?;
                // RFC 5246 §7.4.6 lets a client send an empty list; pigeon asked because it
                // requires one (RFC 8827 §6.5), so that is fatal.
                self.accept_peer_certificate(certificate)?;
                self.hs.add(msg_type, seq, body);
                self.state = State::ExpectClientKeyExchange;
            }
            (State::ExpectClientKeyExchange, HandshakeType::CLIENT_KEY_EXCHANGE) => {
                let cke = ClientKeyExchange::parse(body)?;
                let share = self.hs.key_share.take().ok_or(DtlsError::KeyExchange)?;
                let pms = share.agree(&cke.public).ok_or(DtlsError::KeyExchange)?;
                self.hs.add(msg_type, seq, body);
                self.hs.derive_master_secret(&pms);
                if !self.hs.install_keys(self.role, &mut self.records) {
                    return Err(DtlsError::KeyExchange);
                }
                self.state = if self.hs.peer_key.is_some() {
                    State::ExpectCertificateVerify
                } else {
                    State::ExpectFinished
                };
            }
            (State::ExpectCertificateVerify, HandshakeType::CERTIFICATE_VERIFY) => {
                let verify = CertificateVerify::parse(body)?;
                if verify.signature_scheme != ECDSA_SECP256R1_SHA256 {
                    return Err(DtlsError::IllegalParameter(
                        "signature algorithm not offered",
                    ));
                }
                let key = self.hs.peer_key.as_ref().ok_or(DtlsError::NoCertificate)?;
                // RFC 5246 §7.4.8: the signature covers every handshake message before it.
                if !key.verify(&self.hs.transcript, &verify.signature) {
                    return Err(DtlsError::BadSignature);
                }
                self.hs.add(msg_type, seq, body);
                self.state = State::ExpectFinished;
            }
            (State::ExpectFinished, HandshakeType::FINISHED) => {
                let finished = Finished::parse(body)?;
                let expected = self.hs.verify_data(FinishedLabel::Client);
                if !bool::from(expected.ct_eq(&finished.verify_data)) {
                    return Err(DtlsError::BadFinished);
                }
                self.hs.add(msg_type, seq, body);
                self.flight.start();
                self.queue_change_cipher_spec();
                let mut body = Vec::new();
                Finished {
                    verify_data: self.hs.verify_data(FinishedLabel::Server),
                }
                .emit(&mut body);
                self.queue_message(1, HandshakeType::FINISHED, body);
                // RFC 6347 §4.2.4: the final flight has no timer; it is resent when the
                // client repeats its own.
                self.send_flight(now, true);
                self.connected();
            }
            _ => return Err(DtlsError::UnexpectedMessage),
        }
        Ok(())
    }
}

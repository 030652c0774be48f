//! What a handshake accumulates on both sides: the transcript (RFC 6347 §4.2.6), the
//! negotiated parameters and the key schedule that follows from them.

use crate::dtls::cert::DtlsCertificate;
use crate::dtls::config::DtlsRole;
use crate::dtls::ecdhe::{KeyShare, NamedGroup};
use crate::dtls::fingerprint::{Fingerprint, PeerPublicKey};
use crate::dtls::keys::{SrtpKeys, expand_keys};
use crate::dtls::message::{HandshakeHeader, HandshakeType};
use crate::dtls::prf::{
    FinishedLabel, MASTER_SECRET_LEN, VERIFY_DATA_LEN, export_keying_material,
    extended_master_secret, master_secret, verify_data,
};
use crate::dtls::protection::RecordProtection;
use crate::dtls::record_layer::RecordLayer;
use crate::dtls::suite::{CipherSuite, SrtpProfile};

/// Negotiated parameters and secrets of one handshake.
#[derive(Debug, Default)]
pub struct Handshake {
    /// RFC 6347 §4.2.6: every handshake message from the ClientHello that got through the
    /// cookie exchange on, each with its 12-byte header in unfragmented form.
    pub transcript: Vec<u8>,
    /// ClientHello.random.
    pub client_random: [u8; 32],
    /// ServerHello.random.
    pub server_random: [u8; 32],
    /// Chosen suite.
    pub suite: Option<CipherSuite>,
    /// Chosen ECDHE group.
    pub group: Option<NamedGroup>,
    /// Chosen SRTP profile.
    pub srtp_profile: Option<SrtpProfile>,
    /// Whether the extended master secret was negotiated.
    pub extended_master_secret: bool,
    /// Our ephemeral secret until it is used.
    pub key_share: Option<KeyShare>,
    /// The peer's certificate.
    pub peer_certificate: Option<Vec<u8>>,
    /// The key from it.
    pub peer_key: Option<PeerPublicKey>,
    /// The master secret, once known.
    pub master_secret: Option<[u8; MASTER_SECRET_LEN]>,
    /// Server asked for the client's certificate.
    pub certificate_requested: bool,
    /// The cookie the client echoes.
    pub cookie: Vec<u8>,
    /// Client: our ECDHE public value, sent in ClientKeyExchange.
    pub pending_public: Vec<u8>,
    /// Client: the premaster secret between ServerKeyExchange and ClientKeyExchange.
    pub pre_master_secret: Vec<u8>,
}

impl Handshake {
    /// Appends one whole message to the transcript.
    pub fn add(&mut self, msg_type: HandshakeType, message_seq: u16, body: &[u8]) {
        let length = u32::try_from(body.len()).unwrap_or(u32::MAX);
        HandshakeHeader::whole(msg_type, message_seq, length).emit(&mut self.transcript);
        self.transcript.extend_from_slice(body);
    }

    /// The suite, or the default for code paths that run only after it is chosen.
    pub fn suite(&self) -> CipherSuite {
        self.suite.unwrap_or(CipherSuite::EcdheEcdsaAes128GcmSha256)
    }

    /// The peer certificate's fingerprint (zero before one arrived).
    pub fn peer_fingerprint(&self) -> Fingerprint {
        self.peer_certificate
            .as_deref()
            .map(Fingerprint::of)
            .unwrap_or(Fingerprint([0; 32]))
    }

    /// Computes the master secret from the premaster secret, right after the
    /// ClientKeyExchange went into the transcript (RFC 7627 §4 uses the session hash up to
    /// there; RFC 5246 §8.1 the randoms otherwise).
    pub fn derive_master_secret(&mut self, pre_master_secret: &[u8]) {
        let hash = self.suite().prf_hash();
        let secret = if self.extended_master_secret {
            let session_hash = hash.digest(&self.transcript);
            extended_master_secret(hash, pre_master_secret, &session_hash)
        } else {
            master_secret(
                hash,
                pre_master_secret,
                &self.client_random,
                &self.server_random,
            )
        };
        self.master_secret = Some(secret);
    }

    /// Expands the key block and installs both directions in the record layer.
    pub fn install_keys(&self, role: DtlsRole, records: &mut RecordLayer) -> bool {
        let Some(master) = &self.master_secret else {
            return false;
        };
        let suite = self.suite();
        let keys = expand_keys(suite, master, &self.client_random, &self.server_random);
        let client = RecordProtection::new(suite, &keys.client_write_key, &keys.client_write_iv);
        let server = RecordProtection::new(suite, &keys.server_write_key, &keys.server_write_iv);
        let (Some(client), Some(server)) = (client, server) else {
            return false;
        };
        let (write, read) = match role {
            DtlsRole::Client => (client, server),
            DtlsRole::Server => (server, client),
        };
        records.set_write_protection(write);
        records.set_read_protection(read);
        true
    }

    /// Finished.verify_data over the transcript as it stands.
    pub fn verify_data(&self, label: FinishedLabel) -> [u8; VERIFY_DATA_LEN] {
        let hash = self.suite().prf_hash();
        let master = self.master_secret.unwrap_or([0; MASTER_SECRET_LEN]);
        verify_data(hash, &master, label, &hash.digest(&self.transcript))
    }

    /// RFC 5246 §7.4.8: CertificateVerify signs all handshake messages so far.
    pub fn sign_transcript(&self, certificate: &DtlsCertificate) -> Vec<u8> {
        certificate.sign(&self.transcript)
    }

    /// RFC 5705 keying material, once the master secret is known.
    pub fn export(&self, label: &[u8], context: Option<&[u8]>, len: usize) -> Option<Vec<u8>> {
        let master = self.master_secret.as_ref()?;
        let mut out = vec![0u8; len];
        export_keying_material(
            self.suite().prf_hash(),
            master,
            label,
            &self.client_random,
            &self.server_random,
            context,
            &mut out,
        );
        Some(out)
    }

    /// The SRTP keys of the negotiated profile (RFC 5764 §4.2).
    pub fn srtp_keys(&self) -> Option<SrtpKeys> {
        let master = self.master_secret.as_ref()?;
        Some(SrtpKeys::derive(
            self.srtp_profile?,
            self.suite().prf_hash(),
            master,
            &self.client_random,
            &self.server_random,
        ))
    }
}

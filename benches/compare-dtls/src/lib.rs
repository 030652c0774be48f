//! The two DTLS 1.2 stacks driven the same way for the side-by-side benchmarks: a client and a
//! server in one process, datagrams handed from one to the other in memory, one fixed instant
//! (no retransmission timer ever fires). Both run the same handshake: P-256 ECDHE,
//! TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, HelloVerifyRequest cookie exchange, and the server
//! requesting the client's certificate (mutual authentication), with use_srtp negotiated.

use std::sync::Arc;

use pigeon::Instant;
use pigeon::dtls::{
    CipherSuite, DtlsCertificate, DtlsConfig, DtlsConnection, DtlsEvent, NamedGroup,
};
use rand_core::SeedableRng;

/// Payload of one application-data record in the record benchmark.
pub const RECORD_PAYLOAD: usize = 1200;

fn rng(seed: u64) -> pigeon::Rng {
    Box::new(rand_chacha::ChaCha20Rng::seed_from_u64(seed))
}

/// pigeon's certificates, made once (both stacks load theirs before the timed part).
pub struct PigeonCerts {
    client: DtlsCertificate,
    server: DtlsCertificate,
}

impl PigeonCerts {
    /// Two fresh P-256 certificates.
    pub fn new() -> PigeonCerts {
        let mut r = rng(1);
        PigeonCerts {
            client: DtlsCertificate::generate(&mut r, "client"),
            server: DtlsCertificate::generate(&mut r, "server"),
        }
    }
}

impl Default for PigeonCerts {
    fn default() -> Self {
        PigeonCerts::new()
    }
}

fn pigeon_config(expected: pigeon::dtls::Fingerprint) -> DtlsConfig {
    DtlsConfig {
        cipher_suites: vec![CipherSuite::EcdheEcdsaAes128GcmSha256],
        groups: vec![NamedGroup::Secp256r1],
        expected_fingerprint: Some(expected),
        require_client_certificate: true,
        hello_verify: true,
        ..DtlsConfig::default()
    }
}

/// A full pigeon handshake; returns the connected (client, server). `seed` varies the
/// randoms and ephemeral keys between iterations.
pub fn pigeon_handshake(certs: &PigeonCerts, seed: u64) -> (DtlsConnection, DtlsConnection) {
    let now = Instant::ZERO;
    let mut client = DtlsConnection::client(
        pigeon_config(certs.server.fingerprint()),
        certs.client.clone(),
        rng(seed),
    );
    let mut server = DtlsConnection::server(
        pigeon_config(certs.client.fingerprint()),
        certs.server.clone(),
        rng(seed ^ 0x5555),
    );
    server.set_peer_identity(b"client");
    client.handle_timeout(now);
    for _ in 0..16 {
        let mut moved = false;
        while let Some(p) = client.poll_packet() {
            moved = true;
            server.handle_packet(now, &p);
        }
        while let Some(p) = server.poll_packet() {
            moved = true;
            client.handle_packet(now, &p);
        }
        if !moved {
            break;
        }
    }
    assert!(
        client.is_connected() && server.is_connected(),
        "pigeon handshake"
    );
    while client.poll_event().is_some() {}
    while server.poll_event().is_some() {}
    (client, server)
}

/// One 1,200-byte record sealed by the client and opened by the server through pigeon's
/// queueing API (`send`, `poll_packet`, `handle_packet`, `poll_event`).
pub fn pigeon_record_queued(client: &mut DtlsConnection, server: &mut DtlsConnection, data: &[u8]) {
    client.send(data).expect("send");
    let packet = client.poll_packet().expect("record");
    server.handle_packet(Instant::ZERO, &packet);
    match server.poll_event() {
        Some(DtlsEvent::ApplicationData(got)) => assert_eq!(got.len(), data.len()),
        other => panic!("expected data, got {other:?}"),
    }
}

/// One record through pigeon's caller-buffer API (`send_into`, `recv`): no allocation, and
/// the plaintext is encrypted straight into the wire buffer.
pub fn pigeon_record_in_place(
    client: &mut DtlsConnection,
    server: &mut DtlsConnection,
    data: &[u8],
    wire: &mut [u8],
) {
    let n = client.send_into(data, wire).expect("send_into");
    let mut got = 0;
    server.recv(Instant::ZERO, &mut wire[..n], |plaintext| {
        got += plaintext.len()
    });
    assert_eq!(got, data.len());
}

/// dimpl's configuration and certificates, made once.
pub struct DimplSetup {
    config: Arc<dimpl::Config>,
    client: dimpl::DtlsCertificate,
    server: dimpl::DtlsCertificate,
}

impl DimplSetup {
    /// P-256 only, AES-128-GCM only, cookie exchange and client certificate on (dimpl's
    /// defaults for the last two, set explicitly here).
    pub fn new() -> DimplSetup {
        let config = dimpl::Config::builder()
            .dtls12_cipher_suites(&[
                dimpl::crypto::Dtls12CipherSuite::ECDHE_ECDSA_AES128_GCM_SHA256,
            ])
            .dtls13_cipher_suites(&[])
            .kx_groups(&[dimpl::NamedGroup::Secp256r1])
            .require_client_certificate(true)
            .use_server_cookie(true)
            .build()
            .expect("dimpl config");
        let cert = |c: &[u8], k: &[u8]| dimpl::DtlsCertificate {
            certificate: c.to_vec(),
            private_key: k.to_vec(),
        };
        DimplSetup {
            config: Arc::new(config),
            client: cert(
                include_bytes!("../fixtures/dimpl-client.cert.der"),
                include_bytes!("../fixtures/dimpl-client.key.der"),
            ),
            server: cert(
                include_bytes!("../fixtures/dimpl-server.cert.der"),
                include_bytes!("../fixtures/dimpl-server.key.der"),
            ),
        }
    }
}

impl Default for DimplSetup {
    fn default() -> Self {
        DimplSetup::new()
    }
}

/// Polls `dtls` until it asks for a timeout, handing packets to `peer`; returns whether
/// it connected and how many packets moved.
fn dimpl_drain(
    dtls: &mut dimpl::Dtls,
    peer: &mut dimpl::Dtls,
    buf: &mut Vec<u8>,
    connected: &mut bool,
) -> usize {
    let mut moved = 0;
    loop {
        match dtls.poll_output(buf) {
            dimpl::Output::Packet(p) => {
                moved += 1;
                peer.handle_packet(p).expect("dimpl handle_packet");
            }
            dimpl::Output::BufferTooSmall { needed } => {
                let needed = needed.max(buf.len() * 2);
                buf.resize(needed, 0);
            }
            dimpl::Output::Timeout(_) => return moved,
            dimpl::Output::Connected => *connected = true,
            _ => {}
        }
    }
}

/// A full dimpl handshake; returns the connected (client, server).
pub fn dimpl_handshake(setup: &DimplSetup, now: std::time::Instant) -> (dimpl::Dtls, dimpl::Dtls) {
    let mut client = dimpl::Dtls::new_12(setup.config.clone(), setup.client.clone(), now);
    client.set_active(true);
    let mut server = dimpl::Dtls::new_12(setup.config.clone(), setup.server.clone(), now);
    client.handle_timeout(now).expect("timeout");
    server.handle_timeout(now).expect("timeout");
    let mut buf = vec![0u8; 2048];
    let (mut client_up, mut server_up) = (false, false);
    for _ in 0..16 {
        let a = dimpl_drain(&mut client, &mut server, &mut buf, &mut client_up);
        let b = dimpl_drain(&mut server, &mut client, &mut buf, &mut server_up);
        if a + b == 0 {
            break;
        }
    }
    assert!(client_up && server_up, "dimpl handshake");
    (client, server)
}

/// One 1,200-byte record sealed by the dimpl client and opened by the dimpl server.
pub fn dimpl_record(
    client: &mut dimpl::Dtls,
    server: &mut dimpl::Dtls,
    data: &[u8],
    buf: &mut [u8],
    buf2: &mut [u8],
) {
    client.send_application_data(data).expect("dimpl send");
    let mut got = 0;
    loop {
        match client.poll_output(buf) {
            dimpl::Output::Packet(p) => {
                server.handle_packet(p).expect("dimpl handle_packet");
                loop {
                    match server.poll_output(buf2) {
                        dimpl::Output::ApplicationData(d) => got += d.len(),
                        dimpl::Output::Timeout(_) => break,
                        _ => {}
                    }
                }
            }
            dimpl::Output::Timeout(_) => break,
            _ => {}
        }
    }
    assert_eq!(got, data.len());
}

/// The floor: AES-128-GCM alone (the RustCrypto `aes-gcm` crate both stacks use) sealing and
/// opening 1,200 bytes in place with a 13-byte additional data, as one record costs (the
/// plaintext copied into the buffer first).
pub struct RawAead {
    cipher: aes_gcm::Aes128Gcm,
    seq: u64,
}

impl RawAead {
    /// A fixed key.
    pub fn new() -> RawAead {
        use aes_gcm::KeyInit;
        RawAead {
            cipher: aes_gcm::Aes128Gcm::new_from_slice(&[7; 16]).expect("key length"),
            seq: 0,
        }
    }

    /// Copies `data` into `buf`, seals it, opens it again.
    pub fn seal_open(&mut self, data: &[u8], buf: &mut [u8]) {
        use aes_gcm::aead::AeadInOut;
        self.seq += 1;
        let mut nonce = [0u8; 12];
        nonce[4..].copy_from_slice(&self.seq.to_be_bytes());
        let aad = [0u8; 13];
        let buf = &mut buf[..data.len()];
        buf.copy_from_slice(data);
        let tag = self
            .cipher
            .encrypt_inout_detached(&nonce.into(), &aad, buf.into())
            .expect("seal");
        self.cipher
            .decrypt_inout_detached(&nonce.into(), &aad, buf.into(), &tag)
            .expect("open");
    }
}

impl Default for RawAead {
    fn default() -> Self {
        RawAead::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_stacks_connect_and_move_records() {
        let certs = PigeonCerts::new();
        let (mut c, mut s) = pigeon_handshake(&certs, 7);
        let data = vec![0x42; RECORD_PAYLOAD];
        pigeon_record_queued(&mut c, &mut s, &data);
        let mut wire = [0u8; 2048];
        for _ in 0..3 {
            pigeon_record_in_place(&mut c, &mut s, &data, &mut wire);
        }
        assert_eq!(s.stats().records.discarded_auth, 0);

        let setup = DimplSetup::new();
        let (mut c, mut s) = dimpl_handshake(&setup, std::time::Instant::now());
        let (mut b1, mut b2) = (vec![0u8; 2048], vec![0u8; 2048]);
        for _ in 0..3 {
            dimpl_record(&mut c, &mut s, &data, &mut b1, &mut b2);
        }
    }
}

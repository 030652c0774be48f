//! [`Dtls`]: a DTLS connection as a [`Machine`] on one local address talking to one peer.

use core::net::SocketAddr;

use crate::dtls::cert::DtlsCertificate;
use crate::dtls::config::{DtlsConfig, DtlsError, DtlsEvent};
use crate::dtls::connection::{DtlsConnection, DtlsStats};
use crate::dtls::fingerprint::Fingerprint;
use crate::dtls::keys::SrtpKeys;
use crate::io::{Datagram, Machine, Transmit};
use crate::time::Instant;

/// A DTLS 1.2 endpoint (client or server) speaking datagrams.
///
/// ```
/// use pigeon::dtls::{Dtls, DtlsCertificate, DtlsConfig, DtlsEvent};
/// use pigeon::{Instant, Machine};
/// use rand_core::SeedableRng;
///
/// let mut rng: pigeon::Rng = Box::new(rand_chacha::ChaCha20Rng::seed_from_u64(1));
/// let client_cert = DtlsCertificate::generate(&mut rng, "client");
/// let server_cert = DtlsCertificate::generate(&mut rng, "server");
/// let (a, b) = ("10.0.0.1:5000".parse().unwrap(), "10.0.0.2:5000".parse().unwrap());
/// let config = |fp| DtlsConfig { expected_fingerprint: Some(fp), ..DtlsConfig::default() };
/// let mut client = Dtls::client(config(server_cert.fingerprint()), client_cert.clone(),
///     Box::new(rand_chacha::ChaCha20Rng::seed_from_u64(2)), a, b);
/// let mut server = Dtls::server(config(client_cert.fingerprint()), server_cert,
///     Box::new(rand_chacha::ChaCha20Rng::seed_from_u64(3)), b);
/// let now = Instant::ZERO;
/// client.handle_timeout(now);
/// for _ in 0..10 {
///     while let Some(t) = client.poll_transmit() { server.handle_datagram(now, t.as_datagram()); }
///     while let Some(t) = server.poll_transmit() { client.handle_datagram(now, t.as_datagram()); }
/// }
/// assert!(matches!(client.poll_event(), Some(DtlsEvent::Connected { .. })));
/// assert!(matches!(server.poll_event(), Some(DtlsEvent::Connected { .. })));
/// ```
#[derive(Debug)]
pub struct Dtls {
    connection: DtlsConnection,
    local: SocketAddr,
    remote: Option<SocketAddr>,
    /// Datagrams from an address other than the peer's.
    pub foreign_datagrams: u64,
}

impl Dtls {
    /// A client on `local` connecting to `remote`.
    pub fn client(
        config: DtlsConfig,
        certificate: DtlsCertificate,
        rng: crate::Rng,
        local: SocketAddr,
        remote: SocketAddr,
    ) -> Dtls {
        let mut connection = DtlsConnection::client(config, certificate, rng);
        connection.set_peer_identity(remote.to_string().as_bytes());
        Dtls {
            connection,
            local,
            remote: Some(remote),
            foreign_datagrams: 0,
        }
    }

    /// A server on `local`; its peer is whoever completes the cookie exchange first.
    pub fn server(
        config: DtlsConfig,
        certificate: DtlsCertificate,
        rng: crate::Rng,
        local: SocketAddr,
    ) -> Dtls {
        Dtls {
            connection: DtlsConnection::server(config, certificate, rng),
            local,
            remote: None,
            foreign_datagrams: 0,
        }
    }

    /// The record-level connection inside.
    pub fn connection(&self) -> &DtlsConnection {
        &self.connection
    }

    /// The peer's address, once known.
    pub fn remote(&self) -> Option<SocketAddr> {
        self.remote
    }

    /// Our certificate's fingerprint, for signaling.
    pub fn local_fingerprint(&self) -> Fingerprint {
        self.connection.certificate().fingerprint()
    }

    /// Sends application data (one record).
    pub fn send(&mut self, _now: Instant, data: &[u8]) -> Result<(), DtlsError> {
        self.connection.send(data)
    }

    /// Sends close_notify.
    pub fn close(&mut self, _now: Instant) {
        self.connection.close();
    }

    /// RFC 5705 keying material.
    pub fn export_keying_material(
        &self,
        label: &[u8],
        context: Option<&[u8]>,
        len: usize,
    ) -> Result<Vec<u8>, DtlsError> {
        self.connection.export_keying_material(label, context, len)
    }

    /// The DTLS-SRTP keys (RFC 5764 §4.2).
    pub fn srtp_keys(&self) -> Option<SrtpKeys> {
        self.connection.srtp_keys()
    }

    /// Counters.
    pub fn stats(&self) -> DtlsStats {
        self.connection.stats()
    }
}

impl Machine for Dtls {
    type Event = DtlsEvent;

    fn handle_datagram(&mut self, now: Instant, datagram: Datagram<'_>) {
        match self.remote {
            Some(remote) if remote != datagram.source => {
                // A server learns its peer from the first ClientHello that passes the cookie
                // check; until the handshake moves on, a new source may still take its place.
                if self.connection.awaiting_client_hello() {
                    self.remote = Some(datagram.source);
                } else {
                    self.foreign_datagrams += 1;
                    return;
                }
            }
            Some(_) => {}
            None => self.remote = Some(datagram.source),
        }
        self.connection
            .set_peer_identity(datagram.source.to_string().as_bytes());
        self.connection.handle_packet(now, datagram.payload);
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.connection.handle_timeout(now);
    }

    fn poll_transmit(&mut self) -> Option<Transmit> {
        let remote = self.remote?;
        let payload = self.connection.poll_packet()?;
        Some(Transmit {
            source: self.local,
            destination: remote,
            payload,
        })
    }

    fn poll_event(&mut self) -> Option<DtlsEvent> {
        self.connection.poll_event()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        self.connection.poll_timeout()
    }
}

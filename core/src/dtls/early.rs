//! Epoch-1 records that arrive before the keys to open them.
//!
//! RFC 6347 §4.1: "Because DTLS records may be reordered, a record from epoch 1 may be
//! received after epoch 2 has begun. [...] Implementations MAY discard packets from future
//! epochs, but if packets arrive reordered, they MAY choose to buffer them". The case that
//! matters is a server that receives the client's Finished (epoch 1) in a datagram that
//! overtook the one carrying the ClientKeyExchange, without which the keys cannot be derived:
//! dropping it costs a whole retransmission timeout (1 s). pigeon keeps a few such records
//! and opens them as soon as the keys are installed.

use crate::dtls::connection::{Deliver, DtlsConnection, State};
use crate::dtls::record::split_record;
use crate::time::Instant;

/// At most this many early records are kept; the rest are dropped and counted.
pub const MAX_EARLY_RECORDS: usize = 8;
/// At most this many bytes of early records are kept in total.
pub const MAX_EARLY_BYTES: usize = 8 * 1024;

impl DtlsConnection {
    /// Keeps a whole epoch-1 `record` (header included) that could not be opened yet.
    pub(crate) fn keep_early_record(&mut self, record: &[u8]) {
        // A server keeps nothing before a ClientHello passed the cookie check
        // (RFC 6347 §4.2.1: the exchange is stateless), and after the handshake the keys
        // are always there.
        let handshaking = !matches!(
            self.state,
            State::ClientStart
                | State::ExpectClientHello
                | State::Connected
                | State::Closed
                | State::Failed
        );
        let held: usize = self.early_records.iter().map(Vec::len).sum();
        if !handshaking
            || self.early_records.len() >= MAX_EARLY_RECORDS
            || held + record.len() > MAX_EARLY_BYTES
        {
            self.records.count_early_dropped();
            return;
        }
        tracing::trace!(
            len = record.len(),
            "dtls: epoch-1 record kept until its keys"
        );
        self.stats.early_records_buffered += 1;
        self.early_records.push_back(record.to_vec());
    }

    /// Opens the kept records now that the epoch-1 keys are installed, in arrival order.
    /// The replay window drops any that were kept twice.
    pub(crate) fn replay_early_records(
        &mut self,
        now: Instant,
        peer_repeated: &mut bool,
        mut deliver: Deliver<'_, '_>,
    ) {
        let mut kept = core::mem::take(&mut self.early_records);
        for mut record in kept.drain(..) {
            // The record was whole when it was kept; the check is cheap and keeps this
            // path free of unwraps.
            let Ok((header, len)) = split_record(&record) else {
                continue;
            };
            self.on_record(
                now,
                &header,
                &mut record[..len],
                peer_repeated,
                deliver.as_deref_mut(),
            );
            if matches!(self.state, State::Closed | State::Failed) {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    use super::*;
    use crate::dtls::record::records;
    use crate::dtls::{DtlsCertificate, DtlsConfig};

    fn rng(seed: u64) -> crate::Rng {
        Box::new(ChaCha20Rng::seed_from_u64(seed))
    }

    fn pair() -> (DtlsConnection, DtlsConnection) {
        let mut r = rng(1);
        let client_cert = DtlsCertificate::generate(&mut r, "client");
        let server_cert = DtlsCertificate::generate(&mut r, "server");
        let config = |fp| DtlsConfig {
            expected_fingerprint: Some(fp),
            ..DtlsConfig::default()
        };
        let client = DtlsConnection::client(config(server_cert.fingerprint()), client_cert, rng(2));
        let mut server =
            DtlsConnection::server(config(client_cert_fp(&client)), server_cert, rng(3));
        server.set_peer_identity(b"client");
        (client, server)
    }

    fn client_cert_fp(client: &DtlsConnection) -> crate::dtls::Fingerprint {
        client.certificate().fingerprint()
    }

    /// Moves datagrams both ways at one instant until quiet; client datagrams go through
    /// `reorder` first.
    fn pump(
        client: &mut DtlsConnection,
        server: &mut DtlsConnection,
        mut reorder: impl FnMut(Vec<u8>) -> Vec<Vec<u8>>,
    ) {
        let now = Instant::ZERO;
        for _ in 0..20 {
            let mut moved = false;
            while let Some(p) = client.poll_packet() {
                moved = true;
                for d in reorder(p) {
                    server.handle_packet(now, &d);
                }
            }
            while let Some(p) = server.poll_packet() {
                moved = true;
                client.handle_packet(now, &p);
            }
            if !moved {
                break;
            }
        }
    }

    /// Splits a datagram into one datagram per record and sends the epoch-1 ones first, as
    /// if the network had reordered them.
    fn epoch1_first(datagram: Vec<u8>) -> Vec<Vec<u8>> {
        let (mut first, mut rest) = (Vec::new(), Vec::new());
        for record in records(&datagram) {
            let record = record.unwrap();
            let mut bytes = Vec::new();
            record.header.emit(&mut bytes);
            bytes.extend_from_slice(record.fragment);
            if record.header.epoch == 1 {
                first.push(bytes);
            } else {
                rest.push(bytes);
            }
        }
        first.extend(rest);
        first
    }

    #[test]
    fn finished_ahead_of_change_cipher_spec_is_kept_and_used() {
        let (mut client, mut server) = pair();
        client.handle_timeout(Instant::ZERO);
        pump(&mut client, &mut server, epoch1_first);
        assert!(server.is_connected(), "{:?}", server.stats());
        assert!(client.is_connected());
        let stats = server.stats();
        assert_eq!(stats.early_records_buffered, 1, "the client's Finished");
        assert_eq!(stats.records.discarded_epoch, 0);
        // Done without waiting for any retransmission timer.
        assert_eq!(stats.flight_retransmissions, 0);
        assert_eq!(client.stats().flight_retransmissions, 0);
        assert!(server.early_records.is_empty());
    }

    #[test]
    fn a_lone_early_finished_is_held_not_acted_on() {
        // The same schedule, but the server sees only the Finished record: it cannot open
        // it, keeps it, and has nothing else to go on, so it neither fails nor connects.
        let (mut client, mut server) = pair();
        client.handle_timeout(Instant::ZERO);
        pump(&mut client, &mut server, |d| {
            let parts = epoch1_first(d);
            let has_epoch1 = parts.iter().any(|p| p[3..5] == [0, 1]);
            if has_epoch1 {
                vec![parts[0].clone()]
            } else {
                parts
            }
        });
        assert!(!server.is_connected());
        assert_eq!(server.early_records.len(), 1);
    }

    #[test]
    fn early_records_are_bounded_and_stateless_before_the_cookie() {
        let (mut client, mut server) = pair();
        let forged = |seq: u8| {
            let mut r = vec![22, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, seq, 0, 40];
            r.extend_from_slice(&[0xaa; 40]);
            r
        };
        // Before any ClientHello passed the cookie check nothing is kept.
        server.handle_packet(Instant::ZERO, &forged(0));
        assert!(server.early_records.is_empty());
        assert_eq!(server.stats().records.discarded_epoch, 1);

        // Mid-handshake, after the server's flight went out but before the client's
        // arrived: only MAX_EARLY_RECORDS are kept.
        client.handle_timeout(Instant::ZERO);
        for _ in 0..2 {
            while let Some(p) = client.poll_packet() {
                server.handle_packet(Instant::ZERO, &p);
            }
            while let Some(p) = server.poll_packet() {
                client.handle_packet(Instant::ZERO, &p);
            }
        }
        let mut datagram = Vec::new();
        for seq in 0..(MAX_EARLY_RECORDS as u8 + 3) {
            datagram.extend_from_slice(&forged(seq));
        }
        assert!(!server.records.can_read_epoch1());
        server.handle_packet(Instant::ZERO, &datagram);
        assert_eq!(server.early_records.len(), MAX_EARLY_RECORDS);
        assert_eq!(server.stats().records.discarded_epoch, 1 + 3);
        // The forgeries fail authentication once keys arrive, and the handshake completes.
        pump(&mut client, &mut server, |d| vec![d]);
        assert!(server.is_connected());
        assert!(server.early_records.is_empty());
        assert_eq!(
            server.stats().records.discarded_auth,
            MAX_EARLY_RECORDS as u64
        );
    }
}

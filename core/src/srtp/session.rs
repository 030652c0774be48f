//! One direction of an SRTP session: SRTP and SRTCP keys, and per-SSRC index state.

use std::collections::BTreeMap;

use super::kdf::SessionKeys;
use super::replay::{ReplayWindow, estimate_index};
use super::transform::Transform;
use super::{Error, Profile};
use crate::rtp::{RtcpHeader, RtpHeader};

/// RFC 3711 §3.3.2: "a replay list" per SSRC; libsrtp's default window is 128.
pub const DEFAULT_REPLAY_WINDOW: u32 = 128;
/// Default bound on the SSRCs one session tracks.
pub const DEFAULT_MAX_SSRCS: usize = 256;

/// RFC 3711 §3.3.1: the SRTP index is 48 bits.
const MAX_SRTP_INDEX: u64 = (1 << 48) - 1;
/// RFC 3711 §3.4: the SRTCP index is 31 bits.
const MAX_SRTCP_INDEX: u32 = 0x7fff_ffff;

/// Tunables of an [`SrtpSession`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct SrtpConfig {
    /// Replay window in packets, for SRTP and SRTCP alike (clamped to 1..=32768).
    pub replay_window: u32,
    /// Most SSRCs the session keeps state for; packets of further SSRCs fail with
    /// [`Error::SsrcLimit`]. A context is created only once a packet authenticated, so
    /// forged packets cannot fill the table.
    pub max_ssrcs: usize,
    /// RFC 3711 §3.4: whether [`SrtpSession::protect_rtcp`] encrypts (E = 1). Default true.
    pub encrypt_rtcp: bool,
}

impl Default for SrtpConfig {
    fn default() -> Self {
        Self {
            replay_window: DEFAULT_REPLAY_WINDOW,
            max_ssrcs: DEFAULT_MAX_SSRCS,
            encrypt_rtcp: true,
        }
    }
}

/// Counters of what a session did and refused.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SrtpStats {
    /// Packets protected (SRTP and SRTCP).
    pub protected: u64,
    /// Packets that authenticated and were decrypted.
    pub unprotected: u64,
    /// Packets whose tag did not match.
    pub auth_failures: u64,
    /// Packets refused by the replay window.
    pub replayed: u64,
    /// Packets too short or not version 2.
    pub malformed: u64,
    /// Packets refused because of [`SrtpConfig::max_ssrcs`].
    pub ssrc_limit: u64,
}

/// Index state of one SSRC: the SRTP replay list (whose highest index carries the ROC) and
/// the SRTCP replay list and next index to send.
#[derive(Debug, Clone)]
struct SsrcContext {
    rtp: ReplayWindow,
    rtcp: ReplayWindow,
    next_rtcp_index: u32,
}

/// The SRTP and SRTCP transforms of one direction (what one side sends). Use one session to
/// protect outgoing packets and another, keyed with the peer's master key, to unprotect
/// incoming ones; [`SrtpSession::from_dtls`](super::SrtpSession::from_dtls) builds both.
///
/// All methods work in place; none allocates per packet (a new SSRC allocates its context).
pub struct SrtpSession {
    profile: Profile,
    config: SrtpConfig,
    rtp: Transform,
    rtcp: Transform,
    contexts: BTreeMap<u32, SsrcContext>,
    stats: SrtpStats,
}

impl core::fmt::Debug for SrtpSession {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SrtpSession")
            .field("profile", &self.profile)
            .field("ssrcs", &self.contexts.len())
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl SrtpSession {
    /// A session keyed from a master key and salt (RFC 3711 §4.3, key derivation rate 0).
    pub fn new(
        profile: Profile,
        master_key: &[u8],
        master_salt: &[u8],
        config: SrtpConfig,
    ) -> Result<Self, Error> {
        let rtp = SessionKeys::derive(profile, master_key, master_salt, false)?;
        let rtcp = SessionKeys::derive(profile, master_key, master_salt, true)?;
        Ok(Self {
            profile,
            config,
            rtp: Transform::new(profile, &rtp, false),
            rtcp: Transform::new(profile, &rtcp, true),
            contexts: BTreeMap::new(),
            stats: SrtpStats::default(),
        })
    }

    /// The profile this session uses.
    pub fn profile(&self) -> Profile {
        self.profile
    }

    /// What the session did and refused so far.
    pub fn stats(&self) -> SrtpStats {
        self.stats
    }

    /// The rollover counter of `ssrc` (RFC 3711 §3.3.1), if a packet of it was seen.
    pub fn roc(&self, ssrc: u32) -> Option<u32> {
        let highest = self.contexts.get(&ssrc)?.rtp.highest()?;
        Some((highest >> 16) as u32)
    }

    fn new_context(&self) -> SsrcContext {
        SsrcContext {
            rtp: ReplayWindow::new(self.config.replay_window),
            rtcp: ReplayWindow::new(self.config.replay_window),
            next_rtcp_index: 0,
        }
    }

    fn context_mut(&mut self, ssrc: u32) -> Result<&mut SsrcContext, Error> {
        if !self.contexts.contains_key(&ssrc) {
            if self.contexts.len() >= self.config.max_ssrcs {
                self.stats.ssrc_limit += 1;
                tracing::debug!(ssrc, "SRTP: SSRC limit reached");
                return Err(Error::SsrcLimit);
            }
            let context = self.new_context();
            self.contexts.insert(ssrc, context);
        }
        // NOTE(unwrap): inserted just above when it was missing.
        Ok(self.contexts.get_mut(&ssrc).unwrap())
    }

    fn count_failure(&mut self, error: Error, what: &str) -> Error {
        match error {
            Error::AuthenticationFailed => self.stats.auth_failures += 1,
            Error::Replayed => self.stats.replayed += 1,
            Error::TooShort | Error::BadVersion(_) => self.stats.malformed += 1,
            _ => {}
        }
        tracing::trace!(%error, what, "SRTP: packet refused");
        error
    }

    /// RFC 3711 §3.3: protects the RTP packet `buf[..len]` in place and returns the SRTP
    /// length; `buf` needs [`Profile::srtp_overhead`] bytes of room after `len`.
    pub fn protect_rtp(&mut self, buf: &mut [u8], len: usize) -> Result<usize, Error> {
        let header = RtpHeader::parse(buf.get(..len).ok_or(Error::TooShort)?)
            .map_err(|e| self.count_failure(e.into(), "rtp protect"))?;
        let (header_len, ssrc, seq) =
            (header.header_len(), header.ssrc(), header.sequence_number());
        let needed = len + self.rtp.tag_len();
        if buf.len() < needed {
            return Err(Error::BufferTooSmall { needed });
        }
        let context = self.context_mut(ssrc)?;
        let index = estimate_index(context.rtp.highest(), seq);
        if index > MAX_SRTP_INDEX {
            return Err(Error::KeyExhausted);
        }
        // Protecting an index twice would reuse keystream (RFC 3711 §9.1), as libsrtp refuses.
        context.rtp.check(index)?;
        context.rtp.accept(index);
        self.rtp.protect_rtp(buf, header_len, len, ssrc, index);
        self.stats.protected += 1;
        Ok(needed)
    }

    /// [`Self::protect_rtp`] on a `Vec` holding exactly the RTP packet; it grows by the tag
    /// (no allocation when its capacity has room).
    pub fn protect_rtp_vec(&mut self, packet: &mut Vec<u8>) -> Result<(), Error> {
        let len = packet.len();
        packet.resize(len + self.rtp.tag_len(), 0);
        match self.protect_rtp(packet, len) {
            Ok(_) => Ok(()),
            Err(e) => {
                packet.truncate(len);
                Err(e)
            }
        }
    }

    /// RFC 3711 §3.3: authenticates, replay-checks and decrypts the SRTP packet `buf` in
    /// place; returns the length of the RTP packet now at `buf[..len]`. On error the packet is
    /// to be dropped (its bytes are unspecified).
    pub fn unprotect_rtp(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        let header =
            RtpHeader::parse(buf).map_err(|e| self.count_failure(e.into(), "rtp unprotect"))?;
        let (header_len, ssrc, seq) =
            (header.header_len(), header.ssrc(), header.sequence_number());
        if buf.len() < header_len + self.rtp.tag_len() {
            return Err(self.count_failure(Error::TooShort, "rtp unprotect"));
        }
        let known = self.contexts.get(&ssrc);
        if known.is_none() && self.contexts.len() >= self.config.max_ssrcs {
            self.stats.ssrc_limit += 1;
            return Err(Error::SsrcLimit);
        }
        let highest = known.and_then(|c| c.rtp.highest());
        let index = estimate_index(highest, seq);
        if index > MAX_SRTP_INDEX {
            return Err(Error::KeyExhausted);
        }
        if let Some(context) = known {
            context
                .rtp
                .check(index)
                .map_err(|e| self.count_failure(e, "rtp unprotect"))?;
        }
        let len = self
            .rtp
            .unprotect_rtp(buf, header_len, ssrc, index)
            .map_err(|e| self.count_failure(e, "rtp unprotect"))?;
        // RFC 3711 §3.3 step 6: only an authenticated packet updates the ROC and replay list.
        self.context_mut(ssrc)?.rtp.accept(index);
        self.stats.unprotected += 1;
        Ok(len)
    }

    /// [`Self::unprotect_rtp`] on a `Vec`, truncated to the RTP packet on success.
    pub fn unprotect_rtp_vec(&mut self, packet: &mut Vec<u8>) -> Result<(), Error> {
        let len = self.unprotect_rtp(packet)?;
        packet.truncate(len);
        Ok(())
    }

    /// RFC 3711 §3.4: protects the RTCP packet `buf[..len]` with the next SRTCP index of its
    /// sender SSRC; returns the SRTCP length. `buf` needs [`Profile::srtcp_overhead`] bytes of
    /// room after `len`.
    pub fn protect_rtcp(&mut self, buf: &mut [u8], len: usize) -> Result<usize, Error> {
        let header = RtcpHeader::parse(buf.get(..len).ok_or(Error::TooShort)?)
            .map_err(|e| self.count_failure(e.into(), "rtcp protect"))?;
        let ssrc = header.ssrc();
        let needed = len + 4 + self.rtcp.tag_len();
        if buf.len() < needed {
            return Err(Error::BufferTooSmall { needed });
        }
        let encrypt = self.config.encrypt_rtcp;
        let context = self.context_mut(ssrc)?;
        let index = context.next_rtcp_index;
        if index > MAX_SRTCP_INDEX {
            return Err(Error::KeyExhausted);
        }
        context.next_rtcp_index += 1;
        let out = self.rtcp.protect_rtcp(buf, len, ssrc, index, encrypt);
        self.stats.protected += 1;
        Ok(out)
    }

    /// [`Self::protect_rtcp`] on a `Vec` holding exactly the RTCP packet.
    pub fn protect_rtcp_vec(&mut self, packet: &mut Vec<u8>) -> Result<(), Error> {
        let len = packet.len();
        packet.resize(len + 4 + self.rtcp.tag_len(), 0);
        match self.protect_rtcp(packet, len) {
            Ok(_) => Ok(()),
            Err(e) => {
                packet.truncate(len);
                Err(e)
            }
        }
    }

    /// RFC 3711 §3.4: authenticates, replay-checks and (when E is set) decrypts the SRTCP
    /// packet `buf` in place; returns the length of the RTCP packet now at `buf[..len]`. On
    /// error the packet is to be dropped (its bytes are unspecified).
    pub fn unprotect_rtcp(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        let header =
            RtcpHeader::parse(buf).map_err(|e| self.count_failure(e.into(), "rtcp unprotect"))?;
        let ssrc = header.ssrc();
        let Some((encrypted, index)) = self.rtcp.rtcp_index(buf) else {
            return Err(self.count_failure(Error::TooShort, "rtcp unprotect"));
        };
        let known = self.contexts.get(&ssrc);
        if known.is_none() && self.contexts.len() >= self.config.max_ssrcs {
            self.stats.ssrc_limit += 1;
            return Err(Error::SsrcLimit);
        }
        if let Some(context) = known {
            context
                .rtcp
                .check(u64::from(index))
                .map_err(|e| self.count_failure(e, "rtcp unprotect"))?;
        }
        let len = self
            .rtcp
            .unprotect_rtcp(buf, ssrc, encrypted, index)
            .map_err(|e| self.count_failure(e, "rtcp unprotect"))?;
        self.context_mut(ssrc)?.rtcp.accept(u64::from(index));
        self.stats.unprotected += 1;
        Ok(len)
    }

    /// [`Self::unprotect_rtcp`] on a `Vec`, truncated to the RTCP packet on success.
    pub fn unprotect_rtcp_vec(&mut self, packet: &mut Vec<u8>) -> Result<(), Error> {
        let len = self.unprotect_rtcp(packet)?;
        packet.truncate(len);
        Ok(())
    }
}

//! The agent's view of candidates and candidate pairs (RFC 8445 §6.1.2): where a local
//! candidate sends from, what a pair needs for checks and consent.

use core::net::SocketAddr;

use super::events::{PairInfo, PairState};
use super::{Candidate, CandidateKind, Foundation, Transport, candidate_priority, pair_priority};
use crate::Instant;

/// A local candidate and the socket behind it.
#[derive(Clone, Debug)]
pub(crate) struct Local {
    pub(crate) candidate: Candidate,
    /// The transport address of the candidate (its `address` field, resolved).
    pub(crate) addr: SocketAddr,
    /// RFC 8445 §5.1.1: the address the agent sends from; for a relayed candidate, the
    /// relayed address itself (the data then goes through the TURN client).
    pub(crate) base: SocketAddr,
    /// Index of the TURN client of a relayed candidate.
    pub(crate) relay: Option<usize>,
}

impl Local {
    /// RFC 8445 §6.1.2.4: server-reflexive candidates are replaced by their base when paired,
    /// so only host, relayed (and, once learned, peer-reflexive) candidates form pairs.
    pub(crate) fn pairs(&self) -> bool {
        matches!(
            self.candidate.kind,
            CandidateKind::Host | CandidateKind::Relayed
        )
    }
}

/// A candidate pair in the checklist.
#[derive(Clone, Debug)]
pub(crate) struct Pair {
    pub(crate) local: usize,
    pub(crate) remote: usize,
    /// RFC 8445 §6.1.2.6: the pair foundation is the local and remote foundations together.
    pub(crate) foundation: (Foundation, Foundation),
    pub(crate) priority: u64,
    pub(crate) state: PairState,
    /// In the valid list (RFC 8445 §7.2.5.3.2).
    pub(crate) valid: bool,
    pub(crate) nominated: bool,
    /// RFC 8445 §7.3.1.5: the controlled agent saw USE-CANDIDATE before its own check on the
    /// pair succeeded; the pair is nominated when it does.
    pub(crate) nominate_on_success: bool,
}

impl Pair {
    pub(crate) fn new(
        local: usize,
        remote: usize,
        locals: &[Local],
        remotes: &[Candidate],
    ) -> Self {
        Self {
            local,
            remote,
            foundation: (
                locals[local].candidate.foundation.clone(),
                remotes[remote].foundation.clone(),
            ),
            priority: 0,
            state: PairState::Frozen,
            valid: false,
            nominated: false,
            nominate_on_success: false,
        }
    }

    /// RFC 8445 §6.1.2.3: G is the controlling agent's candidate priority, D the controlled's.
    pub(crate) fn prioritise(
        &mut self,
        controlling: bool,
        locals: &[Local],
        remotes: &[Candidate],
    ) {
        let local = locals[self.local].candidate.priority;
        let remote = remotes[self.remote].priority;
        self.priority = if controlling {
            pair_priority(local, remote)
        } else {
            pair_priority(remote, local)
        };
    }

    pub(crate) fn info(&self, locals: &[Local], remotes: &[Candidate]) -> PairInfo {
        PairInfo {
            local: locals[self.local].candidate.clone(),
            local_base: locals[self.local].base,
            remote: remotes[self.remote].clone(),
            priority: self.priority,
            state: self.state,
            nominated: self.nominated,
        }
    }
}

/// The pair currently carrying data. Kept apart from the checklist so that it survives an ICE
/// restart (RFC 8445 §9: the old pair is used until the new checks select another).
#[derive(Clone, Debug)]
pub(crate) struct Selected {
    pub(crate) info: PairInfo,
    pub(crate) local: usize,
    pub(crate) remote_addr: SocketAddr,
    /// The ICE generation (restart count) that selected the pair.
    pub(crate) generation: u32,
    /// USERNAME of consent requests: the credentials of the generation that selected the
    /// pair, so consent survives an ICE restart until another pair is selected.
    pub(crate) username: String,
    /// The peer's password of that generation, as a key.
    pub(crate) key: Vec<u8>,
    /// Last time consent was confirmed (RFC 7675 §5.1).
    pub(crate) consent_at: Instant,
    /// When the next consent request goes out.
    pub(crate) next_consent: Instant,
    /// Last time anything was sent on the pair (RFC 8445 §11 keepalives).
    pub(crate) last_sent: Instant,
    pub(crate) disconnected: bool,
}

/// A candidate built by the agent (host, server-reflexive, relayed, peer-reflexive).
pub(crate) fn make_candidate(
    kind: CandidateKind,
    addr: SocketAddr,
    base_ip: core::net::IpAddr,
    server: Option<core::net::IpAddr>,
    local_preference: u16,
    related: Option<SocketAddr>,
) -> Candidate {
    let transport = Transport::udp();
    Candidate {
        foundation: Foundation::compute(kind, base_ip, server, &transport),
        component: 1,
        transport,
        priority: candidate_priority(kind.type_preference(), local_preference, 1),
        address: addr.into(),
        kind,
        related_address: related,
        extensions: Vec::new(),
    }
}

/// A peer-reflexive remote candidate learned from a request (RFC 8445 §7.3.1.3): its priority
/// is the request's PRIORITY, its foundation anything unique.
pub(crate) fn peer_reflexive_remote(addr: SocketAddr, priority: u32, serial: usize) -> Candidate {
    // NOTE(unwrap): "prflx" followed by a decimal number is 6 to 25 ice-chars.
    let foundation = Foundation::new(&format!("prflx{serial}")).expect("ice-chars");
    Candidate {
        foundation,
        component: 1,
        transport: Transport::udp(),
        priority: priority.clamp(1, super::MAX_PRIORITY),
        address: addr.into(),
        kind: CandidateKind::PeerReflexive,
        related_address: None,
        extensions: Vec::new(),
    }
}

/// Local preference of the `index`-th host address (RFC 8445 §5.1.2.1: distinct per IP
/// address of a multihomed agent; IPv6 first, as RFC 8421 §4 recommends).
pub(crate) fn local_preference(addr: SocketAddr, index: usize) -> u16 {
    let family = if addr.is_ipv6() { 0 } else { 0x4000 };
    let index = u16::try_from(index).unwrap_or(u16::MAX).min(0x3FFF);
    super::DEFAULT_LOCAL_PREFERENCE - family - index
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_priorities_prefer_ipv6_then_order() {
        let v6: SocketAddr = "[2001:db8::1]:1".parse().unwrap();
        let v4: SocketAddr = "192.0.2.1:1".parse().unwrap();
        assert_eq!(local_preference(v6, 0), 65535);
        assert_eq!(local_preference(v4, 0), 65535 - 0x4000);
        assert!(local_preference(v4, 1) < local_preference(v4, 0));
        let host = make_candidate(CandidateKind::Host, v4, v4.ip(), None, 65535, None);
        // RFC 8445 §5.1.2.1: 2^24 * 126 + 2^8 * 65535 + (256 - 1).
        assert_eq!(host.priority, 2_130_706_431);
        let relay = make_candidate(CandidateKind::Relayed, v4, v4.ip(), None, 65535, None);
        assert_eq!(relay.priority, 16_777_215);
        let prflx = peer_reflexive_remote(v4, 0, 1);
        assert_eq!(prflx.priority, 1, "clamped into 1..=2^31-1");
        assert_eq!(prflx.kind, CandidateKind::PeerReflexive);
    }
}

//! ICE (RFC 8445): candidates and their priorities, the RFC 8839 SDP lines that carry them,
//! and the full agent ([`IceAgent`]) with trickle (RFC 8838) and consent freshness (RFC 7675).

pub mod agent;
pub mod candidate;
mod checklist;
pub mod events;
mod pair;
pub mod sdp;

pub use agent::IceAgent;
pub use candidate::{
    Candidate, CandidateAddress, CandidateKind, DEFAULT_LOCAL_PREFERENCE, Extension, Foundation,
    MAX_COMPONENT, MAX_FOUNDATION_LEN, MAX_PRIORITY, Transport, candidate_priority, is_ice_char,
    pair_priority,
};
pub use events::{
    GatheringState, IceConfig, IceError, IceEvent, IceState, IceStats, PairInfo, PairState,
};
pub use sdp::{
    IceAttribute, MAX_EXTENSIONS, MAX_LINE_LEN, Password, SdpError, Ufrag, parse_candidate,
    parse_candidate_bytes, write_candidate_string,
};

#[cfg(test)]
mod agent_tests;

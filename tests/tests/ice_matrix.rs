//! The NAT traversal matrix (pigeon-sim's `scenarios::ice_matrix`): ICE between two peers
//! behind every pair of {no NAT, full cone, restricted, port-restricted, symmetric}, with
//! pigeon's STUN and TURN servers on the public side. Every cell must connect, directly except
//! port-restricted x symmetric and symmetric x symmetric (NAT.md), without loss and with 5%
//! loss and jitter, and the same seed must give the same table and trace hash.

use std::time::Duration;

use pigeon::ice::{CandidateKind, IceState};
use pigeon_sim::NatPreset;
use pigeon_sim::scenarios::ice_matrix::{
    KINDS, LOSSY_NOMINATION_WAIT, MatrixConfig, MatrixReport, kind_name, run,
};

/// Checks each cell on its own, so a failure names the cell.
fn assert_cells(report: &MatrixReport) {
    assert_eq!(report.cells.len(), 25);
    for (ai, a) in KINDS.iter().enumerate() {
        for (bi, b) in KINDS.iter().enumerate() {
            let cell = report.cell(ai, bi);
            let name = format!("{} x {}", kind_name(*a), kind_name(*b));
            assert_eq!((cell.a, cell.b), (*a, *b), "{name}: cell order");
            assert!(cell.connected(), "{name} did not connect:\n{report}");
            for state in [cell.a_state, cell.b_state] {
                assert!(
                    matches!(state, IceState::Connected | IceState::Completed),
                    "{name}: state {state:?}"
                );
            }
            let relay = |p: Option<(CandidateKind, CandidateKind)>| {
                let (l, r) = p.expect("a selected pair");
                l == CandidateKind::Relayed || r == CandidateKind::Relayed
            };
            // Both agents must agree on whether the relay carries the cell.
            assert_eq!(
                relay(cell.a_pair),
                relay(cell.b_pair),
                "{name}: sides disagree"
            );
            let want_relay = matches!(
                (a, b),
                (
                    Some(NatPreset::PortRestrictedCone),
                    Some(NatPreset::Symmetric)
                ) | (
                    Some(NatPreset::Symmetric),
                    Some(NatPreset::PortRestrictedCone)
                ) | (Some(NatPreset::Symmetric), Some(NatPreset::Symmetric))
            );
            assert_eq!(
                relay(cell.a_pair),
                want_relay,
                "{name}: expected {}:\n{report}",
                if want_relay { "relay" } else { "direct" }
            );
            assert!(cell.as_expected(), "{name}");
            assert!(cell.checks_sent > 0, "{name}: no checks counted");
        }
    }
    assert!(report.meets_expectations());
}

#[test]
fn every_cell_connects_as_nat_md_expects() {
    let report = run(&MatrixConfig::default()).unwrap();
    assert_cells(&report);
    // Both peers public: the host pair, the only candidates there are.
    let open = report.cell(0, 0);
    assert_eq!(
        open.a_pair,
        Some((CandidateKind::Host, CandidateKind::Host))
    );
    // Behind a symmetric NAT, the address the peer sees is one no server reported.
    let sym_open = report.cell(4, 0);
    assert_eq!(
        sym_open.b_pair.map(|(_, r)| r),
        Some(CandidateKind::PeerReflexive)
    );
    // Each cell connected well inside the limit and the whole run stopped once all had.
    assert!(report.elapsed < Duration::from_secs(5), "{report}");
}

#[test]
fn lossy_matrix_has_the_same_outcomes() {
    // Seeds where the agent's default 500 ms nomination wait lets the relay win a cell.
    for seed in [4, 5, 6] {
        let config = MatrixConfig {
            seed,
            loss: 0.05,
            jitter: Duration::from_millis(10),
            nomination_wait: LOSSY_NOMINATION_WAIT,
            ..MatrixConfig::default()
        };
        let report = run(&config).unwrap();
        assert_cells(&report);
        let lossless = run(&MatrixConfig {
            seed,
            ..MatrixConfig::default()
        })
        .unwrap();
        // The loss really happened: the same seed takes another path through the run.
        assert_ne!(report.trace_hash, lossless.trace_hash);
    }
}

#[test]
fn same_seed_same_table_and_hash() {
    let config = MatrixConfig {
        seed: 7,
        loss: 0.05,
        jitter: Duration::from_millis(10),
        nomination_wait: LOSSY_NOMINATION_WAIT,
        ..MatrixConfig::default()
    };
    let first = run(&config).unwrap();
    let second = run(&config).unwrap();
    assert_eq!(first.trace_hash, second.trace_hash);
    assert_eq!(first.cells, second.cells);
    assert_eq!(first.to_string(), second.to_string());
    let other = run(&MatrixConfig { seed: 8, ..config }).unwrap();
    assert_ne!(first.trace_hash, other.trace_hash);
}

#[test]
fn pcap_holds_the_whole_run() {
    let plain = run(&MatrixConfig::default()).unwrap();
    assert!(plain.pcap.is_empty());
    let report = run(&MatrixConfig {
        pcap: true,
        ..MatrixConfig::default()
    })
    .unwrap();
    // Capturing observes the run without changing it.
    assert_eq!(report.trace_hash, plain.trace_hash);
    // Classic pcap, microsecond timestamps, raw IP (docs/simulator.md).
    assert_eq!(&report.pcap[..4], &0xa1b2_c3d4u32.to_le_bytes());
    assert_eq!(
        u32::from_le_bytes(report.pcap[20..24].try_into().unwrap()),
        101
    );
    // Many records: every cell's gathering, checks and relaying.
    assert!(
        report.pcap.len() > 24 + 25 * 20 * 50,
        "{}",
        report.pcap.len()
    );
}

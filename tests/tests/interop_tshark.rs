//! tshark (Wireshark's dissector, not ours) reads the simulator's pcap output: every record
//! is dissected as STUN with valid UDP checksums. Fails when tshark is missing.
#![cfg(feature = "interop")]

use std::process::Command;

use pigeon_tests::{pigeon_binary, require_tool};

#[test]
fn tshark_reads_the_capture_and_dissects_stun() {
    require_tool("tshark", "tshark");
    let mut pcap = Vec::new();
    let report = pigeon_sim::scenarios::nat_check::nat_check(3, Some(&mut pcap));
    assert!(report.all_ok(), "{report}");
    let path = std::env::temp_dir().join(format!("pigeon-sim-{}.pcap", std::process::id()));
    std::fs::write(&path, &pcap).unwrap();
    let output = Command::new("tshark")
        .arg("-r")
        .arg(&path)
        .args([
            "-o",
            "udp.check_checksum:TRUE",
            "-T",
            "fields",
            "-e",
            "stun.type",
        ])
        .output()
        .expect("tshark is installed (tests/run installs it)");
    std::fs::remove_file(&path).ok();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines.len() > 100, "{} records", lines.len());
    // Every record is dissected as STUN: Binding requests (0x0001) and successes (0x0101).
    assert!(
        lines.iter().all(|l| !l.is_empty()),
        "a record tshark did not see as STUN"
    );
    assert!(
        lines.contains(&"0x0001") && lines.contains(&"0x0101"),
        "{lines:?}"
    );
}

#[test]
fn cli_nat_check_writes_a_capture_tshark_reads() {
    require_tool("tshark", "tshark");
    let path = std::env::temp_dir().join(format!("pigeon-cli-{}.pcap", std::process::id()));
    let output = Command::new(pigeon_binary())
        .args(["sim", "nat-check", "--seed", "7", "--json", "--pcap"])
        .arg(&path)
        .output()
        .expect("run pigeon sim nat-check");
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(stdout.contains("\"all_ok\":true"), "{stdout}");
    let tshark = Command::new("tshark")
        .arg("-r")
        .arg(&path)
        .args(["-d", "udp.port==3479,stun"])
        .output()
        .expect("run tshark");
    std::fs::remove_file(&path).ok();
    let listing = String::from_utf8_lossy(&tshark.stdout);
    assert!(tshark.status.success(), "{tshark:?}");
    assert!(listing.contains("Binding Request"), "{listing}");
    assert!(listing.contains("Binding Success Response"), "{listing}");
}

//! Shared helpers for pigeon's scenario and interop tests.

pub mod fixtures;
pub mod peers;
pub mod sctp;

use std::net::{SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::process::{Child, Command};

/// Kills the child process when dropped, so a failing test leaves no server behind.
#[derive(Debug)]
pub struct ChildGuard(pub Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The `pigeon` binary built from this workspace (`cargo build -p pigeon-cli`), next to the
/// test executable's `deps/` folder. Panics with what to do when it is missing.
pub fn pigeon_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("current test executable");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("test executable lives in target/<profile>/deps");
    let binary = profile_dir.join("pigeon");
    assert!(
        binary.exists(),
        "{} is missing: run `cargo build -p pigeon-cli` first (tests/run does)",
        binary.display()
    );
    binary
}

/// Panics unless `tool` is on the PATH: interop tests fail, never skip, when their peer is
/// missing. `tests/run` installs every peer.
pub fn require_tool(tool: &str, package: &str) {
    let found = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .output()
        .map(|out| out.status.success())
        .unwrap_or(false);
    assert!(
        found,
        "`{tool}` is not installed: run tests/run, or `apt-get install {package}`"
    );
}

/// A UDP port that is free on `ip` right now (bind to port 0, read it, release it).
pub fn free_udp_port(ip: &str) -> u16 {
    let socket = UdpSocket::bind((ip, 0)).expect("bind an ephemeral UDP port");
    socket.local_addr().expect("local address").port()
}

/// Two consecutive free UDP ports on both `ip_a` and `ip_b` (for an RFC 5780 server), found by
/// trying candidates from `start`.
pub fn free_port_pair(ip_a: &str, ip_b: &str, start: u16) -> (u16, u16) {
    let free = |ip: &str, port: u16| UdpSocket::bind((ip, port)).is_ok();
    (start..start + 2000)
        .step_by(2)
        .find(|&p| free(ip_a, p) && free(ip_a, p + 1) && free(ip_b, p) && free(ip_b, p + 1))
        .map(|p| (p, p + 1))
        .expect("two free UDP ports")
}

/// Parses `ip:port`, panicking with the text on error (test inputs are ours).
pub fn addr(text: &str) -> SocketAddr {
    text.parse()
        .unwrap_or_else(|e| panic!("bad address {text}: {e}"))
}

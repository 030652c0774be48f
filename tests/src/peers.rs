//! Starting and probing the real peers the interop tests talk to (coturn, pigeon's own
//! servers as processes), written once for every interop test file.

use std::io::Write;
use std::net::{SocketAddr, UdpSocket};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use pigeon::stun::client::{ClientConfig, ClientEvent, StunClient};
use pigeon_std::Driver;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

use crate::{ChildGuard, require_tool};

/// A deterministic generator for a machine under test.
pub fn seeded(seed: u64) -> pigeon::Rng {
    Box::new(ChaCha20Rng::seed_from_u64(seed))
}

/// A fresh directory under the system temp dir, unique to this test process.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pigeon-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// Binds a pigeon STUN client on 127.0.0.1 and does one Binding to `server`; returns
/// (local address, mapped address) if an answer came within `wait`.
pub fn stun_binding(server: SocketAddr, wait: Duration) -> Option<(SocketAddr, SocketAddr)> {
    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind client socket");
    let local = socket.local_addr().expect("local address");
    let config = ClientConfig {
        rto: Duration::from_millis(100),
        ..ClientConfig::default()
    };
    let mut driver =
        Driver::new(StunClient::new(config, seeded(1)), vec![socket]).expect("std driver");
    driver
        .command(|client, now| client.binding(now, local, server))
        .expect("start a Binding");
    driver
        .run_for(wait, |event| match event {
            ClientEvent::Response { mapped, .. } => ControlFlow::Break(mapped),
            _ => ControlFlow::Break(None),
        })
        .expect("drive the client")
        .flatten()
        .map(|mapped| (local, mapped))
}

/// Waits (up to about ten seconds) until something answers STUN Binding requests at `server`.
pub fn wait_until_stun_answers(server: SocketAddr) {
    for _ in 0..50 {
        if stun_binding(server, Duration::from_millis(200)).is_some() {
            return;
        }
    }
    panic!("no STUN server answered at {server}");
}

/// coturn's `turnserver` on 127.0.0.1:`port` with user alice:secret in realm example.org,
/// configured as shared/INTEROP.md says, answering once this returns.
pub fn start_coturn(dir: &Path, port: u16) -> ChildGuard {
    require_tool("turnserver", "coturn");
    let config = dir.join("turnserver.conf");
    let mut file = std::fs::File::create(&config).expect("write coturn config");
    write!(
        file,
        "listening-ip=127.0.0.1\nrelay-ip=127.0.0.1\nlistening-port={port}\n\
         min-port=49160\nmax-port=49200\nfingerprint\nlt-cred-mech\nuser=alice:secret\n\
         realm=example.org\nno-tls\nno-dtls\nno-cli\nallow-loopback-peers\nno-multicast-peers\n\
         log-file=stdout\nsimple-log\npidfile={dir}/turnserver.pid\nuserdb={dir}/turndb.sqlite\n",
        dir = dir.display()
    )
    .expect("write coturn config");
    let child = Command::new("turnserver")
        .arg("-c")
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn turnserver");
    let guard = ChildGuard(child);
    wait_until_stun_answers(SocketAddr::from(([127, 0, 0, 1], port)));
    guard
}

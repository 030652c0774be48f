//! pigeon's DTLS against OpenSSL 3 (`openssl s_server` / `s_client -dtls1_2`), both roles,
//! every cipher suite and SRTP profile pigeon implements: the handshake with mutual
//! authentication and a cookie exchange, application data both ways, and the exported
//! DTLS-SRTP keying material compared with OpenSSL's `Keying material:` line.

#![cfg(feature = "interop")]

use std::io::{BufRead, BufReader, Write};
use std::net::UdpSocket;
use std::ops::ControlFlow;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant as WallInstant};

use pigeon::dtls::{
    CipherSuite, Dtls, DtlsCertificate, DtlsConfig, DtlsEvent, Fingerprint, SRTP_EXPORTER_LABEL,
    SrtpKeys, SrtpProfile,
};
use pigeon_std::Driver;
use pigeon_tests::{ChildGuard, addr, free_udp_port, require_tool};
use rand_core::SeedableRng;

/// Each suite and each profile at least once, in both roles.
const CASES: [(CipherSuite, &str, SrtpProfile); 4] = [
    (
        CipherSuite::EcdheEcdsaAes128GcmSha256,
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        SrtpProfile::Aes128CmHmacSha1_80,
    ),
    (
        CipherSuite::EcdheEcdsaAes256GcmSha384,
        "ECDHE-ECDSA-AES256-GCM-SHA384",
        SrtpProfile::AeadAes256Gcm,
    ),
    (
        CipherSuite::EcdheEcdsaChacha20Poly1305Sha256,
        "ECDHE-ECDSA-CHACHA20-POLY1305",
        SrtpProfile::AeadAes128Gcm,
    ),
    (
        CipherSuite::EcdheEcdsaAes128GcmSha256,
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        SrtpProfile::Aes128CmHmacSha1_32,
    ),
];

fn openssl_cert(dir: &Path, name: &str) -> Fingerprint {
    let key = dir.join(format!("{name}.key"));
    let cert = dir.join(format!("{name}.pem"));
    let status = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt"])
        .arg("ec_paramgen_curve:prime256v1")
        .args(["-nodes", "-days", "365", "-subj", "/CN=openssl", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stderr(Stdio::null())
        .status()
        .expect("run openssl req");
    assert!(status.success());
    let out = Command::new("openssl")
        .args(["x509", "-noout", "-fingerprint", "-sha256", "-in"])
        .arg(&cert)
        .output()
        .expect("run openssl x509");
    // "sha256 Fingerprint=AB:CD:..."
    let text = String::from_utf8_lossy(&out.stdout);
    let hex = text.trim().rsplit('=').next().expect("fingerprint line");
    Fingerprint::parse(&format!("sha-256 {hex}")).expect("parse OpenSSL's fingerprint")
}

/// Collects a child's stdout lines in the background.
fn collect_lines(stream: impl std::io::Read + Send + 'static) -> Arc<Mutex<Vec<String>>> {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = lines.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            sink.lock().unwrap().push(line);
        }
    });
    lines
}

fn wait_for_line(lines: &Arc<Mutex<Vec<String>>>, needle: &str, timeout: Duration) -> String {
    let start = WallInstant::now();
    loop {
        if let Some(line) = lines.lock().unwrap().iter().find(|l| l.contains(needle)) {
            return line.clone();
        }
        assert!(
            start.elapsed() < timeout,
            "no `{needle}` from OpenSSL; it printed: {:#?}",
            lines.lock().unwrap()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A child process with its stdin kept for writing and its stdout and stderr collected line by
/// line; killed when dropped.
struct Piped {
    stdin: std::process::ChildStdin,
    out: Arc<Mutex<Vec<String>>>,
    err: Arc<Mutex<Vec<String>>>,
    _guard: ChildGuard,
}

fn spawn_piped(command: &mut Command) -> Piped {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {command:?}: {e}"));
    Piped {
        stdin: child.stdin.take().unwrap(),
        out: collect_lines(child.stdout.take().unwrap()),
        err: collect_lines(child.stderr.take().unwrap()),
        _guard: ChildGuard(child),
    }
}

/// `-cert DIR/NAME.pem -key DIR/NAME.key`, as `openssl_cert` wrote them.
fn cert_args(dir: &Path, name: &str) -> Vec<std::path::PathBuf> {
    vec![
        "-cert".into(),
        dir.join(format!("{name}.pem")),
        "-key".into(),
        dir.join(format!("{name}.key")),
    ]
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

fn common_args(cipher: &str, profile: SrtpProfile) -> Vec<String> {
    [
        "-dtls1_2",
        "-cipher",
        cipher,
        "-use_srtp",
        profile.name(),
        "-keymatexport",
        "EXTRACTOR-dtls_srtp",
        "-keymatexportlen",
        &SrtpKeys::material_len(profile).to_string(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

fn pigeon_config(suite: CipherSuite, profile: SrtpProfile, peer: Fingerprint) -> DtlsConfig {
    DtlsConfig {
        cipher_suites: vec![suite],
        srtp_profiles: vec![profile],
        expected_fingerprint: Some(peer),
        ..DtlsConfig::default()
    }
}

/// Drives `driver` until Connected and checks the negotiated suite and profile.
fn until_connected(driver: &mut Driver<Dtls>, suite: CipherSuite, profile: SrtpProfile) {
    let connected = driver
        .run_for(Duration::from_secs(10), |event| match event {
            DtlsEvent::Connected {
                cipher_suite,
                srtp_profile,
                ..
            } => ControlFlow::Break(Ok((cipher_suite, srtp_profile))),
            DtlsEvent::Failed(error) => ControlFlow::Break(Err(error)),
            _ => ControlFlow::Continue(()),
        })
        .expect("driver I/O")
        .expect("handshake did not finish within 10 s")
        .expect("handshake failed");
    assert_eq!(connected, (suite, Some(profile)));
}

fn until_data(driver: &mut Driver<Dtls>, needle: &[u8]) {
    let got = driver
        .run_for(Duration::from_secs(5), |event| match event {
            DtlsEvent::ApplicationData(data) if data.windows(needle.len()).any(|w| w == needle) => {
                ControlFlow::Break(())
            }
            _ => ControlFlow::Continue(()),
        })
        .expect("driver I/O");
    assert!(got.is_some(), "no application data from OpenSSL");
}

fn exported(driver: &Driver<Dtls>, profile: SrtpProfile) -> String {
    let material = driver
        .machine()
        .export_keying_material(SRTP_EXPORTER_LABEL, None, SrtpKeys::material_len(profile))
        .expect("exporter after the handshake");
    hex(&material)
}

#[test]
fn pigeon_client_against_openssl_s_server() {
    require_tool("openssl", "openssl");
    let dir = tempdir("client");
    let openssl_fp = openssl_cert(&dir, "server");
    for (i, (suite, cipher, profile)) in CASES.into_iter().enumerate() {
        let port = free_udp_port("127.0.0.1");
        let Piped {
            mut stdin,
            out: lines,
            err: errors,
            _guard,
        } = spawn_piped(
            Command::new("openssl")
                .args(["s_server", "-4", "-accept", &format!("127.0.0.1:{port}")])
                .args(common_args(cipher, profile))
                .args(cert_args(&dir, "server"))
                .args(["-verify", "1", "-naccept", "1"]),
        );
        wait_for_line(&lines, "ACCEPT", Duration::from_secs(5));

        let mut rng: pigeon::Rng = Box::new(rand_chacha::ChaCha20Rng::seed_from_u64(i as u64));
        let cert = DtlsCertificate::generate(&mut rng, "pigeon");
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        let local = socket.local_addr().unwrap();
        let dtls = Dtls::client(
            pigeon_config(suite, profile, openssl_fp),
            cert,
            rng,
            local,
            addr(&format!("127.0.0.1:{port}")),
        );
        let mut driver = Driver::new(dtls, vec![socket]).unwrap();
        until_connected(&mut driver, suite, profile);

        let keying = wait_for_line(&lines, "Keying material:", Duration::from_secs(5));
        assert_eq!(
            keying.rsplit(' ').next().unwrap().to_uppercase(),
            exported(&driver, profile),
            "{cipher} {profile:?}: exporter mismatch; stderr {:?}",
            errors.lock().unwrap()
        );
        wait_for_line(
            &lines,
            &format!("SRTP Extension negotiated, profile={}", profile.name()),
            Duration::from_secs(1),
        );

        driver
            .command(|d, now| d.send(now, b"hello from pigeon\n"))
            .unwrap();
        wait_for_line(&lines, "hello from pigeon", Duration::from_secs(5));
        stdin.write_all(b"hello from openssl\n").unwrap();
        stdin.flush().unwrap();
        until_data(&mut driver, b"hello from openssl");
        driver.command(|d, now| d.close(now));
        let _ = driver.run_for(Duration::from_millis(100), |_| {
            ControlFlow::<()>::Continue(())
        });
    }
}

#[test]
fn openssl_s_client_against_pigeon_server() {
    require_tool("openssl", "openssl");
    let dir = tempdir("server");
    let openssl_fp = openssl_cert(&dir, "client");
    for (i, (suite, cipher, profile)) in CASES.into_iter().enumerate() {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        let local = socket.local_addr().unwrap();
        let mut rng: pigeon::Rng =
            Box::new(rand_chacha::ChaCha20Rng::seed_from_u64(100 + i as u64));
        let cert = DtlsCertificate::generate(&mut rng, "pigeon");
        let dtls = Dtls::server(pigeon_config(suite, profile, openssl_fp), cert, rng, local);
        let mut driver = Driver::new(dtls, vec![socket]).unwrap();

        let Piped {
            mut stdin,
            out: lines,
            err: errors,
            _guard,
        } = spawn_piped(
            Command::new("openssl")
                .args(["s_client", "-4", "-connect", &local.to_string()])
                .args(common_args(cipher, profile))
                .args(cert_args(&dir, "client"))
                .arg("-noservername"),
        );

        until_connected(&mut driver, suite, profile);
        assert_eq!(driver.machine().stats().hello_verify_requests, 1);
        let keying = wait_for_line(&lines, "Keying material:", Duration::from_secs(5));
        assert_eq!(
            keying.rsplit(' ').next().unwrap().to_uppercase(),
            exported(&driver, profile),
            "{cipher} {profile:?}: exporter mismatch; stderr {:?}",
            errors.lock().unwrap()
        );
        stdin.write_all(b"hello from openssl\n").unwrap();
        stdin.flush().unwrap();
        until_data(&mut driver, b"hello from openssl");
        driver
            .command(|d, now| d.send(now, b"hello from pigeon\n"))
            .unwrap();
        let _ = driver.run_for(Duration::from_millis(100), |_| {
            ControlFlow::<()>::Continue(())
        });
        wait_for_line(&lines, "hello from pigeon", Duration::from_secs(5));
    }
}

fn tempdir(tag: &str) -> std::path::PathBuf {
    let dir =
        std::env::temp_dir().join(format!("pigeon-dtls-interop-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Starts `pigeon dtls server` with `extra` arguments and connects `openssl s_client` to it
/// with the certificate `openssl_cert` made in `dir` (the server always asks for one).
/// Returns the server's log, s_client's stdin and stdout, and both processes' guards.
fn pigeon_server_and_s_client(dir: &Path, extra: &[String]) -> (Piped, Piped) {
    let port = free_udp_port("127.0.0.1");
    let server = spawn_piped(
        Command::new(pigeon_tests::pigeon_binary())
            .args(["dtls", "server", "--listen", &format!("127.0.0.1:{port}")])
            .args(extra),
    );
    wait_for_line(&server.err, "listening", Duration::from_secs(5));
    let client = spawn_piped(
        Command::new("openssl")
            .args(["s_client", "-4", "-dtls1_2", "-noservername", "-connect"])
            .arg(format!("127.0.0.1:{port}"))
            .args(cert_args(dir, "client")),
    );
    (server, client)
}

/// `openssl s_client` by hand against the `pigeon dtls server` command, which requests the
/// client certificate by default: without `--expect-fingerprint` it accepts OpenSSL's and
/// logs its fingerprint, and a typed line comes back echoed.
#[test]
fn openssl_s_client_against_pigeon_dtls_command() {
    require_tool("openssl", "openssl");
    let dir = tempdir("command-server");
    let openssl_fp = openssl_cert(&dir, "client");
    let (server, client) = pigeon_server_and_s_client(&dir, &[]);
    let Piped {
        mut stdin,
        out: lines,
        _guard,
        ..
    } = client;
    let log = &server.err;
    wait_for_line(&lines, "Cipher is", Duration::from_secs(10));
    let connected = wait_for_line(log, "connected", Duration::from_secs(5));
    assert!(
        connected.contains(&openssl_fp.to_string()),
        "the server logs the client certificate's fingerprint {openssl_fp}: {connected}"
    );
    stdin.write_all(b"echo me, pigeon\n").unwrap();
    stdin.flush().unwrap();
    wait_for_line(&lines, "echo me, pigeon", Duration::from_secs(5));
    wait_for_line(log, "echoing", Duration::from_secs(1));
}

/// `pigeon dtls server --expect-fingerprint`: OpenSSL's certificate is checked against it;
/// the right fingerprint connects, another one fails the handshake with bad_certificate.
#[test]
fn pigeon_dtls_command_checks_the_client_fingerprint() {
    require_tool("openssl", "openssl");
    let dir = tempdir("command-server-fp");
    let openssl_fp = openssl_cert(&dir, "client");
    let expect = |fp: &Fingerprint| vec!["--expect-fingerprint".to_owned(), fp.to_string()];

    let (server, client) = pigeon_server_and_s_client(&dir, &expect(&openssl_fp));
    wait_for_line(&client.out, "Cipher is", Duration::from_secs(10));
    wait_for_line(&server.err, "connected", Duration::from_secs(5));
    drop((server, client));

    let other = Fingerprint::parse(&format!("sha-256 {}", ["AB"; 32].join(":"))).unwrap();
    let (server, client) = pigeon_server_and_s_client(&dir, &expect(&other));
    let failed = wait_for_line(&server.err, "connection failed", Duration::from_secs(10));
    assert!(failed.contains("does not match"), "{failed}");
    // OpenSSL reports the bad_certificate alert pigeon sent (RFC 5246 §7.2.2).
    wait_for_line(&client.err, "bad certificate", Duration::from_secs(5));
    assert!(
        !server
            .err
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.contains(" connected")),
        "no connection with the wrong fingerprint"
    );
}

/// The `pigeon dtls client` command against `openssl s_server`, checking the server's
/// certificate by fingerprint: lines flow both ways.
#[test]
fn pigeon_dtls_command_against_openssl_s_server() {
    require_tool("openssl", "openssl");
    let dir = tempdir("command");
    let openssl_fp = openssl_cert(&dir, "server");
    let port = free_udp_port("127.0.0.1");
    let Piped {
        stdin: mut server_stdin,
        out: server_lines,
        _guard: _server,
        ..
    } = spawn_piped(
        Command::new("openssl")
            .args(["s_server", "-4", "-dtls1_2", "-naccept", "1", "-accept"])
            .arg(format!("127.0.0.1:{port}"))
            .args(cert_args(&dir, "server")),
    );
    wait_for_line(&server_lines, "ACCEPT", Duration::from_secs(5));

    let Piped {
        stdin: mut client_stdin,
        out: client_lines,
        err: log,
        _guard: _client,
    } = spawn_piped(
        Command::new(pigeon_tests::pigeon_binary())
            .args(["dtls", "client", "--connect", &format!("127.0.0.1:{port}")])
            .args(["--expect-fingerprint", &openssl_fp.to_string()]),
    );
    wait_for_line(&log, "connected", Duration::from_secs(10));
    client_stdin.write_all(b"typed into pigeon\n").unwrap();
    client_stdin.flush().unwrap();
    wait_for_line(&server_lines, "typed into pigeon", Duration::from_secs(5));
    server_stdin.write_all(b"typed into openssl\n").unwrap();
    server_stdin.flush().unwrap();
    wait_for_line(&client_lines, "typed into openssl", Duration::from_secs(5));
}

#![no_main]

#[path = "../bodies/stun_server.rs"]
mod body;

libfuzzer_sys::fuzz_target!(|data: &[u8]| body::server(data));

#![no_main]

#[path = "../bodies/ice_agent.rs"]
mod body;

libfuzzer_sys::fuzz_target!(|data: &[u8]| body::agent(data));

//! pigeon-std's `Driver` over real loopback UDP: the echo machine moves bytes and fires
//! timeouts, and pigeon's STUN client gets its answers from pigeon's STUN server. The checks
//! are shared with every blocking driver (`pigeon_tests::fixtures::blocking`).

pigeon_tests::blocking_driver_tests!(pigeon_std::Blocking);

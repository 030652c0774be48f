//! Ready-made scenarios: topologies plus the machines that exercise them.

pub mod dht;
pub mod nat_check;
pub mod ping;

//! Ready-made scenarios: topologies plus the machines that exercise them.

pub mod dht;
pub mod ice_matrix;
pub mod ice_world;
pub mod nat_check;
pub mod ping;

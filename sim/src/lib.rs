//! pigeon's deterministic network simulator (work in progress).

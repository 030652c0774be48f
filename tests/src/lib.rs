//! Shared helpers for pigeon's scenario and interop tests.

//! pigeon adapter for tokio (work in progress).

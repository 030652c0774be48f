//! pigeon adapter for mio (work in progress).

//! pigeon adapter for std (work in progress).

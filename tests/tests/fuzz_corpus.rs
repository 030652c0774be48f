//! Runs every fuzz target's body over its seed corpus (`fuzz/corpus/TARGET/`), so that a plain
//! `cargo test` exercises the fuzzers' code paths. A target with an empty or missing corpus fails.

use std::path::PathBuf;

/// Every file of `fuzz/corpus/<target>/`, read into memory; panics if there are none.
fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("corpus {} missing: {e}", dir.display()))
        .map(|entry| entry.expect("readable corpus entry").path())
        .collect();
    files.sort();
    let inputs: Vec<_> = files
        .into_iter()
        .map(|path| {
            let bytes = std::fs::read(&path).expect("readable corpus file");
            (path, bytes)
        })
        .collect();
    assert!(!inputs.is_empty(), "corpus {} is empty", dir.display());
    inputs
}

/// Runs `body` over every input of `target`'s corpus.
#[allow(dead_code)]
fn run_corpus(target: &str, body: impl Fn(&[u8])) {
    for (path, bytes) in corpus(target) {
        eprintln!("{}", path.display());
        body(&bytes);
    }
}

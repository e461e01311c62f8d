//! Runs every conformance vector in tests/vectors (the same files every
//! runtime runs).
// Test helpers panic on broken fixtures, as tests should.
#![cfg(feature = "aws-lc")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

#[test]
fn conformance_vectors() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors");
    let summary = mfagate::conformance::run_dir(&dir).expect("vector files load");
    for (id, why) in &summary.failed {
        eprintln!("FAIL {id}: {why}");
    }
    println!("{} passed, {} failed", summary.passed, summary.failed.len());
    assert!(
        summary.passed >= 150,
        "expected at least 150 vectors, found {}",
        summary.passed
    );
    assert!(
        summary.failed.is_empty(),
        "{} vectors failed",
        summary.failed.len()
    );
}

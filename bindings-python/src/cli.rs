//! The wheel's `mfagate` command (`mfagate.__main__`): the Rust CLI's own
//! code (cli/src/lib.rs), so the two cannot drift apart. Private.

use pyo3::prelude::*;
use std::ffi::OsString;

/// Runs the `mfagate` command line on `argv` (argv[0] names the program in
/// help and usage) and returns its exit status. It writes to file
/// descriptors 1 and 2 itself, not through `sys.stdout`, and reads fd 0.
/// `OsString`: an argument Python decoded with surrogateescape reaches the
/// CLI as the bytes it was given, as it would the Rust binary.
#[pyfunction]
#[pyo3(signature = (argv))]
pub fn _cli(py: Python<'_>, argv: Vec<OsString>) -> u8 {
    // Without the GIL: `inspect -` may wait on stdin for as long as it likes.
    py.detach(|| mfagate_cli::run(argv))
}

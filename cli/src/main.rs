//! `mfagate`: explain tokens, decide requests, lint policies, run the
//! conformance vectors and Partner Center's scenarios. The command line
//! itself is the library (src/lib.rs), which the Python wheel runs too.
#![forbid(unsafe_code)]

use std::process::ExitCode;

fn main() -> ExitCode {
    ExitCode::from(mfagate_cli::run(std::env::args_os()))
}

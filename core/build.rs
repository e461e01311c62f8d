//! Compiles the built-in policies (policies/*.toml, the documented source)
//! to JSON, so that builds without the `toml` feature (WebAssembly) carry no
//! TOML parser.

use std::path::Path;

include!("src/policy/toml_json.rs");

fn main() {
    let out = std::env::var("OUT_DIR").unwrap_or_else(|_| std::process::exit(1));
    for name in [
        "partner-center-2019",
        "partner-center-2020",
        "partner-center-2025",
        "partner-center-2026",
    ] {
        let src_path = format!("policies/{name}.toml");
        println!("cargo:rerun-if-changed={src_path}");
        let src = std::fs::read_to_string(&src_path).unwrap_or_else(|e| {
            eprintln!("cannot read {src_path}: {e}");
            std::process::exit(1)
        });
        let table: toml::Table = toml::from_str(&src).unwrap_or_else(|e| {
            eprintln!("{src_path} is not valid TOML: {e}");
            std::process::exit(1)
        });
        let json = toml_to_json(toml::Value::Table(table)).to_string();
        std::fs::write(Path::new(&out).join(format!("{name}.json")), json).unwrap_or_else(|e| {
            eprintln!("cannot write the compiled {name}: {e}");
            std::process::exit(1)
        });
    }
}

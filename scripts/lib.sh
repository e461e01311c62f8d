# Shared helpers for the scripts in this folder. Sourced, not run.

# Makes sure cargo is on PATH and rustfmt/clippy are installed.
ensure_rust() {
  if [ -f "$HOME/.cargo/env" ]; then . "$HOME/.cargo/env"; fi
  if ! command -v cargo >/dev/null 2>&1; then
    echo "mfagate: cargo is not installed. Install Rust with rustup (https://rustup.rs), then run this again." >&2
    exit 1
  fi
  if command -v rustup >/dev/null 2>&1; then
    rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt
    rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy
  fi
}

step() { printf '\n==> %s\n' "$*"; }

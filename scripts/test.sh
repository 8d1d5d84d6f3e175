#!/usr/bin/env bash
# Runs every check and test of the repository, installing what is missing:
# the wasm toolchain, the plugins and test guests, formatting, lints, and
# every test (unit, integration, contract, end-to-end).
#
#   scripts/test.sh            everything
#   scripts/test.sh -p CRATE   pass-through to `cargo test` after the checks
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# shellcheck source=scripts/lib.sh
source "$root/scripts/lib.sh"

# A one-off build gains nothing from incremental state, which costs gigabytes.
if [[ -n "${CI:-}" ]]; then export CARGO_INCREMENTAL=0; fi

ensure_rust
ensure_rust_components
ensure_node
ensure_python_module aiosmtpd

say "building plugins and test guests (wasm32-wasip2)"
"$root/scripts/build-plugins.sh"

say "cargo fmt --check"
cargo fmt --all -- --check

say "cargo clippy --all-targets -D warnings"
cargo clippy --workspace --all-targets --quiet -- -D warnings

say "building relais for the end-to-end tests"
cargo build -p relais --quiet
export RELAIS_BIN="${CARGO_TARGET_DIR:-$root/target}/debug/relais"

say "cargo test"
cargo test --workspace --no-fail-fast "$@"

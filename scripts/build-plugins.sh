#!/usr/bin/env bash
# Builds the WebAssembly components: every crate under plugins/ (shipped
# plugins) and tests/guests/ (test guests), for wasm32-wasip2, with the
# workspace's `plugin` profile, in target/wasm (never the host's target
# folder: the guests may use another compiler). Then copies them to
#
#   target/plugins/NAME.wasm       package plugin-NAME  (e.g. http.wasm)
#   target/test-guests/NAME.wasm   package guest-NAME   (e.g. probe.wasm)
#
# Usage: scripts/build-plugins.sh [PACKAGE...]   (default: all of them)
#
# Works from any directory, without a terminal (CI). The toolchain route is
# chosen by scripts/wasm-toolchain.sh. A second run with nothing changed
# takes seconds.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

# shellcheck source=scripts/wasm-toolchain.sh
source "$root/scripts/wasm-toolchain.sh"

# RUSTFLAGS would override the guest-only flags the route needs: fold it in.
if [ -n "${RUSTFLAGS:-}" ]; then
    CARGO_TARGET_WASM32_WASIP2_RUSTFLAGS="$CARGO_TARGET_WASM32_WASIP2_RUSTFLAGS $RUSTFLAGS"
    export CARGO_TARGET_WASM32_WASIP2_RUSTFLAGS
fi
unset RUSTFLAGS CARGO_ENCODED_RUSTFLAGS CARGO_BUILD_RUSTFLAGS
export CARGO_TARGET_DIR="$root/target/wasm"
export CARGO_TERM_PROGRESS_WHEN=never

# package name -> "plugins" | "test-guests"
declare -A kind=()
declare -a order=()
for manifest in plugins/*/Cargo.toml tests/guests/*/Cargo.toml; do
    [ -f "$manifest" ] || continue
    name=$(awk '
        /^\[package\]/ { in_pkg = 1; next }
        /^\[/ { in_pkg = 0 }
        in_pkg && /^name *=/ { gsub(/^name *= *"|".*$/, ""); print; exit }
    ' "$manifest")
    if [ -z "$name" ]; then
        echo "build-plugins: no package name in $manifest" >&2
        exit 1
    fi
    case "$manifest" in
        plugins/*) kind[$name]=plugins ;;
        *) kind[$name]=test-guests ;;
    esac
    order+=("$name")
done

if [ $# -gt 0 ]; then
    for name in "$@"; do
        if [ -z "${kind[$name]:-}" ]; then
            echo "build-plugins: no package $name under plugins/ or tests/guests/" >&2
            exit 1
        fi
    done
    order=("$@")
fi
if [ ${#order[@]} -eq 0 ]; then
    echo "build-plugins: nothing to build under plugins/ or tests/guests/" >&2
    exit 0
fi

args=()
for name in "${order[@]}"; do
    args+=(-p "$name")
done

# shellcheck disable=SC2086 # WASM_CARGO_FLAGS is a list of flags
"$WASM_CARGO" build $WASM_CARGO_FLAGS --target wasm32-wasip2 --profile plugin "${args[@]}" </dev/null

out="$CARGO_TARGET_DIR/wasm32-wasip2/plugin"
mkdir -p target/plugins target/test-guests
for name in "${order[@]}"; do
    artefact="$out/${name//-/_}.wasm"
    if [ ! -f "$artefact" ]; then
        echo "build-plugins: $name built no component at $artefact (is it a cdylib?)" >&2
        exit 1
    fi
    case "${kind[$name]}" in
        plugins) short="${name#plugin-}" ;;
        *) short="${name#guest-}" ;;
    esac
    dest="target/${kind[$name]}/$short.wasm"
    if ! cmp -s "$artefact" "$dest"; then
        cp "$artefact" "$dest.tmp"
        mv "$dest.tmp" "$dest"
    fi
    printf 'build-plugins: %-28s %8s bytes  (%s)\n' "$root/$dest" "$(wc -c <"$dest" | tr -d ' ')" "$name"
done

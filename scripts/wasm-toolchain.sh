#!/usr/bin/env bash
# Finds a way to build wasm32-wasip2 guests (plugins) and exports what the
# build needs. Three ways to use it:
#
#   source scripts/wasm-toolchain.sh          # exports into the current shell
#   scripts/wasm-toolchain.sh                 # prints the export lines
#   scripts/wasm-toolchain.sh CMD ARGS...     # runs CMD with the environment
#
# Routes, first that works wins:
#   rustup     the active toolchain already has the wasm32-wasip2 target
#   debian     Debian's rustc-web 1.96 + rust-web-src + wasi-libc, with std
#              built from source (-Zbuild-std) and rustup's wasm-component-ld
#   rustup     `rustup target add wasm32-wasip2` (60 s at most)
#   debian     after `apt-get install rustc-web cargo-web rust-web-src wasi-libc`
#
# Exported:
#   WASM_ROUTE                           rustup | debian
#   WASM_CARGO                           the cargo to run
#   WASM_CARGO_FLAGS                     extra cargo flags (-Zbuild-std=...)
#   CARGO_TARGET_WASM32_WASIP2_RUSTFLAGS guest-only rustflags (64 KiB stack, ...)
#   CARGO_TARGET_WASM32_WASIP2_LINKER    debian route: rustup's wasm-component-ld
#   RUSTC, RUSTC_BOOTSTRAP               debian route: Debian's compiler
#
# On the debian route RUSTC points at Debian's compiler: host builds in a shell
# that sourced this file would use it too. Prefer the CMD form, a subshell, or
# scripts/build-plugins.sh. Extra guest rustflags go in WASM_EXTRA_RUSTFLAGS.
# Running it twice is safe: every variable is recomputed, never appended to.

_relais_wasm_main() {
    local target=wasm32-wasip2
    local stack_flags="-C link-arg=-zstack-size=65536"
    local host_rustc host_triple rlbin

    _relais_wasm_log() { printf 'wasm-toolchain: %s\n' "$*" >&2; }

    if ! command -v rustc >/dev/null 2>&1; then
        _relais_wasm_log "error: no rustc on PATH (install Rust with rustup)"
        return 1
    fi
    host_rustc=$(command -v rustc)
    host_triple=$("$host_rustc" -vV | sed -n 's/^host: //p')

    # (a) the active toolchain has the target.
    _relais_wasm_has_target() {
        local libdir
        libdir=$("$host_rustc" --print target-libdir --target "$target" 2>/dev/null) || return 1
        compgen -G "$libdir/libstd-*.rlib" >/dev/null
    }

    # (b) Debian's compiler, its matching std source and WASI libc.
    _relais_wasm_has_debian() {
        [ -x /usr/bin/rustc ] && [ -x /usr/bin/cargo ] || return 1
        [ -d /usr/lib/rustlib/src/rust/library/std ] || return 1
        [ -f /usr/lib/wasm32-wasi/libc.a ] || return 1
        /usr/bin/rustc --version >/dev/null 2>&1 || return 1
        # build-std needs the source of exactly this compiler.
        if command -v dpkg-query >/dev/null 2>&1; then
            local rc src
            rc=$(dpkg-query -W -f='${Version}' rustc-web 2>/dev/null || true)
            src=$(dpkg-query -W -f='${Version}' rust-web-src 2>/dev/null || true)
            if [ -n "$rc" ] && [ -n "$src" ] && [ "$rc" != "$src" ]; then
                _relais_wasm_log "debian route skipped: rustc-web $rc but rust-web-src $src"
                return 1
            fi
        fi
        rlbin="$("$host_rustc" --print sysroot)/lib/rustlib/$host_triple/bin"
        [ -x "$rlbin/wasm-component-ld" ] && [ -x "$rlbin/gcc-ld/wasm-ld" ] || {
            _relais_wasm_log "debian route skipped: no $rlbin/wasm-component-ld or $rlbin/gcc-ld/wasm-ld"
            return 1
        }
    }

    _relais_wasm_use_rustup() {
        export WASM_ROUTE=rustup
        export WASM_CARGO=cargo
        export WASM_CARGO_FLAGS=""
        export CARGO_TARGET_WASM32_WASIP2_RUSTFLAGS="$stack_flags${WASM_EXTRA_RUSTFLAGS:+ $WASM_EXTRA_RUSTFLAGS}"
        unset CARGO_TARGET_WASM32_WASIP2_LINKER RUSTC RUSTC_BOOTSTRAP
        _relais_wasm_log "route rustup: $("$host_rustc" --version) with its own $target target"
    }

    _relais_wasm_use_debian() {
        export WASM_ROUTE=debian
        export WASM_CARGO=/usr/bin/cargo
        export WASM_CARGO_FLAGS="-Zbuild-std=std,panic_abort"
        export RUSTC=/usr/bin/rustc
        export RUSTC_BOOTSTRAP=1
        export CARGO_TARGET_WASM32_WASIP2_LINKER="$rlbin/wasm-component-ld"
        # Without self-contained linking rustc does not put rustup's wasm-ld
        # on the linker's PATH: name it to wasm-component-ld.
        export CARGO_TARGET_WASM32_WASIP2_RUSTFLAGS="-C link-self-contained=no -L /usr/lib/wasm32-wasi -C link-arg=--wasm-ld-path=$rlbin/gcc-ld/wasm-ld $stack_flags${WASM_EXTRA_RUSTFLAGS:+ $WASM_EXTRA_RUSTFLAGS}"
        _relais_wasm_log "route debian: $(/usr/bin/rustc --version) with std built from source, linker $rlbin/wasm-component-ld"
    }

    if _relais_wasm_has_target; then
        _relais_wasm_use_rustup
        return 0
    fi
    if _relais_wasm_has_debian; then
        _relais_wasm_use_debian
        return 0
    fi
    if command -v rustup >/dev/null 2>&1 && command -v timeout >/dev/null 2>&1; then
        _relais_wasm_log "trying: rustup target add $target (60 s at most)"
        if timeout 60 rustup target add "$target" </dev/null >&2 && _relais_wasm_has_target; then
            _relais_wasm_use_rustup
            return 0
        fi
        _relais_wasm_log "rustup target add $target did not finish"
    fi

    _relais_wasm_log "installing Debian's route: rustc-web cargo-web rust-web-src wasi-libc"
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        sudo="sudo -n"
    fi
    local pkgs="rustc-web cargo-web rust-web-src wasi-libc"
    if ! apt-cache show rustc-web >/dev/null 2>&1; then
        DEBIAN_FRONTEND=noninteractive $sudo apt-get update -q </dev/null >&2 || true
    fi
    # shellcheck disable=SC2086
    if DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q $pkgs </dev/null >&2 \
        && _relais_wasm_has_debian; then
        _relais_wasm_use_debian
        return 0
    fi
    _relais_wasm_log "error: no way to build $target guests: install the $target target with rustup, or Debian's $pkgs"
    return 1
}

# Sourced: export into the caller's shell and stop here.
if [ "${BASH_SOURCE[0]}" != "$0" ]; then
    _relais_wasm_main
    return $?
fi

set -euo pipefail
_relais_wasm_main
if [ $# -gt 0 ]; then
    exec "$@"
fi
for var in WASM_ROUTE WASM_CARGO WASM_CARGO_FLAGS CARGO_TARGET_WASM32_WASIP2_RUSTFLAGS \
    CARGO_TARGET_WASM32_WASIP2_LINKER RUSTC RUSTC_BOOTSTRAP; do
    if [ -n "${!var+set}" ]; then
        printf 'export %s=%q\n' "$var" "${!var}"
    fi
done

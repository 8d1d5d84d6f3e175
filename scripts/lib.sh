# Shared by scripts/run.sh and scripts/test.sh: install what is missing.
# Every step checks first, so running twice does nothing twice.

say() { printf '==> %s\n' "$*" >&2; }

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
        say "need root for: $*"; return 1
    fi
}

apt_install() {
    command -v apt-get >/dev/null || { say "install these with your package manager: $*"; return 1; }
    if ! as_root apt-get install -y -q "$@" >/dev/null 2>&1; then
        as_root apt-get update -q >/dev/null
        as_root apt-get install -y -q "$@" >/dev/null
    fi
}

ensure_rust() {
    if ! command -v cargo >/dev/null; then
        [ -x "$HOME/.cargo/bin/cargo" ] && export PATH="$HOME/.cargo/bin:$PATH"
    fi
    if ! command -v cargo >/dev/null; then
        say "installing Rust with rustup"
        command -v curl >/dev/null || apt_install curl ca-certificates
        curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal
        export PATH="$HOME/.cargo/bin:$PATH"
    fi
    command -v cc >/dev/null || apt_install gcc libc6-dev
}

ensure_rust_components() {
    for c in rustfmt clippy; do
        if ! cargo "${c/rustfmt/fmt}" --version >/dev/null 2>&1; then
            say "adding rustup component $c"
            timeout 120 rustup component add "$c"
        fi
    done
}

ensure_node() {
    if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
        say "installing Node.js (vendor contract mocks)"
        apt_install nodejs npm
    fi
}

ensure_python_module() { # MODULE [PIP-NAME]
    if ! python3 -c "import $1" >/dev/null 2>&1; then
        say "installing python module ${2:-$1}"
        command -v python3 >/dev/null || apt_install python3 python3-pip
        python3 -m pip install --quiet "${2:-$1}" 2>/dev/null \
            || python3 -m pip install --quiet --break-system-packages "${2:-$1}"
    fi
}

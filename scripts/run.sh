#!/usr/bin/env bash
# Builds Relais and the bundled plugins, installing what is missing, then
# shows a plugin running in the sandbox: the bundled `http` plugin calls a
# local web server that this script starts on 127.0.0.1 (and stops).
# Safe to run twice.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# shellcheck source=scripts/lib.sh
source "$root/scripts/lib.sh"

ensure_rust
say "building the bundled plugins (wasm32-wasip2)"
"$root/scripts/build-plugins.sh" >/dev/null
say "building relais (release)"
cargo build --release -p relais --quiet
relais="$root/target/release/relais"

say "the bundled plugins"
"$relais" plugin list

www=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; rm -rf "$www"' EXIT
printf '{"status": "up", "service": "demo"}\n' >"$www/health.json"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$www" >/dev/null 2>&1 &
server=$!
for _ in $(seq 50); do
    python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 1)" 2>/dev/null && break
    sleep 0.1
done

say "http/request → http://127.0.0.1:$port/health.json, granted to the plugin"
"$relais" plugin invoke http request \
    --input "{\"url\": \"http://127.0.0.1:$port/health.json\"}" \
    --grant-host "http://127.0.0.1:$port"

say "the same request without the grant: refused by the sandbox"
"$relais" plugin invoke http request \
    --input "{\"url\": \"http://127.0.0.1:$port/health.json\"}" || true

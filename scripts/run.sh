#!/usr/bin/env bash
# Builds Relais and the bundled plugins, installing what is missing, checks
# the example workflows, runs the hello workflow against a local echo service
# this script starts on 127.0.0.1:9911 (and stops), then serves the examples
# on the embedded default (data under ./data) until Ctrl-C. Safe to run twice.
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

say "the example workflows (examples/workflows)"
"$relais" validate

# The hello example posts to a local service on 127.0.0.1:9911 (granted to
# the http plugin by the embedded default): a small echo service.
cleanup() {
    kill "${echo_pid:-0}" 2>/dev/null || true
}
trap cleanup EXIT
python3 - <<'PY' >/dev/null 2>&1 &
import http.server, json
class Echo(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        out = json.dumps({"received": json.loads(body or b"null")}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", 9911), Echo).serve_forever()
PY
echo_pid=$!
for _ in $(seq 50); do
    python3 -c "import socket; socket.create_connection(('127.0.0.1', 9911), 1)" 2>/dev/null && break
    sleep 0.1
done

say "a manual run of the hello workflow, followed step by step"
"$relais" run hello --input '{"name": "Ana"}' --wait

say "the last runs (data in ./data)"
"$relais" runs list -n 5

cat <<'TXT'

relais serve: webhooks, the API and the scheduler on http://127.0.0.1:8080
(Ctrl-C stops it; runs not finished stay queued for the next start).
In another terminal:
  target/release/relais run hello -i '{"name":"Bo"}' --wait
  target/release/relais runs list
  target/release/relais token create demo      # then: curl -H "Authorization: Bearer TOKEN" http://127.0.0.1:8080/api/v1/runs
  target/release/relais cron next uptime -n 3
TXT
"$relais" serve

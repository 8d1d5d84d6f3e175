#!/usr/bin/env bash
# Load benchmark: POST /hooks/bench (token-verified webhook) -> a 1-step run,
# at concurrency 1, 16 and 64 (DURATION seconds each, default 20).
# Prints webhooks acknowledged per second, runs completed per second during
# the window, p50/p99 acknowledgement latency and the server's peak RSS.
# Everything stays on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-20}
PORT=${PORT:-18181}
LEVELS=${LEVELS:-"1 16 64"}

if ! command -v wrk >/dev/null; then
  echo "installing wrk" >&2
  apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
fi
# RELAIS=path/to/relais uses that binary instead of building the release one.
if [ -z "${RELAIS:-}" ]; then
  cargo build --release -q -p relais
  RELAIS=target/release/relais
fi

WORK=$(mktemp -d)
trap 'kill "${PID:-0}" 2>/dev/null || true; rm -rf "$WORK"' EXIT
mkdir -p "$WORK/workflows" "$WORK/plugins"
cat > "$WORK/workflows/bench.yaml" <<'YAML'
id: bench
trigger:
  webhook:
    path: bench
    verify: { scheme: token, secret: bench_token }
steps:
  - id: note
    set: { event: "{{ trigger.body.id }}" }
YAML
cat > "$WORK/relais.toml" <<TOML
data_dir = "$WORK/data"
plugins_dir = "$WORK/plugins"
workflows_dir = "$WORK/workflows"
[server]
listen = "127.0.0.1:$PORT"
shutdown_grace_secs = 5
TOML
echo -n "bench-secret-token" | "$RELAIS" -c "$WORK/relais.toml" secret set bench_token
cat > "$WORK/post.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer bench-secret-token"
local n = 0
request = function()
  n = n + 1
  return wrk.format(nil, nil, nil, '{"id":"evt_' .. n .. '","type":"invoice.paid"}')
end
LUA

"$RELAIS" -c "$WORK/relais.toml" serve 2>"$WORK/server.log" &
PID=$!
for _ in $(seq 120); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.5; done

succeeded() {
  curl -s "http://127.0.0.1:$PORT/metrics" \
    | awk '/^relais_runs\{/ && /workflow="bench"/ && /status="succeeded"/ {print $2}' | head -1
}

printf '%-12s %12s %12s %10s %10s %12s\n' concurrency acks/s runs/s p50 p99 peak_rss
for c in $LEVELS; do
  threads=$(( c < 2 ? 1 : 2 ))
  before=$(succeeded); before=${before:-0}
  out=$(wrk -t"$threads" -c"$c" -d"${DURATION}s" --latency -s "$WORK/post.lua" "http://127.0.0.1:$PORT/hooks/bench")
  after=$(succeeded); after=${after:-0}
  non2xx=$(echo "$out" | awk '/Non-2xx/ {print $NF}')
  acks=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p50=$(echo "$out" | awk '$1=="50%" {print $2}')
  p99=$(echo "$out" | awk '$1=="99%" {print $2}')
  rss=$(awk '/VmHWM/ {print $2 $3}' "/proc/$PID/status")
  runs=$(awk -v a="$after" -v b="$before" -v d="$DURATION" 'BEGIN {printf "%.0f", (a-b)/d}')
  printf '%-12s %12s %12s %10s %10s %12s\n' "$c" "$acks" "$runs" "$p50" "$p99" "$rss"
  if [ -n "$non2xx" ]; then echo "  non-2xx answers: $non2xx" >&2; fi
done
kill -TERM "$PID"; wait "$PID" 2>/dev/null || true

#!/usr/bin/env bash
# ctest entry bench.load_smoke: atrium-load against a fresh atrium, 1 publisher -> 5 subscribers for 3 s;
# then the same with the subscribers over ICE-TCP (--tcp: their UDP sockets are never read, so what they receive
# came over TCP); fails unless every subscriber receives and nothing is lost. Timings are printed, never asserted.
#   smoke.sh ATRIUM_BIN ATRIUM_LOAD_BIN [OUT_DIR]
set -euo pipefail
atrium=$1 load=$2 out=${3:-$(mktemp -d)}
mkdir -p "$out"
log=$out/load-smoke-atrium.log
"$atrium" --bind 127.0.0.1 --udp-port 0 --workers 1 --http 127.0.0.1:0 >"$log" 2>&1 &
pid=$!
trap 'kill -TERM $pid 2>/dev/null || true; wait $pid 2>/dev/null || true' EXIT
url=""
for _ in $(seq 100); do
  url=$(grep -o 'listening on http://[0-9.:]*' "$log" | head -1 | sed 's/listening on //' || true)
  [ -n "$url" ] && break
  kill -0 $pid 2>/dev/null || { echo "smoke: atrium exited at start:"; cat "$log"; exit 1; }
  sleep 0.05
done
[ -n "$url" ] || { echo "smoke: atrium did not say where it listens within 5 s:"; cat "$log"; exit 1; }
"$load" --server atrium --url "$url" -n 5 --duration 3 --warmup 0.5 --server-pid $pid --require-no-loss \
  --quiet --out "$out/load-smoke.json"
cat "$out/load-smoke.json"
"$load" --server atrium --url "$url" --room load-tcp -n 5 --duration 3 --warmup 0.5 --server-pid $pid --require-no-loss \
  --tcp --quiet --out "$out/load-smoke-tcp.json"
cat "$out/load-smoke-tcp.json"

#!/usr/bin/env bash
# Fan-out side by side: the same atrium-load (1 publisher, N subscribers) against Atrium and Janus 1.1.2
# (VideoRoom over its HTTP API, event_loops = 2), N = 10 50 100 200 400; per run the server's CPU seconds
# (/proc/PID/stat), packets forwarded, loss, p50/p99 latency; then a table with the Atrium/Janus ratio of CPU
# per forwarded packet.
#
#   bench/fanout.sh                 the full series (about 10 minutes)
#   bench/fanout.sh --quick         N = 10 50, 5 s windows
#   options: --counts "10 50 100"  --duration S  --servers "atrium janus"  --video-kbps K  --video-pps P
#            --out DIR (default build/release/bench-results/fanout-<time>)
#            --janus-config DIR: only write the Janus configuration the harness uses into DIR
#            --table DIR: only print the table of the results in DIR (with --counts/--servers as they were)
#
# Everything runs in a network namespace of its own (unshare --net, so root): loopback only, plus a veth
# carrying 127.0.0.2, because Janus skips loopback interfaces when it gathers ICE candidates.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

counts="10 50 100 200 400"
duration=15
warmup=2
servers="atrium janus"
video_kbps=2500
video_pps=300
out=""
janus_config_only=""
table_only=""
while [ $# -gt 0 ]; do
  case $1 in
    --quick) counts="10 50"; duration=5; warmup=1 ;;
    --counts) counts=$2; shift ;;
    --duration) duration=$2; shift ;;
    --servers) servers=$2; shift ;;
    --video-kbps) video_kbps=$2; shift ;;
    --video-pps) video_pps=$2; shift ;;
    --out) out=$2; shift ;;
    --janus-config) janus_config_only=$2; shift ;;
    --table) table_only=$2; shift ;;
    -h | --help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "fanout.sh: unknown option '$1' (try --help)" >&2; exit 2 ;;
  esac
  shift
done

janus_config() { # [dir]
  local dir=${1:-$work/janus}
  mkdir -p "$dir"
  local plugins=/usr/lib/x86_64-linux-gnu/janus/plugins transports=/usr/lib/x86_64-linux-gnu/janus/transports
  local disable_plugins disable_transports
  disable_plugins=$(cd "$plugins" && ls lib*.so | grep -v videoroom | paste -sd,)
  disable_transports=$(cd "$transports" && ls lib*.so | grep -v '^libjanus_http.so$' | paste -sd,)
  cat >"$dir/janus.jcfg" <<EOF
general: {
  configs_folder = "$dir"
  plugins_folder = "$plugins"
  transports_folder = "$transports"
  events_folder = "/usr/lib/x86_64-linux-gnu/janus/events"
  loggers_folder = "/usr/lib/x86_64-linux-gnu/janus/loggers"
  debug_level = 3
  session_timeout = 0
  event_loops = 2
}
certificates: {
}
media: {
  rtp_port_range = "40000-49999"
}
nat: {
  nice_debug = false
  ice_enforce_list = "atrv0"
  ice_ignore_list = "lo"
}
plugins: {
  disable = "$disable_plugins"
}
transports: {
  disable = "$disable_transports"
}
loggers: {
  disable = "libjanus_jsonlog.so"
}
events: {
  broadcast = false
}
EOF
  cat >"$dir/janus.transport.http.jcfg" <<EOF
general: {
  json = "compact"
  base_path = "/janus"
  http = true
  port = 18088
  ip = "127.0.0.1"
  https = false
}
admin: {
  admin_http = false
}
cors: {
}
EOF
  cat >"$dir/janus.plugin.videoroom.jcfg" <<EOF
general: {
}
EOF
  echo "$dir"
}

if [ -n "$janus_config_only" ]; then
  janus_config "$janus_config_only" >/dev/null
  exit 0
fi

print_table() { # dir counts servers
  local dir=$1 n s f r ratio
  # CPU per packet: per datagram the server sent in the window (counted in the namespace, --netns), else per
  # packet the subscribers received in it.
  local per='def per: (.server_cpu_us_per_sent_datagram // .server_cpu_us_per_forwarded_packet);'
  echo "| N | server | sent pkt/s | server CPU % (of it kernel) | CPU µs / sent pkt | loss % | p50 ms | p99 ms | Atrium/Janus CPU per pkt |"
  echo "|---:|---|---:|---:|---:|---:|---:|---:|---:|"
  # The kernel's floor (bench/udp_floor): a sender that only sendmmsg's the same fan-out to loopback sockets.
  for n in $2; do
    f=$dir/floor-$n.json
    [ -f "$f" ] && jq -r --arg n "$n" '"| \($n) | kernel floor | \(.pps * .receivers) | | \(.cpu_us_per_datagram * 100 | round / 100) | | | | |"' "$f"
  done
  for n in $2; do
    ratio=$(jq -rn --slurpfile a "$dir/atrium-$n.json" --slurpfile j "$dir/janus-$n.json" "$per"'
      if ($a[0].failed // false) or ($j[0].failed // false) then "–"
      else ($a[0] | per) / ($j[0] | per) * 100 | round / 100 | tostring end' 2>/dev/null || echo "–")
    for s in $3; do
      f=$dir/$s-$n.json
      [ -f "$f" ] || continue
      r=""
      [ "$s" = atrium ] && r=$ratio
      jq -r --arg n "$n" --arg s "$s" --arg r "$r" "$per"'
        if .failed then "| \($n) | \($s) | failed | | | | | | |"
        else "| \($n) | \($s) | \((.server_datagrams_sent_per_s // .forwarded_pps) | round) | \(.server_cpu_percent * 10 | round / 10) (\(.server_cpu_sys_s / .duration_s * 1000 | round / 10)) | \(per * 100 | round / 100) | \(.loss_ratio * 10000 | round / 100) | \(.latency_p50_us / 10 | round / 100) | \(.latency_p99_us / 10 | round / 100) | \($r) |" end' "$f"
    done
  done
}
if [ -n "$table_only" ]; then
  print_table "$table_only" "$counts" "$servers"
  exit 0
fi

build=$root/build/release
[ -n "$out" ] || out=$build/bench-results/fanout-$(date +%Y%m%d-%H%M%S)

if [ -z "${ATRIUM_BENCH_NETNS:-}" ]; then
  # Outside the namespace: install, build, then run again inside a fresh network namespace.
  if [ "$(id -u)" != 0 ]; then
    echo "fanout.sh: needs root (it makes a network namespace with unshare --net and a veth pair)" >&2
    exit 2
  fi
  "$root/scripts/deps.sh" bench
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  echo "fanout.sh: building atrium and atrium-load ($build)"
  cmake --build "$build" -j "$(nproc)" --target atrium atrium-load udp_floor >/dev/null
  mkdir -p "$out"
  exec unshare --net env ATRIUM_BENCH_NETNS=1 "$0" --counts "$counts" --duration "$duration" --servers "$servers" \
    --video-kbps "$video_kbps" --video-pps "$video_pps" --out "$out"
fi

# ---- inside the namespace -------------------------------------------------------------------------------
ip link set lo up
ip link add atrv0 type veth peer name atrv1
ip addr add 127.0.0.2/32 dev atrv0
ip link set atrv0 up
ip link set atrv1 up

work=$(mktemp -d /tmp/atrium-fanout.XXXXXX)
server_pid=""
stop_server() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  server_pid=""
}
trap 'stop_server; rm -rf "$work"' EXIT

wait_http() { # url, seconds
  for _ in $(seq $(($2 * 10))); do
    curl -s -o /dev/null "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

start_server() { # name, N -> sets server_pid, server_url
  case $1 in
    atrium)
      "$build/src/server/atrium" --bind 127.0.0.1 --udp-port 0 --workers 2 --http 127.0.0.1:18080 \
        --log-level warn --max-pending-per-address 1000 --max-pending-sessions 2000 --max-connections-per-address 4096 >"$out/atrium-$2.log" 2>&1 &
      server_pid=$!
      server_url=http://127.0.0.1:18080
      client_ip=127.0.0.1
      wait_http "$server_url/healthz" 10 || { echo "fanout.sh: atrium did not start; see $out/atrium-$2.log" >&2; exit 1; }
      ;;
    janus)
      local dir
      dir=$(janus_config)
      janus -C "$dir/janus.jcfg" -F "$dir" >"$out/janus-$2.log" 2>&1 &
      server_pid=$!
      server_url=http://127.0.0.1:18088/janus
      client_ip=127.0.0.2 # Janus's candidate is on the veth; the kernel refuses 127.0.0.2 -> 127.0.0.1
      wait_http "$server_url/info" 15 || { echo "fanout.sh: janus did not start; see $out/janus-$2.log" >&2; exit 1; }
      ;;
  esac
}

echo "fanout.sh: N = $counts, ${duration} s windows, video ${video_kbps} kbit/s at ${video_pps} pkt/s + audio; results in $out"
for n in $counts; do
  # What the kernel alone costs per datagram for this fan-out, measured beside the servers.
  "$build/bench/udp_floor" -n "$n" --pps $((video_pps + 50)) --seconds "$duration" >"$out/floor-$n.json" || true
  for s in $servers; do
    start_server "$s" "$n"
    result=$out/$s-$n.json
    # Each subscriber counts every packet by sequence number; decrypting them all would make the one-threaded
    # client the bottleneck at large N, so one packet in K is authenticated, decrypted and timed.
    decrypt_every=$(( n / 25 > 1 ? n / 25 : 1 ))
    if ! "$build/bench/load/atrium-load" --server "$s" --url "$server_url" --bind "$client_ip" -n "$n" --duration "$duration" \
      --warmup "$warmup" --server-pid "$server_pid" --video-kbps "$video_kbps" --video-pps "$video_pps" \
      --decrypt-every "$decrypt_every" --netns --out "$result"; then
      echo "fanout.sh: the $s run with N=$n failed (server log: $out/$s-$n.log)" >&2
      echo '{"failed": true}' >"$result"
    fi
    stop_server
  done
done

# ---- the table ----------------------------------------------------------------------------------------------
table=$out/table.md
print_table "$out" "$counts" "$servers" >"$table"
echo
cat "$table"
echo
echo "fanout.sh: table in $table, one JSON per run beside it"

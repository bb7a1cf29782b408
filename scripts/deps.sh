#!/usr/bin/env bash
# Installs what is missing for a profile, from Debian packages (apt) and the npm registry only. Idempotent:
# apt runs only when a package is missing, npm only when tests/integration/node_modules is older than its lock.
#   scripts/deps.sh build        compilers and libraries to build the server
#   scripts/deps.sh test         build + test clients (chromium, firefox-esr, node, clang for fuzzing/sanitizers,
#                                ffmpeg, nats, openssl (https.test.mjs makes certificates with it), coturn (turn.test.mjs runs turnserver itself), GStreamer webrtcbin with python3-gi for tests/integration/clients/gst_whip.py,
#                                baresip-core, sip-tester (SIPp) and sox for the SIP tests: tests/integration/lib/baresip.mjs)
#   scripts/deps.sh bench        build + what bench/fanout.sh compares against and needs (janus 1.1.2, jq, curl)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
profile=${1:-build}

build_pkgs=(build-essential cmake ninja-build pkg-config git
  libssl-dev libboost1.81-dev nlohmann-json3-dev libspdlog-dev libcli11-dev libsrtp2-dev libusrsctp-dev
  libgtest-dev libgmock-dev libbenchmark-dev libnats-dev node-typescript
  libavcodec-dev libavutil-dev libswresample-dev libopus-dev)
test_pkgs=(clang libclang-rt-14-dev lld nodejs npm chromium firefox-esr curl openssl procps iproute2 nftables nats-server coturn
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly
  gstreamer1.0-libav gstreamer1.0-nice python3-gst-1.0 gir1.2-gst-plugins-bad-1.0
  baresip-core sip-tester sox)
bench_pkgs=(janus jq curl iproute2 util-linux)

pkgs=("${build_pkgs[@]}")
[ "$profile" = test ] && pkgs+=("${test_pkgs[@]}")
[ "$profile" = bench ] && pkgs+=("${bench_pkgs[@]}")

missing=()
for p in "${pkgs[@]}"; do
  # node may come from another Debian-compatible install on the machine; only ask apt if there is none.
  case $p in nodejs | npm) command -v node >/dev/null && command -v npm >/dev/null && continue ;; esac
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "atrium: installing Debian packages: ${missing[*]}"
  sudo_cmd=(); [ "$(id -u)" = 0 ] || sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ "$profile" = test ]; then
  it="$here/tests/integration"
  if [ -f "$it/package-lock.json" ] && { [ ! -d "$it/node_modules" ] || [ "$it/package-lock.json" -nt "$it/node_modules/.stamp" ]; }; then
    echo "atrium: installing test clients from npm (tests/integration)"
    (cd "$it" && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.stamp)
  fi
fi

#!/usr/bin/env bash
# The status page's first screen at a large fleet: time to first byte and to the whole answer of the page (HTML), the
# page as its script asks for it (JSON), the first API page, a filtered list and a group badge, and the first screen as
# headless Chromium draws it. Target: under a second.
# This build only, on this machine, 127.0.0.1 only.
#
# Usage: bench/page.sh [--hosts N] [--requests N] [--down N]
#   --hosts N     hosts registered before measuring (default 100000)
#   --requests N  requests per URL, one at a time (default 20)
#   --down N      of them, hosts made to fail first, so trouble leads the list (default 1000)
#
# Publishes the server (Release, framework-dependent), registers the hosts with wrk and bench/heartbeats.lua (interval
# one hour: nothing turns late while measuring), makes --down of them fail, then asks each URL --requests times with
# curl after one warm-up request. Prints median and max of time to first byte and total, and the size. Every load is
# bounded in time; the server it starts is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh

hosts=100000
requests=20
down=1000
while [ $# -gt 0 ]; do
  case "$1" in
    --hosts) hosts="$2"; shift 2 ;;
    --requests) requests="$2"; shift 2 ;;
    --down) down="$2"; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "page.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

need_wrk
start_scratch

echo "Building $(git rev-parse --short HEAD)$(git diff --quiet HEAD || echo ' with uncommitted changes')..."
dotnet publish src/Heartbeat.Server/Heartbeat.Server.csproj -c Release -o "$work/server" >"$work/build.log" || { cat "$work/build.log" >&2; exit 1; }
port=17791
base="http://127.0.0.1:$port"
HEARTBEAT_MAX_HOSTS=100000000 HEARTBEAT_MAX_NEW_HOSTS_PER_MINUTE=0 "$work/server/heartbeat-server" "$port" --bind 127.0.0.1 \
  --log-file "$work/heartbeat.log" --store memory --rate-limit 0 --host-rate-limit 0 --public-badges >"$work/server.out" 2>&1 &
server_pid=$!
wait_until_up "$base/healthz"

echo "Registering $hosts hosts..."
register_hosts "$base" "$hosts" 3600
echo "Making $down of them fail (a group of their own, \"failing\")..."
for i in $(seq 0 $((down - 1))); do
  printf '{"host":"host-%d","status":"fail","msg":"benchmark failure","group":"failing","interval":3600}\n' "$((i * (hosts / down)))"
done | while read -r body; do curl -fsS -o /dev/null -X POST -H 'Content-Type: application/json' --data "$body" "$base/"; done

# median and max of a column of numbers (seconds), in ms
stats() { sort -n | awk '{ v[NR] = $1 } END { printf "%.1f %.1f\n", v[int((NR + 1) / 2)] * 1000, v[NR] * 1000 }'; }

printf '%-40s %10s %10s %10s %10s %10s\n' url ttfb-p50 ttfb-max total-p50 total-max bytes
echo "| URL | first byte, median | first byte, max | whole answer, median | whole answer, max | bytes |" >"$work/results.md"
echo "|---|---:|---:|---:|---:|---:|" >>"$work/results.md"
measure() { # $1: label, $2: path, $3…: curl options
  local label="$1" path="$2"; shift 2
  curl -fsS -o /dev/null "$@" "$base$path" # warm-up
  : >"$work/times"
  for _ in $(seq 1 "$requests"); do
    curl -fsS -o /dev/null --max-time 30 -w '%{time_starttransfer} %{time_total} %{size_download}\n' "$@" "$base$path" >>"$work/times"
  done
  read -r ttfb50 ttfbmax < <(cut -d' ' -f1 "$work/times" | stats)
  read -r total50 totalmax < <(cut -d' ' -f2 "$work/times" | stats)
  bytes=$(tail -1 "$work/times" | cut -d' ' -f3)
  printf '%-40s %8s ms %8s ms %8s ms %8s ms %10s\n' "$label" "$ttfb50" "$ttfbmax" "$total50" "$totalmax" "$bytes"
  echo "| $label | $ttfb50 ms | $ttfbmax ms | $total50 ms | $totalmax ms | $bytes |" >>"$work/results.md"
}
measure "GET / (HTML)" "/" -H 'Accept: text/html'
measure "GET / (JSON, as status.js asks)" "/" -H 'Accept: application/json'
measure "GET /api/v1/hosts" "/api/v1/hosts"
measure "GET /api/v1/hosts?state=up (past trouble)" "/api/v1/hosts?state=up"
measure "GET /?group=failing (HTML)" "/?group=failing" -H 'Accept: text/html'
measure "GET /?q=host-99999 (HTML, one match)" "/?q=host-99999" -H 'Accept: text/html'
measure "GET /?group=nowhere (HTML, no match: every host looked at)" "/?group=nowhere" -H 'Accept: text/html'
measure "GET /badge/group/failing.svg" "/badge/group/failing.svg"
measure "GET /badge/host-5.svg" "/badge/host-5.svg"

# The first screen as a browser draws it: headless Chromium loads the page, runs its script and takes a 1400x900
# screenshot; the same for about:blank, taking turns, is the browser's own start-up, subtracted.
browser=$(command -v chromium || command -v chromium-browser || true)
if [ -n "$browser" ]; then
  : >"$work/page-times"; : >"$work/blank-times"
  shot() { # $1: URL, $2: file for the time
    local start=$EPOCHREALTIME
    timeout 60 "$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1400,900 \
      --screenshot="$work/shot.png" "$1" >/dev/null 2>&1
    awk -v end="$EPOCHREALTIME" -v start="$start" 'BEGIN { print end - start }' >>"$2"
  }
  for _ in $(seq 1 5); do shot about:blank "$work/blank-times"; shot "$base/" "$work/page-times"; done
  read -r page50 pagemax < <(stats <"$work/page-times")
  read -r blank50 _ < <(stats <"$work/blank-times")
  first=$(awk -v page="$page50" -v blank="$blank50" 'BEGIN { printf "%.1f", page - blank }')
  printf '%-40s %8s ms (browser start-up, %s ms, subtracted; max with it %s ms)\n' "first screen in Chromium" "$first" "$blank50" "$pagemax"
  echo "| first screen drawn by headless Chromium (start-up of $blank50 ms subtracted) | | | $first ms | $pagemax ms with start-up | |" >>"$work/results.md"
fi
echo
cat "$work/results.md"

#!/usr/bin/env bash
# Memory per host: the real server's RSS with 0, 50,000 and 100,000 hosts, without and with a 10 kB ping body each.
#
# Usage: bench/memory.sh [--hosts "0 50000 100000"] [--body-bytes 10000] [--connections 16]
#
# Builds the server (Release; NativeAOT when deploy/publish.sh can build it here, i.e. clang is present, else the
# JIT build), then for each count and each kind (plain beats, pings with a body) starts a fresh server on 127.0.0.1
# with a temporary log and SQLite store, creates the hosts with keep-alive clients (python3, standard library), waits
# for a store flush and reads VmRSS from /proc. Rate limits and the bounds on hosts and bodies are lifted for the
# run (that is what is measured); a last run with the default --max-body-memory shows that bound holding.
# Prints a Markdown table for bench/RESULTS.md. Every process it starts is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh

counts="0 50000 100000"
body_bytes=10000
connections=16
while [ $# -gt 0 ]; do
  case "$1" in
    --hosts) counts="$2"; shift 2 ;;
    --body-bytes) body_bytes="$2"; shift 2 ;;
    --connections) connections="$2"; shift 2 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "memory.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

work=$(mktemp -d)
server_pid=""
cleanup() {
  [ -z "$server_pid" ] || kill "$server_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

if command -v clang >/dev/null; then
  build="NativeAOT"
  echo "Building heartbeat-server (Release, NativeAOT)..."
  dotnet publish src/Heartbeat.Server/Heartbeat.Server.csproj -c Release -r linux-x64 -p:PublishAot=true -o "$work/bin" >/dev/null
else
  build="Release JIT (no clang here for NativeAOT)"
  echo "Building heartbeat-server (Release, JIT; with clang it measures the NativeAOT build deploy/publish.sh ships)..."
  dotnet build src/Heartbeat.Server/Heartbeat.Server.csproj -c Release >/dev/null
  mkdir -p "$work/bin" && ln -s "$PWD/src/Heartbeat.Server/bin/Release/net10.0/heartbeat-server" "$work/bin/heartbeat-server"
fi
server_bin="$work/bin/heartbeat-server"

rss_kib() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status"; }

start_server() { # $@: extra options
  rm -rf "$work/run" && mkdir "$work/run"
  "$server_bin" 0 --bind 127.0.0.1 --log-file "$work/run/heartbeat.log" --data "$work/run/heartbeat.db" \
    --rate-limit 0 --host-rate-limit 0 "$@" >"$work/run/console.txt" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 600); do
    server_port=$(grep -oE 'listening on port [0-9]+' "$work/run/heartbeat.log" 2>/dev/null | grep -oE '[0-9]+$' || true)
    [ -n "$server_port" ] && break
    sleep 0.1
  done
  [ -n "$server_port" ] || { echo "memory.sh: the server did not start: $(cat "$work/run/console.txt")" >&2; exit 1; }
  wait_until_up "http://127.0.0.1:$server_port/healthz"
}

stop_server() {
  kill "$server_pid" && wait "$server_pid" 2>/dev/null || true
  server_pid=""
}

# Creates hosts h-0 … h-(N-1): POST / with {"host": …}, or POST /ping/{host} with a body of body_bytes.
create_hosts() { # $1: count, $2: plain|body
  python3 - "$server_port" "$1" "$2" "$body_bytes" "$connections" <<'PY'
import http.client, sys, threading
port, count, kind, body_bytes, connections = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
failures = []
def run(first):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for i in range(first, count, connections):
        if kind == "body":
            # Distinct text per host, as job outputs are.
            body = (f"h-{i} " * (body_bytes // 4 + 1)).encode()[:body_bytes]
            conn.request("POST", f"/ping/h-{i}", body, {"Content-Type": "text/plain"})
        else:
            conn.request("POST", "/", f'{{"host": "h-{i}"}}'.encode(), {"Content-Type": "application/json"})
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            failures.append(response.status)
threads = [threading.Thread(target=run, args=(t,)) for t in range(connections)]
for t in threads: t.start()
for t in threads: t.join()
if failures:
    sys.exit(f"{len(failures)} beats failed, e.g. {failures[0]}")
PY
}

# The settled RSS: after one store flush, the lowest of five readings a second apart (the GC returns memory lazily).
settled_rss_kib() {
  local lowest=""
  for _ in 1 2 3 4 5; do
    sleep 1
    local now; now=$(rss_kib "$server_pid")
    [ -z "$lowest" ] || [ "$now" -lt "$lowest" ] && lowest=$now
  done
  echo "$lowest"
}

results="$work/results.md"
{
  echo "| ping bodies | hosts | RSS | above the empty server | per host | body memory (metrics) |"
  echo "|---|---:|---:|---:|---:|---:|"
} >"$results"

measure() { # $1: plain|body, $2: count, $3: label, $@: server options
  local kind=$1 n=$2 label=$3
  shift 3
  start_server "$@"
  local empty; empty=$(settled_rss_kib)
  local started=$SECONDS
  [ "$n" -eq 0 ] || create_hosts "$n" "$kind"
  local rss; rss=$(settled_rss_kib)
  local bodies; bodies=$(curl -fsS "http://127.0.0.1:$server_port/metrics" | awk '$1 == "heartbeat_ping_body_bytes" { printf "%.0f MiB", $2 / 1048576 }')
  local total; total=$(curl -fsS "http://127.0.0.1:$server_port/api/v1/hosts?limit=1" | grep -o '"total":[0-9]*' | cut -d: -f2)
  [ "$total" -eq "$n" ] || { echo "memory.sh: expected $n hosts, the server has $total" >&2; exit 1; }
  local per_host="-"
  [ "$n" -eq 0 ] || per_host=$(awk -v r="$rss" -v e="$empty" -v n="$n" 'BEGIN { printf "%.0f B", (r - e) * 1024 / n }')
  printf '%s, %s hosts: RSS %s MiB (empty %s MiB), %s per host, bodies %s, created in %s s\n' "$label" "$n" \
    "$((rss / 1024))" "$((empty / 1024))" "$per_host" "${bodies:-0}" "$((SECONDS - started))"
  echo "| $label | $n | $((rss / 1024)) MiB | $(((rss - empty) / 1024)) MiB | $per_host | ${bodies:-0} |" >>"$results"
  stop_server
}

unbounded=(--max-hosts 10000000 --max-new-hosts-per-minute 0)
for n in $counts; do
  measure plain "$n" "none" "${unbounded[@]}"
done
for n in $counts; do
  [ "$n" -eq 0 ] || measure body "$n" "${body_bytes} B each" "${unbounded[@]}" --max-body-memory 16GiB
done
last=${counts##* }
[ "$last" -eq 0 ] || measure body "$last" "${body_bytes} B each, default --max-body-memory" "${unbounded[@]}"

echo
echo "Build: $build; machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(. /etc/os-release && echo "$PRETTY_NAME"), .NET $(dotnet --list-runtimes | awk '/NETCore.App/ { v = $2 } END { print v }')"
echo "Markdown table (for bench/RESULTS.md):"
cat "$results"

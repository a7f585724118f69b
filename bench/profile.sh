#!/usr/bin/env bash
# Profile summary under the steady load: allocations and GCs per request, CPU per request, and perf's top frames,
# for heartbeat-server and the floor (bench/Floor) side by side.
#
# Usage: bench/profile.sh --server BIN --floor BIN [--seconds N] [--move]
#   BIN: builds as bench/ingest.sh makes them; for perf to name NativeAOT frames, publish with -p:StripSymbols=false
#   (deploy/publish.sh strips them into a .dbg file it then deletes).
#
# Each target in turn: started on 127.0.0.1 (the server with a temporary SQLite store and log, rate limits off), warmed
# up for 3 s, then driven with wrk -t2 -c64 and bench/steady_beats.lua (1,000 hosts keeping their IPs; with --move
# every beat changes its host's IP, the IP-change path) for N s (default 10) while dotnet-counters (installed as a
# global tool if missing) samples System.Runtime and, when perf is there, perf record samples the process. Prints bytes allocated and gen0/1/2 collections per request,
# GC pause time, CPU µs per request, the server's mean store flush time, the share of CPU per library, and the top 25
# symbols. Bounded; stops what it starts.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh

seconds=10
move=0
server_bin=""
floor_bin=""
while [ $# -gt 0 ]; do
  case "$1" in
    --server) server_bin=$(realpath "$2"); shift 2 ;;
    --floor) floor_bin=$(realpath "$2"); shift 2 ;;
    --seconds) seconds="$2"; shift 2 ;;
    --move) move=1; shift ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "profile.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ -n "$server_bin" ] && [ -n "$floor_bin" ] || { echo "profile.sh: --server BIN and --floor BIN are required (see --help)" >&2; exit 2; }

need_wrk
export PATH="$PATH:$HOME/.dotnet/tools"
if ! command -v dotnet-counters >/dev/null; then
  echo "Installing dotnet-counters (dotnet tool install -g dotnet-counters)..."
  dotnet tool install -g dotnet-counters >/dev/null
fi

work=$(mktemp -d)
pid=""
cleanup() {
  [ -z "$pid" ] || kill "$pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
port=17794

profile() { # $1: name, then the command line
  local name="$1" before after requests
  shift
  "$@" >"$work/$name.out" 2>&1 &
  pid=$!
  wait_until_up "http://127.0.0.1:$port/healthz"
  MOVE=$move HOSTS=1000 THREADS=2 wrk -t2 -c64 -d3s -s bench/steady_beats.lua "http://127.0.0.1:$port/" >/dev/null
  dotnet-counters collect -p "$pid" --counters System.Runtime --format csv --refresh-interval 1 \
    --duration "00:00:00:$((seconds + 2))" -o "$work/$name.csv" >/dev/null 2>&1 </dev/null &
  local counters=$!
  local perf=""
  if command -v perf >/dev/null; then
    perf record -F 999 -p "$pid" -o "$work/$name.perf" -- sleep "$seconds" >/dev/null 2>&1 &
    perf=$!
  fi
  sleep 1 # let the counter session start
  before=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
  requests=$(MOVE=$move HOSTS=1000 THREADS=2 wrk -t2 -c64 -d"$seconds"s -s bench/steady_beats.lua "http://127.0.0.1:$port/" \
    | awk '/^beats:/ { print $3 }')
  after=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
  wait "$counters" || true
  curl -fsS "http://127.0.0.1:$port/metrics" >"$work/$name.metrics" 2>/dev/null || true
  [ -z "$perf" ] || wait "$perf" || true
  kill -TERM "$pid"
  wait "$pid" || true
  pid=""

  echo
  echo "== $name: $requests requests in ${seconds} s, $(awk -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" -v n="$requests" \
    'BEGIN { printf "%.1f CPU µs per request", t / hz * 1e6 / n }')"
  # Rates are per second; summed over the seconds with load they are totals for the run.
  awk -F, -v n="$requests" '
    /total_allocated/ { bytes += $5 }
    /gc.collections/ && /gen0/ { g0 += $5 } /gc.collections/ && /gen1/ { g1 += $5 } /gc.collections/ && /gen2/ { g2 += $5 }
    /gc.pause.time/ { pause += $5 }
    /working_set/ { if ($5 > ws) ws = $5 }
    END {
      printf "allocated: %.0f bytes per request (%.1f MB in all)\n", bytes / n, bytes / 1e6
      printf "collections: gen0 %d, gen1 %d, gen2 %d (%.1f / %.1f / %.1f per 10,000 requests), GC pause %.0f ms in all\n",
        g0, g1, g2, g0 * 1e4 / n, g1 * 1e4 / n, g2 * 1e4 / n, pause * 1000
      printf "peak working set: %.0f MiB\n", ws / 1048576
    }' "$work/$name.csv"
  # The server's own store flush histogram, when it has one: warm-up included.
  awk '/^heartbeat_store_flush_seconds_sum/ { s = $2 } /^heartbeat_store_flush_seconds_count/ { n = $2 }
    END { if (n > 0) printf "store flushes: %d, %.1f ms each on average (warm-up included)\n", n, s * 1000 / n }' "$work/$name.metrics"
  if [ -n "$perf" ] && [ -s "$work/$name.perf" ]; then
    echo "CPU by library (perf, self time):"
    perf report -i "$work/$name.perf" --no-children --sort dso --stdio 2>/dev/null | grep -E '^ +[0-9]' | head -8 || true
    echo "top symbols (perf, self time):"
    perf report -i "$work/$name.perf" --no-children --sort dso,sym --stdio 2>/dev/null | grep -E '^ +[0-9]' | head -25 || true
  fi
}

profile floor "$floor_bin" "$port"
profile heartbeat-server "$server_bin" "$port" --bind 127.0.0.1 --data "$work/heartbeat.db" --log-file "$work/heartbeat.log" \
  --rate-limit 0 --host-rate-limit 0 --max-new-hosts-per-minute 0

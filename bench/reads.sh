#!/usr/bin/env bash
# Reads against writes: does a beat wait while many read the host list? This build against another (by default
# where it branched from main), on this machine, 127.0.0.1 only.
#
# Usage: bench/reads.sh [--hosts N] [--seconds N] [--rounds N] [--readers N] [--rate N] [--base REV]
#   --hosts N     hosts registered before measuring (default 200000)
#   --seconds N   length of each measurement (default 10)
#   --rounds N    how often each build is measured, builds taking turns (default 2)
#   --readers N   concurrent readers, half on /api/v1/hosts, half on the page as JSON (default 10)
#   --rate N      beats per second of the paced writer (default 50)
#   --base REV    the build to compare with (default: git merge-base HEAD main)
#
# Builds both (Release, framework-dependent), registers the hosts once with the base build, wrk and
# bench/heartbeats.lua (interval one hour: nothing turns late while measuring) and keeps that SQLite file. Each
# round starts each build on a copy of it; bench/paced_beats.py then sends normal beats for --seconds with no
# readers, and again while wrk keeps the readers busy. Prints each beat's p50/p99/max and the reads answered. Every
# load is bounded in time; every process it starts is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh

hosts=200000
seconds=10
rounds=2
readers=10
rate=50
base=""
while [ $# -gt 0 ]; do
  case "$1" in
    --hosts) hosts="$2"; shift 2 ;;
    --seconds) seconds="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --readers) readers="$2"; shift 2 ;;
    --rate) rate="$2"; shift 2 ;;
    --base) base="$2"; shift 2 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "reads.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
base=${base:-$(git merge-base HEAD main)}

need_wrk
start_scratch

echo "Building this tree ($(git rev-parse --short HEAD)$(git diff --quiet HEAD || echo ', with uncommitted changes')) and $(git rev-parse --short "$base")..."
publish() { dotnet publish "$1" -c Release -o "$2" >"$work/build.log" || { cat "$work/build.log" >&2; exit 1; }; }
publish src/Heartbeat.Server/Heartbeat.Server.csproj "$work/this"
mkdir "$work/base-src"
git archive "$base" | tar -x -C "$work/base-src"
publish "$work/base-src/src/Heartbeat.Server/Heartbeat.Server.csproj" "$work/base"
port=17781

start_server() { # $1: build (this/base), $2: data file
  # The host bounds lifted through the environment, which a build from before them ignores.
  HEARTBEAT_MAX_HOSTS=100000000 HEARTBEAT_MAX_NEW_HOSTS_PER_MINUTE=0 "$work/$1/heartbeat-server" "$port" --bind 127.0.0.1 --log-file "$work/heartbeat.log" --data "$2" \
    --rate-limit 0 --host-rate-limit 0 >"$work/server.out" 2>&1 &
  server_pid=$!
  wait_until_up "http://127.0.0.1:$port/healthz"
}

stop_server() {
  kill -TERM "$server_pid"
  wait "$server_pid" || true
  server_pid=""
}

total() { curl -fsS "http://127.0.0.1:$port/api/v1/hosts?limit=1" | grep -o '"total":[0-9]*' | cut -d: -f2; }

# Registered by the base build: its file is of the older schema, which this build migrates on a copy each round.
echo "Registering $hosts hosts..."
start_server base "$work/seed.db"
register_hosts "http://127.0.0.1:$port" "$hosts" 3600
stop_server # a clean stop writes every host to the store

# Readers for $1 seconds: wrk on the API and on the page (as status.js asks for it), half the connections each.
# Prints "reads/s".
read_load() {
  local api=$(( (readers + 1) / 2 )) page=$(( readers / 2 )) pids=()
  wrk -t1 -c"$api" -d"$1"s --timeout 30s "http://127.0.0.1:$port/api/v1/hosts" >"$work/wrk-api.out" 2>&1 & pids+=($!)
  if [ "$page" -gt 0 ]; then
    wrk -t1 -c"$page" -d"$1"s --timeout 30s -H "Accept: application/json" "http://127.0.0.1:$port/" >"$work/wrk-page.out" 2>&1 & pids+=($!)
  fi
  wait "${pids[@]}"
  cat "$work"/wrk-*.out | awk '/^Requests\/sec:/ { sum += $2 } END { printf "%.1f", sum }'
  rm -f "$work"/wrk-*.out
}

results="$work/results.md"
echo "| build | round | readers | beats | beat p50 | beat p99 | beat max | reads/s |" >"$results"
echo "|---|---:|---:|---:|---:|---:|---:|---:|" >>"$results"
printf '%-14s %5s %7s %6s %9s %9s %9s %7s\n' build round readers beats p50-ms p99-ms max-ms reads/s
for round in $(seq 1 "$rounds"); do
  for build in base this; do
    label=$([ "$build" = this ] && git rev-parse --short HEAD || git rev-parse --short "$base")
    cp "$work/seed.db" "$work/run.db"
    start_server "$build" "$work/run.db"
    [ "$(total)" -eq "$hosts" ] || { echo "reads.sh: $build restored $(total) hosts, not $hosts" >&2; exit 1; }
    python3 bench/paced_beats.py "$port" 2 "$rate" "$hosts" 3600 >/dev/null # warm-up, not counted
    for n in 0 "$readers"; do
      reads="-"
      if [ "$n" -gt 0 ]; then
        read_load $((seconds + 2)) >"$work/reads" &
        reader_pid=$!
        sleep 1 # readers first, so every measured beat meets them
      fi
      read -r _ beats _ p50 _ p99 _ max _ errors < <(python3 bench/paced_beats.py "$port" "$seconds" "$rate" "$hosts" 3600)
      if [ "$n" -gt 0 ]; then
        wait "$reader_pid"
        reads=$(cat "$work/reads")
      fi
      [ "$errors" -eq 0 ] || echo "reads.sh: $errors beats failed ($build, $n readers)" >&2
      printf '%-14s %5s %7s %6s %9s %9s %9s %7s\n' "$build $label" "$round" "$n" "$beats" "$p50" "$p99" "$max" "$reads"
      echo "| $build $label | $round | $n | $beats | $p50 ms | $p99 ms | $max ms | $reads |" >>"$results"
    done
    stop_server
  done
done

echo
echo "Markdown table (for bench/RESULTS.md):"
cat "$results"

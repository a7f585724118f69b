#!/usr/bin/env bash
# Fleet benchmark: heartbeat-server alone on SQLite, then on one PostgreSQL with one server and with two, on this
# machine, 127.0.0.1 only, interleaved in rounds.
#
# Usage: bench/fleet.sh [--seconds N] [--hosts N] [--connections N] [--rounds N] [--jit | --server BIN]
#   --seconds N      length of each measured run (default 10)
#   --hosts N        distinct hosts the beats come from (default 10000)
#   --connections N  wrk connections in all, split evenly between the servers (default 64)
#   --rounds N       rounds of lone SQLite server, one fleet server, two fleet servers (default 2)
#   --jit            a Release JIT build of the server even where clang could build NativeAOT
#   --server BIN     measure this heartbeat-server binary instead of building one
#
# Starts a throwaway PostgreSQL from Debian's binaries (installed with apt-get when missing; stock settings:
# fsync and synchronous_commit on) in a temporary directory, builds the server as deploy/publish.sh ships it
# (NativeAOT; a Release JIT build without clang or with --jit), and in each round, for a
# lone server on a fresh SQLite file, then one and two servers on a fresh database: warms up, drives them with wrk
# and bench/heartbeats.lua (with two servers, half the connections each), then waits until the store holds every
# beat the servers logged. Prints beats/s, each fleet's ratio to the lone SQLite server of its round, p50/p99, how
# long the store took to catch up after the load stopped, and the CPU seconds the servers and PostgreSQL used; then
# each fleet's ratio over the rounds (min, median, max).
# Every load is bounded in time; every process it starts is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh

seconds=10
hosts=10000
connections=64
rounds=2
jit=0
server_bin=""
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --hosts) hosts="$2"; shift 2 ;;
    --connections) connections="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --jit) jit=1; shift ;;
    --server) server_bin=$(realpath "$2"); shift 2 ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    *) echo "fleet.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

command -v psql >/dev/null || { echo "Installing psql..."; (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-client) >/dev/null; }
command -v wrk >/dev/null || { echo "Installing wrk..."; (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk) >/dev/null; }
pg_bin=$(dirname "$(readlink -f "$(command -v initdb 2>/dev/null || ls /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -1)")" 2>/dev/null || true)
if [ ! -x "$pg_bin/initdb" ]; then
  echo "Installing PostgreSQL..."
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql) >/dev/null
  pg_bin=$(dirname "$(ls /usr/lib/postgresql/*/bin/initdb | sort -V | tail -1)")
fi

work=$(mktemp -d)
pg_port=17790
server_pids=()
as_postgres=()
[ "$(id -u)" != 0 ] || { chown postgres:postgres "$work"; as_postgres=(runuser -u postgres --); }
cleanup() {
  for pid in "${server_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [ ! -d "$work/pgdata" ] || "${as_postgres[@]}" "$pg_bin/pg_ctl" -D "$work/pgdata" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "Starting PostgreSQL ($("$pg_bin/postgres" --version))..."
"${as_postgres[@]}" "$pg_bin/initdb" -D "$work/pgdata" -U postgres --auth=trust -E UTF8 >/dev/null
"${as_postgres[@]}" "$pg_bin/pg_ctl" -D "$work/pgdata" -l "$work/postgres.log" -w \
  -o "-p $pg_port -k $work -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null
postmaster=$(head -1 "$work/pgdata/postmaster.pid")

case "$(uname -m)" in
  x86_64) rid=linux-x64 ;;
  aarch64) rid=linux-arm64 ;;
  *) rid="" ;;
esac
if [ -n "$server_bin" ]; then
  echo "Measuring $server_bin"
elif [ "$jit" = 0 ] && [ -n "$rid" ] && command -v clang >/dev/null; then
  echo "Building heartbeat-server as deploy/publish.sh ships it (NativeAOT)..."
  deploy/publish.sh --out "$work/dist" "$rid" >"$work/build.log" 2>&1 || { cat "$work/build.log" >&2; exit 1; }
  server_bin="$work/dist/$rid/heartbeat-server"
else
  echo "Building heartbeat-server (Release, JIT)..."
  dotnet publish src/Heartbeat.Server/Heartbeat.Server.csproj -c Release -o "$work/server" >/dev/null
  server_bin="$work/server/heartbeat-server"
fi

cpu_seconds() { # utime + stime of processes, in seconds
  local hz total=0
  hz=$(getconf CLK_TCK)
  for pid in "$@"; do
    total=$(awk -v t="$total" -v hz="$hz" '{ printf "%.1f", t + ($14 + $15) / hz }' "/proc/$pid/stat" 2>/dev/null || echo "$total")
  done
  echo "$total"
}
postgres_cpu() { cpu_seconds "$postmaster" $(pgrep -P "$postmaster"); }

sql() { psql -h 127.0.0.1 -p "$pg_port" -U postgres -d "$1" -Atc "$2"; }
sqlite_beats() { python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT coalesce(sum(beats), 0) FROM hosts").fetchone()[0])' "$1"; }

results="$work/results.md"
echo "| round | store | servers | connections | hosts | heartbeats/s | × lone SQLite | p50 | p99 | errors | store caught up after | server CPU s | PostgreSQL CPU s |" >"$results"
echo "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|" >>"$results"

for round in $(seq 1 "$rounds"); do
for run in sqlite 1 2; do
  nodes=${run/sqlite/1}
  database="r${round}_$run"
  server_pids=()
  urls=()
  for n in $(seq 1 "$nodes"); do
    port=$((17780 + n))
    if [ "$run" = sqlite ]; then
      HEARTBEAT_STORE=sqlite "$server_bin" "$port" --bind 127.0.0.1 --data "$work/$database.db" \
        --log-file "$work/$database-$n.log" --rate-limit 0 --host-rate-limit 0 --max-new-hosts-per-minute 0 --max-hosts 10000000 \
        >"$work/$database-$n.out" 2>&1 &
    else
      [ "$n" != 1 ] || sql postgres "CREATE DATABASE $database" >/dev/null
      HEARTBEAT_STORE=postgres HEARTBEAT_POSTGRES="Host=127.0.0.1;Port=$pg_port;Username=postgres;Database=$database" \
        "$server_bin" "$port" --bind 127.0.0.1 --log-file "$work/$database-$n.log" \
        --rate-limit 0 --host-rate-limit 0 --max-new-hosts-per-minute 0 --max-hosts 10000000 >"$work/$database-$n.out" 2>&1 &
    fi
    server_pids+=($!)
    urls+=("http://127.0.0.1:$port/")
    wait_until_up "http://127.0.0.1:$port/healthz"
  done

  for url in "${urls[@]}"; do # warm-up (JIT), not counted
    HOSTS=$hosts THREADS=1 wrk -t1 -c8 -d3s -s bench/heartbeats.lua "$url" >/dev/null
  done

  cpu_before=$(cpu_seconds "${server_pids[@]}")
  pg_before=$(postgres_cpu)
  per_node=$((connections / nodes))
  outputs=()
  for n in $(seq 1 "$nodes"); do
    out="$work/wrk-$nodes-$n.txt"
    outputs+=("$out")
    HOSTS=$hosts START=$((n * 7919)) THREADS=2 wrk -t2 -c"$per_node" -d"$seconds"s --latency -s bench/heartbeats.lua "${urls[$((n - 1))]}" >"$out" 2>&1 &
  done
  wait $(jobs -p | tail -n "$nodes")
  stopped=$(date +%s.%N)

  read -r rps p50 p99 errors < <(cat "${outputs[@]}" | awk '/^heartbeats\/s:/ { r += $2; if ($4 > p50) p50 = $4; if ($7 > p99) p99 = $7; e += $10 }
    END { printf "%.0f %s %s %d\n", r, p50, p99, e }')

  if [ "$errors" != 0 ]; then # what the servers said of it, before their scratch files go
    echo "round $round, $run: $errors errors; the servers' warnings:"
    grep -h -A1 -E ' (warn|fail|crit): ' "$work/$database"-*.out | head -20 || true
    grep -h -E 'Non-2xx|Socket errors' "${outputs[@]}" || true
  fi
  # Caught up: the store counts as many beats as the servers logged (warm-up included).
  logged=$(cat "$work/$database"-*.log | grep -c ' - Received heartbeat - ' || true)
  deadline=$((SECONDS + 120))
  stored_beats() { if [ "$run" = sqlite ]; then sqlite_beats "$work/$database.db"; else sql "$database" 'SELECT coalesce(sum(beats), 0) FROM hosts'; fi; }
  until [ "$(stored_beats)" -ge "$logged" ]; do
    [ "$SECONDS" -lt "$deadline" ] || { echo "fleet.sh: the store did not catch up within 120 s" >&2; exit 1; }
    sleep 0.05
  done
  caught_up=$(awk -v a="$(date +%s.%N)" -v b="$stopped" 'BEGIN { printf "%.2f", a - b }')
  cpu_used=$(awk -v a="$(cpu_seconds "${server_pids[@]}")" -v b="$cpu_before" 'BEGIN { printf "%.1f", a - b }')
  pg_used=$(awk -v a="$(postgres_cpu)" -v b="$pg_before" 'BEGIN { printf "%.1f", a - b }')
  if [ "$run" = sqlite ]; then
    lone_rps=$rps store=SQLite ratio=1.00 pg_used=-
  else
    store=PostgreSQL ratio=$(awk -v a="$rps" -v b="$lone_rps" 'BEGIN { printf "%.2f", a / b }')
  fi

  echo "round $round, $store, $nodes server(s): $rps beats/s (${ratio}× the lone SQLite server), p50 $p50 ms, p99 $p99 ms, $errors errors; store caught up ${caught_up} s after the load ($logged beats); CPU: servers ${cpu_used} s, PostgreSQL ${pg_used} s"
  echo "| $round | $store | $nodes | $connections | $hosts | $rps | $ratio | $p50 ms | $p99 ms | $errors | ${caught_up} s | $cpu_used | $pg_used |" >>"$results"

  for pid in "${server_pids[@]}"; do kill -TERM "$pid"; wait "$pid" || true; done
  server_pids=()
done
done

echo
echo "Markdown table (for bench/RESULTS.md):"
cat "$results"

echo
echo "Each fleet's ratio to the lone SQLite server over the rounds (min, median, max; #19 asks >= 0.8 of one server):"
awk -F'|' '$3 ~ /PostgreSQL/ { gsub(/ /, "", $4); gsub(/ /, "", $8); r[$4] = r[$4] " " $8 }
  END {
    for (n in r) {
      k = split(substr(r[n], 2), v, " ")
      for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
      median = k % 2 ? v[(k + 1) / 2] : (v[k / 2] + v[k / 2 + 1]) / 2
      printf "  %s server(s): %.2f, %.2f, %.2f over %d round(s)\n", n, v[1], median, v[k], k
    }
  }' "$results" | sort

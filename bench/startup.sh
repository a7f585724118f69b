#!/usr/bin/env bash
# Start-up with many hosts, builds taking turns: how long each heartbeat-server binary takes from its launch to
# answering /healthz with the same SQLite store, and how much it holds once it answers.
#
# Usage: bench/startup.sh --data FILE [--rounds N] LABEL=BIN ...
#   --data FILE  a store with many hosts, e.g. the million of `bench/load.sh --footprint-only --keep-store FILE`
#   --rounds N   rounds of every build in turn (default 3)
#   LABEL=BIN    a build to measure
#
# Every run starts from a fresh copy of the store in a scratch directory, binds 127.0.0.1, and is stopped with
# SIGTERM once it answers (each waits at most 120 s). Prints one row per build: the seconds of each round, the
# median, and the RSS once it answered.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh

rounds=3
data=""
specs=()
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds="$2"; shift 2 ;;
    --data) data="$2"; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    -*) echo "startup.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    *=*) specs+=("$1"); shift ;;
    *) echo "startup.sh: '$1' is not LABEL=BIN" >&2; exit 2 ;;
  esac
done
[ -f "$data" ] || { echo "startup.sh: name a store with --data FILE (see --help)" >&2; exit 2; }
[ "${#specs[@]}" -gt 0 ] || { echo "startup.sh: name at least one LABEL=BIN (see --help)" >&2; exit 2; }

start_scratch
port=17781
hosts=$(sqlite3 -readonly "$data" "SELECT count(*) FROM hosts" 2>/dev/null || echo "?")

declare -A seconds_of rss_of
for round in $(seq 1 "$rounds"); do
  for spec in "${specs[@]}"; do
    label=${spec%%=*}
    bin=${spec#*=}
    rm -f "$work"/store.db*
    cp "$data" "$work/store.db"
    started=$(date +%s.%N)
    "$bin" "$port" --bind 127.0.0.1 --log-file "$work/heartbeat.log" --data "$work/store.db" --max-hosts 10000000 \
      >"$work/server.out" 2>&1 &
    server_pid=$!
    wait_until_up "http://127.0.0.1:$port/healthz"
    ready=$(date +%s.%N)
    seconds_of[$label]+="$(awk -v a="$ready" -v b="$started" 'BEGIN { printf "%.1f", a - b }') "
    rss_of[$label]+="$(awk '$1 == "VmRSS:" { printf "%.0f", $2 / 1024 }' "/proc/$server_pid/status") "
    kill -TERM "$server_pid"
    wait "$server_pid" || true
    server_pid=""
  done
done

echo "Machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg | sed 's/ /, /g'); $hosts hosts in $data"
echo
echo "| build |$(for r in $(seq 1 "$rounds"); do printf ' round %s |' "$r"; done) median | RSS once up |"
echo "|---|$(for _ in $(seq 1 "$rounds"); do printf -- '---:|'; done)---:|---|"
for spec in "${specs[@]}"; do
  label=${spec%%=*}
  read -ra times <<<"${seconds_of[$label]}"
  median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
  echo "| $label |$(printf ' %s s |' "${times[@]}") $median s | $(echo "${rss_of[$label]}" | sed 's/ *$//; s/ /, /g') MiB |"
done

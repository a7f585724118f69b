#!/usr/bin/env bash
# Builds side by side: several heartbeat-server binaries (or one binary under several environments) take turns
# under the same load, for before-and-after and ablation measurements in one session.
#
# Usage: bench/compare.sh [--rounds N] [--seconds N] [--move] LABEL=BIN[,VAR=VALUE...] ...
#   --rounds N   rounds of every build in turn (default 3)
#   --seconds N  length of each wrk run (default 5)
#   --move       every beat changes its host's IP (default: 1,000 hosts keep their IPs)
#   LABEL=BIN    a build to measure, with environment variables for it after commas
#
# Every build gets its own SQLite store and log in a scratch directory, binds 127.0.0.1 and has its rate limits
# off; all are started before the first run and idle while another is measured. Each run is wrk -t2 -c64 with
# bench/steady_beats.lua, bounded by --seconds. Prints one row per build: req/s of each round, the median, CPU µs
# per request (user+system of the server over its runs), each round's p99 and the server's peak RSS (VmHWM).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh

rounds=3
seconds=5
move=0
specs=()
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds="$2"; shift 2 ;;
    --seconds) seconds="$2"; shift 2 ;;
    --move) move=1; shift ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    -*) echo "compare.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    *=*) specs+=("$1"); shift ;;
    *) echo "compare.sh: '$1' is not LABEL=BIN" >&2; exit 2 ;;
  esac
done
[ "${#specs[@]}" -gt 0 ] || { echo "compare.sh: name at least one LABEL=BIN (see --help)" >&2; exit 2; }
need_wrk

start_scratch_processes

labels=()
ports=()
for i in "${!specs[@]}"; do
  spec="${specs[$i]}"
  label="${spec%%=*}"
  IFS=, read -r -a parts <<<"${spec#*=}"
  bin="${parts[0]}"
  [ -x "$bin" ] || { echo "compare.sh: $bin is not an executable" >&2; exit 2; }
  port=$((17800 + i))
  env "${parts[@]:1}" "$bin" "$port" --bind 127.0.0.1 --data "$work/$i.db" --log-file "$work/$i.log" \
    --rate-limit 0 --host-rate-limit 0 --max-new-hosts-per-minute 0 >"$work/$i.out" 2>&1 &
  pids+=($!)
  labels+=("$label")
  ports+=("$port")
done
for port in "${ports[@]}"; do wait_until_up "http://127.0.0.1:$port/healthz"; done

run_wrk() { # $1: port, $2: seconds; prints req/s and p99 (ms)
  HOSTS=1000 THREADS=2 MOVE="$move" wrk -t2 -c64 -d"$2"s -s bench/steady_beats.lua "http://127.0.0.1:$1/" 2>&1 \
    | awk '/^beats:/ { print $5, $9 }'
}
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

for port in "${ports[@]}"; do run_wrk "$port" 2 >/dev/null; done # warm-up: hosts registered, pages touched
declare -A rps p99 cpu requests
hz=$(getconf CLK_TCK)
for round in $(seq 1 "$rounds"); do
  for i in "${!labels[@]}"; do
    before=$(cpu_ticks "${pids[$i]}")
    read -r "rps[$i,$round]" "p99[$i,$round]" < <(run_wrk "${ports[$i]}" "$seconds")
    cpu[$i]=$(( ${cpu[$i]:-0} + $(cpu_ticks "${pids[$i]}") - before ))
    requests[$i]=$(awk -v a="${requests[$i]:-0}" -v r="${rps[$i,$round]}" -v s="$seconds" 'BEGIN { printf "%d", a + r * s }')
  done
done

echo "Machine: $(nproc) cores, load average $(uptime | sed 's/.*load average: //'); wrk -t2 -c64 -d${seconds}s, 1,000 hosts$([ "$move" = 1 ] && echo ', every beat a new IP')"
echo
printf '| build |'; for round in $(seq 1 "$rounds"); do printf ' round %s |' "$round"; done; echo ' median req/s | CPU µs/req | p99 of each round | peak RSS |'
printf '|---|'; for _ in $(seq 1 "$rounds"); do printf -- '---:|'; done; echo '---:|---:|---:|---:|'
for i in "${!labels[@]}"; do
  row=()
  for round in $(seq 1 "$rounds"); do row+=("${rps[$i,$round]}"); done
  median=$(printf '%s\n' "${row[@]}" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
  printf '| %s |' "${labels[$i]}"
  for v in "${row[@]}"; do printf ' %.0f |' "$v"; done
  latencies=()
  for round in $(seq 1 "$rounds"); do latencies+=("${p99[$i,$round]} ms"); done
  peak=$(awk '$1 == "VmHWM:" { printf "%.0f", $2 / 1024 }' "/proc/${pids[$i]}/status")
  awk -v m="$median" -v t="${cpu[$i]}" -v hz="$hz" -v n="${requests[$i]}" -v l="$(IFS=,; echo "${latencies[*]}" | sed 's/,/, /g')" -v p="$peak" \
    'BEGIN { printf " %.0f | %.1f | %s | %s MiB |\n", m, t / hz * 1e6 / n, l, p }'
done

#!/usr/bin/env bash
# Load benchmark: heartbeat-server against nginx (return 200 with access_log on) on this machine, 127.0.0.1 only.
#
# Usage: bench/load.sh [--quick] [--seconds N] [--skip-footprint] [--footprint-only] [--keep-store FILE] [--jit | --server BIN]
#   --quick           64 connections only, 5 s per run, no million-host footprint
#   --seconds N       length of each keep-alive run (default 10; runs without keep-alive take half)
#   --skip-footprint  leave out the 100,000/1,000,000-host memory and start-up measurements
#   --jit             measure the JIT single-file build instead of what deploy/publish.sh ships here (NativeAOT when clang is present)
#   --server BIN      measure this heartbeat-server binary instead of building one
#   --footprint-only  only the memory, start-up and down-on-time measurements
#   --keep-store FILE keep the million-host SQLite store there, for bench/startup.sh
#
# Builds the server (Release, self-contained single file), starts it with a temporary log and SQLite store,
# drives it with wrk and bench/heartbeats.lua (every beat from its own host and IP), and prints a table:
# beats/s, the ratio to nginx, p50/p99, errors, the server's peak RSS and CPU seconds. Every load is bounded
# in time; every process it starts is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh

seconds=10
quick=0
footprint=1
jit=0
load=1
server_bin=""
keep_store=""
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1; seconds=5; footprint=0; shift ;;
    --seconds) seconds="$2"; shift 2 ;;
    --skip-footprint) footprint=0; shift ;;
    --jit) jit=1; shift ;;
    --footprint-only) load=0; shift ;;
    --server) server_bin="$2"; shift 2 ;;
    --keep-store) keep_store="$2"; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "load.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

for tool in wrk nginx; do
  if ! command -v "$tool" >/dev/null && [ ! -x "/usr/sbin/$tool" ]; then
    echo "Installing $tool (apt-get install $tool)..."
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$tool") >/dev/null
  fi
done
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)

work=$(mktemp -d)
server_pid=""
nginx_pid=""
cleanup() {
  [ -z "$server_pid" ] || kill "$server_pid" 2>/dev/null || true
  [ -z "$nginx_pid" ] || kill "$nginx_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

if [ -n "$server_bin" ]; then
  [ -x "$server_bin" ] || { echo "load.sh: --server $server_bin is not an executable" >&2; exit 2; }
elif [ "$jit" = 1 ]; then
  echo "Building heartbeat-server (Release, JIT, self-contained single file)..."
  dotnet publish src/Heartbeat.Server/Heartbeat.Server.csproj -c Release -r linux-x64 --self-contained \
    -p:PublishSingleFile=true -p:IncludeNativeLibrariesForSelfExtract=true -o "$work/jit" >/dev/null
  server_bin="$work/jit/heartbeat-server"
else
  echo "Building heartbeat-server as deploy/publish.sh ships it..."
  deploy/publish.sh linux-x64 >/dev/null
  server_bin=dist/linux-x64/heartbeat-server
fi
server_port=17771
nginx_port=17772

start_server() { # $1: data file
  "$server_bin" "$server_port" --bind 127.0.0.1 --log-file "$work/heartbeat.log" --data "$1" \
    --rate-limit 0 --host-rate-limit 0 --max-new-hosts-per-minute 0 --max-hosts 10000000 >"$work/server.out" 2>&1 &
  server_pid=$!
  wait_until_up "http://127.0.0.1:$server_port/healthz"
}

stop_server() {
  kill -TERM "$server_pid"
  wait "$server_pid" || true
  server_pid=""
}

cpu_seconds() { # utime + stime of a process, in seconds
  awk -v hz="$(getconf CLK_TCK)" '{ printf "%.1f", ($14 + $15) / hz }' "/proc/$1/stat"
}

# The server's RSS above the empty server's, per host: $1 hosts, with $rss and $base_rss in MiB.
bytes_per_host() {
  awk -v r="$rss" -v b="$base_rss" -v n="$1" 'BEGIN { printf "%.0f", (r - b) * 1048576 / n }'
}

rss_mib() { # VmRSS or VmHWM (peak) of a process, in MiB
  awk -v key="$2:" '$1 == key { printf "%.0f", $2 / 1024 }' "/proc/$1/status"
}

# One wrk run: prints "beats/s p50 p99 errors" (errors: socket errors and non-2xx answers).
run_wrk() { # $1: URL, $2: connections, $3: keep-alive (1/0), $4: hosts, $5: seconds
  local threads=2 headers=()
  [ "$2" -ge 2 ] || threads=1
  [ "$3" = 1 ] || headers=(-H "Connection: close")
  HOSTS="$4" THREADS="$threads" wrk -t"$threads" -c"$2" -d"$5"s --latency "${headers[@]}" -s bench/heartbeats.lua "$1" 2>&1 \
    | awk '/^heartbeats\/s:/ { print $2, $4, $7, $10 }'
}

start_nginx 2 "$nginx_port" '200 "ok\n"'
nginx_pid=$!
wait_until_up "http://127.0.0.1:$nginx_port/"

launched=$(date +%s.%N)
start_server "$work/heartbeat.db"
echo "start-up with an empty store: $(awk -v a="$(date +%s.%N)" -v b="$launched" 'BEGIN { printf "%.2f", a - b }') s to answer /healthz"
idle_rss=$(rss_mib "$server_pid" VmRSS)
# Warm up both (the JIT compiles the hot path in the first seconds); these runs are not counted.
run_wrk "http://127.0.0.1:$nginx_port/" 64 1 1000 3 >/dev/null
run_wrk "http://127.0.0.1:$server_port/" 64 1 1000 3 >/dev/null

if [ "$load" = 1 ]; then
  connections=(1 16 64 256)
  [ "$quick" = 0 ] || connections=(64)
  host_counts=(1000 100000)
  [ "$quick" = 0 ] || host_counts=(1000)

  printf '%-5s %-10s %-8s %10s %10s %7s %8s %8s %7s\n' conns keep-alive hosts beats/s nginx/s ratio p50 p99 errors
  results="$work/results.md"
  echo "| connections | keep-alive | hosts | heartbeats/s | nginx req/s | ratio | p50 | p99 | errors |" >"$results"
  echo "|---:|:-:|---:|---:|---:|---:|---:|---:|---:|" >>"$results"
  cpu_before=$(cpu_seconds "$server_pid")
  acknowledged=0
  for keep in 1 0; do
    for c in "${connections[@]}"; do
      length=$seconds
      [ "$keep" = 1 ] || length=$(( (seconds + 1) / 2 ))
      read -r nginx_rps _ _ nginx_errors < <(run_wrk "http://127.0.0.1:$nginx_port/" "$c" "$keep" 1000 "$length")
      for hosts in "${host_counts[@]}"; do
        read -r rps p50 p99 errors < <(run_wrk "http://127.0.0.1:$server_port/" "$c" "$keep" "$hosts" "$length")
        ratio=$(awk -v a="$rps" -v b="$nginx_rps" 'BEGIN { printf "%.2f", a / b }')
        acknowledged=$(awk -v a="$acknowledged" -v r="$rps" -v s="$length" 'BEGIN { printf "%d", a + r * s }')
        printf '%-5s %-10s %-8s %10s %10s %7s %8s %8s %7s\n' "$c" "$([ "$keep" = 1 ] && echo yes || echo no)" "$hosts" "$rps" "$nginx_rps" "$ratio" "$p50" "$p99" "$errors"
        echo "| $c | $([ "$keep" = 1 ] && echo yes || echo no) | $hosts | $rps | $nginx_rps | $ratio | $p50 ms | $p99 ms | $errors (nginx $nginx_errors) |" >>"$results"
      done
    done
  done
  cpu_used=$(awk -v a="$(cpu_seconds "$server_pid")" -v b="$cpu_before" 'BEGIN { printf "%.1f", a - b }')
  peak_rss=$(rss_mib "$server_pid" VmHWM)
  beats_logged=$(cat "$work"/heartbeat.log* | grep -c ' - Received heartbeat - ' || true)
  echo
  echo "server: idle RSS ${idle_rss} MiB, peak RSS ${peak_rss} MiB, ${cpu_used} CPU seconds under load"
  echo "log: ${beats_logged} heartbeat lines, at least the ${acknowledged} answers wrk counted in the measured runs (warm-ups add lines)"
fi

if [ "$footprint" = 1 ]; then
  echo
  echo "Footprint: registering 100,000 and then 1,000,000 hosts, each beating once with an interval of 10 s..."
  stop_server
  rm -f "$work"/heartbeat.db*
  start_server "$work/heartbeat.db"
  base_rss=$(rss_mib "$server_pid" VmRSS)
  registered=0
  for n in 100000 1000000; do
    register_hosts "http://127.0.0.1:$server_port" "$n" 10 "$registered"
    registered=$n
    # Every host is due down 15 s (interval and grace) after its one beat; the last beats came before this moment.
    last_beat=$(date +%s.%N)
    deadline=$((SECONDS + 120))
    while down=$(curl -fsS "http://127.0.0.1:$server_port/metrics" | awk '/^heartbeat_hosts\{state="down"\}/ { printf "%d", $2 }'); [ "${down:-0}" -lt "$n" ]; do
      [ "$SECONDS" -lt "$deadline" ] || { echo "load.sh: only ${down:-0} of $n hosts down 120 s after their last beats" >&2; exit 1; }
      sleep 0.1
    done
    echo "$n hosts: all down $(awk -v a="$(date +%s.%N)" -v b="$last_beat" 'BEGIN { printf "%.1f", a - b - 15 }') s after the last one's deadline"
    sleep 1 # one flush interval and a GC
    rss=$(rss_mib "$server_pid" VmRSS) per_host=$(bytes_per_host "$n")
    echo "$n hosts: RSS ${rss} MiB (${per_host} bytes per host above the empty server's ${base_rss} MiB)"
    [ "$n" = 1000000 ] || continue
    # Quiet now, the server has its heap's garbage found and, if that left much free space, compacts it (HeapUpkeep).
    deadline=$((SECONDS + 180)) seen=$(wc -l <"$work/server.out")
    until compacted=$(awk -v seen="$seen" 'NR > seen && sub(/.*compacted its heap, /, "") { print; exit }' "$work/server.out")
      [ -n "$compacted" ]; do
      [ "$SECONDS" -lt "$deadline" ] || { compacted="no compaction within 180 s"; break; }
      sleep 1
    done
    rss=$(rss_mib "$server_pid" VmRSS) per_host=$(bytes_per_host "$n")
    echo "$n hosts, the server quiet: RSS ${rss} MiB (${per_host} bytes per host; $compacted)"
  done
  stop_server
  started=$(date +%s.%N)
  start_server "$work/heartbeat.db"
  ready=$(date +%s.%N)
  echo "start-up with 1,000,000 hosts in SQLite: $(awk -v a="$ready" -v b="$started" 'BEGIN { printf "%.1f", a - b }') s to answer /healthz"
  if [ -n "$keep_store" ]; then
    "$server_bin" backup "$keep_store" --data "$work/heartbeat.db" >/dev/null
    echo "the store is kept in $keep_store (bench/startup.sh --data $keep_store ...)"
  fi
fi

if [ "$load" = 1 ]; then
  echo
  echo "Markdown table (for bench/RESULTS.md):"
  cat "$results"
fi

#!/usr/bin/env bash
# Ingest side by side (issue #19): nginx, a bare ASP.NET Core floor and heartbeat-server, interleaved in one run.
#
# Usage: bench/ingest.sh [--quick] [--rounds N] [--seconds N] [--jit] [--server BIN --floor BIN]
#   --quick         one round of 5 s runs: a smoke check
#   --rounds N      rounds of A B C (default 3)
#   --seconds N     length of each wrk run (default 10)
#   --jit           Release JIT builds of the floor and the server even where clang could build NativeAOT
#   --server BIN    measure this heartbeat-server binary instead of building one (--floor BIN likewise)
#
# A: nginx, ONE worker, access_log on, `return 200`. B: bench/Floor, a minimal API that parses the JSON body with
# System.Text.Json source generation and answers 200. C: heartbeat-server as deploy/publish.sh builds it (NativeAOT
# when clang is present, else a JIT single file; the floor is built the same way), with a temporary SQLite store and
# log and the rate limits off. All bind 127.0.0.1. Each round runs wrk -t2 -c64 against A, B, C with
# bench/steady_beats.lua (1,000 hosts keeping their IPs), then again with MOVE=1 (every beat changes its host's IP).
# Prints per round: req/s, ratio to nginx and to the floor, p50/p99, errors, CPU seconds and CPU µs per request of
# the serving process, its peak RSS; idle RSS of each before any load; then checks that the heartbeat log holds every
# beat wrk saw acknowledged. Every run is bounded by -d; everything started is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh

rounds=3
seconds=10
jit=0
server_bin=""
floor_bin=""
given=""
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) rounds=1; seconds=5; shift ;;
    --rounds) rounds="$2"; shift 2 ;;
    --seconds) seconds="$2"; shift 2 ;;
    --jit) jit=1; shift ;;
    --server) server_bin=$(realpath "$2"); given+=" server $server_bin"; shift 2 ;;
    --floor) floor_bin=$(realpath "$2"); given+=" floor $floor_bin"; shift 2 ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "ingest.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

need_wrk
if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then
  echo "Installing nginx (apt-get install nginx-light)..."
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light) >/dev/null
fi
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)

start_scratch_processes

case "$(uname -m)" in
  x86_64) rid=linux-x64 ;;
  aarch64) rid=linux-arm64 ;;
  *) echo "ingest.sh: Linux x64 or arm64 only" >&2; exit 2 ;;
esac
publish() { # $1: project, $2: output directory, then extra properties
  dotnet publish "$1" -c Release -r "$rid" -o "$2" "${@:3}" >>"$work/build.log" 2>&1 || { cat "$work/build.log" >&2; exit 1; }
}
if [ "$jit" = 0 ] && command -v clang >/dev/null; then
  build="NativeAOT"
  if [ -z "$server_bin" ]; then
    echo "Building heartbeat-server as deploy/publish.sh ships it (NativeAOT)..."
    deploy/publish.sh --out "$work/dist" "$rid" >"$work/build.log" 2>&1 || { cat "$work/build.log" >&2; exit 1; }
    server_bin="$work/dist/$rid/heartbeat-server"
  fi
  if [ -z "$floor_bin" ]; then
    echo "Building the floor (NativeAOT)..."
    publish bench/Floor/Floor.csproj "$work/floor" -p:PublishAot=true
    floor_bin="$work/floor/floor"
  fi
else
  build="JIT (Release, self-contained single file)"
  single_file=(--self-contained -p:PublishSingleFile=true -p:IncludeNativeLibrariesForSelfExtract=true)
  if [ -z "$server_bin" ]; then
    echo "Building heartbeat-server: $build..."
    publish src/Heartbeat.Server/Heartbeat.Server.csproj "$work/server" "${single_file[@]}"
    server_bin="$work/server/heartbeat-server"
  fi
  if [ -z "$floor_bin" ]; then
    echo "Building the floor: $build..."
    publish bench/Floor/Floor.csproj "$work/floor" "${single_file[@]}"
    floor_bin="$work/floor/floor"
  fi
fi
# A binary given is described by what it is, not by what this machine would build.
kind_of() { if LC_ALL=C grep -aqF __managedcode "$1"; then echo NativeAOT; else echo JIT; fi; }
[ -z "$given" ] || build="server $(kind_of "$server_bin"), floor $(kind_of "$floor_bin") (as given:$given)"

nginx_port=17791
floor_port=17792
server_port=17793

start_nginx 1 "$nginx_port" 200
pids+=($!)
nginx_master=$!
"$floor_bin" "$floor_port" >"$work/floor.out" 2>&1 &
pids+=($!)
floor_pid=$!
"$server_bin" "$server_port" --bind 127.0.0.1 --data "$work/heartbeat.db" \
  --log-file "$work/heartbeat.log" --rate-limit 0 --host-rate-limit 0 --max-new-hosts-per-minute 0 \
  >"$work/server.out" 2>&1 &
pids+=($!)
server_pid=$!

wait_until_up "http://127.0.0.1:$nginx_port/"
wait_until_up "http://127.0.0.1:$floor_port/healthz"
wait_until_up "http://127.0.0.1:$server_port/healthz"
# nginx's worker serves; its master only waits.
nginx_pid=$(pgrep -P "$nginx_master" | head -1)

names=(nginx floor heartbeat-server)
ports=("$nginx_port" "$floor_port" "$server_port")
procs=("$nginx_pid" "$floor_pid" "$server_pid")

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
rss_mib() { awk -v key="$2:" '$1 == key { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; } # $2: VmRSS or VmHWM

load_before=$(uptime | sed 's/.*load average: //')
idle=()
for i in 0 1 2; do idle+=("$(rss_mib "${procs[$i]}" VmRSS)"); done

acknowledged=0
# One wrk run; prints "requests rps p50 p99 errors" and adds the acknowledged beats of runs against the server.
run_wrk() { # $1: target index, $2: MOVE (0/1), $3: seconds
  local out
  out=$(HOSTS=1000 THREADS=2 MOVE="$2" wrk -t2 -c64 -d"$3"s --latency -s bench/steady_beats.lua \
    "http://127.0.0.1:${ports[$1]}/" 2>&1 | awk '/^beats:/ { print $3, $5, $7, $9, $11 }')
  [ -n "$out" ] || { echo "ingest.sh: wrk against ${names[$1]} printed no result" >&2; exit 1; }
  echo "$out"
}

# Warm-up (not counted): the JIT compiles the hot path, the server registers the 1,000 hosts.
for i in 0 1 2; do
  read -r requests _ _ _ errors < <(run_wrk "$i" 0 3)
  [ "$i" != 2 ] || acknowledged=$((acknowledged + requests - errors))
done

hz=$(getconf CLK_TCK)
results="$work/results.tsv"
for round in $(seq 1 "$rounds"); do
  for move in 0 1; do
    for i in 0 1 2; do
      before=$(cpu_ticks "${procs[$i]}")
      read -r requests rps p50 p99 errors < <(run_wrk "$i" "$move" "$seconds")
      after=$(cpu_ticks "${procs[$i]}")
      [ "$i" != 2 ] || acknowledged=$((acknowledged + requests - errors))
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$([ "$move" = 1 ] && echo moving || echo steady)" \
        "${names[$i]}" "$requests" "$rps" "$p50" "$p99" "$errors" \
        "$(awk -v t=$((after - before)) -v hz="$hz" 'BEGIN { printf "%.1f", t / hz }')" \
        "$(rss_mib "${procs[$i]}" VmHWM)" >>"$results"
    done
  done
done

# Stop the server gracefully so every beat it took is on disk, then count the log's beat lines.
kill -TERM "$server_pid"
wait "$server_pid" || true
logged=$(cat "$work"/heartbeat.log* | grep -c ' - Received heartbeat - ' || true)

echo
echo "Machine: $(nproc) cores, $(lscpu | awk -F: '/Model name/ { gsub(/^ +/, "", $2); print $2; exit }'), \
$(free -g | awk '/^Mem:/ { print $2 }') GiB, .NET $(dotnet --version), commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src bench || echo '+changes')"
echo "Build: $build. Load: wrk -t2 -c64 -d${seconds}s, 1,000 hosts, on 127.0.0.1; load average before $load_before, after $(uptime | sed 's/.*load average: //')"
echo "Idle RSS before load: nginx worker ${idle[0]} MiB, floor ${idle[1]} MiB, heartbeat-server ${idle[2]} MiB"
for round in $(seq 1 "$rounds"); do
  echo
  echo "Round $round"
  echo
  echo "| load | target | req/s | × nginx | × floor | p50 | p99 | errors | CPU s | CPU µs/req | peak RSS |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  awk -F'\t' -v r="$round" '
    NR == FNR { if ($1 == r) rps[$2 SUBSEP $3] = $5; next }
    $1 == r {
      printf "| %s | %s | %d | %.2f | %.2f | %.2f ms | %.2f ms | %d | %.1f | %.1f | %.0f MiB |\n", $2, $3, $5,
        $5 / rps[$2 SUBSEP "nginx"], $5 / rps[$2 SUBSEP "floor"], $6, $7, $8, $9, $9 * 1e6 / $4, $10
    }' "$results" "$results"
done
echo
echo "Ratios over the rounds (min–max):"
awk -F'\t' '
  { rps[$1 SUBSEP $2 SUBSEP $3] = $5; loads[$2] = 1; rounds[$1] = 1 }
  END {
    split("floor heartbeat-server", targets, " ")
    for (l in loads) for (k = 1; k <= 2; k++) {
      lo_n = lo_f = 1e9; hi_n = hi_f = 0
      for (r in rounds) {
        v = rps[r SUBSEP l SUBSEP targets[k]]
        n = v / rps[r SUBSEP l SUBSEP "nginx"]; f = v / rps[r SUBSEP l SUBSEP "floor"]
        if (n < lo_n) lo_n = n; if (n > hi_n) hi_n = n; if (f < lo_f) lo_f = f; if (f > hi_f) hi_f = f
      }
      printf "  %s, %s: %.2f–%.2f× nginx, %.2f–%.2f× the floor\n", l, targets[k], lo_n, hi_n, lo_f, hi_f
    }
  }' "$results" | sort
echo
if [ "$logged" -ge "$acknowledged" ]; then
  echo "Log: every acknowledged beat is there: $logged beat lines ≥ $acknowledged acknowledged (requests − errors, warm-up included; the rest were in flight when wrk stopped)"
else
  echo "Log: MISSING BEATS: $logged beat lines < $acknowledged acknowledged" >&2
  exit 1
fi

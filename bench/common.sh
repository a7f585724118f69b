# Shared by the load scripts: source it after `cd` to the repository root.

wait_until_up() { # $1: URL; gives up after 120 s
  for _ in $(seq 1 1200); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "$(basename "$0"): $1 did not come up" >&2
  exit 1
}

need_wrk() { # installs wrk with apt-get when it is missing
  if ! command -v wrk >/dev/null; then
    echo "Installing wrk (apt-get install wrk)..."
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk) >/dev/null
  fi
}

# Registers hosts host-0 … host-($2 - 1) at the server at $1 (one beat each, declaring interval $3), going on from
# host-${4:-0}; gives up after 300 s. Each round of wrk starts where the last one left no host out (see heartbeats.lua).
register_hosts() {
  local base=$1 hosts=$2 interval=$3 start=${4:-0} registered deadline=$((SECONDS + 300))
  while registered=$(curl -fsS "$base/api/v1/hosts?limit=1" | grep -o '"total":[0-9]*' | cut -d: -f2); [ "$registered" -lt "$hosts" ]; do
    [ "$SECONDS" -lt "$deadline" ] || { echo "$(basename "$0"): could not register $hosts hosts in 300 s ($registered so far)" >&2; exit 1; }
    HOSTS=$hosts START=$start THREADS=2 INTERVAL=$interval NEXT_START="$work/next-start" \
      wrk -t2 -c64 -d10s -s bench/heartbeats.lua "$base/" >/dev/null
    start=$(cat "$work/next-start")
  done
}

# nginx as the bench's yardstick: $1 worker processes, on 127.0.0.1:$2, answering every request `return $3;` (e.g. 200),
# its access log on, its files in $work; started in the background ($! is its master), stopped by the caller.
start_nginx() {
  cat >"$work/nginx.conf" <<EOF
worker_processes $1;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 4096; }
http {
  access_log $work/nginx-access.log;
  client_body_temp_path $work/nginx-body;
  server {
    listen 127.0.0.1:$2;
    location / { return $3; }
  }
}
EOF
  "$nginx_bin" -c "$work/nginx.conf" -g 'daemon off;' &
}

# A scratch directory in $work and a server in $server_pid (set it once started), both gone on exit.
start_scratch() {
  work=$(mktemp -d)
  server_pid=""
  trap 'cleanup_scratch' EXIT
}

cleanup_scratch() {
  [ -z "$server_pid" ] || kill "$server_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}

# A scratch directory in $work and background processes in $pids (append each one started), all gone on exit.
start_scratch_processes() {
  work=$(mktemp -d)
  pids=()
  trap 'cleanup_scratch_processes' EXIT
}

cleanup_scratch_processes() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}

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

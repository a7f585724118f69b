# Shared by the load scripts: source it after `cd` to the repository root.

wait_until_up() { # $1: URL; gives up after 120 s
  for _ in $(seq 1 1200); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "$(basename "$0"): $1 did not come up" >&2
  exit 1
}

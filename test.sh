#!/usr/bin/env bash
# Runs every test of the solution against real servers on 127.0.0.1.
# Usage: ./test.sh [extra 'dotnet test' arguments, e.g. --filter-method "*Rotation*"]
set -euo pipefail
cd "$(dirname "$0")"

# The status page is tested in a real headless Chromium: Debian's, installed on first use where we may.
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "Installing Chromium for the browser tests (apt-get install chromium)..."
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null \
      || { echo "Could not install Chromium with apt-get; install it by hand: apt-get install chromium" >&2; exit 1; }
  else
    echo "The browser tests need Chromium at /usr/bin/chromium: sudo apt-get install chromium" >&2
    exit 1
  fi
fi

# The fleet tests run against a real PostgreSQL: HEARTBEAT_TEST_POSTGRES names one, else they start a throwaway
# server from Debian's binaries, installed on first use where we may.
if [ -z "${HEARTBEAT_TEST_POSTGRES:-}" ] && ! command -v initdb >/dev/null && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "Installing PostgreSQL for the fleet tests (apt-get install postgresql)..."
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql) >/dev/null \
      || { echo "Could not install PostgreSQL with apt-get; install it by hand: apt-get install postgresql" >&2; exit 1; }
  else
    echo "The fleet tests need PostgreSQL (apt-get install postgresql) or HEARTBEAT_TEST_POSTGRES; without it they are skipped." >&2
  fi
fi

output=$(mktemp)
trap 'rm -f "$output"' EXIT

# With a filter, a test project in which nothing matches is no failure (exit code 8: zero tests ran).
extra=()
[ $# -eq 0 ] || extra=(--ignore-exit-code 8)

status=0
dotnet test --solution Heartbeat.slnx -c Release "${extra[@]}" "$@" 2>&1 | tee "$output" || status=$?

# One closing line in the plain 'N passed, N failed' form, from the test platform's summary.
passed=$(grep -oE '^\s*succeeded: [0-9]+' "$output" | tail -1 | grep -oE '[0-9]+' || echo 0)
failed=$(grep -oE '^\s*failed: [0-9]+' "$output" | tail -1 | grep -oE '[0-9]+' || echo 0)
echo "Tests: ${passed} passed, ${failed} failed"
exit "$status"

#!/usr/bin/env bash
# Runs every test of the solution against real servers on 127.0.0.1.
# Usage: ./test.sh [extra 'dotnet test' arguments, e.g. --filter-method "*Rotation*"]
set -euo pipefail
cd "$(dirname "$0")"

# Installs a Debian package the tests need, where we may (root with apt-get); returns 1 where we may not.
install_package() { # $1: package, $2: what needs it
  [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null || return 1
  echo "Installing $1 for $2 (apt-get install $1)..."
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$1") >/dev/null \
    || { echo "Could not install $1 with apt-get; install it by hand: apt-get install $1" >&2; exit 1; }
}

# The status page is tested in a real headless Chromium: Debian's.
if [ ! -x /usr/bin/chromium ] && ! install_package chromium "the browser tests"; then
  echo "The browser tests need Chromium at /usr/bin/chromium: sudo apt-get install chromium" >&2
  exit 1
fi

# The rotation tests run Debian's logrotate on the shipped deploy/logrotate config; the webhook tests a receiver in
# Python's http.server.
if [ ! -x /usr/sbin/logrotate ] && ! install_package logrotate "the log rotation tests"; then
  echo "The log rotation tests need logrotate at /usr/sbin/logrotate: sudo apt-get install logrotate" >&2
  exit 1
fi
if ! command -v python3 >/dev/null && ! install_package python3 "the webhook tests"; then
  echo "The webhook tests need python3: sudo apt-get install python3" >&2
  exit 1
fi

# The peer client tests drive the server with those tools' own client libraries, Healthchecks.io's from npm and
# python-consul from Debian; the OpenAPI tests validate the server's document with two validators from npm. The npm
# packages are pinned in tests/clients.
if ! command -v npm >/dev/null && ! install_package npm "the peer client and OpenAPI tests"; then
  echo "The peer client and OpenAPI tests need npm: sudo apt-get install npm" >&2
  exit 1
fi
if [ ! -d tests/clients/node_modules ] || [ tests/clients/package-lock.json -nt tests/clients/node_modules ]; then
  echo "Installing the test clients and validators (npm ci --prefix tests/clients)..."
  npm ci --prefix tests/clients --no-audit --no-fund --silent || { echo "Could not install the test clients with npm" >&2; exit 1; }
fi
if ! /usr/bin/python3 -c 'import consul' 2>/dev/null && ! install_package python3-consul "the peer client tests"; then
  echo "The peer client tests need python-consul: sudo apt-get install python3-consul" >&2
  exit 1
fi

# The deployment tests check the shipped units with Debian's systemd-analyze (part of the systemd package), and run the
# published binaries as a service user with setpriv (util-linux).
if [ ! -x /usr/bin/systemd-analyze ] && ! install_package systemd "the systemd unit tests"; then
  echo "The systemd unit tests need systemd-analyze: sudo apt-get install systemd" >&2
  exit 1
fi
if [ ! -x /usr/bin/setpriv ] && ! install_package util-linux "the deployment tests"; then
  echo "The deployment tests need setpriv: sudo apt-get install util-linux" >&2
  exit 1
fi

# The metrics tests run promtool (from Debian's prometheus package; only that binary is used) on a real scrape and on
# the shipped alert rules.
if [ ! -x /usr/bin/promtool ] && ! install_package prometheus "the metrics tests"; then
  echo "The metrics tests need promtool at /usr/bin/promtool: sudo apt-get install prometheus" >&2
  exit 1
fi

# The deployment tests build the release as users get it, NativeAOT, which needs clang and zlib; ShippedServerTests
# then run that binary. Without them deploy/publish.sh builds JIT single files and those tests say so.
if ! command -v clang >/dev/null || [ ! -f /usr/include/zlib.h ]; then
  install_package clang "the NativeAOT build the deployment tests run" && install_package zlib1g-dev "the NativeAOT build" \
    || echo "The NativeAOT build needs clang and zlib1g-dev (sudo apt-get install clang zlib1g-dev); the deployment tests run a JIT build instead." >&2
fi

# The fleet tests run against a real PostgreSQL: HEARTBEAT_TEST_POSTGRES names one, else they start a throwaway
# server from Debian's binaries.
if [ -z "${HEARTBEAT_TEST_POSTGRES:-}" ] && ! command -v initdb >/dev/null && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 \
  && ! install_package postgresql "the fleet tests"; then
  echo "The fleet tests need PostgreSQL (apt-get install postgresql) or HEARTBEAT_TEST_POSTGRES; without it they are skipped." >&2
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
# The failed tests' names and messages again, above the closing line, where the tail of a long log shows them.
if [ "$failed" != 0 ]; then
  echo "Failed tests:"
  awk '/^failed [^ ]+ \(/ { n = 8; print; next } n > 0 && /^    at / { n = 0 } n > 0 && !/^  from / { print; n-- }' "$output"
fi
echo "Tests: ${passed} passed, ${failed} failed"
exit "$status"

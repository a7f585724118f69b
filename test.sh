#!/usr/bin/env bash
# Runs every test of the solution against real servers on 127.0.0.1.
# Usage: ./test.sh [extra 'dotnet test' arguments, e.g. --filter-method "*Rotation*"]
set -euo pipefail
cd "$(dirname "$0")"

output=$(mktemp)
trap 'rm -f "$output"' EXIT

status=0
dotnet test --solution Heartbeat.slnx -c Release "$@" 2>&1 | tee "$output" || status=$?

# One closing line in the plain 'N passed, N failed' form, from the test platform's summary.
passed=$(grep -oE '^\s*succeeded: [0-9]+' "$output" | tail -1 | grep -oE '[0-9]+' || echo 0)
failed=$(grep -oE '^\s*failed: [0-9]+' "$output" | tail -1 | grep -oE '[0-9]+' || echo 0)
echo "Tests: ${passed} passed, ${failed} failed"
exit "$status"

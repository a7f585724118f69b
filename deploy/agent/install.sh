#!/usr/bin/env bash
# Installs the heartbeat agent and starts it at boot, as the seed's client does:
#   cd heartbeat; ./install.sh localhost:7777
# Usage: install.sh HOST:PORT [--every 60s] [--token T] [--host NAME] [--prefix DIR] [--dry-run]
# It fetches nothing from the internet: it uses the 'heartbeat' binary next to this script, or builds
# one with the .NET SDK from the source tree this script sits in.
set -euo pipefail

usage() {
  echo "usage: $0 HOST:PORT [--every 60s] [--token TOKEN] [--host NAME] [--prefix DIR] [--dry-run]" >&2
  echo "  --prefix DIR  where the binary goes (default: /usr/local/bin as root, else ~/.local/bin)" >&2
  echo "  other options go to 'heartbeat install' (see: heartbeat install --help)" >&2
  exit 2
}

[ $# -ge 1 ] || usage
case "$1" in -h|--help) usage ;; esac
server="$1"
shift

here="$(cd "$(dirname "$0")" && pwd)"
if [ "$(id -u)" = 0 ]; then prefix=/usr/local/bin; else prefix="$HOME/.local/bin"; fi
dry_run=0
pass=()
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) [ $# -ge 2 ] || usage; prefix="$2"; shift 2 ;;
    --dry-run) dry_run=1; pass+=("$1"); shift ;;
    *) pass+=("$1"); shift ;;
  esac
done

binary="$here/heartbeat"
if [ ! -x "$binary" ]; then
  source_dir="$here/../../src/Heartbeat.Agent"
  if ! command -v dotnet >/dev/null || [ ! -d "$source_dir" ]; then
    echo "install.sh: no 'heartbeat' binary next to this script, and no .NET SDK and source tree to build one." >&2
    echo "Put the published binary (deploy/publish.sh builds it into dist/RID/) next to install.sh." >&2
    exit 1
  fi
  case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) rid=linux-x64 ;;
    Linux-aarch64) rid=linux-arm64 ;;
    Darwin-arm64) rid=osx-arm64 ;;
    Darwin-x86_64) rid=osx-x64 ;;
    *) echo "install.sh: no build for $(uname -s) $(uname -m)" >&2; exit 1 ;;
  esac
  build="$(mktemp -d)"
  trap 'rm -rf "$build"' EXIT
  echo "Building the agent for $rid with the .NET SDK..."
  dotnet publish "$source_dir" -c Release -r "$rid" --self-contained -p:PublishSingleFile=true -p:DebugType=none -o "$build" >/dev/null
  binary="$build/heartbeat"
fi

if [ "$dry_run" = 1 ]; then
  echo "Would copy $binary to $prefix/heartbeat"
else
  mkdir -p "$prefix"
  install -m 755 "$binary" "$prefix/heartbeat"
  echo "Installed $prefix/heartbeat"
fi

# Not exec: the trap must still clean up a build directory afterwards.
"$binary" install "$server" --binary "$prefix/heartbeat" "${pass[@]}"

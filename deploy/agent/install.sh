#!/usr/bin/env bash
# Installs the heartbeat agent and starts it at boot, as the seed's client does:
#   cd heartbeat; ./install.sh localhost:7777
# It fetches nothing from the internet: it uses the 'heartbeat' binary next to this script, or builds one with the
# .NET SDK from the source tree this script sits in. 'heartbeat install' then copies itself to PREFIX/bin and writes
# the service (see: heartbeat install --help).
set -euo pipefail

usage() {
  cat <<USAGE
usage: $0 HOST:PORT [--every 60s] [--token TOKEN] [--host NAME] [--prefix DIR] [--root DIR] [--dry-run]
  HOST:PORT     the heartbeat server (or an http(s) URL)
  --prefix DIR  the agent goes to DIR/bin/heartbeat (default: /usr/local as root, else ~/.local)
  --root DIR    write every file under DIR (a staging root) and start nothing
  --dry-run     print what it would copy, write and run; change nothing
  other options go to 'heartbeat install' (see: heartbeat install --help)
USAGE
}

[ $# -ge 1 ] || { usage >&2; exit 2; }
case "$1" in -h|--help) usage; exit 0 ;; -*) usage >&2; exit 2 ;; esac

here="$(cd "$(dirname "$0")" && pwd)"
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

# Not exec: the trap must still clean up a build directory afterwards.
"$binary" install "$@"

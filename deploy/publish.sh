#!/usr/bin/env bash
# Builds heartbeat-server and the heartbeat agent, self-contained, per platform, with the agent's install.sh
# beside them: no .NET needed where they run. A NativeAOT server comes with its SQLite library (libe_sqlite3).
# Usage: deploy/publish.sh [--out DIR] [runtime-id ...]   (default: linux-x64 linux-arm64 osx-arm64 osx-x64)
# Output: DIR/<runtime-id>/{heartbeat-server,heartbeat,install.sh[,libe_sqlite3.so]}, DIR by default dist
set -euo pipefail
cd "$(dirname "$0")/.."

dist=dist
if [ "${1:-}" = --out ]; then
  [ $# -ge 2 ] || { echo "usage: $0 [--out DIR] [runtime-id ...]" >&2; exit 2; }
  dist="$2"
  shift 2
fi
runtimes=("$@")
[ ${#runtimes[@]} -gt 0 ] || runtimes=(linux-x64 linux-arm64 osx-arm64 osx-x64)

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) host_rid=linux-x64 ;;
  Linux-aarch64) host_rid=linux-arm64 ;;
  Darwin-arm64) host_rid=osx-arm64 ;;
  Darwin-x86_64) host_rid=osx-x64 ;;
  *) host_rid=unknown ;;
esac

# Native libraries (SQLite) go inside the file too, so the one file is all there is to copy.
single_file=(--self-contained -p:PublishSingleFile=true -p:IncludeNativeLibrariesForSelfExtract=true -p:EnableCompressionInSingleFile=true -p:DebugType=none)
for rid in "${runtimes[@]}"; do
  echo "==> $rid"
  # NativeAOT where this machine can compile it (its own platform, with clang); bench/RESULTS.md has the
  # numbers that chose it: the server takes ~20% more beats a second in a third of the memory, the agent
  # starts in milliseconds. Elsewhere: self-contained single files (the server untrimmed: a trimmed build
  # fails at start inside Kestrel's certificate loading).
  if [ "$rid" = "$host_rid" ] && command -v clang >/dev/null; then
    dotnet publish src/Heartbeat.Server/Heartbeat.Server.csproj -c Release -r "$rid" -p:PublishAot=true -o "$dist/$rid"
    dotnet publish src/Heartbeat.Agent/Heartbeat.Agent.csproj -c Release -r "$rid" -p:PublishAot=true -o "$dist/$rid"
  else
    dotnet publish src/Heartbeat.Server/Heartbeat.Server.csproj -c Release -r "$rid" "${single_file[@]}" -o "$dist/$rid"
    dotnet publish src/Heartbeat.Agent/Heartbeat.Agent.csproj -c Release -r "$rid" "${single_file[@]}" -p:PublishTrimmed=true -o "$dist/$rid"
  fi
  rm -f "$dist/$rid"/*.dbg "$dist/$rid"/*.pdb "$dist/$rid"/*.xml
  cp deploy/agent/install.sh "$dist/$rid/"
  ls -l "$dist/$rid/heartbeat-server" "$dist/$rid/heartbeat"
done

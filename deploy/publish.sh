#!/usr/bin/env bash
# Builds heartbeat-server and the heartbeat agent as one self-contained file each per platform, with the
# agent's install.sh beside them: no .NET needed where they run.
# Usage: deploy/publish.sh [runtime-id ...]   (default: linux-x64 linux-arm64 osx-arm64 osx-x64)
# Output: dist/<runtime-id>/{heartbeat-server,heartbeat,install.sh}
set -euo pipefail
cd "$(dirname "$0")/.."

runtimes=("$@")
[ ${#runtimes[@]} -gt 0 ] || runtimes=(linux-x64 linux-arm64 osx-arm64 osx-x64)

single_file=(--self-contained -p:PublishSingleFile=true -p:EnableCompressionInSingleFile=true -p:DebugType=none)
for rid in "${runtimes[@]}"; do
  echo "==> $rid"
  # The server is not trimmed: a trimmed build fails at start inside Kestrel's certificate loading.
  dotnet publish src/Heartbeat.Server/Heartbeat.Server.csproj -c Release -r "$rid" "${single_file[@]}" -o "dist/$rid"
  dotnet publish src/Heartbeat.Agent/Heartbeat.Agent.csproj -c Release -r "$rid" "${single_file[@]}" -p:PublishTrimmed=true -o "dist/$rid"
  cp deploy/agent/install.sh "dist/$rid/"
  ls -l "dist/$rid/heartbeat-server" "dist/$rid/heartbeat"
done

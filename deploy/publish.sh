#!/usr/bin/env bash
# Builds heartbeat-server as one self-contained file per platform: no .NET needed where it runs.
# Usage: deploy/publish.sh [runtime-id ...]   (default: linux-x64 linux-arm64 osx-arm64 osx-x64)
# Output: dist/<runtime-id>/heartbeat-server
set -euo pipefail
cd "$(dirname "$0")/.."

runtimes=("$@")
[ ${#runtimes[@]} -gt 0 ] || runtimes=(linux-x64 linux-arm64 osx-arm64 osx-x64)

for rid in "${runtimes[@]}"; do
  echo "==> $rid"
  dotnet publish src/Heartbeat.Server/Heartbeat.Server.csproj -c Release -r "$rid" \
    --self-contained -p:PublishSingleFile=true -p:EnableCompressionInSingleFile=true -p:DebugType=none -o "dist/$rid"
  ls -l "dist/$rid/heartbeat-server"
done

# heartbeat-server in a container (deploy/compose.yaml runs a two-server fleet on PostgreSQL):
#   docker build -t heartbeat-server .
#   docker run -d --name heartbeat -p 7777:7777 -v heartbeat:/data heartbeat-server
# The build stage runs deploy/publish.sh, the script CI tests: with clang it builds NativeAOT, which needs nothing of
# .NET where it runs, so the runtime stage is runtime-deps (libc, OpenSSL, CA certificates, time zones).
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends clang zlib1g-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN case "$(uname -m)" in x86_64) rid=linux-x64 ;; aarch64) rid=linux-arm64 ;; *) echo "no build for $(uname -m)" >&2; exit 1 ;; esac \
 && deploy/publish.sh --out /dist "$rid" \
 && mkdir /app && cp "/dist/$rid/heartbeat-server" "/dist/$rid/libe_sqlite3.so" /app/

FROM mcr.microsoft.com/dotnet/runtime-deps:10.0
COPY --from=build /app/ /app/
# The image's own unprivileged user (app, uid 1654) owns /data and nothing else.
RUN mkdir /data && chown 1654:1654 /data
USER 1654:1654
# The heartbeat log (the seed's product) and the SQLite store go to the volume; the console log goes to standard
# output, for docker logs. Every option has its HEARTBEAT_* variable: docker run -e HEARTBEAT_WEBHOOK=… (see --help).
ENV HEARTBEAT_PORT=7777 \
    HEARTBEAT_DATA=/data/heartbeat.db \
    HEARTBEAT_LOG_FILE=/data/heartbeat_server.log
VOLUME /data
EXPOSE 7777
# runtime-deps has no curl: the server asks itself.
HEALTHCHECK --interval=30s --timeout=10s --start-period=10s --retries=3 CMD ["/app/heartbeat-server", "healthcheck"]
ENTRYPOINT ["/app/heartbeat-server"]

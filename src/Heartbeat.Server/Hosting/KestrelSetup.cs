using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Heartbeat.Server.Hosting;

internal static class KestrelSetup
{
    public static IWebHostBuilder UseHeartbeatKestrel(this IWebHostBuilder web, ServerOptions options) =>
        web.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;

            // Limits chosen for a server that faces many small, possibly hostile, clients. A heartbeat is a
            // few hundred bytes sent at once, so anything slow or large is either broken or an attack
            // (slowloris): it must give up its connection rather than starve the agents.
            var limits = kestrel.Limits;
            limits.MaxRequestBodySize = options.Ingest.MaxBodyBytes;
            limits.RequestHeadersTimeout = TimeSpan.FromSeconds(10); // Kestrel's 30 s is meant for browsers on slow links.
            limits.KeepAliveTimeout = TimeSpan.FromSeconds(15);      // Agents beat every ~60 s; idle sockets between beats are waste.
            limits.MinRequestBodyDataRate = new MinDataRate(bytesPerSecond: 240, gracePeriod: TimeSpan.FromSeconds(5));
            limits.MinResponseDataRate = new MinDataRate(bytesPerSecond: 240, gracePeriod: TimeSpan.FromSeconds(5));
            limits.MaxRequestHeadersTotalSize = 16 * 1024;           // Half of Kestrel's 32 KiB: no agent sends cookies.
            limits.MaxRequestHeaderCount = 50;
            limits.MaxRequestLineSize = 8 * 1024;

            // Read once, here: a bad certificate stops the start with its own message.
            var certificate = options.Security.TlsCertificate is { } cert
                ? X509Certificate2.CreateFromPemFile(cert, options.Security.TlsKey)
                : null;
            void Configure(ListenOptions listen)
            {
                if (certificate is not null)
                {
                    listen.Protocols = HttpProtocols.Http1AndHttp2;
                    listen.UseHttps(certificate);
                }
            }

            if (options.Bind.Count == 0)
            {
                kestrel.ListenAnyIP(options.Port, Configure); // [::] dual-stack, falling back to 0.0.0.0 where IPv6 is off
                return;
            }

            foreach (var address in options.Bind)
            {
                if (address == "localhost")
                {
                    kestrel.ListenLocalhost(options.Port, Configure);
                }
                else
                {
                    kestrel.Listen(IPAddress.Parse(address), options.Port, Configure);
                }
            }
        });
}

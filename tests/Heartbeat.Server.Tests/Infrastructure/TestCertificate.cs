using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Heartbeat.Server.Tests.Infrastructure;

/// <summary>A self-signed certificate for 127.0.0.1, as PEM files, and its thumbprint for a client to pin.</summary>
internal static class TestCertificate
{
    public static (string Certificate, string Key, string Thumbprint) Write(TempDirectory directory)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        var (certPath, keyPath) = (directory.File("cert.pem"), directory.File("key.pem"));
        File.WriteAllText(certPath, certificate.ExportCertificatePem());
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
        return (certPath, keyPath, certificate.GetCertHashString());
    }
}

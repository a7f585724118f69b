using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using Heartbeat.Protocol;
using Heartbeat.Server.Hosts;

namespace Heartbeat.Server.Ingest;

// Reads and validates a heartbeat body (wire format v1, PRODUCT.md): empty, or a JSON object whose
// known fields are checked and whose unknown fields are ignored. One pass of Utf8JsonReader,
// so every refusal can say exactly which field is wrong.
internal static class HeartbeatParser
{
    // The fields the parser knows; the position of each is its bit in the "already seen" mask.
    private static readonly string[] Fields = ["ip", "host", "interval", "status", "msg", "token", "misses", "maintenance", "boot", "ts", "group"];

    // Client clocks outside these years are not clocks worth comparing with ours.
    private static readonly double EarliestClientTime = new DateTimeOffset(2000, 1, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeSeconds();
    private static readonly double LatestClientTime = new DateTimeOffset(2100, 1, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeSeconds();

    public static bool TryParse(
        in ReadOnlySequence<byte> body,
        [NotNullWhen(true)] out ReceivedHeartbeat? heartbeat,
        [NotNullWhen(false)] out HeartbeatError? error) => TryParse(body, out heartbeat, out _, out error);

    // body: The request body.
    // heartbeat: The beat, when valid.
    // token: The optional "token" field: kept apart from the beat, so that it can never reach a log or a page.
    // error: Why the body was refused.
    public static bool TryParse(
        in ReadOnlySequence<byte> body,
        [NotNullWhen(true)] out ReceivedHeartbeat? heartbeat,
        out string? token,
        [NotNullWhen(false)] out HeartbeatError? error)
    {
        heartbeat = null;
        token = null;
        if (IsBlank(body))
        {
            heartbeat = ReceivedHeartbeat.Empty;
            error = null;
            return true;
        }

        // Utf8JsonReader checks the encoding only of the strings it decodes; a skipped unknown field would let anything through.
        if (!IsValidUtf8(body))
        {
            error = new HeartbeatError("The body is not valid UTF-8.");
            return false;
        }

        var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = 32 });
        try
        {
            reader.Read();
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                error = new HeartbeatError("The body must be a JSON object, such as {\"ip\": \"192.168.1.100\"}.");
                return false;
            }

            error = ReadObject(ref reader, out heartbeat, out token);
            if (error is null && reader.Read())
            {
                error = new HeartbeatError("The body must hold one JSON object and nothing after it.");
            }
        }
        catch (JsonException e)
        {
            error = new HeartbeatError(string.Create(
                CultureInfo.InvariantCulture,
                $"The body is not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1})."));
        }

        if (error is not null)
        {
            heartbeat = null;
            token = null;
        }

        return error is null;
    }

    // A beat from a ping URL: the host from the path, the rest from the query string, checked like a body.
    public static bool TryParsePing(
        string host,
        bool fail,
        string? interval,
        string? message,
        [NotNullWhen(true)] out ReceivedHeartbeat? heartbeat,
        [NotNullWhen(false)] out HeartbeatError? error)
    {
        heartbeat = null;
        double? seconds = null;
        if (interval is not null)
        {
            if (!double.TryParse(interval, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var parsed) || !HeartbeatRules.IsValidInterval(parsed))
            {
                error = new HeartbeatError($"'interval' must be between {HeartbeatRules.MinIntervalSeconds} and {HeartbeatRules.MaxIntervalSeconds} seconds.", "interval");
                return false;
            }

            seconds = parsed;
        }

        error = ValidateHost(host)
            ?? (message is not null && HeartbeatRules.HasUnsafeCharacters(message)
                ? new HeartbeatError("'msg' must not contain control characters or line breaks.", "msg")
                : ValidateMessage(message));
        if (error is null)
        {
            heartbeat = new ReceivedHeartbeat(null, host, seconds is { } s ? TimeSpan.FromSeconds(s) : null, fail ? HeartbeatStatus.Fail : HeartbeatStatus.Up, message);
        }

        return error is null;
    }

    private static bool IsBlank(in ReadOnlySequence<byte> body)
    {
        foreach (var segment in body)
        {
            if (segment.Span.ContainsAnyExcept(" \t\r\n"u8))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsValidUtf8(in ReadOnlySequence<byte> body)
    {
        if (body.IsSingleSegment)
        {
            return Utf8.IsValid(body.FirstSpan);
        }

        // A character may straddle two segments: check a copy (the body is within --max-body).
        var copy = ArrayPool<byte>.Shared.Rent((int)body.Length);
        try
        {
            body.CopyTo(copy);
            return Utf8.IsValid(copy.AsSpan(0, (int)body.Length));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(copy);
        }
    }

    private static HeartbeatError? ReadObject(ref Utf8JsonReader reader, out ReceivedHeartbeat? heartbeat, out string? token)
    {
        heartbeat = null;
        token = null;
        string? ip = null, host = null, status = null, message = null, boot = null, group = null;
        double? interval = null, maintenance = null, clientTime = null;
        int? misses = null;
        var seen = 0;

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var field = reader.ValueTextEquals("ip"u8) ? "ip"
                : reader.ValueTextEquals("host"u8) ? "host"
                : reader.ValueTextEquals("interval"u8) ? "interval"
                : reader.ValueTextEquals("status"u8) ? "status"
                : reader.ValueTextEquals("msg"u8) ? "msg"
                : reader.ValueTextEquals("token"u8) ? "token"
                : reader.ValueTextEquals("misses"u8) ? "misses"
                : reader.ValueTextEquals("maintenance"u8) ? "maintenance"
                : reader.ValueTextEquals("boot"u8) ? "boot"
                : reader.ValueTextEquals("ts"u8) ? "ts"
                : reader.ValueTextEquals("group"u8) ? "group"
                : null;
            reader.Read();
            if (field is null)
            {
                reader.Skip();
                continue;
            }

            var bit = 1 << Array.IndexOf(Fields, field);
            if ((seen & bit) != 0)
            {
                return new HeartbeatError($"'{field}' appears more than once.", field);
            }

            seen |= bit;

            if (reader.TokenType == JsonTokenType.Null)
            {
                continue;
            }

            var problem = field switch
            {
                "interval" => ReadInterval(ref reader, out interval),
                "misses" => ReadMisses(ref reader, out misses),
                "maintenance" => ReadNumber(ref reader, field, 0, HeartbeatRules.MaxMaintenanceSeconds, "a number of seconds from 0 (end it) to 2592000 (30 days)", out maintenance),
                "ts" => ReadNumber(ref reader, field, EarliestClientTime, LatestClientTime, "the sender's time in Unix seconds", out clientTime),
                "boot" => ReadLabel(ref reader, field, HeartbeatRules.MaxBootIdLength, out boot),
                "group" => ReadLabel(ref reader, field, HeartbeatRules.MaxGroupLength, out group),
                "ip" => ReadString(ref reader, field, out ip),
                "host" => ReadString(ref reader, field, out host),
                "status" => ReadString(ref reader, field, out status),
                "token" => ReadString(ref reader, field, out token),
                _ => ReadString(ref reader, field, out message),
            };
            if (problem is not null)
            {
                return problem;
            }
        }

        var error = ValidateIp(ref ip) ?? ValidateHost(host) ?? ValidateStatus(status) ?? ValidateMessage(message);
        if (error is null)
        {
            heartbeat = new ReceivedHeartbeat(
                ip,
                host,
                interval is { } seconds ? TimeSpan.FromSeconds(seconds) : null,
                status == "fail" ? HeartbeatStatus.Fail : HeartbeatStatus.Up,
                message,
                misses)
            {
                Maintenance = maintenance is { } window ? TimeSpan.FromSeconds(window) : null,
                BootId = boot,
                ClientTime = clientTime is { } unix ? DateTimeOffset.FromUnixTimeMilliseconds((long)(unix * 1000)) : null,
                Group = group,
            };
        }

        return error;
    }

    private static HeartbeatError? ReadNumber(ref Utf8JsonReader reader, string field, double min, double max, string what, out double? value)
    {
        value = null;
        if (reader.TokenType != JsonTokenType.Number || !reader.TryGetDouble(out var number) || !double.IsFinite(number) || number < min || number > max)
        {
            return new HeartbeatError($"'{field}' must be {what}.", field);
        }

        value = number;
        return null;
    }

    private static HeartbeatError? ReadLabel(ref Utf8JsonReader reader, string field, int maxLength, out string? value)
    {
        var problem = ReadString(ref reader, field, out value);
        if (problem is null && !HeartbeatRules.IsValidLabel(value, maxLength))
        {
            value = null;
            problem = new HeartbeatError($"'{field}' must be 1-{maxLength} letters, digits, '.', '-', '_' or ':'.", field);
        }

        return problem;
    }

    private static HeartbeatError? ReadString(ref Utf8JsonReader reader, string field, out string? value)
    {
        value = null;
        if (reader.TokenType != JsonTokenType.String)
        {
            return new HeartbeatError($"'{field}' must be a string.", field);
        }

        try
        {
            value = reader.GetString();
        }
        catch (InvalidOperationException)
        {
            // The bytes are UTF-8 by now; this is an escaped lone surrogate such as "\udc00".
            return new HeartbeatError($"'{field}' is not valid Unicode text.", field);
        }

        return HeartbeatRules.HasUnsafeCharacters(value)
            ? new HeartbeatError($"'{field}' must not contain control characters or line breaks.", field)
            : null;
    }

    private static HeartbeatError? ReadInterval(ref Utf8JsonReader reader, out double? seconds)
    {
        seconds = null;
        if (reader.TokenType != JsonTokenType.Number || !reader.TryGetDouble(out var value))
        {
            return new HeartbeatError("'interval' must be a number of seconds.", "interval");
        }

        if (!HeartbeatRules.IsValidInterval(value))
        {
            return new HeartbeatError(
                $"'interval' must be between {HeartbeatRules.MinIntervalSeconds} and {HeartbeatRules.MaxIntervalSeconds} seconds.", "interval");
        }

        seconds = value;
        return null;
    }

    private static HeartbeatError? ReadMisses(ref Utf8JsonReader reader, out int? misses)
    {
        misses = null;
        if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt32(out var value) || value < 1 || value > HeartbeatRules.MaxMissesBeforeDown)
        {
            return new HeartbeatError($"'misses' must be a whole number from 1 to {HeartbeatRules.MaxMissesBeforeDown}.", "misses");
        }

        misses = value;
        return null;
    }

    private static HeartbeatError? ValidateIp(ref string? ip)
    {
        if (ip is null)
        {
            return null;
        }

        // IPAddress.TryParse also takes legacy forms ("10.1", "0x7f.1", "010.0.0.1"); only dotted quads and IPv6 count.
        if (!IPAddress.TryParse(ip, out var address)
            || (address.AddressFamily == AddressFamily.InterNetwork && address.ToString() != ip))
        {
            return new HeartbeatError("'ip' must be an IPv4 address (such as 192.168.1.100) or an IPv6 address.", "ip");
        }

        ip = address.ToString();
        return null;
    }

    private static HeartbeatError? ValidateHost(string? host) =>
        host is null || HeartbeatRules.IsValidHost(host)
            ? null
            : new HeartbeatError($"'host' must be {HeartbeatRules.HostRule}.", "host");

    private static HeartbeatError? ValidateStatus(string? status) =>
        status is null or "up" or "fail" ? null : new HeartbeatError("'status' must be \"up\" or \"fail\".", "status");

    private static HeartbeatError? ValidateMessage(string? message) =>
        message is null || Encoding.UTF8.GetByteCount(message) <= HeartbeatRules.MaxMessageBytes
            ? null
            : new HeartbeatError($"'msg' must be at most {HeartbeatRules.MaxMessageBytes} bytes.", "msg");
}

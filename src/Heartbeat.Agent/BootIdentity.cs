using Heartbeat.Protocol;

namespace Heartbeat.Agent;

// What identifies this boot of the machine: the server reports a change as a reboot, and two that alternate as two machines under one name.
internal static class BootIdentity
{
    private const string LinuxBootId = "/proc/sys/kernel/random/boot_id";

    public static string Current()
    {
        try
        {
            if (File.Exists(LinuxBootId) && File.ReadAllText(LinuxBootId).Trim() is var id && HeartbeatRules.IsValidLabel(id, HeartbeatRules.MaxBootIdLength))
            {
                return id;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Fall back to the boot time below.
        }

        // Elsewhere, the boot time to the minute, estimated from the uptime: it changes with a reboot, and only then.
        var booted = DateTimeOffset.UtcNow - TimeSpan.FromMilliseconds(Environment.TickCount64);
        return booted.ToString("yyyy-MM-dd'T'HH:mm'Z'", System.Globalization.CultureInfo.InvariantCulture);
    }
}

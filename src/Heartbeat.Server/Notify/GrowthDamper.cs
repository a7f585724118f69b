using System.Globalization;
using System.Text;

namespace Heartbeat.Server.Notify;

// The growth rule: a fleet that grows or moves at once (a site coming online, a DHCP server handing out new leases,
// a script registering hundreds of hosts) raises a new-host or IP-change event per host. Of each kind, the first
// SinglesPerMinute of a minute alert one by one; the rest of that minute fold into one summary, sent
// when the minute is over. Every event is still logged, shown and stored; only notifications fold. Kept in memory,
// like the flapping count: a restart within the minute loses that minute's summary, never an event.
internal sealed class GrowthDamper
{
    public const string NewHostsEvent = "new-hosts";
    public const string IpChangesEvent = "ip-changes";

    // One client with default limits once raised about 640 new-host and IP-change alerts in 5 s. Five of each kind a
    // minute plus their two summaries is at most 12 alerts a minute per target: within Discord's 30 a minute per
    // webhook and Slack's one a second, the tightest of the services we post to, and enough singles to act on.
    public const int SinglesPerMinute = 5;

    public static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    // Enough names to recognise a batch by; the count tells the rest.
    private const int NamesShown = 10;

    private readonly Lock _gate = new();
    private readonly Fold _newHosts = new(NewHostsEvent, "new hosts");
    private readonly Fold _ipChanges = new(IpChangesEvent, "IP changes");

    // The notification while its kind is under the minute's limit, else nothing; before it, the summary of a minute
    // that is over but was not settled yet.
    public IReadOnlyList<Notification> Filter(Notification notification, DateTimeOffset now)
    {
        var fold = notification.Event switch
        {
            "new" => _newHosts,
            "ip-changed" => _ipChanges,
            _ => null,
        };
        if (fold is null)
        {
            return [notification];
        }

        lock (_gate)
        {
            var sent = new List<Notification>(2);
            if (fold.CloseIfOver(now) is { } summary)
            {
                sent.Add(summary);
            }

            if (fold.Admit(notification, now))
            {
                sent.Add(notification);
            }

            return sent;
        }
    }

    // The summaries of the minutes that are over; called as time passes.
    public IReadOnlyList<Notification> Settle(DateTimeOffset now)
    {
        lock (_gate)
        {
            return [.. new[] { _newHosts.CloseIfOver(now), _ipChanges.CloseIfOver(now) }.OfType<Notification>()];
        }
    }

    // One kind's minute: from its first event, how many came and what the folded ones were.
    private sealed class Fold(string summaryEvent, string what)
    {
        private readonly List<string> _names = [];
        private DateTimeOffset? _start;
        private int _count;
        private int _named;
        private Notification? _firstFolded;
        private Notification? _lastFolded;

        // Counts the notification; true when it goes out on its own.
        public bool Admit(Notification notification, DateTimeOffset now)
        {
            _start ??= now;
            if (++_count <= SinglesPerMinute)
            {
                return true;
            }

            _firstFolded ??= notification;
            _lastFolded = notification;
            var named = _names.Contains(notification.Host);
            if (!named && _names.Count < NamesShown)
            {
                _names.Add(notification.Host);
                named = true;
            }

            _named += named ? 1 : 0;
            return false;
        }

        // Ends the minute once it is over: its summary, when anything was folded.
        public Notification? CloseIfOver(DateTimeOffset now)
        {
            if (_start is not { } start || now < start + Window)
            {
                return null;
            }

            var summary = _firstFolded is { } first && _lastFolded is { } last ? Summarise(first, last, now) : null;
            (_start, _count, _named, _firstFolded, _lastFolded) = (null, 0, 0, null, null);
            _names.Clear();
            return summary;
        }

        private Notification Summarise(Notification first, Notification last, DateTimeOffset now)
        {
            var folded = _count - SinglesPerMinute;
            var text = new StringBuilder()
                .Append(CultureInfo.InvariantCulture, $"{folded} more {what} in the last minute ({_count} in all): ")
                .AppendJoin(", ", _names);
            if (folded > _named)
            {
                text.Append(CultureInfo.InvariantCulture, $" and {folded - _named} more");
            }

            return last with
            {
                EventId = $"{first.EventId}-{summaryEvent}",
                Event = summaryEvent,
                Host = string.Empty, // many hosts: no one of them
                Ip = "-",
                PreviousIp = null,
                ServerTime = now,
                Summary = text.ToString(),
            };
        }
    }
}

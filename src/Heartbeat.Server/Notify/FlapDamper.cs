using Heartbeat.Protocol;
namespace Heartbeat.Server.Notify;

// The flapping rule: when a host goes down or recovers more than threshold times within
// window, its down and recovered notifications stop and one "flapping" notification says so;
// once it has been steady for a whole window, one more says it settled and in which state. Every
// transition is still logged and shown; only notifications are held. Kept in memory: a restart
// starts the count afresh.
internal sealed class FlapDamper(TimeSpan window, int threshold)
{
    public const string EventName = "flapping";

    private readonly Lock _gate = new();
    private readonly Dictionary<string, HostFlaps> _hosts = new(StringComparer.Ordinal);

    public IEnumerable<Notification> Filter(Notification notification, DateTimeOffset now)
    {
        if (notification.Event is not ("down" or "recovered"))
        {
            return [notification];
        }

        lock (_gate)
        {
            if (!_hosts.TryGetValue(notification.Host, out var flaps))
            {
                flaps = _hosts[notification.Host] = new HostFlaps();
            }

            flaps.Changes.Enqueue(now);
            flaps.Last = notification;
            while (flaps.Changes.Peek() < now - window)
            {
                flaps.Changes.Dequeue();
            }

            if (flaps.Flapping)
            {
                return [];
            }

            if (flaps.Changes.Count <= threshold)
            {
                return [notification];
            }

            flaps.Flapping = true;
            return [notification with
            {
                Event = EventName,
                Summary = $"Host flapping - {notification.Host} ({flaps.Changes.Count} downs and recoveries in {Durations.Format(window)}, now {notification.State}); "
                    + $"its alerts are held until it has been steady for {Durations.Format(window)}",
            }];
        }
    }

    public IReadOnlyList<Notification> Settle(DateTimeOffset now)
    {
        lock (_gate)
        {
            var settled = new List<Notification>();
            foreach (var (host, flaps) in _hosts.ToList())
            {
                if (flaps.Changes.Count > 0 && flaps.Changes.Last() >= now - window)
                {
                    continue;
                }

                _hosts.Remove(host);
                if (flaps.Flapping && flaps.Last is { } last)
                {
                    settled.Add(last with
                    {
                        Event = EventName,
                        EventId = $"{last.EventId}-settled",
                        ServerTime = now,
                        Summary = $"Host stopped flapping - {host} (steady for {Durations.Format(window)}, now {last.State})",
                    });
                }
            }

            return settled;
        }
    }

    private sealed class HostFlaps
    {
        public Queue<DateTimeOffset> Changes { get; } = new();

        public bool Flapping { get; set; }

        public Notification? Last { get; set; }
    }
}

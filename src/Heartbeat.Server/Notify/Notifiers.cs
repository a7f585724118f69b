using Heartbeat.Server.Hosts;

namespace Heartbeat.Server.Notify;

// The configured targets, and which notifications each of them gets: those of the events it asked for,
// with a flapping host's storm (see FlapDamper) and a burst of new hosts or IP changes (see
// GrowthDamper) each folded into one summary.
internal sealed class Notifiers : IDisposable
{
    private readonly IHttpClientFactory _http;
    private readonly FlapDamper _flapping;
    private readonly GrowthDamper _growth = new();
    private readonly SemaphoreSlim _queued = new(0, 1);
    private volatile Dictionary<string, INotificationTarget> _targets;

    public Notifiers(NotifyOptions options, IHttpClientFactory http)
    {
        _http = http;
        _targets = TargetsOf(options);
        _flapping = new FlapDamper(options.FlapWindow, options.FlapThreshold);
    }

    public IReadOnlyCollection<INotificationTarget> Targets => _targets.Values;

    public INotificationTarget? Find(string key) => _targets.GetValueOrDefault(key);

    // The targets of a configuration read again (SIGHUP). What is waiting in the outbox for a target that is gone
    // is parked; a target whose spec is unchanged keeps its key, and with it what waits for it.
    public void Use(NotifyOptions options) => _targets = TargetsOf(options);

    // The notifications the events call for, one per interested target: of the events that alert now (see
    // Alerts), and of released ones, held earlier and let go since.
    public IReadOnlyList<PendingNotification> Route(IReadOnlyList<HostEvent> events, IReadOnlyList<HostEvent> released, DateTimeOffset now)
    {
        if (_targets.Count == 0)
        {
            return [];
        }

        var pending = new List<PendingNotification>();
        foreach (var e in released.Concat(events.Where(e => e.Alerts)))
        {
            foreach (var notification in _flapping.Filter(Notification.From(e, now), now).SelectMany(n => _growth.Filter(n, now)))
            {
                pending.AddRange(ForTargets(notification));
            }
        }

        return pending;
    }

    // Summaries for hosts that have stopped flapping and of growth in minutes that are over; called as time passes.
    public IReadOnlyList<PendingNotification> Settle(DateTimeOffset now) => [.. _flapping.Settle(now).Concat(_growth.Settle(now)).SelectMany(ForTargets)];

    public IReadOnlyList<PendingNotification> Test(DateTimeOffset now) =>
        [.. _targets.Values.Select(t => new PendingNotification(t.Key, Notification.Test(now)))];

    // Tells the dispatcher that new notifications are in the outbox.
    public void Queued()
    {
        if (_queued.CurrentCount == 0)
        {
            try
            {
                _queued.Release();
            }
            catch (SemaphoreFullException)
            {
                // Already signalled.
            }
        }
    }

    // Waits until something is queued or the timeout passes.
    public Task WaitForQueuedAsync(TimeSpan timeout, CancellationToken cancellationToken) => _queued.WaitAsync(timeout, cancellationToken);

    public void Dispose() => _queued.Dispose();

    private Dictionary<string, INotificationTarget> TargetsOf(NotifyOptions options)
    {
        IEnumerable<INotificationTarget> targets =
        [
            .. options.Webhooks.Select(webhook => new WebhookTarget(webhook, _http.CreateClient(nameof(Notifiers)))),
            .. options.Commands.Select(command => new ExecTarget(command, options.CommandTimeout)),
        ];
        return targets.DistinctBy(t => t.Key).ToDictionary(t => t.Key, StringComparer.Ordinal);
    }

    private IEnumerable<PendingNotification> ForTargets(Notification notification) => _targets.Values
        .Where(t => t.Events.Count == 0 || t.Events.Contains(notification.Event) || StandsFor(notification.Event).Any(t.Events.Contains))
        .Select(t => new PendingNotification(t.Key, notification));

    // The events a summary replaces: a target that asked for downs gets the flapping and site-down summaries too,
    // one that asked for new hosts or IP changes their summaries.
    private static string[] StandsFor(string summaryEvent) => summaryEvent switch
    {
        FlapDamper.EventName => ["down", "recovered"],
        "site-down" => ["down"],
        "site-recovered" => ["recovered"],
        GrowthDamper.NewHostsEvent => ["new"],
        GrowthDamper.IpChangesEvent => ["ip-changed"],
        _ => [],
    };
}

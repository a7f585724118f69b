using System.Threading.Channels;

namespace Heartbeat.Server.Hosts;

// Live events for whoever listens (the status page's event stream), plus the most recent ones so a
// reconnecting listener can catch up. A slow listener loses its oldest unread events, never slows a beat.
internal sealed class HostEventFeed
{
    private const int RecentCapacity = 1000;
    private const int ListenerCapacity = 1000;

    private readonly Lock _gate = new();
    private readonly Queue<HostEvent> _recent = new();
    private readonly List<Channel<HostEvent>> _listeners = [];

    public void Publish(HostEvent hostEvent)
    {
        lock (_gate)
        {
            if (_recent.Count == RecentCapacity)
            {
                _recent.Dequeue();
            }

            _recent.Enqueue(hostEvent);
            foreach (var listener in _listeners)
            {
                listener.Writer.TryWrite(hostEvent);
            }
        }
    }

    // The retained events after afterId, and a reader of every later one.
    public (IReadOnlyList<HostEvent> Backlog, ChannelReader<HostEvent> Live, IDisposable Subscription) Subscribe(long afterId)
    {
        var channel = Channel.CreateBounded<HostEvent>(new BoundedChannelOptions(ListenerCapacity)
        {
            FullMode = BoundedChannelFullMode.DropOldest,
            SingleReader = true,
        });
        lock (_gate)
        {
            _listeners.Add(channel);
            return ([.. _recent.Where(e => e.Id > afterId)], channel.Reader, new Subscription(this, channel));
        }
    }

    public IReadOnlyList<HostEvent> Recent(int count)
    {
        lock (_gate)
        {
            return [.. _recent.Reverse().Take(count)];
        }
    }

    private sealed class Subscription(HostEventFeed feed, Channel<HostEvent> channel) : IDisposable
    {
        public void Dispose()
        {
            lock (feed._gate)
            {
                feed._listeners.Remove(channel);
            }

            channel.Writer.TryComplete();
        }
    }
}

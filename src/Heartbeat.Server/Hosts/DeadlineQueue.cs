namespace Heartbeat.Server.Hosts;

// Hosts by the monotonic moment the sweeper must look at them next. A beat leaves the queue alone: it only moves the host's
// deadline, and the sweeper re-queues a host whose deadline moved when its old entry comes up. So a regular beat costs
// no queue operation and the sweeper O(log n) per host per interval, never a scan of all hosts.
internal sealed class DeadlineQueue
{
    private const int TrimFrom = 4096;

    private readonly PriorityQueue<TrackedHost, TimeSpan> _queue = new();
    private readonly Lock _gate = new();
    private int _peak; // the most entries at a sweep's end since the queue's room was last trimmed

    // Queues the host for due; the caller holds the host's lock.
    public void Schedule(TrackedHost host, TimeSpan due)
    {
        host.ScheduledAt = due;
        lock (_gate)
        {
            _queue.Enqueue(host, due);
        }
    }

    // Takes the next entry due by now, if any.
    public (TrackedHost Host, TimeSpan Due)? NextDue(TimeSpan now)
    {
        lock (_gate)
        {
            if (_queue.TryPeek(out var host, out var due) && due <= now && _queue.TryDequeue(out _, out _))
            {
                return (host, due);
            }

            // A sweep ends here. Once most of the hosts are down (a site, a restart's storm), most of the queue's room is
            // given back: 16 bytes a host, a million hosts' worth held for none otherwise.
            _peak = Math.Max(_peak, _queue.Count);
            if (_peak >= TrimFrom && _queue.Count < _peak / 4)
            {
                _queue.TrimExcess();
                _peak = _queue.Count;
            }

            return null;
        }
    }
}

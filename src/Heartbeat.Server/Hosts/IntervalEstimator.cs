namespace Heartbeat.Server.Hosts;

// Learns a host's beat interval from its recent inter-arrival gaps: the median of the last eight.
// A median rather than a mean (or phi-accrual's mean and variance) because one missed beat doubles a
// single gap and jitter moves gaps both ways; the median ignores both, needs no tuning, and costs 32
// bytes per host. Grace on top of it (see Liveness) absorbs the remaining jitter.
internal struct IntervalEstimator
{
    private const int Window = 8;
    private const int MinimumSamples = 4;

    private GapBuffer _gaps;
    private int _count;
    private int _next;

    // How many gaps it holds: what a learned interval was learned from.
    public readonly int Count => _count;

    public readonly TimeSpan? Estimate
    {
        get
        {
            if (_count < MinimumSamples)
            {
                return null;
            }

            Span<float> sorted = stackalloc float[_count];
            ((ReadOnlySpan<float>)_gaps)[.._count].CopyTo(sorted);
            sorted.Sort();
            var median = _count % 2 == 1 ? sorted[_count / 2] : (sorted[(_count / 2) - 1] + sorted[_count / 2]) / 2;
            return TimeSpan.FromSeconds(Math.Clamp(median, Liveness.MinimumInterval.TotalSeconds, Liveness.MaximumInterval.TotalSeconds));
        }
    }

    // The gaps it holds in seconds, oldest first: what a store keeps so that another server can go on learning.
    public readonly float[] Samples()
    {
        var samples = new float[_count];
        var oldest = _count < Window ? 0 : _next;
        for (var i = 0; i < _count; i++)
        {
            samples[i] = _gaps[(oldest + i) % Window];
        }

        return samples;
    }

    // Whether both hold the same gaps in the same order: a store compares them instead of their samples' text.
    public readonly bool SameAs(in IntervalEstimator other) =>
        _count == other._count && _next == other._next && ((ReadOnlySpan<float>)_gaps).SequenceEqual(other._gaps);

    public void Add(TimeSpan gap)
    {
        _gaps[_next] = (float)gap.TotalSeconds;
        _next = (_next + 1) % Window;
        _count = Math.Min(_count + 1, Window);
    }

    [System.Runtime.CompilerServices.InlineArray(Window)]
    private struct GapBuffer
    {
        private float _element;
    }
}

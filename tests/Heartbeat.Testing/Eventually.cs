namespace Heartbeat.Testing;

/// <summary>Waits for a condition with a deadline, instead of sleeping and hoping.</summary>
public static class Eventually
{
    public static async Task<T> ValueAsync<T>(Func<Task<T?>> probe, string what, TimeSpan? timeout = null)
        where T : class
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(15));
        while (true)
        {
            if (await probe() is { } value)
            {
                return value;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Timed out waiting for {what}.");
            }

            await Task.Delay(20, TestContext.Current.CancellationToken);
        }
    }

    public static Task<T> ValueAsync<T>(Func<T?> probe, string what, TimeSpan? timeout = null)
        where T : class => ValueAsync(() => Task.FromResult(probe()), what, timeout);

    public static Task TrueAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null) =>
        ValueAsync(async () => await condition() ? string.Empty : null, what, timeout);

    public static Task TrueAsync(Func<bool> condition, string what, TimeSpan? timeout = null) =>
        ValueAsync(() => condition() ? string.Empty : null, what, timeout);
}

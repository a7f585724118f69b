using BenchmarkDotNet.Running;
using Heartbeat.Benchmarks;

// dotnet run -c Release --project bench/Heartbeat.Benchmarks -- scale [hosts]   registry memory and sweep at scale
// dotnet run -c Release --project bench/Heartbeat.Benchmarks -- flush [hosts] [body bytes] one store flush at scale, with ping bodies
// dotnet run -c Release --project bench/Heartbeat.Benchmarks -- [BenchmarkDotNet arguments, e.g. --filter '*']
if (args is ["scale", ..])
{
    await RegistryScale.RunAsync(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 1_000_000);
    return;
}

if (args is ["flush", ..])
{
    static int Arg(string[] args, int index, int fallback) =>
        args.Length > index ? int.Parse(args[index], System.Globalization.CultureInfo.InvariantCulture) : fallback;
    await FlushBench.RunAsync(Arg(args, 1, 10_000), Arg(args, 2, 10_000), rounds: 7);
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(RegistryScale).Assembly).Run(args);

using BenchmarkDotNet.Running;
using Heartbeat.Benchmarks;

// dotnet run -c Release --project bench/Heartbeat.Benchmarks -- scale [hosts]   registry memory and sweep at scale
// dotnet run -c Release --project bench/Heartbeat.Benchmarks -- [BenchmarkDotNet arguments, e.g. --filter '*']
if (args is ["scale", ..])
{
    await RegistryScale.RunAsync(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 1_000_000);
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(RegistryScale).Assembly).Run(args);

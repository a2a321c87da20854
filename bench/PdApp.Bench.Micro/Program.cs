using BenchmarkDotNet.Running;

// Pass BenchmarkDotNet's own arguments, e.g. --filter '*Selection*' --job short, or --list flat.
BenchmarkSwitcher.FromAssembly(typeof(PdApp.Bench.Micro.SseRelayBenchmarks).Assembly).Run(args);

using Assistant.Benchmarks;
using BenchmarkDotNet.Running;

// "ingest ..." runs the end-to-end import throughput measurement; anything else goes to BenchmarkDotNet.
if (args.Length > 0 && args[0] == "ingest")
{
    return await IngestThroughput.RunAsync(args[1..]);
}

BenchmarkSwitcher.FromAssembly(typeof(IngestThroughput).Assembly).Run(args);
return 0;

using Assistant.Benchmarks;
using BenchmarkDotNet.Running;

// "ingest ..." measures import throughput, "experiments-sim ..." runs the A/A and power simulations; "content [n]" measures content similarity; anything else goes to BenchmarkDotNet.
if (args.Length > 0 && args[0] == "ingest")
{
    return await IngestThroughput.RunAsync(args[1..]);
}

if (args.Length > 0 && args[0] == "als")
{
    return await AlsSpeed.RunAsync(args[1..]);
}

if (args.Length > 0 && args[0] == "content")
{
    return await ContentSpeed.RunAsync(args[1..]);
}

if (args.Length > 0 && args[0] == "uplift")
{
    return await UpliftRun.RunAsync(args[1..]);
}

if (args.Length > 0 && args[0] == "experiments-sim")
{
    return ExperimentSimulationRun.Run(args[1..]);
}

if (args.Length > 0 && args[0] == "cooc")
{
    return await CoOccurrenceSpeed.RunAsync(args[1..]);
}

if (args.Length > 0 && args[0] == "ease")
{
    return await EaseSpeed.RunAsync(args[1..]);
}

if (args.Length > 0 && args[0] == "sequential")
{
    return await SequentialRun.RunAsync(args[1..]);
}

if (args.Length > 0 && args[0] == "sequential-inputs")
{
    return await SequentialInputsBenchmark.RunAsync(args[1..]);
}

if (args.Length > 0 && args[0] == "sequential-serving")
{
    return SequentialServing.Run(args[1..]);
}

if (args.Length > 0 && args[0] == "crm")
{
    return await CrmRun.RunAsync(args[1..]);
}

if (args.Length > 0 && args[0] == "demo-uplift")
{
    return await DemoUpliftRun.RunAsync(args[1..]);
}

if (args.Length > 0 && args[0] == "llm-overhead")
{
    return await LlmOverheadBenchmark.RunAsync(args[1..]);
}

if (args.Length > 0 && args[0] == "search-recall")
{
    return await SearchRecallBenchmark.RunAsync(args[1..]);
}

if (args.Length > 0 && args[0] == "fusion")
{
    return await FusionBenchmark.RunAsync(args[1..]);
}

BenchmarkSwitcher.FromAssembly(typeof(IngestThroughput).Assembly).Run(args);
return 0;

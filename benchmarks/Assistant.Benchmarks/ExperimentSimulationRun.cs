using System.Diagnostics;
using System.Globalization;
using Ranking.Demo;
using Ranking.Experiments;

namespace Assistant.Benchmarks;

/// <summary>
/// A/A and planted-effect simulations on the demo marketplace (docs/BENCHMARKS.md):
/// <c>dotnet Assistant.Benchmarks.dll experiments-sim [runs] [scale]</c>.
/// </summary>
internal static class ExperimentSimulationRun
{
    public static int Run(string[] args)
    {
        var runs = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 1000;
        var scale = args.Length > 1 ? double.Parse(args[1], CultureInfo.InvariantCulture) : 1.0;
        var options = new DemoMarketplaceOptions { Seed = 42, Scale = scale };
        var clock = Stopwatch.StartNew();
        var demo = new DemoMarketplace(options);
        var events = demo.ReadChunks(CancellationToken.None).SelectMany(c => c.Events).Select(r => r.Value);
        var population = SimulationPopulation.FromEvents(events, options.EndDate.AddDays(-28), 28, TimeSpan.FromDays(28));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"demo seed 42 scale {scale}: {population.UserIds.Count} users active in the 28-day window and the 28 days before, mean order value {population.MeanOrderValue:0.00}; cores {Environment.ProcessorCount}"));

        var aa = ExperimentSimulation.RunAa(population, runs, 0.05, seed: 1);
        Console.WriteLine($"A/A, {runs} runs, revenue per user, alpha 0.05, 28 daily looks:");
        Print("  fixed horizon (Welch at day 28)", aa.FixedHorizon);
        Print("  naive peeking (Welch every day)", aa.NaivePeeking);
        Print("  sequential (mSPRT every day)", aa.Sequential);

        var power = ExperimentSimulation.RunPower(population, [0.0, 0.02, 0.05, 0.1, 0.2, 0.4], runs / 2, 0.05, seed: 2);
        Console.WriteLine($"Planted effect, {runs / 2} runs each, read at day 28:");
        Console.WriteLine("  effect | lift of revenue/user | power Welch | power CUPED | variance reduction");
        foreach (var p in power)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {p.Effect,6:0.00} | {p.RelativeLift,20:P1} | {p.Welch.Rate,11:0.000} | {p.Cuped.Rate,11:0.000} | {p.MeanVarianceReduction,18:P1}"));
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"total {clock.Elapsed.TotalSeconds:0.0} s"));
        return 0;
    }

    private static void Print(string name, RejectionRate r) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name,-36} {r.Rate:0.0000} (95% {r.Low:0.0000}-{r.High:0.0000}, {r.Rejections}/{r.Runs})"));
}

using Ranking.Demo;
using Ranking.Domain;
using Ranking.Experiments;

namespace Ranking.Tests.Experiments;

/// <summary>
/// The statistics read experiments correctly on the demo marketplace: A/A tests reject at the nominal rate,
/// peeking daily inflates a fixed-horizon test but not the sequential one, and power grows with a planted effect.
/// Small versions of the runs in docs/BENCHMARKS.md.
/// </summary>
public sealed class ExperimentSimulationTests
{
    private static readonly Lazy<SimulationPopulation> Population = new(() =>
    {
        var options = new DemoMarketplaceOptions { Seed = 7, Scale = 0.5 };
        var demo = new DemoMarketplace(options);
        var events = demo.ReadChunks(CancellationToken.None).SelectMany(c => c.Events).Select(r => r.Value);
        return SimulationPopulation.FromEvents(events, options.EndDate.AddDays(-28), 28, TimeSpan.FromDays(28));
    });

    [Fact]
    public void FromEvents_DemoWindow_HasUsersOrdersAndPreRevenue()
    {
        var p = Population.Value;

        Assert.True(p.UserIds.Count > 300);
        Assert.True(p.MeanOrderValue > 0);
        Assert.Contains(p.PreRevenue, r => r > 0);
        for (var u = 0; u < p.UserIds.Count; u++)
        {
            for (var d = 1; d < p.Days; d++)
            {
                Assert.True(p.CumulativeRevenue[(u * p.Days) + d] >= p.CumulativeRevenue[(u * p.Days) + d - 1]);
            }
        }
    }

    [Fact]
    public void RunAa_300Runs_FixedHorizonAtAlphaAndSequentialNotInflatedByPeeking()
    {
        var result = ExperimentSimulation.RunAa(Population.Value, runs: 300, alpha: 0.05, seed: 11);

        Assert.InRange(0.05, result.FixedHorizon.Low, result.FixedHorizon.High);
        Assert.True(result.Sequential.Low <= 0.05, $"sequential {result.Sequential}");
        Assert.True(result.NaivePeeking.Rate > result.FixedHorizon.Rate, $"naive {result.NaivePeeking.Rate} fixed {result.FixedHorizon.Rate}");
        Assert.True(result.NaivePeeking.Rate > result.Sequential.Rate);
    }

    [Fact]
    public void RunPower_GrowingEffect_PowerGrowsAndCupedIsNotWorse()
    {
        var points = ExperimentSimulation.RunPower(Population.Value, [0.0, 0.1, 0.4], runs: 150, alpha: 0.05, seed: 5);

        Assert.True(points[0].Welch.Rate < 0.15);
        Assert.True(points[1].Welch.Rate >= points[0].Welch.Rate);
        Assert.True(points[2].Welch.Rate > points[1].Welch.Rate);
        Assert.True(points[2].Welch.Rate > 0.5, $"power at the largest effect {points[2].Welch.Rate}");
        Assert.True(points[2].Cuped.Rate >= points[2].Welch.Rate - 0.05);
        Assert.All(points, p => Assert.InRange(p.MeanVarianceReduction, 0.0, 1.0));
    }

    [Fact]
    public void RejectionRate_Of_WilsonIntervalContainsTheRate()
    {
        var r = RejectionRate.Of(50, 1000);

        Assert.Equal(0.05, r.Rate, 12);
        Assert.InRange(r.Low, 0.037, 0.039);
        Assert.InRange(r.High, 0.064, 0.067);
    }
}

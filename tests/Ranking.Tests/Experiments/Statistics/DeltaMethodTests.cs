using Ranking.Experiments.Statistics;
using Xunit.Abstractions;

namespace Ranking.Tests.Experiments.Statistics;

public sealed class DeltaMethodTests(ITestOutputHelper output)
{
    [Fact]
    public void CompareRatios_HandWorkedExample_MatchesTheDeltaFormula()
    {
        double[] revenue = [10, 0, 35, 12, 50];
        double[] orders = [1, 0, 2, 1, 3];
        double[] revenueT = [20, 14, 0, 30];
        double[] ordersT = [1, 1, 0, 2];

        var result = DeltaMethod.CompareRatios(revenue, orders, revenueT, ordersT);

        Assert.True(result.IsDefined);
        Assert.Equal(107.0 / 7, result.Control.Mean, 1e-12);
        Assert.Equal(64.0 / 4, result.Treatment.Mean, 1e-12);
        Assert.Equal(5, result.Control.Count);
        Assert.Equal(ByFormula(revenue, orders), result.Control.Variance / result.Control.Count, 1e-10);
        Assert.Equal(ByFormula(revenueT, ordersT), result.Treatment.Variance / result.Treatment.Count, 1e-10);
        Assert.Equal(Math.Sqrt(ByFormula(revenue, orders) + ByFormula(revenueT, ordersT)), result.StandardError, 1e-10);
        Assert.Equal(MeanComparison.NormalApproximationDegreesOfFreedom, result.DegreesOfFreedom);
        var z = result.Difference / result.StandardError;
        Assert.Equal(2 * Distributions.NormalCdf(-Math.Abs(z)), result.PValue, 1e-14);
        Assert.Equal(result.Difference + (1.959963984540054 * result.StandardError), result.CiHigh, 1e-10);
    }

    [Fact]
    public void CompareRatios_RepeatedSamples_VarianceMatchesSimulation()
    {
        // Users differ in order count and in their typical order value, so orders of one user are correlated:
        // the per-order variance would be wrong, the per-user delta method is not.
        const int replicates = 1000;
        const int users = 400;
        var random = new Random(99);
        var ratios = new double[replicates];
        var deltaVariance = 0.0;
        var revenue = new double[users];
        var orders = new double[users];
        for (var r = 0; r < replicates; r++)
        {
            FillUsers(random, revenue, orders, valueLift: 0);
            var result = DeltaMethod.CompareRatios(revenue, orders, revenue, orders);
            ratios[r] = result.Control.Mean;
            deltaVariance += result.Control.Variance / result.Control.Count;
        }

        deltaVariance /= replicates;
        var simulated = SampleSummary.From(ratios).Variance;
        output.WriteLine($"Var(R): delta method {deltaVariance:0.000000}, simulation {simulated:0.000000}, ratio {deltaVariance / simulated:0.000}");
        // The simulated variance from 1000 replicates has a relative standard error of about 4.5%.
        Assert.InRange(deltaVariance / simulated, 0.85, 1.15);
    }

    [Fact]
    public void CompareRatios_PlantedTenPercentOrderValueLift_Detected()
    {
        var random = new Random(2018);
        var revenue = new double[5000];
        var orders = new double[5000];
        var revenueT = new double[5000];
        var ordersT = new double[5000];
        FillUsers(random, revenue, orders, valueLift: 0);
        FillUsers(random, revenueT, ordersT, valueLift: 0.1);

        var result = DeltaMethod.CompareRatios(revenue, orders, revenueT, ordersT);

        output.WriteLine($"difference {result.Difference:0.000} ± {result.StandardError:0.000}, lift {result.RelativeLift:P2} [{result.RelativeCiLow:P2}, {result.RelativeCiHigh:P2}], p {result.PValue:0.###e0}");
        Assert.True(result.PValue < 1e-4);
        Assert.InRange(result.RelativeLift, 0.1 - (4 * result.StandardError / result.Control.Mean), 0.1 + (4 * result.StandardError / result.Control.Mean));
        Assert.True(result.RelativeCiLow > 0);
        Assert.True(result.CiLow > 0);
    }

    [Fact]
    public void CompareRatios_MismatchedLengths_Throw()
    {
        Assert.Throws<ArgumentException>(() => DeltaMethod.CompareRatios([1.0, 2.0], [1.0], [1.0, 2.0], [1.0, 2.0]));
        Assert.Throws<ArgumentException>(() => DeltaMethod.CompareRatios([1.0, 2.0], [1.0, 2.0], [1.0], [1.0, 2.0]));
    }

    /// <summary>The brief's formula: (1/n)(σ²_N/μ_D² − 2 μ_N σ_ND/μ_D³ + μ_N² σ²_D/μ_D⁴), sample moments with n − 1.</summary>
    private static double ByFormula(double[] numerator, double[] denominator)
    {
        var n = numerator.Length;
        var muN = numerator.Average();
        var muD = denominator.Average();
        double varN = 0, varD = 0, cov = 0;
        for (var i = 0; i < n; i++)
        {
            varN += (numerator[i] - muN) * (numerator[i] - muN);
            varD += (denominator[i] - muD) * (denominator[i] - muD);
            cov += (numerator[i] - muN) * (denominator[i] - muD);
        }

        varN /= n - 1;
        varD /= n - 1;
        cov /= n - 1;
        return ((varN / (muD * muD)) - (2 * muN * cov / (muD * muD * muD)) + (muN * muN * varD / (muD * muD * muD * muD))) / n;
    }

    private static void FillUsers(Random random, double[] revenue, double[] orders, double valueLift)
    {
        for (var i = 0; i < revenue.Length; i++)
        {
            var typicalValue = 30 * Math.Exp(Gaussian.Next(random, 0, 0.5));
            var count = random.Next(0, 5);
            var total = 0.0;
            for (var o = 0; o < count; o++)
            {
                total += typicalValue * (1 + valueLift) * Math.Exp(Gaussian.Next(random, 0, 0.3));
            }

            revenue[i] = total;
            orders[i] = count;
        }
    }
}

using Ranking.Experiments.Statistics;
using Xunit.Abstractions;

namespace Ranking.Tests.Experiments.Statistics;

public sealed class CupedTests(ITestOutputHelper output)
{
    [Fact]
    public void Compare_OutcomeIsCovariatePlusNoise_ReducesVarianceByTheCovariatesShare()
    {
        // Y = X + ε with var X = 4, var ε = 1: the covariate explains 1 − 1/5 = 80% of var Y.
        var random = new Random(7);
        var (cy, cx) = Draw(random, 2000, effect: 0);
        var (ty, tx) = Draw(random, 2000, effect: 0);

        var result = Cuped.Compare(cy, cx, ty, tx);

        output.WriteLine($"theta {result.Theta:0.0000}, variance reduction {result.VarianceReduction:0.0000}");
        Assert.Equal(1.0, result.Theta, 0.05);
        Assert.Equal(0.8, result.VarianceReduction, 0.02);
        Assert.True(result.Adjusted.IsDefined);
        Assert.True(result.Adjusted.CiHigh - result.Adjusted.CiLow < 0.6 * (result.Unadjusted.CiHigh - result.Unadjusted.CiLow));
        // The reduction is the drop in the pooled variance; the standard errors drop by its square root.
        var seRatio = result.Adjusted.StandardError / result.Unadjusted.StandardError;
        Assert.Equal(Math.Sqrt(1 - result.VarianceReduction), seRatio, 0.02);
    }

    [Fact]
    public void Compare_PlantedEffect_RecoveredWithoutBias()
    {
        const double effect = 0.3;
        const int runs = 200;
        var random = new Random(11);
        double sumAdjusted = 0, sumUnadjusted = 0, sumSquaredError = 0;
        var detected = 0;
        for (var run = 0; run < runs; run++)
        {
            var (cy, cx) = Draw(random, 200, effect: 0);
            var (ty, tx) = Draw(random, 200, effect);
            var result = Cuped.Compare(cy, cx, ty, tx);
            sumAdjusted += result.Adjusted.Difference;
            sumUnadjusted += result.Unadjusted.Difference;
            sumSquaredError += (result.Adjusted.Difference - effect) * (result.Adjusted.Difference - effect);
            detected += result.Adjusted.PValue < 0.05 ? 1 : 0;
        }

        var meanAdjusted = sumAdjusted / runs;
        var spread = Math.Sqrt(sumSquaredError / runs);
        output.WriteLine($"mean adjusted difference {meanAdjusted:0.0000} (sd {spread:0.0000}), unadjusted {sumUnadjusted / runs:0.0000}, power {detected / (double)runs:0.000}");
        // Adjusted sd ≈ √(2·1/200) = 0.1; the mean of 200 runs is within 4 standard errors of the effect.
        Assert.InRange(meanAdjusted, effect - (4 * spread / Math.Sqrt(runs)), effect + (4 * spread / Math.Sqrt(runs)));
        Assert.InRange(spread, 0.07, 0.13);
        Assert.True(detected > runs * 0.8, $"detected {detected} of {runs}");
    }

    [Fact]
    public void Compare_ConstantCovariate_ThetaAndReductionZeroAndAdjustedEqualsUnadjusted()
    {
        var random = new Random(3);
        var cy = Gaussian.Sample(random, 50, 5, 2);
        var ty = Gaussian.Sample(random, 60, 5.5, 2);

        var result = Cuped.Compare(cy, Enumerable.Repeat(4.0, 50).ToArray(), ty, Enumerable.Repeat(4.0, 60).ToArray());

        Assert.Equal(0.0, result.Theta);
        Assert.Equal(0.0, result.VarianceReduction);
        Assert.Equal(result.Unadjusted, result.Adjusted);
    }

    [Fact]
    public void Compare_CovariateShiftedBetweenGroups_AdjustsTheDifference()
    {
        // Treatment users had more pre-period activity by chance; CUPED removes θ·(x̄_t − x̄_c) from the difference.
        double[] cx = [1, 2, 3, 4];
        double[] cy = [2, 4, 6, 8.5];
        double[] tx = [3, 4, 5, 6];
        double[] ty = [6, 8, 10, 12.5];

        var result = Cuped.Compare(cy, cx, ty, tx);

        // Within-group co-moments: Σ(x − x̄)² = 5 per group, Σ(x − x̄)(y − ȳ) = 10.75 per group, so θ = 21.5/10 = 2.15.
        Assert.Equal(2.15, result.Theta, 1e-12);
        Assert.Equal(4.0 - (2.15 * 2.0), result.Adjusted.Difference, 1e-12);
        Assert.Equal(4.0, result.Unadjusted.Difference, 1e-12);
    }

    [Fact]
    public void Compare_MismatchedLengths_Throws()
    {
        Assert.Throws<ArgumentException>(() => Cuped.Compare([1.0, 2.0], [1.0], [1.0, 2.0], [1.0, 2.0]));
        Assert.Throws<ArgumentException>(() => Cuped.Compare([1.0, 2.0], [1.0, 2.0], [1.0, 2.0], [1.0, 2.0, 3.0]));
    }

    private static (double[] Y, double[] X) Draw(Random random, int count, double effect)
    {
        var y = new double[count];
        var x = new double[count];
        for (var i = 0; i < count; i++)
        {
            x[i] = Gaussian.Next(random, 10, 2);
            y[i] = x[i] + Gaussian.Next(random) + effect;
        }

        return (y, x);
    }
}

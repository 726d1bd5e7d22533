using Ranking.Experiments.Statistics;
using Xunit.Abstractions;

namespace Ranking.Tests.Experiments.Statistics;

public sealed class BootstrapTests(ITestOutputHelper output)
{
    [Fact]
    public void DifferenceInMeans_LargeNormalSamples_CloseToWelchInterval()
    {
        var random = new Random(5);
        var control = Gaussian.Sample(random, 3000, 0, 1);
        var treatment = Gaussian.Sample(random, 3000, 0.1, 1.5);

        var welch = WelchTest.Compare(control, treatment);
        var boot = Bootstrap.DifferenceInMeans(control, treatment);

        output.WriteLine($"welch [{welch.CiLow:0.00000}, {welch.CiHigh:0.00000}], bootstrap [{boot.Low:0.00000}, {boot.High:0.00000}], SE {welch.StandardError:0.00000}");
        Assert.True(boot.IsDefined);
        Assert.Equal(2000, boot.Resamples);
        // Monte Carlo error of a 2.5% quantile from 2000 resamples is about 0.06 standard errors.
        Assert.Equal(welch.CiLow, boot.Low, 0.2 * welch.StandardError);
        Assert.Equal(welch.CiHigh, boot.High, 0.2 * welch.StandardError);
    }

    [Fact]
    public void DifferenceInMeans_SameSeed_SameInterval()
    {
        var random = new Random(9);
        var control = Gaussian.Sample(random, 100, 3, 1);
        var treatment = Gaussian.Sample(random, 80, 3.2, 1);

        var first = Bootstrap.DifferenceInMeans(control, treatment, resamples: 500, seed: 17);
        var second = Bootstrap.DifferenceInMeans(control, treatment, resamples: 500, seed: 17);
        var other = Bootstrap.DifferenceInMeans(control, treatment, resamples: 500, seed: 18);

        Assert.Equal(first, second);
        Assert.NotEqual(first, other);
        Assert.True(first.Low < first.High);
    }

    [Fact]
    public void DifferenceInMeans_SkewedRevenue_IntervalContainsObservedDifference()
    {
        // Mostly zeros with a long tail, like revenue per user.
        var random = new Random(21);
        var control = new double[400];
        var treatment = new double[400];
        for (var i = 0; i < 400; i++)
        {
            control[i] = random.NextDouble() < 0.1 ? Math.Exp(Gaussian.Next(random, 3, 1)) : 0;
            treatment[i] = random.NextDouble() < 0.12 ? Math.Exp(Gaussian.Next(random, 3, 1)) : 0;
        }

        var boot = Bootstrap.DifferenceInMeans(control, treatment, resamples: 1000, alpha: 0.1);
        var observed = SampleSummary.From(treatment).Mean - SampleSummary.From(control).Mean;

        Assert.True(boot.IsDefined);
        Assert.InRange(observed, boot.Low, boot.High);
    }

    [Fact]
    public void DifferenceInMeans_InvalidArguments_Throw()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Bootstrap.DifferenceInMeans([1.0, 2.0], [1.0, 2.0], resamples: 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => Bootstrap.DifferenceInMeans([1.0, 2.0], [1.0, 2.0], alpha: 1.5));
    }
}

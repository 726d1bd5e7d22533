using Ranking.Experiments.Statistics;

namespace Ranking.Tests.Experiments.Statistics;

public sealed class SampleRatioMismatchTests
{
    [Fact]
    public void Test_ExactSplit_PValueOne()
    {
        var result = SampleRatioMismatch.Test([50_000L, 50_000L], [0.5, 0.5]);

        Assert.True(result.IsDefined);
        Assert.Equal(0.0, result.ChiSquared);
        Assert.Equal(1, result.DegreesOfFreedom);
        Assert.Equal(1.0, result.PValue);
        Assert.False(result.IsMismatch);
    }

    [Fact]
    public void Test_FiftyVersusFiftyOneThousand_NotFlaggedAtOnePerMille()
    {
        var result = SampleRatioMismatch.Test([50_000L, 51_000L], [0.5, 0.5]);

        // Expected 50,500 each: χ² = 2 · 500² / 50,500 = 9.90099…; p from mpmath.
        Assert.Equal(2.0 * 500 * 500 / 50_500, result.ChiSquared, 1e-12);
        Assert.Equal(9.90099, result.ChiSquared, 1e-5);
        Assert.Equal(0.00165189873235736307, result.PValue, 1e-14);
        Assert.False(result.IsMismatch);
        Assert.True(SampleRatioMismatch.Test([50_000L, 51_000L], [0.5, 0.5], threshold: 0.01).IsMismatch);
    }

    [Fact]
    public void Test_FiftyVersusFiftyTwoThousand_Flagged()
    {
        var result = SampleRatioMismatch.Test([50_000L, 52_000L], [0.5, 0.5]);

        Assert.Equal(2.0 * 1000 * 1000 / 51_000, result.ChiSquared, 1e-12);
        Assert.True(result.PValue < 1e-9);
        Assert.True(result.IsMismatch);
        Assert.Null(result.Reason);
    }

    [Fact]
    public void Test_UnnormalisedSharesAndThreeVariants_NormalisedFirst()
    {
        // Shares 2:1:1 given as 50, 25, 25; observed exactly proportional except one.
        var exact = SampleRatioMismatch.Test([2000L, 1000L, 1000L], [50.0, 25.0, 25.0]);
        var off = SampleRatioMismatch.Test([2000L, 1100L, 900L], [50.0, 25.0, 25.0]);

        Assert.Equal(0.0, exact.ChiSquared);
        Assert.Equal(2, exact.DegreesOfFreedom);
        Assert.Equal((100.0 * 100 / 1000) + (100.0 * 100 / 1000), off.ChiSquared, 1e-12);
        Assert.Equal(Math.Exp(-10), off.PValue, 1e-15);
        Assert.True(off.IsMismatch);
    }

    [Fact]
    public void Test_UsersInZeroShareVariant_MismatchWithFiniteStatistic()
    {
        var result = SampleRatioMismatch.Test([500L, 500L, 3L], [0.5, 0.5, 0.0]);

        Assert.True(result.IsDefined);
        Assert.True(result.IsMismatch);
        Assert.Equal(0.0, result.PValue);
        Assert.True(double.IsFinite(result.ChiSquared));
        Assert.NotNull(result.Reason);
    }

    [Fact]
    public void Test_InvalidArguments_Throw()
    {
        Assert.Throws<ArgumentException>(() => SampleRatioMismatch.Test([1L, 2L], [1.0]));
        Assert.Throws<ArgumentException>(() => SampleRatioMismatch.Test([1L], [1.0]));
        Assert.Throws<ArgumentException>(() => SampleRatioMismatch.Test([1L, -2L], [0.5, 0.5]));
        Assert.Throws<ArgumentException>(() => SampleRatioMismatch.Test([1L, 2L], [0.5, double.NaN]));
        Assert.Throws<ArgumentException>(() => SampleRatioMismatch.Test([1L, 2L], [0.0, 0.0]));
        Assert.Throws<ArgumentOutOfRangeException>(() => SampleRatioMismatch.Test([1L, 2L], [0.5, 0.5], threshold: 0));
    }
}

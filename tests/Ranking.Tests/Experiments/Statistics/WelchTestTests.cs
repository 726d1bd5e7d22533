using Ranking.Experiments.Statistics;
using Xunit.Abstractions;

namespace Ranking.Tests.Experiments.Statistics;

public sealed class WelchTestTests(ITestOutputHelper output)
{
    // Control 1..5: mean 3, variance 10/4 = 2.5. Treatment 2, 4, …, 12: mean 7, variance 70/5 = 14.
    // SE² = 2.5/5 + 14/6 = 17/6; ν = (17/6)² / (0.5²/4 + (7/3)²/5) = 6.97226. References to 15 digits from mpmath.
    private static readonly double[] HandControl = [1, 2, 3, 4, 5];
    private static readonly double[] HandTreatment = [2, 4, 6, 8, 10, 12];

    [Fact]
    public void Compare_HandWorkedExample_MatchesFormulas()
    {
        var result = WelchTest.Compare(HandControl, HandTreatment);

        Assert.True(result.IsDefined);
        Assert.Null(result.Reason);
        Assert.Equal(new SampleSummary(5, 3, 2.5), result.Control);
        Assert.Equal(5, result.Control.Count);
        Assert.Equal(7.0, result.Treatment.Mean, 1e-14);
        Assert.Equal(14.0, result.Treatment.Variance, 1e-13);
        Assert.Equal(4.0, result.Difference, 1e-14);
        Assert.Equal(Math.Sqrt(17.0 / 6.0), result.StandardError, 1e-14);
        Assert.Equal(1.68325082306034633, result.StandardError, 1e-14);
        var df = (17.0 / 6 * 17.0 / 6) / ((0.25 / 4) + (49.0 / 9 / 5));
        Assert.Equal(df, result.DegreesOfFreedom, 1e-12);
        Assert.Equal(6.97225572979493366, result.DegreesOfFreedom, 1e-12);
        Assert.Equal(2.37635410314401834, result.TStatistic, 1e-13);
        Assert.Equal(0.0492843382067305208, result.PValue, 1e-12);
        const double critical = 2.36653304490083150;
        Assert.Equal(4.0 - (critical * 1.68325082306034633), result.CiLow, 1e-11);
        Assert.Equal(4.0 + (critical * 1.68325082306034633), result.CiHigh, 1e-11);
    }

    [Fact]
    public void Compare_HandWorkedExample_RelativeLiftByDeltaMethod()
    {
        var result = WelchTest.Compare(HandControl, HandTreatment);

        // Lift 4/3; Var(t̄/c̄) ≈ (v_t + (t̄/c̄)² v_c)/c̄² with v = s²/n: (14/6 + (7/3)²·0.5)/9.
        var relativeSe = Math.Sqrt(((14.0 / 6) + (49.0 / 9 * 0.5)) / 9);
        const double critical = 2.36653304490083150;
        Assert.True(result.IsRelativeDefined);
        Assert.Equal(4.0 / 3, result.RelativeLift, 1e-14);
        Assert.Equal((4.0 / 3) - (critical * relativeSe), result.RelativeCiLow, 1e-11);
        Assert.Equal((4.0 / 3) + (critical * relativeSe), result.RelativeCiHigh, 1e-11);
    }

    [Fact]
    public void Compare_SummariesAndSpans_GiveTheSameResult()
    {
        var fromSpans = WelchTest.Compare(HandControl, HandTreatment, alpha: 0.1);
        var fromSummaries = WelchTest.Compare(SampleSummary.From(HandControl), SampleSummary.From(HandTreatment), alpha: 0.1);

        Assert.Equal(fromSpans, fromSummaries);
        Assert.True(fromSpans.CiHigh - fromSpans.CiLow < WelchTest.Compare(HandControl, HandTreatment, alpha: 0.05).CiHigh - fromSpans.CiLow);
    }

    [Fact]
    public void Compare_SimulatedPairsWithUnequalVariances_CiCoversTheTrueDifferenceAtNominalRate()
    {
        // Unequal sizes and variances: the case where Student's pooled test loses its level and Welch's keeps it.
        const int pairs = 2000;
        const double trueDifference = 0.5;
        var random = new Random(20240611);
        var covered = 0;
        var rejectedAtTrueDifference = 0;
        for (var i = 0; i < pairs; i++)
        {
            var control = Gaussian.Sample(random, 12, mean: 10, standardDeviation: 1);
            var treatment = Gaussian.Sample(random, 30, mean: 10 + trueDifference, standardDeviation: 3);
            var result = WelchTest.Compare(control, treatment);
            covered += result.CiLow <= trueDifference && trueDifference <= result.CiHigh ? 1 : 0;
            var shifted = WelchTest.Compare(control, Shift(treatment, -trueDifference));
            rejectedAtTrueDifference += shifted.PValue < 0.05 ? 1 : 0;
        }

        var coverage = covered / (double)pairs;
        output.WriteLine($"{pairs} pairs (n 12 vs 30, sd 1 vs 3, seed 20240611): 95% CI coverage {coverage:0.0000}");
        Assert.InRange(coverage, 0.95 - Gaussian.RateTolerance(0.95, pairs), 0.95 + Gaussian.RateTolerance(0.95, pairs));
        // The test and the interval agree: rejecting at the true difference is missing it with the interval.
        Assert.Equal(pairs - covered, rejectedAtTrueDifference);
    }

    [Fact]
    public void Compare_OneGroupWithoutVariance_UsesTheOtherGroupsDegreesOfFreedom()
    {
        var result = WelchTest.Compare([4.0, 4.0, 4.0], [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);

        Assert.True(result.IsDefined);
        Assert.Equal(5.0, result.DegreesOfFreedom, 1e-12);
        Assert.Equal(-0.5, result.Difference, 1e-14);
    }

    [Fact]
    public void Compare_ZeroControlMean_RelativeUndefinedButAbsoluteDefined()
    {
        var result = WelchTest.Compare([-1.0, 0.0, 1.0], [1.0, 2.0, 3.0]);

        Assert.True(result.IsDefined);
        Assert.False(result.IsRelativeDefined);
        Assert.NotNull(result.Reason);
        Assert.Equal(0.0, result.RelativeLift);
        Assert.Equal(2.0, result.Difference, 1e-14);
    }

    [Fact]
    public void Compare_ControlMeanNearZero_RelativeUndefinedInsteadOfInfinite()
    {
        var result = WelchTest.Compare([1e-310, 2e-310, 3e-310], [1.0, 2.0, 3.0]);

        Assert.True(result.IsDefined);
        Assert.False(result.IsRelativeDefined);
        Assert.Equal(0.0, result.RelativeCiHigh);
        Assert.Contains("relative", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Compare_InvalidAlpha_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => WelchTest.Compare(HandControl, HandTreatment, alpha: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => WelchTest.Compare(HandControl, HandTreatment, alpha: 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => WelchTest.Compare(HandControl, HandTreatment, alpha: double.NaN));
        Assert.Throws<ArgumentException>(() => WelchTest.Compare(new SampleSummary(-1, 0, 0), new SampleSummary(3, 0, 1)));
    }

    private static double[] Shift(double[] values, double by)
    {
        var shifted = new double[values.Length];
        for (var i = 0; i < values.Length; i++)
        {
            shifted[i] = values[i] + by;
        }

        return shifted;
    }
}

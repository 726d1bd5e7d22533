using System.Reflection;
using Ranking.Experiments.Statistics;

namespace Ranking.Tests.Experiments.Statistics;

/// <summary>
/// Inputs on which a statistic does not exist: every result says so with a reason and holds no NaN or infinity,
/// checked over every double property (nested summaries and comparisons included) by reflection.
/// </summary>
public sealed class UndefinedCasesTests
{
    public static TheoryData<string, double[], double[]> UndefinedSamples => new()
    {
        { "both empty", [], [] },
        { "one each", [1.0], [2.0] },
        { "control empty", [], [1.0, 2.0, 3.0] },
        { "treatment single", [1.0, 2.0, 3.0], [5.0] },
        { "zero variance in both", [2.0, 2.0, 2.0], [3.0, 3.0] },
        { "NaN value", [1.0, double.NaN, 3.0], [1.0, 2.0] },
        { "infinite value", [1.0, 2.0], [double.PositiveInfinity, 2.0] },
        { "overflowing variance", [1e308, -1e308], [1.0, 2.0] },
    };

    [Theory]
    [MemberData(nameof(UndefinedSamples))]
    public void WelchCompare_UndefinedSamples_UndefinedWithReasonAndNoNaN(string scenario, double[] control, double[] treatment)
    {
        var result = WelchTest.Compare(control, treatment);

        AssertUndefined(result, result.IsDefined, result.Reason, scenario);
        Assert.False(result.IsRelativeDefined);
        Assert.Equal(1.0, result.PValue);
        Assert.Equal(0.0, result.StandardError);
    }

    [Theory]
    [MemberData(nameof(UndefinedSamples))]
    public void CupedCompare_UndefinedSamples_BothComparisonsUndefinedAndNoNaN(string scenario, double[] control, double[] treatment)
    {
        var result = Cuped.Compare(control, control, treatment, treatment);

        AssertUndefined(result.Adjusted, result.Adjusted.IsDefined, result.Adjusted.Reason, scenario);
        AssertUndefined(result.Unadjusted, result.Unadjusted.IsDefined, result.Unadjusted.Reason, scenario);
        AssertAllFinite(result, scenario);
    }

    [Theory]
    [MemberData(nameof(UndefinedSamples))]
    public void BootstrapDifferenceInMeans_UndefinedSamples_UndefinedAndAllZero(string scenario, double[] control, double[] treatment)
    {
        var result = Bootstrap.DifferenceInMeans(control, treatment, resamples: 50);

        Assert.False(result.IsDefined, scenario);
        Assert.Equal(default, result);
    }

    [Theory]
    [MemberData(nameof(UndefinedSamples))]
    public void DeltaMethodCompareRatios_UndefinedNumerators_UndefinedAndNoNaN(string scenario, double[] control, double[] treatment)
    {
        // A denominator of one per user makes the ratio the plain mean: undefined exactly when Welch is.
        var result = DeltaMethod.CompareRatios(control, Ones(control.Length), treatment, Ones(treatment.Length));

        AssertUndefined(result, result.IsDefined, result.Reason, scenario);
    }

    [Fact]
    public void CupedCompare_NaNCovariate_AdjustedUndefinedUnadjustedDefined()
    {
        var result = Cuped.Compare([1.0, 2.0, 3.0], [1.0, double.NaN, 2.0], [2.0, 3.0, 5.0], [1.0, 2.0, 3.0]);

        Assert.True(result.Unadjusted.IsDefined);
        AssertUndefined(result.Adjusted, result.Adjusted.IsDefined, result.Adjusted.Reason, "NaN covariate");
        Assert.Equal(0.0, result.Theta);
        Assert.Equal(0.0, result.VarianceReduction);
    }

    [Fact]
    public void DeltaMethodCompareRatios_DenominatorsSumToZero_Undefined()
    {
        var result = DeltaMethod.CompareRatios([0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [10.0, 20.0], [1.0, 2.0]);

        AssertUndefined(result, result.IsDefined, result.Reason, "no orders in control");
        Assert.Contains("denominator", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void DeltaMethodCompareRatios_ConstantRatioInBothGroups_Undefined()
    {
        // Every user's revenue is 20 per order in control and 25 in treatment: no variance to test against.
        var result = DeltaMethod.CompareRatios([20.0, 40.0, 60.0], [1.0, 2.0, 3.0], [25.0, 50.0], [1.0, 2.0]);

        AssertUndefined(result, result.IsDefined, result.Reason, "constant ratios");
        Assert.Equal(5.0, result.Difference, 1e-12);
    }

    [Theory]
    [InlineData(0, 0, 0, 0)]
    [InlineData(1, 1, 5, 2)]
    [InlineData(5, 0, 5, 0)]
    [InlineData(5, 0, 0, 0)]
    public void SequentialCompare_TooFewOrConstant_UndefinedAndNoNaN(long controlCount, double controlVariance, long treatmentCount, double treatmentVariance)
    {
        var result = SequentialTest.Compare(new SampleSummary(controlCount, 0, controlVariance), new SampleSummary(treatmentCount, 0, treatmentVariance));

        AssertUndefined(result, result.IsDefined, result.Reason, $"{controlCount}/{treatmentCount}");
        Assert.False(result.IsSignificant);
        Assert.Equal(1.0, result.AlwaysValidPValue);
    }

    [Fact]
    public void WelchCompare_ZeroCountSummaries_Undefined()
    {
        var result = WelchTest.Compare(default(SampleSummary), default(SampleSummary));

        AssertUndefined(result, result.IsDefined, result.Reason, "default summaries");
    }

    [Fact]
    public void SampleRatioMismatchTest_NoUsers_UndefinedAndNotAMismatch()
    {
        var result = SampleRatioMismatch.Test([0L, 0L], [0.5, 0.5]);

        AssertUndefined(result, result.IsDefined, result.Reason, "no users");
        Assert.False(result.IsMismatch);
        Assert.Equal(1.0, result.PValue);
    }

    [Fact]
    public void SampleRatioMismatchTest_OnlyOnePositiveShare_Undefined()
    {
        var result = SampleRatioMismatch.Test([10L, 0L], [1.0, 0.0]);

        AssertUndefined(result, result.IsDefined, result.Reason, "one share");
    }

    private static void AssertUndefined(object result, bool isDefined, string? reason, string scenario)
    {
        Assert.False(isDefined, scenario);
        Assert.False(string.IsNullOrWhiteSpace(reason), scenario);
        AssertAllFinite(result, scenario);
    }

    /// <summary>Every double property is finite, descending into the statistics types (records, summaries).</summary>
    private static void AssertAllFinite(object value, string scenario)
    {
        foreach (var property in value.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            var item = property.GetValue(value);
            switch (item)
            {
                case double d:
                    Assert.True(double.IsFinite(d), $"{scenario}: {value.GetType().Name}.{property.Name} = {d}");
                    break;
                case not null when item.GetType().Namespace == typeof(MeanComparison).Namespace:
                    AssertAllFinite(item, scenario);
                    break;
            }
        }
    }

    private static double[] Ones(int length) => Enumerable.Repeat(1.0, length).ToArray();
}

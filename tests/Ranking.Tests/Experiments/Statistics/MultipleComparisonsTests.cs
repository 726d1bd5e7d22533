using Ranking.Experiments.Statistics;

namespace Ranking.Tests.Experiments.Statistics;

public sealed class MultipleComparisonsTests
{
    // Sorted: 0.005 (#3), 0.01 (#0), 0.03 (#2), 0.04 (#1), m = 4.
    // Holm: 4·0.005 = 0.02, 3·0.01 = 0.03, 2·0.03 = 0.06, 1·0.04 = 0.04 → running max 0.02, 0.03, 0.06, 0.06.
    // BH:   4·0.005/1 = 0.02, 4·0.01/2 = 0.02, 4·0.03/3 = 0.04, 4·0.04/4 = 0.04 → running min from the top: same.
    private static readonly double[] HandExample = [0.01, 0.04, 0.03, 0.005];

    [Fact]
    public void Holm_HandWorkedExample_MatchesInInputOrder()
    {
        var adjusted = MultipleComparisons.Holm(HandExample);

        AssertClose([0.03, 0.06, 0.06, 0.02], adjusted);
    }

    [Fact]
    public void BenjaminiHochberg_HandWorkedExample_MatchesInInputOrder()
    {
        var adjusted = MultipleComparisons.BenjaminiHochberg(HandExample);

        AssertClose([0.02, 0.04, 0.04, 0.02], adjusted);
    }

    [Fact]
    public void BenjaminiHochberg_StepUp_LiftsSmallerPValuesToALaterRank()
    {
        // 3·0.02/2 = 0.03 would be the raw value of #0, but the step-up minimum takes 3·0.025/3 = 0.025.
        var adjusted = MultipleComparisons.BenjaminiHochberg([0.02, 0.001, 0.025]);

        AssertClose([0.025, 0.003, 0.025], adjusted);
    }

    [Fact]
    public void Adjustments_LargePValuesAndTies_CappedAtOneAndMonotone()
    {
        double[] p = [0.9, 0.02, 0.6, 0.02, 0.3];

        foreach (var adjusted in new[] { MultipleComparisons.Holm(p), MultipleComparisons.BenjaminiHochberg(p) })
        {
            Assert.Equal(adjusted[1], adjusted[3]);
            for (var i = 0; i < p.Length; i++)
            {
                Assert.InRange(adjusted[i], p[i], 1.0);
                for (var j = 0; j < p.Length; j++)
                {
                    Assert.True(p[i] > p[j] || adjusted[i] <= adjusted[j], $"p[{i}] = {p[i]} ≤ p[{j}] = {p[j]} but adjusted {adjusted[i]} > {adjusted[j]}");
                }
            }
        }

        Assert.Equal(1.0, MultipleComparisons.Holm(p)[0]);
    }

    [Fact]
    public void Adjustments_EmptyAndInvalid_EmptyOrThrow()
    {
        Assert.Empty(MultipleComparisons.Holm([]));
        Assert.Empty(MultipleComparisons.BenjaminiHochberg([]));
        Assert.Throws<ArgumentOutOfRangeException>(() => MultipleComparisons.Holm([0.1, 1.2]));
        Assert.Throws<ArgumentOutOfRangeException>(() => MultipleComparisons.BenjaminiHochberg([double.NaN]));
    }

    private static void AssertClose(double[] expected, double[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i], actual[i], 1e-15);
        }
    }
}

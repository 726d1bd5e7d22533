using Ranking.Experiments.Statistics;

namespace Ranking.Tests.Experiments.Statistics;

public sealed class SampleSummaryTests
{
    [Fact]
    public void From_Lengths0To257_MatchesTwoPassReference()
    {
        var random = new Random(257);
        for (var length = 0; length <= 257; length++)
        {
            var values = Gaussian.Sample(random, length, mean: 1000, standardDeviation: 3);

            var summary = SampleSummary.From(values);

            double sum = 0;
            foreach (var v in values)
            {
                sum += v;
            }

            var mean = length == 0 ? 0 : sum / length;
            double squares = 0;
            foreach (var v in values)
            {
                squares += (v - mean) * (v - mean);
            }

            var variance = length < 2 ? 0 : squares / (length - 1);
            Assert.Equal(length, summary.Count);
            Assert.Equal(mean, summary.Mean, 1e-12 * Math.Max(1, Math.Abs(mean)));
            Assert.Equal(variance, summary.Variance, 1e-9 * Math.Max(1, variance));
        }
    }

    [Fact]
    public void From_LargeOffset_KeepsVariancePrecise()
    {
        var values = new[] { 1e9 + 4, 1e9 + 7, 1e9 + 13, 1e9 + 16 };

        var summary = SampleSummary.From(values);

        Assert.Equal(1e9 + 10, summary.Mean, 1e-6);
        Assert.Equal(30.0, summary.Variance, 1e-6);
        Assert.Equal(new SampleSummary(0, 0, 0), SampleSummary.From([]));
        Assert.Equal(new SampleSummary(1, 3.5, 0), SampleSummary.From([3.5]));
        Assert.Throws<ArgumentException>(() => SampleSummary.From([1.0, double.NaN]));
    }
}

using Ranking.Experiments.Statistics;
using Xunit.Abstractions;

namespace Ranking.Tests.Experiments.Statistics;

public sealed class SequentialTestTests(ITestOutputHelper output)
{
    private const double Alpha = 0.05;
    private const int Looks = 20;
    private const int UsersPerLook = 50;

    [Fact]
    public void Compare_AaExperimentsPeekedDaily_SequentialKeepsAlphaWhileNaiveWelchInflates()
    {
        const int experiments = 1000;
        var random = new Random(2017);
        int naive = 0, sequential = 0, fixedHorizon = 0;
        for (var e = 0; e < experiments; e++)
        {
            var run = RunExperiment(random, effect: 0);
            naive += run.NaiveRejected ? 1 : 0;
            sequential += run.SequentialLook is not null ? 1 : 0;
            fixedHorizon += run.FinalWelchRejected ? 1 : 0;
        }

        var naiveRate = naive / (double)experiments;
        var sequentialRate = sequential / (double)experiments;
        var fixedRate = fixedHorizon / (double)experiments;
        output.WriteLine($"A/A, {experiments} experiments × {Looks} looks (seed 2017): naive Welch peeking {naiveRate:0.000}, "
            + $"sequential {sequentialRate:0.000}, Welch at the last look only {fixedRate:0.000}");
        Assert.True(sequentialRate <= Alpha + Gaussian.RateTolerance(Alpha, experiments, 3), $"sequential {sequentialRate}");
        Assert.InRange(fixedRate, Alpha - Gaussian.RateTolerance(Alpha, experiments), Alpha + Gaussian.RateTolerance(Alpha, experiments));
        // Twenty peeks at a 5% test reject a true null about a quarter of the time.
        Assert.True(naiveRate > 2.5 * Alpha, $"naive {naiveRate}");
        Assert.True(naiveRate > sequentialRate + 0.1);
    }

    [Fact]
    public void Compare_TenPercentEffect_DetectedByTheLastLookInMostExperiments()
    {
        const int experiments = 200;
        var random = new Random(2022);
        var detected = 0;
        var looksToDetection = 0;
        for (var e = 0; e < experiments; e++)
        {
            var run = RunExperiment(random, effect: 1.0);
            if (run.SequentialLook is { } look)
            {
                detected++;
                looksToDetection += look;
            }
        }

        output.WriteLine($"effect 1.0 (10% of the mean, 0.2 sd): detected {detected} of {experiments}, mean look {looksToDetection / (double)Math.Max(1, detected):0.0}");
        Assert.True(detected >= 0.85 * experiments, $"detected {detected}");
    }

    [Fact]
    public void Compare_SmallEffectKeptRunning_EventuallySignificant()
    {
        var random = new Random(8);
        var control = new List<double>();
        var treatment = new List<double>();
        var pValue = 1.0;
        int? stoppedAt = null;
        for (var look = 1; look <= 400 && stoppedAt is null; look++)
        {
            for (var i = 0; i < UsersPerLook; i++)
            {
                control.Add(Gaussian.Next(random, 10, 5));
                treatment.Add(Gaussian.Next(random, 10.3, 5));
            }

            var result = SequentialTest.Compare(SampleSummary.From(control.ToArray()), SampleSummary.From(treatment.ToArray()), Alpha);
            pValue = SequentialTest.RunningPValue(pValue, result.AlwaysValidPValue);
            if (pValue <= Alpha)
            {
                stoppedAt = look;
            }
        }

        output.WriteLine($"3% effect significant at look {stoppedAt} ({stoppedAt * UsersPerLook} users per group)");
        Assert.NotNull(stoppedAt);
    }

    [Fact]
    public void Compare_KnownSummaries_MatchesClosedForm()
    {
        var control = new SampleSummary(400, 20, 36);
        var treatment = new SampleSummary(500, 21.2, 49);
        const double tau2 = 0.5;

        var result = SequentialTest.Compare(control, treatment, Alpha, tau2);

        var v = (36.0 / 400) + (49.0 / 500);
        var delta = 1.2;
        var lambda = Math.Sqrt(v / (v + tau2)) * Math.Exp(tau2 * delta * delta / (2 * v * (v + tau2)));
        var halfWidth = Math.Sqrt(v * (v + tau2) / tau2 * (Math.Log((v + tau2) / v) + (2 * Math.Log(1 / Alpha))));
        Assert.True(result.IsDefined);
        Assert.Equal(delta, result.Difference, 1e-12);
        Assert.Equal(Math.Min(1, 1 / lambda), result.AlwaysValidPValue, 1e-12);
        Assert.Equal(delta - halfWidth, result.CiLow, 1e-12);
        Assert.Equal(delta + halfWidth, result.CiHigh, 1e-12);
        Assert.Equal(tau2, result.MixingVariance);
    }

    [Fact]
    public void Compare_DifferenceOnTheConfidenceBound_PValueEqualsAlpha()
    {
        // The confidence sequence is {θ : Λ(Δ − θ) < 1/α}: a difference exactly one half-width from 0 has p = α.
        var control = new SampleSummary(1000, 50, 100);
        var probe = SequentialTest.Compare(control, control with { Count = 900 }, Alpha, mixingVariance: 4);
        var halfWidth = probe.CiHigh - probe.Difference;

        var onBound = SequentialTest.Compare(control, new SampleSummary(900, 50 + halfWidth, 100), Alpha, mixingVariance: 4);
        var inside = SequentialTest.Compare(control, new SampleSummary(900, 50 + (0.99 * halfWidth), 100), Alpha, mixingVariance: 4);
        var outside = SequentialTest.Compare(control, new SampleSummary(900, 50 + (1.01 * halfWidth), 100), Alpha, mixingVariance: 4);

        Assert.Equal(Alpha, onBound.AlwaysValidPValue, 1e-9);
        Assert.Equal(0.0, onBound.CiLow, 1e-9);
        Assert.False(inside.IsSignificant);
        Assert.True(inside.CiLow < 0);
        Assert.True(outside.IsSignificant);
        Assert.True(outside.CiLow > 0);
    }

    [Fact]
    public void DefaultMixingVariance_NonZeroMeanOrZeroMean_TenPercentOfMeanOrOfSd()
    {
        Assert.Equal(4.0, SequentialTest.DefaultMixingVariance(new SampleSummary(100, -20, 9), new SampleSummary(100, 5, 9)), 1e-12);
        // Pooled variance (99·9 + 49·25)/148 = 14.297…; a tenth of its sd, squared.
        var pooled = ((99 * 9.0) + (49 * 25.0)) / 148;
        Assert.Equal(0.01 * pooled, SequentialTest.DefaultMixingVariance(new SampleSummary(100, 0, 9), new SampleSummary(50, 1, 25)), 1e-12);
        var result = SequentialTest.Compare(new SampleSummary(100, -20, 9), new SampleSummary(100, -19, 9));
        Assert.Equal(4.0, result.MixingVariance, 1e-12);
    }

    [Fact]
    public void RunningPValue_TakesTheMinimum()
    {
        Assert.Equal(0.2, SequentialTest.RunningPValue(1.0, 0.2));
        Assert.Equal(0.2, SequentialTest.RunningPValue(0.2, 0.7));
    }

    [Fact]
    public void Compare_InvalidArguments_Throw()
    {
        var s = new SampleSummary(10, 1, 1);
        Assert.Throws<ArgumentOutOfRangeException>(() => SequentialTest.Compare(s, s, alpha: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => SequentialTest.Compare(s, s, mixingVariance: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => SequentialTest.Compare(s, s, mixingVariance: double.PositiveInfinity));
        Assert.Throws<ArgumentException>(() => SequentialTest.Compare(s with { Variance = double.NaN }, s));
    }

    /// <summary>
    /// One experiment of <see cref="Looks"/> looks, <see cref="UsersPerLook"/> new users per group each, N(10, 5²) with
    /// the effect added to the treatment; running sums give the summaries at each look.
    /// </summary>
    private static ExperimentRun RunExperiment(Random random, double effect)
    {
        double sumC = 0, sumSqC = 0, sumT = 0, sumSqT = 0;
        var naive = false;
        var finalWelch = false;
        int? sequentialLook = null;
        var pValue = 1.0;
        for (var look = 1; look <= Looks; look++)
        {
            for (var i = 0; i < UsersPerLook; i++)
            {
                var c = Gaussian.Next(random, 10, 5);
                var t = Gaussian.Next(random, 10 + effect, 5);
                sumC += c;
                sumSqC += c * c;
                sumT += t;
                sumSqT += t * t;
            }

            var n = look * UsersPerLook;
            var control = Summary(n, sumC, sumSqC);
            var treatment = Summary(n, sumT, sumSqT);
            var welch = WelchTest.Compare(control, treatment, Alpha);
            naive |= welch.PValue < Alpha;
            finalWelch = welch.PValue < Alpha;
            pValue = SequentialTest.RunningPValue(pValue, SequentialTest.Compare(control, treatment, Alpha).AlwaysValidPValue);
            if (pValue <= Alpha && sequentialLook is null)
            {
                sequentialLook = look;
            }
        }

        return new ExperimentRun(naive, finalWelch, sequentialLook);
    }

    private static SampleSummary Summary(int n, double sum, double sumOfSquares)
    {
        var mean = sum / n;
        return new SampleSummary(n, mean, (sumOfSquares - (n * mean * mean)) / (n - 1));
    }

    private readonly record struct ExperimentRun(bool NaiveRejected, bool FinalWelchRejected, int? SequentialLook);
}

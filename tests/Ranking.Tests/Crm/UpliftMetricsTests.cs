using Ranking.Crm;

namespace Ranking.Tests.Crm;

public sealed class UpliftMetricsTests
{
    // Six rows. Ranked by descending score, ties with the later row first: 0 (0.9), 2, 1 (0.8 tie), 3, 4, 5.
    private static readonly double[] Scores = [0.9, 0.8, 0.8, 0.5, 0.3, 0.1];
    private static readonly bool[] Treated = [true, false, true, true, false, false];
    private static readonly double[] Outcome = [1, 0, 1, 0, 1, 0];

    private const double Tolerance = 1e-12;

    [Fact]
    public void QiniCurve_SmallExample_MatchesHandComputedPoints()
    {
        // Points at the end of each distinct score (N: targeted; Q = Y_T − Y_C·N_T/N_C):
        //   0.9: N=1, N_T=1 Y_T=1, N_C=0 → Q = 1
        //   0.8: N=3, N_T=2 Y_T=2, N_C=1 Y_C=0 → Q = 2
        //   0.5: N=4, N_T=3 Y_T=2, N_C=1 Y_C=0 → Q = 2
        //   0.3: N=5, N_T=3 Y_T=2, N_C=2 Y_C=1 → Q = 2 − 1·3/2 = 0.5
        //   0.1: N=6, N_T=3 Y_T=2, N_C=3 Y_C=1 → Q = 2 − 1·3/3 = 1
        var curve = UpliftMetrics.QiniCurve(Outcome, Scores, Treated);

        Assert.Equal([0, 1, 3, 4, 5, 6], curve.Targeted);
        Assert.Equal([0, 1, 2, 2, 0.5, 1], curve.Gain);
        // Trapezoids: 1·(0+1)/2 + 2·(1+2)/2 + 1·(2+2)/2 + 1·(2+0.5)/2 + 1·(0.5+1)/2 = 0.5 + 3 + 2 + 1.25 + 0.75 = 7.5
        Assert.Equal(7.5, curve.Area(), Tolerance);
    }

    [Fact]
    public void UpliftCurve_SmallExample_MatchesHandComputedPoints()
    {
        // U = (Y_T/N_T − Y_C/N_C)·N at the same thresholds:
        //   N=1: (1/1 − 0)·1 = 1;  N=3: (2/2 − 0/1)·3 = 3;  N=4: (2/3 − 0/1)·4 = 8/3;
        //   N=5: (2/3 − 1/2)·5 = 5/6;  N=6: (2/3 − 1/3)·6 = 2
        var curve = UpliftMetrics.UpliftCurve(Outcome, Scores, Treated);

        Assert.Equal([0, 1, 3, 4, 5, 6], curve.Targeted);
        double[] expected = [0, 1, 3, 8.0 / 3, 5.0 / 6, 2];
        for (var j = 0; j < expected.Length; j++)
        {
            Assert.Equal(expected[j], curve.Gain[j], Tolerance);
        }

        // 1·(0+1)/2 + 2·(1+3)/2 + (3+8/3)/2 + (8/3+5/6)/2 + (5/6+2)/2 = (6 + 48 + 34 + 21 + 17)/12 = 10.5
        Assert.Equal(10.5, curve.Area(), Tolerance);
    }

    [Fact]
    public void PerfectQiniCurve_SmallExample_RanksTreatedRespondersFirstAndControlRespondersLast()
    {
        // Oracle y·w − y·(1−w): rows 0, 2 → 1; rows 1, 3, 5 → 0; row 4 → −1.
        //   after the 1s: N=2, Y_T=2, N_C=0 → 2;  after the 0s: N=5, N_T=3 Y_T=2, N_C=2 Y_C=0 → 2;
        //   after the −1: N=6, N_C=3 Y_C=1 → 2 − 1·3/3 = 1
        var curve = UpliftMetrics.PerfectQiniCurve(Outcome, Treated);

        Assert.Equal([0, 2, 5, 6], curve.Targeted);
        Assert.Equal([0, 2, 2, 1], curve.Gain);
        Assert.Equal(9.5, curve.Area(), Tolerance); // 2·2/2 + 3·2 + 1·(2+1)/2
    }

    [Fact]
    public void QiniAucScore_SmallExample_NormalisesAgainstPerfectAndRandom()
    {
        // Random line from (0,0) to (6,1): area 3. (7.5 − 3)/(9.5 − 3) = 4.5/6.5
        var score = UpliftMetrics.QiniAucScore(Outcome, Scores, Treated);

        Assert.Equal(4.5 / 6.5, score, Tolerance);
    }

    [Fact]
    public void QiniAucScore_WithoutNegativeEffect_UsesThreePointPerfectCurve()
    {
        // r = Y_T − N_T·Y_C/N_C = 2 − 3·1/3 = 1; perfect points (0,0), (1,1), (6,1): area 0.5 + 5 = 5.5.
        // (7.5 − 3)/(5.5 − 3) = 1.8 (above 1: scikit-uplift's curve without negative effects is not an upper bound).
        var score = UpliftMetrics.QiniAucScore(Outcome, Scores, Treated, negativeEffect: false);

        Assert.Equal(1.8, score, Tolerance);
    }

    [Fact]
    public void UpliftAucScore_SmallExample_NormalisesAgainstPerfectAndRandom()
    {
        // Control responders (row 4) = 1, treated non-responders (row 3) = 1: not more, so the summand is w.
        // Oracle 2·[y=w] + w: rows 0, 2 → 3; rows 1, 5 → 2; row 3 → 1; row 4 → 0.
        //   N=2: (2/2 − 0)·2 = 2;  N=4: (2/2 − 0/2)·4 = 4;  N=5: (2/3 − 0)·5 = 10/3;  N=6: (2/3 − 1/3)·6 = 2
        // Perfect area: 2·2/2 + 2·(2+4)/2 + (4+10/3)/2 + (10/3+2)/2 = 2 + 6 + 11/3 + 8/3 = 43/3.
        // Random line to (6,2): area 6.  (10.5 − 6)/(43/3 − 6) = 4.5/(25/3) = 0.54
        var perfect = UpliftMetrics.PerfectUpliftCurve(Outcome, Treated);
        var score = UpliftMetrics.UpliftAucScore(Outcome, Scores, Treated);

        Assert.Equal([0, 2, 4, 5, 6], perfect.Targeted);
        Assert.Equal(43.0 / 3, perfect.Area(), Tolerance);
        Assert.Equal(0.54, score, Tolerance);
    }

    [Theory]
    [InlineData(0.5, 1.0)]       // top ⌊3⌋ = rows 0, 2, 1: treated {0, 2} mean 1, control {1} mean 0
    [InlineData(0.7, 2.0 / 3)]   // top ⌊4.2⌋ = 4 adds row 3 (treated, y=0): treated 2/3, control 0
    [InlineData(0.95, 2.0 / 3 - 0.5)] // top ⌊5.7⌋ = 5 adds row 4 (control, y=1): treated 2/3, control 1/2
    public void UpliftAtK_SmallExample_TakesTopShareOfAllRows(double k, double expected)
    {
        Assert.Equal(expected, UpliftMetrics.UpliftAtK(Outcome, Scores, Treated, k), Tolerance);
    }

    [Fact]
    public void UpliftAtK_NoControlInTop_IsNaN()
    {
        // k = 0.3: top ⌊1.8⌋ = 1 row (row 0, treated): the control mean is of nothing.
        Assert.True(double.IsNaN(UpliftMetrics.UpliftAtK(Outcome, Scores, Treated, 0.3)));
    }

    [Fact]
    public void UpliftAtK_CutInsideATie_TakesTheLaterRowFirst()
    {
        // Scores tie in pairs; ranked 1, 0, 3, 2. Top ⌊4·0.75⌋ = 3 = rows 1 (control, 0), 0 (treated, 1), 3 (control, 1):
        // 1 − (0 + 1)/2 = 0.5. (Taking the earlier row of the tie first would give rows 0, 1, 2 and 1 − 0 = 1.)
        double[] scores = [1, 1, 0, 0];
        bool[] treated = [true, false, true, false];
        double[] outcome = [1, 0, 1, 1];

        Assert.Equal(0.5, UpliftMetrics.UpliftAtK(outcome, scores, treated, 0.75), Tolerance);
    }

    [Fact]
    public void UpliftAtK_ContinuousOutcome_UsesMeans()
    {
        // Spend: top ⌊4·0.5⌋ = 2 rows (0: treated 30, 1: control 10) → 30 − 10 = 20.
        double[] scores = [0.9, 0.8, 0.2, 0.1];
        bool[] treated = [true, false, true, false];
        double[] spend = [30, 10, 0, 50];

        Assert.Equal(20, UpliftMetrics.UpliftAtK(spend, scores, treated, 0.5), Tolerance);
        Assert.Throws<ArgumentException>(() => UpliftMetrics.QiniAucScore(spend, scores, treated));
    }

    [Fact]
    public void QiniAucScore_OracleRanking_IsOne()
    {
        var (outcome, treated, _) = Synthetic(5000, seed: 1);
        var oracle = new double[outcome.Length];
        for (var i = 0; i < oracle.Length; i++)
        {
            oracle[i] = treated[i] ? outcome[i] : -outcome[i];
        }

        Assert.Equal(1.0, UpliftMetrics.QiniAucScore(outcome, oracle, treated), 1e-9);
    }

    [Fact]
    public void QiniAucScore_RandomRanking_IsNearZero()
    {
        var (outcome, treated, _) = Synthetic(20_000, seed: 2);
        var random = new Random(3);
        var scores = new double[outcome.Length];
        for (var i = 0; i < scores.Length; i++)
        {
            scores[i] = random.NextDouble();
        }

        Assert.InRange(UpliftMetrics.QiniAucScore(outcome, scores, treated), -0.05, 0.05);
        Assert.InRange(UpliftMetrics.UpliftAucScore(outcome, scores, treated), -0.05, 0.05);
    }

    [Fact]
    public void QiniAucScore_ReversedRanking_IsNegative()
    {
        var (outcome, treated, effect) = Synthetic(20_000, seed: 4);
        var reversed = new double[effect.Length];
        for (var i = 0; i < reversed.Length; i++)
        {
            reversed[i] = -effect[i];
        }

        Assert.True(UpliftMetrics.QiniAucScore(outcome, effect, treated) > 0);
        Assert.True(UpliftMetrics.QiniAucScore(outcome, reversed, treated) < 0);
        Assert.True(UpliftMetrics.UpliftAucScore(outcome, reversed, treated) < 0);
    }

    [Fact]
    public void Evaluate_SameSeed_GivesSameIntervalsAroundTheValues()
    {
        var (outcome, treated, effect) = Synthetic(4000, seed: 5);

        var first = UpliftMetrics.Evaluate(outcome, effect, treated, k: 0.3, resamples: 200, seed: 7);
        var second = UpliftMetrics.Evaluate(outcome, effect, treated, k: 0.3, resamples: 200, seed: 7);

        Assert.Equal(first, second);
        Assert.Equal(UpliftMetrics.UpliftAtK(outcome, effect, treated, 0.3), first.UpliftAtK.Value, Tolerance);
        Assert.Equal(UpliftMetrics.QiniAucScore(outcome, effect, treated), first.QiniAuc!.Value, Tolerance);
        Assert.Equal(UpliftMetrics.UpliftAucScore(outcome, effect, treated), first.UpliftAuc!.Value, Tolerance);
        foreach (var interval in new[] { first.UpliftAtK, first.QiniAuc, first.UpliftAuc })
        {
            Assert.InRange(interval.Value, interval.Lower, interval.Upper);
            Assert.True(interval.Upper - interval.Lower > 0);
            Assert.Equal(200, interval.ValidResamples);
        }
    }

    [Fact]
    public void Evaluate_ContinuousOutcome_ReportsOnlyUpliftAtK()
    {
        double[] scores = [0.9, 0.8, 0.2, 0.1, 0.5, 0.4];
        bool[] treated = [true, false, true, false, true, false];
        double[] spend = [30, 10, 0, 50, 5, 0];

        var evaluation = UpliftMetrics.Evaluate(spend, scores, treated, k: 0.5, resamples: 50);

        Assert.Null(evaluation.QiniAuc);
        Assert.Null(evaluation.UpliftAuc);
        Assert.False(double.IsNaN(evaluation.UpliftAtK.Value));
    }

    [Fact]
    public void Metrics_BadInput_Throw()
    {
        Assert.Throws<ArgumentException>(() => UpliftMetrics.QiniCurve([1, 0], [0.5], [true, false]));
        Assert.Throws<ArgumentException>(() => UpliftMetrics.QiniCurve([1, 0], [double.NaN, 0], [true, false]));
        Assert.Throws<ArgumentOutOfRangeException>(() => UpliftMetrics.UpliftAtK(Outcome, Scores, Treated, 1.0));
        Assert.Throws<ArgumentOutOfRangeException>(() => UpliftMetrics.UpliftAtK(Outcome, Scores, Treated, 0));
    }

    // Outcome ~ Bernoulli(0.2 + 0.2·[x > 0]·w), x ~ U(−1, 1), w ~ Bernoulli(0.5); also returns the true effect per row.
    internal static (double[] Outcome, bool[] Treated, double[] Effect) Synthetic(int n, int seed)
    {
        var random = new Random(seed);
        var outcome = new double[n];
        var treated = new bool[n];
        var effect = new double[n];
        for (var i = 0; i < n; i++)
        {
            var x = random.NextDouble() * 2 - 1;
            treated[i] = random.NextDouble() < 0.5;
            effect[i] = x > 0 ? 0.2 : 0;
            outcome[i] = random.NextDouble() < 0.2 + (treated[i] ? effect[i] : 0) ? 1 : 0;
        }

        return (outcome, treated, effect);
    }
}

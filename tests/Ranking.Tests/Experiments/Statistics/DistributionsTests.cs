using Ranking.Experiments.Statistics;

namespace Ranking.Tests.Experiments.Statistics;

/// <summary>
/// Distribution functions against table values. References to 10+ digits were computed with mpmath at 40 digits
/// (betainc, gammainc, erfinv, loggamma).
/// </summary>
public sealed class DistributionsTests
{
    [Theory]
    [InlineData(1.959964, 0.975000000903557596)]
    [InlineData(0.0, 0.5)]
    [InlineData(-1.0, 0.158655253931457051)]
    [InlineData(3.0, 0.998650101968369905)]
    public void NormalCdf_TableValues_Match(double x, double expected)
    {
        Assert.Equal(expected, Distributions.NormalCdf(x), 1e-14);
    }

    [Fact]
    public void NormalCdf_FarLowerTail_KeepsRelativePrecision()
    {
        Assert.Equal(7.61985302416052607e-24, Distributions.NormalCdf(-10), 7.62e-24 * 1e-12);
        Assert.Equal(0.0, Distributions.NormalCdf(double.NegativeInfinity));
        Assert.Equal(1.0, Distributions.NormalCdf(double.PositiveInfinity));
    }

    [Theory]
    [InlineData(0.975, 1.95996398454005424)]
    [InlineData(0.5, 0.0)]
    [InlineData(1e-10, -6.36134090240405620)]
    [InlineData(1e-300, -37.0470962993611992)]
    [InlineData(0.02, -2.05374891063182208)]
    public void NormalQuantile_TableValues_Match(double p, double expected)
    {
        Assert.Equal(expected, Distributions.NormalQuantile(p), 1e-9 * Math.Max(1, Math.Abs(expected)));
    }

    [Fact]
    public void NormalQuantile_RoundTripsThroughCdf_ToRelativePrecision()
    {
        for (var k = 1; k < 300; k++)
        {
            var p = k / 300.0;
            var x = Distributions.NormalQuantile(p);
            Assert.Equal(p, Distributions.NormalCdf(x), 1e-14);
            Assert.Equal(-x, Distributions.NormalQuantile(1 - p), 1e-9);
        }

        foreach (var p in new[] { 1e-5, 1e-20, 1e-100 })
        {
            var relative = Math.Abs(Distributions.NormalCdf(Distributions.NormalQuantile(p)) - p) / p;
            Assert.True(relative < 1e-12, $"p {p}: relative error {relative}");
        }
    }

    [Fact]
    public void NormalQuantile_Endpoints_AreInfinite()
    {
        Assert.Equal(double.NegativeInfinity, Distributions.NormalQuantile(0));
        Assert.Equal(double.PositiveInfinity, Distributions.NormalQuantile(1));
        Assert.Throws<ArgumentOutOfRangeException>(() => Distributions.NormalQuantile(1.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => Distributions.NormalQuantile(double.NaN));
    }

    [Theory]
    [InlineData(0.5, 0.572364942924700087)]
    [InlineData(10.0, 12.8018274800814696)]
    [InlineData(1.0, 0.0)]
    [InlineData(2.0, 0.0)]
    [InlineData(3.7, 1.42807232666538792)]
    [InlineData(1e-8, 18.4206807381802089)]
    public void LogGamma_KnownValues_Match(double x, double expected)
    {
        Assert.Equal(expected, Distributions.LogGamma(x), 1e-13);
    }

    [Fact]
    public void LogGamma_HalfAndTen_AreLogSqrtPiAndLogFactorial()
    {
        Assert.Equal(Math.Log(Math.Sqrt(Math.PI)), Distributions.LogGamma(0.5), 1e-14);
        Assert.Equal(Math.Log(362880.0), Distributions.LogGamma(10), 1e-13);
        Assert.Equal(220258509288.810581, Distributions.LogGamma(1e10), 1e-4);
        Assert.Throws<ArgumentOutOfRangeException>(() => Distributions.LogGamma(0));
    }

    [Fact]
    public void RegularizedIncompleteBeta_KnownValues_Match()
    {
        Assert.Equal(0.296752989295666399, Distributions.RegularizedIncompleteBeta(2.5, 3.5, 0.3), 1e-13);
        Assert.Equal(0.00120414983255981140, Distributions.RegularizedIncompleteBeta(50, 0.5, 0.9), 1e-15);
        Assert.Equal(0.0, Distributions.RegularizedIncompleteBeta(2, 3, 0));
        Assert.Equal(1.0, Distributions.RegularizedIncompleteBeta(2, 3, 1));
        // I_x(a, b) = 1 − I_{1−x}(b, a).
        Assert.Equal(1 - Distributions.RegularizedIncompleteBeta(3.5, 2.5, 0.7), Distributions.RegularizedIncompleteBeta(2.5, 3.5, 0.3), 1e-14);
    }

    [Theory]
    [InlineData(1000.0, 1200.0, 0.45, 0.334662342671540935)]
    [InlineData(20.0, 30.0, 0.4, 0.507700199657647878)]
    [InlineData(0.5, 50000.0, 0.00001, 0.682689492143135226)]
    [InlineData(5000.0, 0.5, 0.9999, 0.317310507257926797)]
    [InlineData(15.0, 0.5, 0.999, 0.863586075089513250)]
    public void RegularizedIncompleteBeta_LargeAndLopsidedShapes_MatchReference(double a, double b, double x, double expected)
    {
        Assert.Equal(expected, Distributions.RegularizedIncompleteBeta(a, b, x), 1e-12 * expected);
    }

    [Fact]
    public void RegularizedGammaP_LargeShape_KeepsPrecision()
    {
        // ln Γ(50000) ≈ 5e5: computed naively its rounding alone would cost five digits.
        Assert.Equal(0.0124783156380827988, Distributions.RegularizedGammaP(50000, 49500), 0.0125 * 1e-12);
        Assert.Equal(1.55451157855175653e-5, Distributions.ChiSquaredSurvival(10600, 10000), 1.55e-5 * 1e-12);
    }

    [Fact]
    public void RegularizedGammaP_KnownValues_Match()
    {
        Assert.Equal(0.220222591524284079, Distributions.RegularizedGammaP(3.5, 2.0), 1e-14);
        Assert.Equal(0.930146339300590232, Distributions.RegularizedGammaP(10, 15), 1e-14);
        Assert.Equal(0.112462916018284892, Distributions.RegularizedGammaP(0.5, 0.01), 1e-14);
        Assert.Equal(0.0, Distributions.RegularizedGammaP(2, 0));
        Assert.Equal(1.0, Distributions.RegularizedGammaP(2, double.PositiveInfinity));
    }

    [Theory]
    [InlineData(10.0, 2.228139)]
    [InlineData(1.0, 12.7062)]
    [InlineData(30.0, 2.042272)]
    public void StudentTQuantile_TwoSidedCriticalValues_MatchTables(double df, double expected)
    {
        Assert.Equal(expected, Distributions.StudentTQuantile(0.975, df), 5e-7 * expected);
    }

    [Theory]
    [InlineData(10.0, 2.22813885198627475)]
    [InlineData(1.0, 12.7062047361747046)]
    [InlineData(30.0, 2.04227245630123831)]
    [InlineData(2.5, 3.57465484200368322)]
    [InlineData(0.5, 164.557673480488533)]
    [InlineData(1000.0, 1.96233908082640848)]
    [InlineData(1e6, 1.95996635681410704)]
    public void StudentTQuantile_ManyDegreesOfFreedom_MatchReference(double df, double expected)
    {
        Assert.Equal(expected, Distributions.StudentTQuantile(0.975, df), 1e-11 * expected);
        Assert.Equal(-expected, Distributions.StudentTQuantile(0.025, df), 1e-11 * expected);
    }

    [Fact]
    public void StudentTCdf_KnownValues_Match()
    {
        Assert.Equal(0.975000006273558715, Distributions.StudentTCdf(2.228139, 10), 1e-14);
        Assert.Equal(8.80857602063598708e-6, Distributions.StudentTCdf(-50, 3), 8.8e-6 * 1e-12);
        Assert.Equal(0.00134993127071089853, Distributions.StudentTCdf(-3, 1e6), 1.35e-3 * 1e-10);
        Assert.Equal(0.975002104713135205, Distributions.StudentTCdf(1.96, 1e9), 1e-14);
        Assert.Equal(Distributions.NormalCdf(1.5), Distributions.StudentTCdf(1.5, double.PositiveInfinity));
        Assert.Equal(0.5, Distributions.StudentTCdf(0, 7));
    }

    [Fact]
    public void StudentTQuantile_RoundTripsThroughCdf_AcrossDegreesOfFreedom()
    {
        foreach (var df in new[] { 0.3, 1.0, 1.7, 2.0, 3.0, 7.5, 40.0, 1e4, 2e7 })
        {
            foreach (var p in new[] { 1e-12, 1e-6, 0.001, 0.025, 0.2, 0.49, 0.51, 0.9, 0.999 })
            {
                var t = Distributions.StudentTQuantile(p, df);
                var back = Distributions.StudentTCdf(t, df);
                var scale = Math.Min(p, 1 - p);
                Assert.True(Math.Abs(back - p) <= 1e-10 * scale, $"df {df} p {p}: t {t} gives {back}");
            }
        }
    }

    [Theory]
    [InlineData(1.0, 3.841459, 0.05)]
    [InlineData(2.0, 5.991465, 0.05)]
    [InlineData(3.0, 7.814728, 0.05)]
    [InlineData(10.0, 18.307038, 0.05)]
    [InlineData(1.0, 10.827566, 0.001)]
    public void ChiSquaredSurvival_UpperCriticalPoints_GiveTheirLevel(double df, double x, double level)
    {
        Assert.Equal(level, Distributions.ChiSquaredSurvival(x, df), level * 1e-6);
        Assert.Equal(1 - level, Distributions.ChiSquaredCdf(x, df), level * 1e-6);
    }

    [Fact]
    public void ChiSquaredSurvival_FarTail_IsNotLostToCancellation()
    {
        Assert.Equal(1.52397060483210521e-23, Distributions.ChiSquaredSurvival(100, 1), 1.52e-23 * 1e-11);
        Assert.Equal(1.0, Distributions.ChiSquaredSurvival(0, 3));
        Assert.Equal(0.0, Distributions.ChiSquaredCdf(-1, 3));
        Assert.Equal(0.0, Distributions.ChiSquaredSurvival(double.PositiveInfinity, 3));
    }
}

namespace Ranking.Experiments.Statistics;

/// <summary>
/// The difference between a treatment and a control mean (or ratio), with its test and confidence intervals.
/// </summary>
/// <remarks>
/// <para>
/// No member is ever NaN or infinite. When the comparison is undefined (fewer than two observations in a group,
/// zero variance in both groups, a non-finite input) <see cref="IsDefined"/> is false, <see cref="Reason"/> says
/// why, <see cref="PValue"/> is 1 (no evidence: a placeholder 0 would read as a certain effect to a caller that
/// forgets the flag) and every other inferential number (standard error, degrees of freedom, statistic, intervals,
/// relative figures) is 0. <see cref="Control"/>, <see cref="Treatment"/> and <see cref="Difference"/> are still filled in
/// when both groups have at least one finite observation, because they mean something on their own.
/// </para>
/// <para>
/// The relative figures need a non-zero control mean: when it is 0, <see cref="IsRelativeDefined"/> is false, the
/// relative numbers are 0 and <see cref="Reason"/> says so even though the absolute comparison is defined.
/// </para>
/// </remarks>
public sealed record MeanComparison
{
    /// <summary>
    /// The <see cref="DegreesOfFreedom"/> reported by tests that use the normal approximation (the delta method):
    /// finite so it serializes, and large enough that Student's t with it is the normal distribution.
    /// </summary>
    public const double NormalApproximationDegreesOfFreedom = 1e9;

    /// <summary>False when the test cannot be computed; see <see cref="Reason"/>.</summary>
    public bool IsDefined { get; init; }

    /// <summary>Why the comparison (or only its relative part) is undefined; null when everything is defined.</summary>
    public string? Reason { get; init; }

    /// <summary>The control group: count, mean and per-observation variance.</summary>
    public SampleSummary Control { get; init; }

    /// <summary>The treatment group: count, mean and per-observation variance.</summary>
    public SampleSummary Treatment { get; init; }

    /// <summary>Treatment minus control.</summary>
    public double Difference { get; init; }

    /// <summary>Standard error of <see cref="Difference"/>.</summary>
    public double StandardError { get; init; }

    /// <summary>
    /// Degrees of freedom of the reference t distribution (Welch–Satterthwaite);
    /// <see cref="NormalApproximationDegreesOfFreedom"/> for normal-approximation tests.
    /// </summary>
    public double DegreesOfFreedom { get; init; }

    /// <summary><see cref="Difference"/> over <see cref="StandardError"/>.</summary>
    public double TStatistic { get; init; }

    /// <summary>Two-sided p-value of "no difference", in [0, 1]; 1 when undefined.</summary>
    public double PValue { get; init; } = 1.0;

    /// <summary>Lower end of the 1 − alpha confidence interval of <see cref="Difference"/>.</summary>
    public double CiLow { get; init; }

    /// <summary>Upper end of the 1 − alpha confidence interval of <see cref="Difference"/>.</summary>
    public double CiHigh { get; init; }

    /// <summary>
    /// False when the control mean is 0 or so close to it that the lift overflows (or the comparison is undefined).
    /// </summary>
    public bool IsRelativeDefined { get; init; }

    /// <summary><see cref="Difference"/> over the control mean: 0.05 is a 5% lift.</summary>
    public double RelativeLift { get; init; }

    /// <summary>
    /// Lower end of the interval of <see cref="RelativeLift"/>: delta method for the ratio of two independent means,
    /// with the critical value of the absolute interval.
    /// </summary>
    public double RelativeCiLow { get; init; }

    /// <summary>Upper end of the interval of <see cref="RelativeLift"/>.</summary>
    public double RelativeCiHigh { get; init; }

    /// <summary>An undefined comparison: only the summaries and, when both groups are non-empty, the difference.</summary>
    internal static MeanComparison Undefined(SampleSummary control, SampleSummary treatment, string reason)
    {
        var valid = SampleSummary.IsValid(control) && SampleSummary.IsValid(treatment);
        var difference = valid && control.Count > 0 && treatment.Count > 0 ? treatment.Mean - control.Mean : 0.0;
        return new MeanComparison
        {
            IsDefined = false,
            Reason = reason,
            Control = valid ? control : new SampleSummary(Math.Max(0, control.Count), 0, 0),
            Treatment = valid ? treatment : new SampleSummary(Math.Max(0, treatment.Count), 0, 0),
            Difference = double.IsFinite(difference) ? difference : 0.0,
        };
    }

    /// <summary>
    /// The test and intervals for two independent estimates with the given sampling variances, read against
    /// Student's t with <paramref name="degreesOfFreedom"/> or, when that is null, the normal distribution.
    /// </summary>
    internal static MeanComparison FromEstimates(
        SampleSummary control, SampleSummary treatment, double controlEstimateVariance, double treatmentEstimateVariance,
        double? degreesOfFreedom, double alpha)
    {
        var variance = controlEstimateVariance + treatmentEstimateVariance;
        if (!(variance > 0.0))
        {
            return Undefined(control, treatment, "Both groups have zero variance: the difference has no standard error.");
        }

        var difference = treatment.Mean - control.Mean;
        var standardError = Math.Sqrt(variance);
        var statistic = difference / standardError;
        double pValue, critical;
        if (degreesOfFreedom is { } df)
        {
            pValue = 2.0 * Distributions.StudentTCdf(-Math.Abs(statistic), df);
            critical = -Distributions.StudentTQuantile(0.5 * alpha, df);
        }
        else
        {
            pValue = 2.0 * Distributions.NormalCdf(-Math.Abs(statistic));
            critical = -Distributions.NormalQuantile(0.5 * alpha);
        }

        var result = new MeanComparison
        {
            IsDefined = true,
            Control = control,
            Treatment = treatment,
            Difference = difference,
            StandardError = standardError,
            DegreesOfFreedom = degreesOfFreedom ?? NormalApproximationDegreesOfFreedom,
            TStatistic = statistic,
            PValue = Math.Min(1.0, pValue),
            CiLow = difference - (critical * standardError),
            CiHigh = difference + (critical * standardError),
        };

        if (!IsFinite(result))
        {
            return Undefined(control, treatment, "The numbers overflow double precision.");
        }

        if (control.Mean == 0.0)
        {
            return result with { Reason = "The control mean is zero: no relative lift." };
        }

        // Var(t/c) ≈ Var(t)/c² + t²·Var(c)/c⁴ for independent means t and c.
        var ratio = treatment.Mean / control.Mean;
        var relativeVariance = (treatmentEstimateVariance + (ratio * ratio * controlEstimateVariance)) / (control.Mean * control.Mean);
        var relativeHalfWidth = critical * Math.Sqrt(relativeVariance);
        var lift = difference / control.Mean;
        var relative = result with
        {
            IsRelativeDefined = true,
            RelativeLift = lift,
            RelativeCiLow = lift - relativeHalfWidth,
            RelativeCiHigh = lift + relativeHalfWidth,
        };

        return IsFinite(relative)
            ? relative
            : result with { Reason = "The control mean is so close to zero that the relative lift overflows." };
    }

    private static bool IsFinite(MeanComparison c) =>
        double.IsFinite(c.Difference) && double.IsFinite(c.StandardError) && double.IsFinite(c.DegreesOfFreedom)
        && double.IsFinite(c.TStatistic) && double.IsFinite(c.PValue) && double.IsFinite(c.CiLow) && double.IsFinite(c.CiHigh)
        && double.IsFinite(c.RelativeLift) && double.IsFinite(c.RelativeCiLow) && double.IsFinite(c.RelativeCiHigh);
}

/// <summary>Checks of the significance level shared by the tests.</summary>
internal static class SignificanceLevel
{
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="alpha"/> is not strictly between 0 and 1.</exception>
    public static void ThrowIfInvalid(double alpha, [System.Runtime.CompilerServices.CallerArgumentExpression(nameof(alpha))] string? name = null)
    {
        if (!(alpha > 0.0 && alpha < 1.0))
        {
            throw new ArgumentOutOfRangeException(name, alpha, "The significance level must be strictly between 0 and 1.");
        }
    }
}

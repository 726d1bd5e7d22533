namespace Ranking.Experiments.Statistics;

/// <summary>
/// Ratio metrics whose unit of analysis is the user but whose numerator and denominator are both per-user sums
/// (revenue / orders = average order value, clicks / views): the delta method gives the variance of the ratio of
/// means without treating orders as independent (Deng, Knoblich &amp; Lu 2018).
/// </summary>
public static class DeltaMethod
{
    /// <summary>
    /// Compares R = Σ numerator / Σ denominator between the groups with a normal-approximation (z) test.
    /// </summary>
    /// <remarks>
    /// <para>
    /// Per group, Var(R) ≈ (1/n)(σ²_N/μ_D² − 2 μ_N σ_ND/μ_D³ + μ_N² σ²_D/μ_D⁴), computed as the sample variance of the
    /// linearised values (Nᵢ − R Dᵢ)/μ_D over n, in a second pass (never negative, no cancellation).
    /// </para>
    /// <para>
    /// In the result, <see cref="MeanComparison.Control"/> and <see cref="MeanComparison.Treatment"/> carry
    /// Count = users, Mean = the ratio, and Variance = the per-user variance of the linearised values, so that
    /// Variance / Count is Var(R) as for a plain mean (and the summaries can be fed to <see cref="SequentialTest"/>).
    /// <see cref="MeanComparison.DegreesOfFreedom"/> is <see cref="MeanComparison.NormalApproximationDegreesOfFreedom"/>.
    /// </para>
    /// </remarks>
    /// <returns>
    /// The comparison; undefined when a group has fewer than two users, a group's denominators sum to 0, both
    /// ratios have zero variance, or a value is not finite.
    /// </returns>
    /// <exception cref="ArgumentException">A numerator span and its denominator span differ in length.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="alpha"/> is not strictly between 0 and 1.</exception>
    public static MeanComparison CompareRatios(
        ReadOnlySpan<double> controlNumerator, ReadOnlySpan<double> controlDenominator,
        ReadOnlySpan<double> treatmentNumerator, ReadOnlySpan<double> treatmentDenominator, double alpha = 0.05)
    {
        SignificanceLevel.ThrowIfInvalid(alpha);
        if (controlNumerator.Length != controlDenominator.Length)
        {
            throw new ArgumentException(
                $"The control has {controlNumerator.Length} numerators but {controlDenominator.Length} denominators.", nameof(controlDenominator));
        }

        if (treatmentNumerator.Length != treatmentDenominator.Length)
        {
            throw new ArgumentException(
                $"The treatment has {treatmentNumerator.Length} numerators but {treatmentDenominator.Length} denominators.", nameof(treatmentDenominator));
        }

        var control = Summarize(controlNumerator, controlDenominator, out var controlProblem);
        var treatment = Summarize(treatmentNumerator, treatmentDenominator, out var treatmentProblem);
        if (controlProblem is not null || treatmentProblem is not null)
        {
            var reason = controlProblem is not null ? $"Control: {controlProblem}" : $"Treatment: {treatmentProblem}";
            return MeanComparison.Undefined(control, treatment, reason);
        }

        if (control.Count < 2 || treatment.Count < 2)
        {
            return MeanComparison.Undefined(control, treatment,
                $"Each group needs at least two users (control {control.Count}, treatment {treatment.Count}).");
        }

        return MeanComparison.FromEstimates(
            control, treatment, control.Variance / control.Count, treatment.Variance / treatment.Count, degreesOfFreedom: null, alpha);
    }

    /// <summary>
    /// The ratio and the variance of its linearisation; a problem instead when it cannot be formed. When there is a
    /// problem the summary holds the count only.
    /// </summary>
    private static SampleSummary Summarize(ReadOnlySpan<double> numerator, ReadOnlySpan<double> denominator, out string? problem)
    {
        var n = numerator.Length;
        double meanN = 0, meanD = 0;
        for (var i = 0; i < n; i++)
        {
            meanN += (numerator[i] - meanN) / (i + 1);
            meanD += (denominator[i] - meanD) / (i + 1);
        }

        if (!double.IsFinite(meanN) || !double.IsFinite(meanD))
        {
            problem = "a numerator or denominator is NaN or infinite (or their mean overflows).";
            return new SampleSummary(n, 0, 0);
        }

        if (n == 0)
        {
            problem = null;
            return default;
        }

        if (meanD == 0.0)
        {
            problem = "the denominators sum to zero, so the ratio is undefined.";
            return new SampleSummary(n, 0, 0);
        }

        var ratio = meanN / meanD;

        // uᵢ = (Nᵢ − R Dᵢ)/μ_D has mean 0 by construction of R; Var(R) ≈ var(u)/n.
        var squares = 0.0;
        for (var i = 0; i < n; i++)
        {
            var u = (numerator[i] - (ratio * denominator[i])) / meanD;
            squares += u * u;
        }

        var variance = n < 2 ? 0.0 : squares / (n - 1);
        if (!double.IsFinite(ratio) || !double.IsFinite(variance))
        {
            problem = "the ratio or its variance overflows double precision.";
            return new SampleSummary(n, 0, 0);
        }

        problem = null;
        return new SampleSummary(n, ratio, variance);
    }
}

namespace Ranking.Experiments.Statistics;

/// <summary>
/// Welch's unequal-variance t-test for the difference of two independent means, with Welch–Satterthwaite
/// degrees of freedom.
/// </summary>
public static class WelchTest
{
    /// <summary>Compares the means of two samples of per-user values.</summary>
    /// <returns>
    /// The comparison; undefined (<see cref="MeanComparison.IsDefined"/> false, a reason, zeros) when a group has
    /// fewer than two observations, both groups have zero variance, or a value is NaN or infinite.
    /// </returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="alpha"/> is not strictly between 0 and 1.</exception>
    public static MeanComparison Compare(ReadOnlySpan<double> control, ReadOnlySpan<double> treatment, double alpha = 0.05)
    {
        SignificanceLevel.ThrowIfInvalid(alpha);
        var controlOk = SampleSummary.TryFrom(control, out var controlSummary);
        var treatmentOk = SampleSummary.TryFrom(treatment, out var treatmentSummary);
        if (!controlOk || !treatmentOk)
        {
            return MeanComparison.Undefined(controlSummary, treatmentSummary,
                $"The {(controlOk ? "treatment" : "control")} values include NaN or infinity (or overflow).");
        }

        return Compare(controlSummary, treatmentSummary, alpha);
    }

    /// <summary>Compares two groups from their summaries (for example running sums kept by a dashboard).</summary>
    /// <returns>The comparison; undefined when a group has fewer than two observations or both have zero variance.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="alpha"/> is not strictly between 0 and 1.</exception>
    /// <exception cref="ArgumentException">
    /// A summary has a negative count or variance, or a non-finite mean or variance (it cannot come from
    /// <see cref="SampleSummary.From"/>).
    /// </exception>
    public static MeanComparison Compare(SampleSummary control, SampleSummary treatment, double alpha = 0.05)
    {
        SignificanceLevel.ThrowIfInvalid(alpha);
        ThrowIfInvalid(control);
        ThrowIfInvalid(treatment);
        if (control.Count < 2 || treatment.Count < 2)
        {
            return MeanComparison.Undefined(control, treatment,
                $"Each group needs at least two observations (control {control.Count}, treatment {treatment.Count}).");
        }

        var controlPart = control.Variance / control.Count;
        var treatmentPart = treatment.Variance / treatment.Count;
        var total = controlPart + treatmentPart;
        if (!(total > 0.0))
        {
            return MeanComparison.Undefined(control, treatment, "Both groups have zero variance: the t statistic is undefined.");
        }

        // Welch–Satterthwaite, written with the shares of the variance so that tiny variances cannot underflow:
        // ν = V² / Σ (vᵢ²/(nᵢ − 1)) = 1 / Σ ((vᵢ/V)²/(nᵢ − 1)).
        var controlShare = controlPart / total;
        var treatmentShare = treatmentPart / total;
        var df = 1.0 / ((controlShare * controlShare / (control.Count - 1)) + (treatmentShare * treatmentShare / (treatment.Count - 1)));
        return MeanComparison.FromEstimates(control, treatment, controlPart, treatmentPart, df, alpha);
    }

    internal static void ThrowIfInvalid(SampleSummary summary, [System.Runtime.CompilerServices.CallerArgumentExpression(nameof(summary))] string? name = null)
    {
        if (!SampleSummary.IsValid(summary))
        {
            throw new ArgumentException($"Invalid summary {summary}: the count and variance must be non-negative, the mean and variance finite.", name);
        }
    }
}

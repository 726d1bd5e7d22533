namespace Ranking.Experiments.Statistics;

/// <summary>Count, mean and unbiased sample variance of one group of observations.</summary>
/// <param name="Count">Number of observations.</param>
/// <param name="Mean">Their mean; 0 when <paramref name="Count"/> is 0.</param>
/// <param name="Variance">Unbiased sample variance (divisor n − 1); 0 when <paramref name="Count"/> &lt; 2.</param>
public readonly record struct SampleSummary(long Count, double Mean, double Variance)
{
    /// <summary>Summarizes <paramref name="values"/> in one pass (Welford's update, stable for large offsets).</summary>
    /// <remarks>An empty span gives (0, 0, 0); one value gives (1, value, 0).</remarks>
    /// <exception cref="ArgumentException">
    /// A value is NaN or infinite, or the values are so large that their variance overflows.
    /// </exception>
    public static SampleSummary From(ReadOnlySpan<double> values) =>
        TryFrom(values, out var summary)
            ? summary
            : throw new ArgumentException("Every value must be finite (and their variance representable).", nameof(values));

    /// <summary>As <see cref="From"/>, but false instead of an exception when a value is not finite.</summary>
    internal static bool TryFrom(ReadOnlySpan<double> values, out SampleSummary summary)
    {
        var mean = 0.0;
        var squares = 0.0;
        for (var i = 0; i < values.Length; i++)
        {
            var delta = values[i] - mean;
            mean += delta / (i + 1);
            squares += delta * (values[i] - mean);
        }

        var variance = values.Length < 2 ? 0.0 : squares / (values.Length - 1);
        summary = new SampleSummary(values.Length, mean, variance);
        return IsValid(summary);
    }

    /// <summary>True when the count is non-negative and the mean and variance are finite, the variance non-negative.</summary>
    internal static bool IsValid(SampleSummary summary) =>
        summary.Count >= 0 && double.IsFinite(summary.Mean) && double.IsFinite(summary.Variance) && summary.Variance >= 0.0;
}

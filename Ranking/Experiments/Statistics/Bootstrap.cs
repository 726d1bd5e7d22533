using System.Buffers;

namespace Ranking.Experiments.Statistics;

/// <summary>A percentile bootstrap interval.</summary>
/// <param name="Low">Lower end (the alpha/2 quantile of the resampled differences); 0 when undefined.</param>
/// <param name="High">Upper end (the 1 − alpha/2 quantile); 0 when undefined.</param>
/// <param name="Resamples">How many resamples were drawn; 0 when undefined.</param>
/// <param name="IsDefined">
/// False when a group has fewer than two observations, both groups are constant, or a value is not finite.
/// </param>
public readonly record struct BootstrapInterval(double Low, double High, int Resamples, bool IsDefined);

/// <summary>Nonparametric bootstrap intervals, repeatable for a seed.</summary>
public static class Bootstrap
{
    /// <summary>
    /// Percentile bootstrap interval of mean(treatment) − mean(control): each resample draws both groups with
    /// replacement at their own sizes (a stratified bootstrap), and the interval is read from the sorted differences
    /// with linear interpolation between order statistics.
    /// </summary>
    /// <remarks>
    /// Cost O(resamples × (n_control + n_treatment)) draws from <see cref="Random"/>(<paramref name="seed"/>);
    /// one pooled scratch array of <paramref name="resamples"/> doubles, nothing per resample. The same inputs and
    /// seed give the same interval.
    /// </remarks>
    /// <returns>
    /// The interval; undefined (all zeros) when a group has fewer than two values, both groups are constant (the
    /// interval would be a point, as Welch's test is undefined there), or a value is NaN or infinite.
    /// </returns>
    /// <exception cref="ArgumentOutOfRangeException">
    /// <paramref name="resamples"/> is less than 2, or <paramref name="alpha"/> is not strictly between 0 and 1.
    /// </exception>
    public static BootstrapInterval DifferenceInMeans(
        ReadOnlySpan<double> control, ReadOnlySpan<double> treatment, int resamples = 2000, double alpha = 0.05, int seed = 42)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(resamples, 2);
        SignificanceLevel.ThrowIfInvalid(alpha);
        if (control.Length < 2 || treatment.Length < 2
            || !Inspect(control, out var controlConstant) || !Inspect(treatment, out var treatmentConstant)
            || (controlConstant && treatmentConstant))
        {
            return default;
        }

        var scratch = ArrayPool<double>.Shared.Rent(resamples);
        try
        {
            var differences = scratch.AsSpan(0, resamples);
            var random = new Random(seed);
            for (var r = 0; r < resamples; r++)
            {
                differences[r] = ResampledMean(treatment, random) - ResampledMean(control, random);
            }

            differences.Sort();
            var low = Quantile(differences, 0.5 * alpha);
            var high = Quantile(differences, 1.0 - (0.5 * alpha));
            return double.IsFinite(low) && double.IsFinite(high) ? new BootstrapInterval(low, high, resamples, true) : default;
        }
        finally
        {
            ArrayPool<double>.Shared.Return(scratch);
        }
    }

    /// <summary>
    /// Percentile bootstrap interval of the mean of one sample (users' metric values, say): each resample draws the
    /// values with replacement. Same conventions as <see cref="DifferenceInMeans"/>.
    /// </summary>
    /// <returns>The interval; undefined when there are fewer than two values or a value is not finite. A constant
    /// sample gives the point interval [value, value].</returns>
    public static BootstrapInterval Mean(ReadOnlySpan<double> values, int resamples = 1000, double alpha = 0.05, int seed = 42)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(resamples, 2);
        SignificanceLevel.ThrowIfInvalid(alpha);
        if (values.Length < 2 || !Inspect(values, out var constant))
        {
            return default;
        }

        if (constant)
        {
            return new BootstrapInterval(values[0], values[0], resamples, true);
        }

        var scratch = ArrayPool<double>.Shared.Rent(resamples);
        try
        {
            var means = scratch.AsSpan(0, resamples);
            var random = new Random(seed);
            for (var r = 0; r < resamples; r++)
            {
                means[r] = ResampledMean(values, random);
            }

            means.Sort();
            return new BootstrapInterval(Quantile(means, 0.5 * alpha), Quantile(means, 1.0 - (0.5 * alpha)), resamples, true);
        }
        finally
        {
            ArrayPool<double>.Shared.Return(scratch);
        }
    }

    private static double ResampledMean(ReadOnlySpan<double> values, Random random)
    {
        var sum = 0.0;
        for (var i = 0; i < values.Length; i++)
        {
            sum += values[random.Next(values.Length)];
        }

        return sum / values.Length;
    }

    /// <summary>The q-quantile of sorted values, interpolating between order statistics (Hyndman–Fan type 7).</summary>
    private static double Quantile(ReadOnlySpan<double> sorted, double q)
    {
        var position = q * (sorted.Length - 1);
        var below = (int)Math.Floor(position);
        var above = Math.Min(below + 1, sorted.Length - 1);
        var fraction = position - below;
        return sorted[below] + (fraction * (sorted[above] - sorted[below]));
    }

    /// <summary>True when every value is finite; <paramref name="constant"/> says whether they are all equal.</summary>
    private static bool Inspect(ReadOnlySpan<double> values, out bool constant)
    {
        constant = true;
        foreach (var value in values)
        {
            if (!double.IsFinite(value))
            {
                return false;
            }

            constant &= value == values[0];
        }

        return true;
    }
}

namespace Ranking.Experiments.Statistics;

/// <summary>The result of a sample ratio mismatch check.</summary>
/// <param name="ChiSquared">
/// Pearson's statistic Σ (observed − expected)² / expected; <see cref="double.MaxValue"/> when users landed in a
/// variant whose expected share is 0 (an impossible split), 0 when undefined.
/// </param>
/// <param name="DegreesOfFreedom">Variants with a positive share, minus one; 0 when undefined.</param>
/// <param name="PValue">Upper tail of chi-squared at <paramref name="ChiSquared"/>; 1 when undefined.</param>
/// <param name="IsMismatch">True when <paramref name="PValue"/> is below the threshold: do not trust the metrics.</param>
/// <param name="IsDefined">False when there are no users yet, or only one variant has a positive share.</param>
/// <param name="Reason">Why it is undefined, or a note on an impossible split; null otherwise.</param>
public sealed record SrmResult(double ChiSquared, int DegreesOfFreedom, double PValue, bool IsMismatch, bool IsDefined, string? Reason);

/// <summary>
/// The sample ratio mismatch (SRM) check: a chi-squared goodness-of-fit test of the users per variant against the
/// configured shares. A mismatch means assignment or logging is broken, whatever the metrics say.
/// </summary>
public static class SampleRatioMismatch
{
    /// <summary>Tests the observed counts against the expected shares.</summary>
    /// <param name="observed">Users per variant.</param>
    /// <param name="expectedShares">Configured share per variant, in the same order; normalised here to sum to 1.</param>
    /// <param name="threshold">
    /// P-value below which the split counts as a mismatch. Strict (0.001 by default) because the check runs on every
    /// look at every experiment and a false alarm stops an experiment.
    /// </param>
    /// <returns>The test; undefined (IsDefined false, p = 1, no mismatch) when the counts sum to 0.</returns>
    /// <exception cref="ArgumentException">
    /// The spans differ in length or hold fewer than two variants, a count is negative, a share is negative or not
    /// finite, or the shares sum to 0.
    /// </exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="threshold"/> is not strictly between 0 and 1.</exception>
    public static SrmResult Test(ReadOnlySpan<long> observed, ReadOnlySpan<double> expectedShares, double threshold = 0.001)
    {
        SignificanceLevel.ThrowIfInvalid(threshold);
        if (observed.Length != expectedShares.Length)
        {
            throw new ArgumentException($"{observed.Length} counts but {expectedShares.Length} shares.", nameof(expectedShares));
        }

        if (observed.Length < 2)
        {
            throw new ArgumentException("A ratio needs at least two variants.", nameof(observed));
        }

        var total = 0.0;
        var shareSum = 0.0;
        var positiveShares = 0;
        for (var i = 0; i < observed.Length; i++)
        {
            if (observed[i] < 0)
            {
                throw new ArgumentException($"Count {i} is negative ({observed[i]}).", nameof(observed));
            }

            if (!(expectedShares[i] >= 0.0 && double.IsFinite(expectedShares[i])))
            {
                throw new ArgumentException($"Share {i} must be finite and non-negative ({expectedShares[i]}).", nameof(expectedShares));
            }

            total += observed[i];
            shareSum += expectedShares[i];
            positiveShares += expectedShares[i] > 0.0 ? 1 : 0;
        }

        if (!(shareSum > 0.0))
        {
            throw new ArgumentException("The shares sum to zero.", nameof(expectedShares));
        }

        if (total == 0.0)
        {
            return new SrmResult(0, 0, 1, false, false, "No users observed yet.");
        }

        var chiSquared = 0.0;
        for (var i = 0; i < observed.Length; i++)
        {
            var expected = total * expectedShares[i] / shareSum;
            if (expected > 0.0)
            {
                var gap = observed[i] - expected;
                chiSquared += gap * gap / expected;
            }
            else if (observed[i] > 0)
            {
                return new SrmResult(double.MaxValue, Math.Max(1, positiveShares - 1), 0, true, true,
                    $"Variant {i} has users but an expected share of zero.");
            }
        }

        if (positiveShares < 2)
        {
            return new SrmResult(0, 0, 1, false, false, "Only one variant has a positive share: there is no ratio to test.");
        }

        var df = positiveShares - 1;
        var pValue = Distributions.ChiSquaredSurvival(chiSquared, df);
        return new SrmResult(chiSquared, df, pValue, pValue < threshold, true, null);
    }
}

namespace Ranking.Experiments.Statistics;

/// <summary>Adjusted p-values for a family of tests (several metrics, several variants).</summary>
/// <remarks>
/// Both methods return a new array in the input order, every value in [0, 1], monotone in the raw p-values (a
/// smaller raw p never gets a larger adjusted p). Ties are handled consistently: equal raw p-values get equal
/// adjusted ones. An empty input gives an empty array.
/// </remarks>
public static class MultipleComparisons
{
    /// <summary>Holm's step-down adjustment: controls the family-wise error rate under any dependence.</summary>
    /// <remarks>With sorted p₍₁₎ ≤ … ≤ p₍ₘ₎: adjusted p₍ᵢ₎ = max over j ≤ i of min(1, (m − j + 1) p₍ⱼ₎).</remarks>
    /// <exception cref="ArgumentOutOfRangeException">A p-value is outside [0, 1] or NaN.</exception>
    public static double[] Holm(ReadOnlySpan<double> pValues)
    {
        var order = SortedOrder(pValues);
        var m = pValues.Length;
        var adjusted = new double[m];
        var running = 0.0;
        for (var rank = 0; rank < m; rank++)
        {
            var index = order[rank];
            running = Math.Max(running, Math.Min(1.0, (m - rank) * pValues[index]));
            adjusted[index] = running;
        }

        return adjusted;
    }

    /// <summary>
    /// Benjamini–Hochberg step-up adjustment: controls the false discovery rate for independent or positively
    /// dependent tests.
    /// </summary>
    /// <remarks>With sorted p₍₁₎ ≤ … ≤ p₍ₘ₎: adjusted p₍ᵢ₎ = min over j ≥ i of min(1, m p₍ⱼ₎ / j).</remarks>
    /// <exception cref="ArgumentOutOfRangeException">A p-value is outside [0, 1] or NaN.</exception>
    public static double[] BenjaminiHochberg(ReadOnlySpan<double> pValues)
    {
        var order = SortedOrder(pValues);
        var m = pValues.Length;
        var adjusted = new double[m];
        var running = 1.0;
        for (var rank = m - 1; rank >= 0; rank--)
        {
            var index = order[rank];
            running = Math.Min(running, Math.Min(1.0, (double)m * pValues[index] / (rank + 1)));
            adjusted[index] = running;
        }

        return adjusted;
    }

    /// <summary>Indices of the p-values in ascending order (ties in any order: the running max or min evens them).</summary>
    private static int[] SortedOrder(ReadOnlySpan<double> pValues)
    {
        var keys = new double[pValues.Length];
        var order = new int[pValues.Length];
        for (var i = 0; i < pValues.Length; i++)
        {
            if (!(pValues[i] >= 0.0 && pValues[i] <= 1.0))
            {
                throw new ArgumentOutOfRangeException(nameof(pValues), pValues[i], $"p-value {i} is not in [0, 1].");
            }

            keys[i] = pValues[i];
            order[i] = i;
        }

        Array.Sort(keys, order);
        return order;
    }
}

namespace Ranking.Evaluation;

/// <summary>
/// Per-user ranking metrics of a recommended list against a set of relevant items, all "at K" (the first K of the
/// list count). With one target, HR@K = Recall@K and NDCG@K = 1 / log2(rank + 1).
/// </summary>
public static class RankingMetrics
{
    /// <summary>1 when any target is in the first <paramref name="k"/>, else 0.</summary>
    public static double HitRate(ReadOnlySpan<int> ranked, ReadOnlySpan<int> targets, int k) =>
        FirstHit(ranked, targets, k) >= 0 ? 1 : 0;

    /// <summary>Targets found in the first <paramref name="k"/> divided by the number of targets (0 when there are none).</summary>
    public static double Recall(ReadOnlySpan<int> ranked, ReadOnlySpan<int> targets, int k)
    {
        if (targets.IsEmpty)
        {
            return 0;
        }

        var hits = 0;
        var n = Math.Min(k, ranked.Length);
        for (var p = 0; p < n; p++)
        {
            hits += targets.Contains(ranked[p]) ? 1 : 0;
        }

        return (double)hits / targets.Length;
    }

    /// <summary>
    /// DCG of the first <paramref name="k"/> (gain 1 per target at rank r: 1 / log2(r + 1)) over the ideal DCG, which
    /// puts min(k, |targets|) targets first. 0 when there are no targets.
    /// </summary>
    public static double Ndcg(ReadOnlySpan<int> ranked, ReadOnlySpan<int> targets, int k)
    {
        if (targets.IsEmpty)
        {
            return 0;
        }

        var dcg = 0.0;
        var n = Math.Min(k, ranked.Length);
        for (var p = 0; p < n; p++)
        {
            if (targets.Contains(ranked[p]))
            {
                dcg += 1.0 / Math.Log2(p + 2);
            }
        }

        var ideal = 0.0;
        var m = Math.Min(k, targets.Length);
        for (var p = 0; p < m; p++)
        {
            ideal += 1.0 / Math.Log2(p + 2);
        }

        return dcg / ideal;
    }

    /// <summary>1 / rank of the first target within the first <paramref name="k"/>, else 0.</summary>
    public static double ReciprocalRank(ReadOnlySpan<int> ranked, ReadOnlySpan<int> targets, int k)
    {
        var p = FirstHit(ranked, targets, k);
        return p >= 0 ? 1.0 / (p + 1) : 0;
    }

    /// <summary>Position (0-based) of the first target within the first <paramref name="k"/>; −1 when none.</summary>
    public static int FirstHit(ReadOnlySpan<int> ranked, ReadOnlySpan<int> targets, int k)
    {
        var n = Math.Min(k, ranked.Length);
        for (var p = 0; p < n; p++)
        {
            if (targets.Contains(ranked[p]))
            {
                return p;
            }
        }

        return -1;
    }
}

using Ranking.Evaluation;

namespace Ranking.Tests.Evaluation;

public sealed class RankingMetricsTests
{
    [Fact]
    public void One_target_at_rank_three_matches_the_hand_computed_values()
    {
        int[] ranked = [7, 4, 9, 1, 3];
        int[] target = [9];

        // Rank 3 (position 2): DCG = 1 / log2(4) = 0.5; ideal DCG = 1.
        Assert.Equal(0.5, RankingMetrics.Ndcg(ranked, target, 10), 12);
        Assert.Equal(1.0 / 3.0, RankingMetrics.ReciprocalRank(ranked, target, 10), 12);
        Assert.Equal(1.0, RankingMetrics.HitRate(ranked, target, 3));
        Assert.Equal(0.0, RankingMetrics.HitRate(ranked, target, 2));
        Assert.Equal(0.0, RankingMetrics.Ndcg(ranked, target, 2));
        Assert.Equal(0.0, RankingMetrics.ReciprocalRank(ranked, target, 2));
        Assert.Equal(1.0, RankingMetrics.Recall(ranked, target, 3));
    }

    [Fact]
    public void Several_targets_use_the_ideal_dcg_of_min_k_and_target_count()
    {
        int[] ranked = [5, 2, 8, 6];
        int[] targets = [2, 6, 11];

        // Hits at ranks 2 and 4: DCG@4 = 1/log2(3) + 1/log2(5). Ideal with 3 targets: 1 + 1/log2(3) + 1/log2(4).
        var dcg = (1 / Math.Log2(3)) + (1 / Math.Log2(5));
        var ideal = 1 + (1 / Math.Log2(3)) + 0.5;
        Assert.Equal(dcg / ideal, RankingMetrics.Ndcg(ranked, targets, 4), 12);

        // At K = 2 only rank 2 counts, and the ideal has two targets: (1/log2 3) / (1 + 1/log2 3).
        Assert.Equal((1 / Math.Log2(3)) / (1 + (1 / Math.Log2(3))), RankingMetrics.Ndcg(ranked, targets, 2), 12);
        Assert.Equal(2.0 / 3.0, RankingMetrics.Recall(ranked, targets, 4), 12);
        Assert.Equal(0.5, RankingMetrics.ReciprocalRank(ranked, targets, 4), 12);
    }

    [Fact]
    public void Empty_lists_and_empty_targets_score_zero()
    {
        Assert.Equal(0.0, RankingMetrics.Ndcg([], [1], 10));
        Assert.Equal(0.0, RankingMetrics.Ndcg([1], [], 10));
        Assert.Equal(0.0, RankingMetrics.Recall([1], [], 10));
        Assert.Equal(0.0, RankingMetrics.HitRate([], [1], 10));
        Assert.Equal(-1, RankingMetrics.FirstHit([2, 3], [1], 10));
    }
}

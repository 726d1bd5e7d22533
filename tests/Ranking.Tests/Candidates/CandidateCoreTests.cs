using Ranking.Candidates;
using static Ranking.Tests.Evaluation.EvaluationTestLogs;

namespace Ranking.Tests.Candidates;

public sealed class CandidateCoreTests
{
    [Fact]
    public void Top_k_selection_equals_a_full_sort_with_ties_to_the_lower_index()
    {
        var random = new Random(7);
        for (var trial = 0; trial < 50; trial++)
        {
            var n = random.Next(1, 300);
            var scores = new float[n];
            for (var i = 0; i < n; i++)
            {
                // Few distinct values so ties are common; some items unscored.
                scores[i] = random.Next(10) == 0 ? float.NegativeInfinity : random.Next(20);
            }

            var k = random.Next(1, 40);
            var expected = Enumerable.Range(0, n)
                .Where(i => !float.IsNegativeInfinity(scores[i]))
                .OrderByDescending(i => scores[i]).ThenBy(i => i)
                .Take(k).ToArray();

            var actual = TopKSelector.Select(scores, k).Select(s => s.Item).ToArray();
            Assert.Equal(expected, actual);
        }
    }

    [Fact]
    public void User_item_matrix_sums_event_weights_per_pair_in_both_directions()
    {
        var log = Build(3, ("u1", "i0", "view", 1), ("u1", "i0", "order", 2), ("u1", null, "search", 3), ("u2", "i2", "cart", 1));
        var m = UserItemMatrix.From(log);
        var u1 = UserIndex(log, "u1");
        var i0 = ItemIndex(log, "i0");
        var i2 = ItemIndex(log, "i2");

        Assert.Equal(2, m.NonZeros);
        Assert.Equal(new[] { i0 }, m.ItemsOf(u1).ToArray());
        Assert.Equal(new[] { 6f }, m.ValuesOf(u1).ToArray()); // view 1 + order 5
        Assert.Equal(new[] { UserIndex(log, "u2") }, m.UsersOf(i2).ToArray());
        Assert.Equal(new[] { 3f }, m.ItemValuesOf(i2).ToArray());
        Assert.Equal(0, m.ItemDegree(ItemIndex(log, "i1")));
        Assert.Equal(new[] { 1f }, UserItemMatrix.From(log, binary: true).ValuesOf(u1).ToArray());
    }

    [Fact]
    public void Distinct_history_items_are_most_recent_first_with_summed_weights()
    {
        var log = Build(3, ("u1", "i0", "view", 1), ("u1", "i1", "view", 2), ("u1", "i0", "cart", 3), ("u1", null, "search", 4));
        var (items, weights) = UserHistory.Of(log, UserIndex(log, "u1")).DistinctItems();
        Assert.Equal(new[] { ItemIndex(log, "i0"), ItemIndex(log, "i1") }, items);
        Assert.Equal(new[] { 4f, 1f }, weights);
        Assert.Single(UserHistory.Of(log, 0).DistinctItems(1).Items);
        Assert.True(UserHistory.Of(log, 99).IsEmpty);
    }

    [Fact]
    public void A_truncated_or_foreign_artifact_is_refused()
    {
        var log = Build(2, ("u1", "i0", "view", 1));
        var model = PopularityModel.Train(log);
        using var stream = new MemoryStream();
        model.Save(stream);
        var bytes = stream.ToArray();

        Assert.Throws<InvalidDataException>(() => PopularityModel.Load(new MemoryStream(bytes[..^3])));
        Assert.Throws<InvalidDataException>(() => ItemKnnModel.Load(new MemoryStream(bytes)));
        Assert.Throws<InvalidDataException>(() => PopularityModel.Load(new MemoryStream([1, 2, 3, 4, 5])));
    }
}

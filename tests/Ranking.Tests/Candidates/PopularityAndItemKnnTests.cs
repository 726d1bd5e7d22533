using Ranking.Candidates;
using static Ranking.Tests.Evaluation.EvaluationTestLogs;

namespace Ranking.Tests.Candidates;

public sealed class PopularityAndItemKnnTests
{
    [Fact]
    public void Popularity_halves_an_event_weight_per_half_life()
    {
        // Reference time = the newest event (day 30). i0: a view today (1) + an order 30 days earlier (5 x 0.5).
        var log = Build(3, ("u1", "i0", "order", 0), ("u2", "i0", "view", 30 * 1440), ("u3", "i1", "view", 15 * 1440));
        var model = PopularityModel.Train(log, new PopularityOptions { HalfLifeDays = 30 });

        Assert.Equal(1 + 2.5, model.Scores[ItemIndex(log, "i0")], 4);
        Assert.Equal(Math.Pow(2, -0.5), model.Scores[ItemIndex(log, "i1")], 4);
        Assert.Equal(0f, model.Scores[ItemIndex(log, "i2")]);
    }

    [Fact]
    public void Popularity_answers_unknown_users_ranks_within_a_category_and_excludes()
    {
        // i0 and i2 share category A/Even; i1 is A/Odd.
        var log = Build(3, ("u1", "i0", "view", 1), ("u2", "i0", "view", 1), ("u3", "i2", "view", 1), ("u3", "i1", "order", 1));
        var model = PopularityModel.Train(log);
        var i0 = ItemIndex(log, "i0");
        var i1 = ItemIndex(log, "i1");
        var i2 = ItemIndex(log, "i2");

        Assert.Equal(new[] { i1, i0, i2 }, model.TopK(UserHistory.Unknown, 10).Select(s => s.Item));
        Assert.Equal(new[] { i0, i2 }, model.TopK(UserHistory.Unknown, 10, [i1]).Select(s => s.Item));
        Assert.Equal(new[] { i2 }, model.Similar(i0, 5).Select(s => s.Item));
        Assert.Empty(model.Similar(99, 5));

        using var stream = new MemoryStream();
        model.Save(stream);
        stream.Position = 0;
        var loaded = PopularityModel.Load(stream);
        Assert.Equal(model.Scores.ToArray(), loaded.Scores.ToArray());
        Assert.Equal(model.Similar(i0, 5), loaded.Similar(i0, 5));
    }

    [Fact]
    public void Item_knn_is_the_cosine_of_weighted_item_columns()
    {
        // Columns (users u1, u2, u3): i0 = (1, 3, 0) [u2 carted], i1 = (1, 1, 0), i2 = (0, 1, 1).
        var log = Build(
            3,
            ("u1", "i0", "view", 1), ("u1", "i1", "view", 2),
            ("u2", "i0", "cart", 1), ("u2", "i1", "view", 2), ("u2", "i2", "view", 3),
            ("u3", "i2", "view", 1));
        var model = ItemKnnModel.Train(log);
        var i0 = ItemIndex(log, "i0");
        var i1 = ItemIndex(log, "i1");
        var i2 = ItemIndex(log, "i2");

        var cos01 = 4 / (Math.Sqrt(10) * Math.Sqrt(2));
        var cos02 = 3 / (Math.Sqrt(10) * Math.Sqrt(2));
        var cos12 = 1 / (Math.Sqrt(2) * Math.Sqrt(2));
        var similar = model.Similar(i0, 5);
        Assert.Equal(new[] { i1, i2 }, similar.Select(s => s.Item));
        Assert.Equal(cos01, similar[0].Score, 5);
        Assert.Equal(cos02, similar[1].Score, 5);
        Assert.Equal(cos12, model.Similar(i2, 5).Single(s => s.Item == i1).Score, 5);

        // A user who viewed i1 twice (weight 2): scores 2 x cos for i0 and i2; i1 itself is excluded.
        var history = new UserHistory(-1, new[] { i1, i1 }, new[] { 1f, 1f }, new long[] { 1, 2 });
        var top = model.TopK(history, 5, [i1]);
        Assert.Equal(new[] { i0, i2 }, top.Select(s => s.Item));
        Assert.Equal(2 * cos01, top[0].Score, 5);
        Assert.DoesNotContain(top, s => s.Item == i1);
    }

    [Fact]
    public void Item_knn_gives_empty_answers_for_what_it_never_saw_and_round_trips()
    {
        var log = Build(4, ("u1", "i0", "view", 1), ("u1", "i1", "view", 2));
        var model = ItemKnnModel.Train(log);

        Assert.Empty(model.TopK(UserHistory.Unknown, 10));
        Assert.Empty(model.TopK(new UserHistory(-1, new[] { ItemIndex(log, "i3") }, new[] { 1f }, new long[] { 1 }), 10));
        Assert.Empty(model.Similar(ItemIndex(log, "i3"), 10));
        Assert.Empty(model.Similar(-1, 10));

        using var stream = new MemoryStream();
        model.Save(stream);
        stream.Position = 0;
        var loaded = ItemKnnModel.Load(stream);
        var i0 = ItemIndex(log, "i0");
        Assert.Equal(model.Similar(i0, 5), loaded.Similar(i0, 5));
    }
}

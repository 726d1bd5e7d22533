using Ranking.Evaluation;
using static Ranking.Tests.Evaluation.EvaluationTestLogs;

namespace Ranking.Tests.Evaluation;

public sealed class SplitsTests
{
    [Fact]
    public void Leave_one_out_holds_out_the_last_new_item_and_drops_its_later_events()
    {
        // u1 views i0, i1, i2, then orders i2 and views i0 again: the last new item is i2 (minute 3).
        var log = Build(
            5,
            ("u1", "i0", "view", 1), ("u1", "i1", "view", 2), ("u1", "i2", "view", 3), ("u1", "i2", "order", 4), ("u1", "i0", "view", 5),
            ("u2", "i3", "view", 1), ("u2", null, "search", 2), ("u2", "i4", "view", 3),
            ("u3", "i4", "view", 1), ("u3", "i4", "order", 2));

        var test = Splits.LeaveOneOut(log);
        var u1 = UserIndex(log, "u1");
        var u2 = UserIndex(log, "u2");
        var u3 = UserIndex(log, "u3");

        Assert.Equal(new[] { u1, u2 }, test.Users);
        Assert.Equal(new[] { ItemIndex(log, "i2") }, test.TargetsOf(0).ToArray());
        Assert.Equal(new[] { ItemIndex(log, "i4") }, test.TargetsOf(1).ToArray());

        // u1 trains on i0, i1 only; u2 on i3 and the search; u3 (one distinct item) keeps everything.
        Assert.Equal(new[] { ItemIndex(log, "i0"), ItemIndex(log, "i1") }, test.Train.ItemsOf(u1).ToArray());
        Assert.Equal(new[] { ItemIndex(log, "i3"), -1 }, test.Train.ItemsOf(u2).ToArray());
        Assert.Equal(2, test.Train.ItemsOf(u3).Length);
        Assert.Equal(log.ItemCount, test.Train.ItemCount);

        var validation = Splits.LeaveOneOut(log, LeaveOneOutStage.Validation);
        Assert.Equal(new[] { u1 }, validation.Users);
        Assert.Equal(new[] { ItemIndex(log, "i1") }, validation.TargetsOf(0).ToArray());
        Assert.Equal(new[] { ItemIndex(log, "i0") }, validation.Train.ItemsOf(u1).ToArray());
    }

    [Fact]
    public void Leave_one_out_keeps_file_order_for_equal_timestamps()
    {
        // Same minute: the stable order makes i1 the later event, so i1 is the target.
        var log = Build(3, ("u1", "i0", "view", 1), ("u1", "i2", "view", 2), ("u1", "i1", "view", 2));
        var split = Splits.LeaveOneOut(log);
        Assert.Equal(new[] { ItemIndex(log, "i1") }, split.TargetsOf(0).ToArray());
    }

    [Fact]
    public void Temporal_split_targets_only_new_items_after_the_cut()
    {
        var log = Build(
            4,
            ("u1", "i0", "view", 1), ("u1", "i0", "order", 20), ("u1", "i1", "view", 21), ("u1", "i2", "view", 22), ("u1", "i1", "cart", 23),
            ("u2", "i3", "view", 21),
            ("u3", "i3", "view", 2));

        var cut = log.TimestampMs.Min() + (10 * 60_000L);
        var split = Splits.Temporal(log, cut);

        // u1: i0 was seen before the cut, so only i1 and i2 are targets. u2 has no training item; u3 no test item.
        Assert.Equal(new[] { UserIndex(log, "u1") }, split.Users);
        Assert.Equal(new[] { ItemIndex(log, "i1"), ItemIndex(log, "i2") }, split.TargetsOf(0).ToArray());
        Assert.Equal(2, split.Train.Count);
    }

    [Fact]
    public void Time_at_share_cuts_at_the_quantile()
    {
        var log = Build(1, [.. Enumerable.Range(0, 10).Select(m => ("u1", (string?)"i0", "view", m))]);
        var cut = Splits.TimeAtShare(log, 0.9);
        Assert.Equal(9, log.TimestampMs.Count(t => t < cut));
        Assert.Throws<ArgumentOutOfRangeException>(() => Splits.TimeAtShare(log, 1.0));
    }
}

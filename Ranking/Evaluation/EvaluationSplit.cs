using Ranking.Data;

namespace Ranking.Evaluation;

/// <summary>
/// A training log and, for each evaluated user, the items she must be recommended. The training log keeps the index
/// spaces of the full log, so a model trained on it scores in the same item indices the targets use.
/// </summary>
public sealed class EvaluationSplit
{
    internal EvaluationSplit(string name, InteractionLog train, int[] users, int[] targetOffsets, int[] targets)
    {
        Name = name;
        Train = train;
        Users = users;
        TargetOffsets = targetOffsets;
        Targets = targets;
    }

    /// <summary>"loo-test", "loo-validation", "temporal".</summary>
    public string Name { get; }

    public InteractionLog Train { get; }

    /// <summary>The evaluated users (dense indices), ascending.</summary>
    public int[] Users { get; }

    /// <summary>Targets of <c>Users[k]</c> are <c>Targets[TargetOffsets[k] .. TargetOffsets[k + 1]]</c>, distinct.</summary>
    public int[] TargetOffsets { get; }

    public int[] Targets { get; }

    public ReadOnlySpan<int> TargetsOf(int k) => Targets.AsSpan(TargetOffsets[k], TargetOffsets[k + 1] - TargetOffsets[k]);
}

/// <summary>Which target leave-one-out holds out.</summary>
public enum LeaveOneOutStage
{
    /// <summary>The last new item is the target; training is everything before it.</summary>
    Test,

    /// <summary>The second-to-last new item is the target; training is everything before it.</summary>
    Validation,
}

/// <summary>Splits of an <see cref="InteractionLog"/> for offline evaluation; the protocol is in docs/EVALUATION.md.</summary>
public static class Splits
{
    /// <summary>
    /// Leave-one-out on the stable time order of each user's events. The target is the user's last <i>new</i> item (the
    /// last event whose item does not occur earlier in her history), or for <see cref="LeaveOneOutStage.Validation"/>
    /// the new item before that. The user's training rows are those before the target's event; her later events (repeats
    /// of items she had already seen, the target's own carts and orders) are dropped. On data sets without repeats
    /// (MovieLens, Amazon) this is the usual "last item test, second-to-last validation".
    /// </summary>
    /// <remarks>A user is evaluated when she has at least one new item before the target: two distinct items for the
    /// test stage, three for validation. Other users keep all their rows for training.</remarks>
    public static EvaluationSplit LeaveOneOut(InteractionLog log, LeaveOneOutStage stage = LeaveOneOutStage.Test)
    {
        ArgumentNullException.ThrowIfNull(log);
        var skip = stage == LeaveOneOutStage.Test ? 0 : 1;
        var keep = new bool[log.Count];
        var users = new List<int>();
        var targets = new List<int>();
        var offsets = new List<int> { 0 };
        var seen = new HashSet<int>();
        var firstRows = new List<int>();
        for (var u = 0; u < log.UserCount; u++)
        {
            seen.Clear();
            firstRows.Clear();
            var start = log.UserOffsets[u];
            var end = log.UserOffsets[u + 1];
            for (var r = start; r < end; r++)
            {
                var item = log.Item[r];
                if (item >= 0 && seen.Add(item))
                {
                    firstRows.Add(r);
                }
            }

            var cut = end;
            if (firstRows.Count >= 2 + skip)
            {
                var targetRow = firstRows[firstRows.Count - 1 - skip];
                cut = targetRow;
                users.Add(u);
                targets.Add(log.Item[targetRow]);
                offsets.Add(targets.Count);
            }

            keep.AsSpan(start, cut - start).Fill(true);
        }

        return new EvaluationSplit(
            stage == LeaveOneOutStage.Test ? "loo-test" : "loo-validation", log.Subset(keep), [.. users], [.. offsets], [.. targets]);
    }

    /// <summary>
    /// A global temporal split: events before <paramref name="cutMs"/> train, and each user's targets are the distinct
    /// items she touched at or after the cut that she had not touched before it. Users with no training item or no new
    /// item after the cut are not evaluated.
    /// </summary>
    public static EvaluationSplit Temporal(InteractionLog log, long cutMs)
    {
        ArgumentNullException.ThrowIfNull(log);
        var keep = new bool[log.Count];
        var users = new List<int>();
        var targets = new List<int>();
        var offsets = new List<int> { 0 };
        var before = new HashSet<int>();
        var after = new List<int>();
        for (var u = 0; u < log.UserCount; u++)
        {
            before.Clear();
            after.Clear();
            for (var r = log.UserOffsets[u]; r < log.UserOffsets[u + 1]; r++)
            {
                var item = log.Item[r];
                if (log.TimestampMs[r] < cutMs)
                {
                    keep[r] = true;
                    if (item >= 0)
                    {
                        before.Add(item);
                    }
                }
                else if (item >= 0 && !before.Contains(item) && !after.Contains(item))
                {
                    after.Add(item);
                }
            }

            if (before.Count > 0 && after.Count > 0)
            {
                users.Add(u);
                targets.AddRange(after);
                offsets.Add(targets.Count);
            }
        }

        return new EvaluationSplit("temporal", log.Subset(keep), [.. users], [.. offsets], [.. targets]);
    }

    /// <summary>The time before which the given share of the log's events lie (0.9: the last 10 % of events are after it).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The share is not strictly between 0 and 1.</exception>
    /// <exception cref="ArgumentException">The log is empty.</exception>
    public static long TimeAtShare(InteractionLog log, double share)
    {
        ArgumentNullException.ThrowIfNull(log);
        if (share is not (> 0 and < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(share), share, "The share must be strictly between 0 and 1.");
        }

        if (log.Count == 0)
        {
            throw new ArgumentException("The log has no events.", nameof(log));
        }

        var times = (long[])log.TimestampMs.Clone();
        Array.Sort(times);
        return times[(int)Math.Min(times.Length - 1, Math.Floor(share * times.Length))];
    }
}

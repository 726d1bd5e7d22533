using System.Diagnostics;
using Ranking.Candidates;
using Ranking.Experiments.Statistics;

namespace Ranking.Evaluation;

/// <summary>Settings of <see cref="RankingEvaluator"/>.</summary>
public sealed record EvaluationOptions
{
    /// <summary>The cut-offs reported; the largest decides how long a list each model ranks.</summary>
    public IReadOnlyList<int> Ks { get; init; } = [1, 10, 50];

    /// <summary>Bootstrap resamples for the 95 % intervals (0 turns intervals off).</summary>
    public int BootstrapResamples { get; init; } = 1000;

    public int Seed { get; init; } = 42;

    /// <summary>Evaluate at most this many users, drawn with the seed (null: all users, as the protocol wants).</summary>
    public int? MaxUsers { get; init; }

    public int MaxDegreeOfParallelism { get; init; } = -1;
}

/// <summary>A metric's mean over users with its 95 % bootstrap interval (NaN ends when intervals are off or undefined).</summary>
public readonly record struct MetricValue(double Mean, double Low, double High);

/// <summary>What one model scored on one split.</summary>
public sealed record EvaluationResult
{
    public required string Model { get; init; }

    public required string Split { get; init; }

    public int Users { get; init; }

    /// <summary>Users for whom the model had nothing to say (counted as misses in every metric).</summary>
    public int UsersWithoutAnswer { get; init; }

    /// <summary>Per-user metrics by name: "ndcg@10", "hr@10", "recall@10", "mrr@10", and so on.</summary>
    public required IReadOnlyDictionary<string, MetricValue> Metrics { get; init; }

    /// <summary>Distinct items recommended in anyone's top K over the size of the item index space, by K.</summary>
    public required IReadOnlyDictionary<int, double> Coverage { get; init; }

    /// <summary>
    /// Mean self-information −log2((n_i + 1) / (N + 1)) of the top-K items, n_i the training users of item i and N all
    /// training users, by K; higher means less popular recommendations.
    /// </summary>
    public required IReadOnlyDictionary<int, double> Novelty { get; init; }

    public double TrainSeconds { get; init; }

    public double ScoreSeconds { get; init; }
}

/// <summary>
/// Full-ranking evaluation: for each evaluated user the model scores the whole item index space, the user's training
/// items are removed, and the top of the rest is compared with her targets. No sampled negatives.
/// </summary>
public static class RankingEvaluator
{
    public static EvaluationResult Evaluate(
        ICandidateGenerator model, EvaluationSplit split, EvaluationOptions? options = null, double trainSeconds = 0, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(split);
        options ??= new EvaluationOptions();
        if (options.Ks.Count == 0 || options.Ks.Any(k => k < 1))
        {
            throw new ArgumentException("At least one cut-off, each at least 1, is needed.", nameof(options));
        }

        var train = split.Train;
        if (model.ItemCount != train.ItemCount)
        {
            throw new ArgumentException($"The model scores {model.ItemCount} items; the split has {train.ItemCount}.", nameof(model));
        }

        var ks = options.Ks.Distinct().Order().ToArray();
        var maxK = ks[^1];
        var positions = PickUsers(split.Users.Length, options.MaxUsers, options.Seed);
        var n = positions.Length;

        // One row per evaluated user: metric values, and her top list for coverage and novelty.
        var metricNames = new List<string>();
        foreach (var k in ks)
        {
            metricNames.AddRange([$"ndcg@{k}", $"hr@{k}", $"recall@{k}", $"mrr@{k}"]);
        }

        var values = new double[metricNames.Count][];
        for (var m = 0; m < values.Length; m++)
        {
            values[m] = new double[n];
        }

        var lists = new int[n * maxK];
        var listLengths = new int[n];
        var silent = 0;
        var watch = Stopwatch.StartNew();
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = options.MaxDegreeOfParallelism, CancellationToken = cancellationToken };
        Parallel.For(
            0,
            n,
            parallel,
            () => (Scores: new float[train.ItemCount], Best: new ScoredItem[maxK], Ranked: new int[maxK]),
            (row, _, scratch) =>
            {
                var k0 = positions[row];
                var user = split.Users[k0];
                var history = UserHistory.Of(train, user);
                var count = 0;
                if (model.Score(history, scratch.Scores))
                {
                    TopKSelector.Exclude(scratch.Scores, train.ItemsOf(user));
                    count = TopKSelector.Select(scratch.Scores, scratch.Best);
                }
                else
                {
                    Interlocked.Increment(ref silent);
                }

                for (var p = 0; p < count; p++)
                {
                    scratch.Ranked[p] = scratch.Best[p].Item;
                }

                var ranked = scratch.Ranked.AsSpan(0, count);
                ranked.CopyTo(lists.AsSpan(row * maxK));
                listLengths[row] = count;
                var targets = split.TargetsOf(k0);
                var m = 0;
                foreach (var k in ks)
                {
                    values[m++][row] = RankingMetrics.Ndcg(ranked, targets, k);
                    values[m++][row] = RankingMetrics.HitRate(ranked, targets, k);
                    values[m++][row] = RankingMetrics.Recall(ranked, targets, k);
                    values[m++][row] = RankingMetrics.ReciprocalRank(ranked, targets, k);
                }

                return scratch;
            },
            static _ => { });
        var scoreSeconds = watch.Elapsed.TotalSeconds;

        var metrics = new Dictionary<string, MetricValue>(StringComparer.Ordinal);
        for (var m = 0; m < metricNames.Count; m++)
        {
            metrics[metricNames[m]] = Summarise(values[m], options);
        }

        var itemUsers = ItemUserCounts(train);
        var coverage = new Dictionary<int, double>();
        var novelty = new Dictionary<int, double>();
        foreach (var k in ks)
        {
            (coverage[k], novelty[k]) = CoverageAndNovelty(lists, listLengths, maxK, k, itemUsers, train.UserCount, train.ItemCount);
        }

        return new EvaluationResult
        {
            Model = model.Name,
            Split = split.Name,
            Users = n,
            UsersWithoutAnswer = silent,
            Metrics = metrics,
            Coverage = coverage,
            Novelty = novelty,
            TrainSeconds = trainSeconds,
            ScoreSeconds = scoreSeconds,
        };
    }

    private static MetricValue Summarise(double[] values, EvaluationOptions options)
    {
        var mean = values.Length == 0 ? 0 : values.Average();
        if (options.BootstrapResamples < 2)
        {
            return new MetricValue(mean, double.NaN, double.NaN);
        }

        var interval = Bootstrap.Mean(values, options.BootstrapResamples, 0.05, options.Seed);
        return interval.IsDefined ? new MetricValue(mean, interval.Low, interval.High) : new MetricValue(mean, double.NaN, double.NaN);
    }

    private static int[] PickUsers(int total, int? max, int seed)
    {
        var all = Enumerable.Range(0, total).ToArray();
        if (max is not { } m || m >= total)
        {
            return all;
        }

        new Random(seed).Shuffle(all);
        var picked = all[..Math.Max(0, m)];
        Array.Sort(picked);
        return picked;
    }

    private static int[] ItemUserCounts(Data.InteractionLog train)
    {
        var counts = new int[train.ItemCount];
        var lastUser = new int[train.ItemCount];
        Array.Fill(lastUser, -1);
        for (var r = 0; r < train.Count; r++)
        {
            var item = train.Item[r];
            if (item >= 0 && lastUser[item] != train.User[r])
            {
                lastUser[item] = train.User[r];
                counts[item]++;
            }
        }

        return counts;
    }

    private static (double Coverage, double Novelty) CoverageAndNovelty(
        int[] lists, int[] lengths, int stride, int k, int[] itemUsers, int userCount, int itemCount)
    {
        var shown = new bool[itemCount];
        var distinct = 0;
        var information = 0.0;
        var listed = 0;
        for (var row = 0; row < lengths.Length; row++)
        {
            var n = Math.Min(k, lengths[row]);
            for (var p = 0; p < n; p++)
            {
                var item = lists[(row * stride) + p];
                if (!shown[item])
                {
                    shown[item] = true;
                    distinct++;
                }

                information -= Math.Log2((itemUsers[item] + 1.0) / (userCount + 1.0));
                listed++;
            }
        }

        return (itemCount == 0 ? 0 : (double)distinct / itemCount, listed == 0 ? 0 : information / listed);
    }
}

using System.Collections.Concurrent;
using System.Diagnostics;
using Ranking.Candidates;
using Ranking.Crm;
using Ranking.Data;
using Ranking.Search;
using Ranking.Sequential;

namespace Ranking.Fusion;

/// <summary>What <see cref="ServingTrainer"/> trains and how.</summary>
public sealed record ServingTrainingOptions
{
    /// <summary>The fusion model learns from orders in the last this-many days, with generators trained on the days before.</summary>
    public int FusionSliceDays { get; init; } = 28;

    /// <summary>At most this many users feed the fusion model (those with an order in the slice first).</summary>
    public int MaxFusionUsers { get; init; } = 4000;

    /// <summary>Share of the fusion users held out for its offline metrics.</summary>
    public double EvaluationShare { get; init; } = 0.2;

    public AlsOptions Als { get; init; } = new() { Factors = 32, Iterations = 10, Regularization = 10, Alpha = 5 };

    public PopularityOptions Popularity { get; init; } = new() { HalfLifeDays = 30 };

    public CoOccurrenceOptions Analogs { get; init; } = new() { Kind = CoOccurrenceKind.Analogs, Measure = CoOccurrenceMeasure.Pmi };

    public CoOccurrenceOptions Complements { get; init; } = new() { Kind = CoOccurrenceKind.Complements, Measure = CoOccurrenceMeasure.Pmi, MinCount = 1 };

    /// <summary>Train the transformer with these options; null leaves it out (the pipeline then runs without it).</summary>
    public SequentialOptions? Transformer { get; init; }

    /// <summary>Build text embeddings (needs an encoder); off leaves content similarity out.</summary>
    public bool Content { get; init; }

    /// <summary>The fusion model's trees.</summary>
    public BoostedTreeOptions Fusion { get; init; } = new() { NumberOfIterations = 150, NumberOfLeaves = 15, LearningRate = 0.05, MinimumExampleCountPerLeaf = 20 };

    /// <summary>The pipeline settings used when building the fusion data (candidate counts).</summary>
    public RecommenderOptions Pipeline { get; init; } = new() { ParallelSources = false };

    public int Seed { get; init; } = 42;

    /// <summary>A small configuration that trains on the demo marketplace in seconds (the first start of the service).</summary>
    public static ServingTrainingOptions Quick { get; } = new()
    {
        MaxFusionUsers = 1500,
        Als = new AlsOptions { Factors = 32, Iterations = 8, Regularization = 10, Alpha = 5 },
        Fusion = new BoostedTreeOptions { NumberOfIterations = 80, NumberOfLeaves = 15, LearningRate = 0.08, MinimumExampleCountPerLeaf = 20 },
    };
}

/// <summary>One step of a training run, for the manifest.</summary>
public readonly record struct ServingTrainingStep(string Name, double Seconds, string? Note = null);

/// <summary>The outcome of a training run: the models to save, their offline metrics and the steps' times.</summary>
public sealed record ServingTrainingResult(ServingModels Models, IReadOnlyDictionary<string, double> Metrics, IReadOnlyList<ServingTrainingStep> Steps, FusionEvaluation? Evaluation);

/// <summary>
/// Trains everything serving needs. Generators are trained on the events before the last
/// <see cref="ServingTrainingOptions.FusionSliceDays"/> days; the fusion model learns which of their candidates were
/// ordered in those days (no leakage: its features come from models that never saw the slice); then the generators are
/// retrained on all events for serving.
/// </summary>
public static class ServingTrainer
{
    /// <summary>Runs the whole training.</summary>
    /// <param name="encoder">The sentence encoder for content similarity; needed only with <see cref="ServingTrainingOptions.Content"/>.</param>
    public static ServingTrainingResult Train(
        InteractionLog log, ServingTrainingOptions? options = null, ITextEncoder? encoder = null, IProgress<string>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(log);
        options ??= new ServingTrainingOptions();
        if (options.Content && encoder is null)
        {
            throw new ArgumentException("Content similarity needs a text encoder.", nameof(encoder));
        }

        var steps = new List<ServingTrainingStep>();
        var metrics = new Dictionary<string, double>(StringComparer.Ordinal);
        if (log.Count == 0)
        {
            throw new ArgumentException("There are no events to train on.", nameof(log));
        }

        var end = log.TimestampMs.Max() + 1;
        var cut = end - (options.FusionSliceDays * 86_400_000L);
        var keep = new bool[log.Count];
        var prefixEvents = 0;
        for (var r = 0; r < keep.Length; r++)
        {
            keep[r] = log.TimestampMs[r] < cut;
            prefixEvents += keep[r] ? 1 : 0;
        }

        // Text embeddings depend on the catalog only: built once, shared by the early and the final generators.
        var content = options.Content && encoder is not null
            ? Timed(steps, "content", () => ContentModel.Build(log.Items, encoder, cancellationToken: cancellationToken))
            : null;
        FusionModel? fusion = null;
        FusionEvaluation? evaluation = null;
        if (prefixEvents > 0 && prefixEvents < log.Count)
        {
            var prefix = log.Subset(keep);
            progress?.Report($"Training the generators on {prefixEvents:N0} events before the fusion slice");
            var early = TrainGenerators(prefix, options, content, steps, "early ", cancellationToken, encoder);
            var clock = Stopwatch.StartNew();
            var data = FusionDataset.Build(early, prefix, log, cut, end, options, cancellationToken);
            steps.Add(new ServingTrainingStep("fusion data", clock.Elapsed.TotalSeconds, $"{data.FitRows.Count:N0} rows to fit, {data.EvalUsers.Count:N0} users held out"));
            progress?.Report($"Fitting the fusion model on {data.FitRows.Count:N0} candidate rows");
            clock.Restart();
            fusion = FusionModel.Train(data.FitMatrix(), data.FitLabels(), options.Fusion);
            steps.Add(new ServingTrainingStep("fusion model", clock.Elapsed.TotalSeconds, $"{fusion.TreeCount} trees"));
            evaluation = FusionEvaluation.Run(data, fusion, early);
            foreach (var (name, value) in evaluation.Metrics)
            {
                metrics[name] = value;
            }
        }
        else
        {
            steps.Add(new ServingTrainingStep("fusion model", 0, "skipped: the slice or the history before it is empty"));
        }

        progress?.Report($"Training the generators on all {log.Count:N0} events");
        var final = TrainGenerators(log, options, content, steps, "", cancellationToken, encoder);
        var keywords = Timed(steps, "bm25", () => Bm25Index.Build(log.Items));
        var models = new ServingModels
        {
            Catalog = final.Catalog,
            Popularity = final.Popularity,
            Analogs = final.Analogs,
            Complements = final.Complements,
            Als = final.Als,
            Content = final.Content,
            Transformer = final.Transformer,
            Lifelong = final.Lifelong,
            Discovery = final.Discovery,
            Fusion = fusion,
            Keywords = keywords,
        };
        metrics["events"] = log.Count;
        metrics["users"] = log.UserCount;
        metrics["items"] = log.ItemCount;
        return new ServingTrainingResult(models, metrics, steps, evaluation);
    }

    /// <summary>Trains the generators (no fusion model) on a log; <paramref name="content"/> is passed through.</summary>
    /// <param name="encoder">The query encoder for the transformer's search tokens and query contexts (and, without
    /// <paramref name="content"/>, its item titles); without one those inputs are left out, with a note in the steps.</param>
    public static ServingModels TrainGenerators(
        InteractionLog log, ServingTrainingOptions options, ContentModel? content, List<ServingTrainingStep> steps, string prefix,
        CancellationToken cancellationToken, ITextEncoder? encoder = null)
    {
        ArgumentNullException.ThrowIfNull(log);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(steps);
        var catalog = Timed(steps, prefix + "catalog", () => ServingCatalog.FromLog(log));
        var popularity = Timed(steps, prefix + "popularity", () => PopularityModel.Train(log, options.Popularity, cancellationToken));
        var analogs = Timed(steps, prefix + "co-occurrence analogs", () => CoOccurrenceModel.Train(log, options.Analogs, cancellationToken));
        var complements = Timed(steps, prefix + "co-occurrence complements", () => CoOccurrenceModel.Train(log, options.Complements, cancellationToken));
        var als = Timed(steps, prefix + "als", () => AlsModel.Train(log, options.Als, cancellationToken: cancellationToken));
        var transformer = options.Transformer is { } t
            ? Timed(steps, prefix + "transformer", () => TrainTransformer(log, t, content, encoder, steps, prefix, cancellationToken))
            : null;
        var lifelong = Timed(steps, prefix + "lifelong interests", () => LifelongInterestModel.Train(log, null, cancellationToken));
        var discovery = Timed(steps, prefix + "discovery", () => DiscoveryModel.Train(log, null, cancellationToken));
        return new ServingModels
        {
            Catalog = catalog,
            Popularity = popularity,
            Analogs = analogs,
            Complements = complements,
            Als = als,
            Content = content,
            Transformer = transformer,
            Lifelong = lifelong,
            Discovery = discovery,
        };
    }

    // The transformer with the text it needs: item vectors from the content model (or encoded here), the encoder for
    // queries. Without an encoder the text inputs are switched off and the step says so.
    private static SequentialModel TrainTransformer(
        InteractionLog log, SequentialOptions options, ContentModel? content, ITextEncoder? encoder, List<ServingTrainingStep> steps, string prefix,
        CancellationToken cancellationToken)
    {
        SequentialText? text = null;
        if (encoder is null && (options.UseTextVectors || options.UseSearchQueries))
        {
            options = options with { UseTextVectors = false, UseSearchQueries = false };
            steps.Add(new ServingTrainingStep(prefix + "transformer text inputs", 0, "skipped: no text encoder (Serving:Content off)"));
        }
        else if (encoder is not null && (options.UseTextVectors || options.UseSearchQueries || options.UseContext))
        {
            float[]? vectors = null;
            if (options.UseTextVectors)
            {
                if (content is not null && content.Dimension == encoder.Dimension)
                {
                    vectors = new float[log.ItemCount * content.Dimension];
                    for (var i = 0; i < log.ItemCount; i++)
                    {
                        if (content.HasVector(i))
                        {
                            content.VectorOf(i).CopyTo(vectors.AsSpan(i * content.Dimension, content.Dimension));
                        }
                    }
                }
                else
                {
                    vectors = SequentialText.FromCatalogue(log, encoder, withQueries: false, cancellationToken).ItemVectors;
                }
            }

            text = new SequentialText(encoder.Dimension, vectors, encoder);
        }

        return SequentialModel.Train(log, options, cancellationToken: cancellationToken, text: text);
    }

    private static T Timed<T>(List<ServingTrainingStep> steps, string name, Func<T> run)
    {
        var clock = Stopwatch.StartNew();
        var result = run();
        steps.Add(new ServingTrainingStep(name, clock.Elapsed.TotalSeconds));
        return result;
    }
}

/// <summary>One user's candidates in the fusion slice: their feature rows, labels (ordered in the slice) and what the
/// offline comparison needs.</summary>
public sealed record FusionUserRows(int User, int[] Items, float[][] Rows, bool[] Labels, int[] DiscoveryItems, int[] NewItems, int Targets);

/// <summary>The fusion model's training data: candidates of the generators trained before the slice, labelled by the
/// orders in the slice, split by user into rows to fit and users held out.</summary>
public sealed class FusionDataset
{
    private FusionDataset(List<FusionUserRows> fit, List<FusionUserRows> eval)
    {
        FitUsers = fit;
        EvalUsers = eval;
        FitRows = [.. fit.SelectMany(u => u.Rows)];
    }

    public IReadOnlyList<FusionUserRows> FitUsers { get; }

    public IReadOnlyList<FusionUserRows> EvalUsers { get; }

    public IReadOnlyList<float[]> FitRows { get; }

    public FeatureMatrix FitMatrix() => FeatureMatrix.FromRows(FusionFeatures.Names, FitRows);

    public float[] FitLabels() => [.. FitUsers.SelectMany(u => u.Labels.Select(l => l ? 1f : 0f))];

    /// <summary>Builds the rows: for each sampled user, the pipeline's candidates from her history before
    /// <paramref name="cutMs"/> and the items she ordered in [cut, end).</summary>
    public static FusionDataset Build(
        ServingModels early, InteractionLog prefix, InteractionLog full, long cutMs, long endMs, ServingTrainingOptions options,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(early);
        ArgumentNullException.ThrowIfNull(prefix);
        ArgumentNullException.ThrowIfNull(full);
        ArgumentNullException.ThrowIfNull(options);
        var targets = OrdersInSlice(full, prefix, early.Catalog.OrderCode, cutMs, endMs);
        var rng = new Random(options.Seed);
        var buyers = targets.Keys.OrderBy(u => u).ToList();
        var others = Enumerable.Range(0, prefix.UserCount)
            .Where(u => !targets.ContainsKey(u) && prefix.RowsOf(u).GetOffsetAndLength(prefix.Count).Length > 0).ToList();
        Shuffle(buyers, rng);
        Shuffle(others, rng);
        var take = Math.Min(buyers.Count, (options.MaxFusionUsers + 1) / 2);
        var users = buyers.Take(take).Concat(others.Take(Math.Min(others.Count, options.MaxFusionUsers - take))).ToList();
        var recommender = new Recommender(early, options.Pipeline);
        var results = new ConcurrentBag<FusionUserRows>();
        Parallel.ForEach(users, new ParallelOptions { CancellationToken = cancellationToken }, user =>
        {
            var history = UserHistory.Of(prefix, user);
            var request = new RecommendationRequest { NowMs = cutMs };
            var profile = new UserProfile(early.Catalog, history, cutMs);
            using var pool = new CandidatePool(early.Catalog.ItemCount);
            var table = early.Catalog.Items;
            bool Skip(int item) => !table.IsKnown(item) || (profile.HasOrdered(item) && !early.Catalog.IsRepeatable(item));
            recommender.Collect(pool, history, profile, request, Skip, [], includeSparse: true);
            var wanted = targets.GetValueOrDefault(user) ?? [];
            var items = pool.Items.ToArray();
            var rows = new float[items.Length][];
            var labels = new bool[items.Length];
            for (var i = 0; i < items.Length; i++)
            {
                rows[i] = new float[FusionFeatures.Count];
                FusionFeatures.Fill(pool, profile, early.Catalog, early.Popularity, items[i], rows[i]);
                labels[i] = wanted.Contains(items[i]);
            }

            var discovery = items.Where(i => pool.Rank(CandidateSource.Discovery, i) >= 0).ToArray();
            var fresh = items.Where(i => !profile.KnowsCategory(table.CategoryIndex[i]) || (table.BrandIndex[i] >= 0 && !profile.KnowsBrand(table.BrandIndex[i]))).ToArray();
            results.Add(new FusionUserRows(user, items, rows, labels, discovery, fresh, wanted.Count));
        });

        var all = results.OrderBy(r => r.User).ToList();
        var fit = new List<FusionUserRows>();
        var eval = new List<FusionUserRows>();
        foreach (var r in all)
        {
            (UserHash(r.User, options.Seed) < options.EvaluationShare ? eval : fit).Add(r);
        }

        return new FusionDataset(fit, eval);
    }

    /// <summary>The items each user with history before the cut (in <paramref name="prefix"/>) ordered in
    /// [<paramref name="cutMs"/>, <paramref name="endMs"/>): the fusion data's targets.</summary>
    public static Dictionary<int, HashSet<int>> OrdersInSlice(InteractionLog full, InteractionLog prefix, byte orderCode, long cutMs, long endMs)
    {
        ArgumentNullException.ThrowIfNull(full);
        ArgumentNullException.ThrowIfNull(prefix);
        var targets = new Dictionary<int, HashSet<int>>();
        for (var r = 0; r < full.Count; r++)
        {
            if (full.TimestampMs[r] >= cutMs && full.TimestampMs[r] < endMs && full.Type[r] == orderCode && full.Item[r] >= 0
                && prefix.RowsOf(full.User[r]).GetOffsetAndLength(prefix.Count).Length > 0)
            {
                (targets.TryGetValue(full.User[r], out var set) ? set : targets[full.User[r]] = []).Add(full.Item[r]);
            }
        }

        return targets;
    }

    private static double UserHash(int user, int seed)
    {
        var h = (uint)user * 2654435761u ^ (uint)seed * 40503u;
        h ^= h >> 16;
        h *= 0x85ebca6b;
        h ^= h >> 13;
        return h / (double)uint.MaxValue;
    }

    private static void Shuffle(List<int> list, Random rng)
    {
        for (var i = list.Count - 1; i > 0; i--)
        {
            var j = rng.Next(i + 1);
            (list[i], list[j]) = (list[j], list[i]);
        }
    }
}

/// <summary>One ranking of the held-out users' candidates, and what it earns.</summary>
/// <param name="MarginPerImpression">Mean over users of the margin of the ordered items in the top 10, per slot.</param>
/// <param name="GmvPerImpression">The same with the price.</param>
/// <param name="NewShare">Share of the top 10 in a category or brand new to the user.</param>
public sealed record RankerScore(string Ranker, double Ndcg10, double HitRate10, double MarginPerImpression, double GmvPerImpression, double NewShare, double NewOrderedShare);

/// <summary>
/// The offline comparison on the held-out users of the fusion slice: the fused ranking (by P(order) and by the business
/// objective at several margin weights) against each single source, over the same candidates. NDCG@10 and HR@10 have
/// the items ordered in the slice as targets.
/// </summary>
public sealed class FusionEvaluation
{
    private FusionEvaluation(IReadOnlyList<RankerScore> rankers, double auc, int users, int rows, double candidateRecall)
    {
        Rankers = rankers;
        Auc = auc;
        Users = users;
        Rows = rows;
        CandidateRecall = candidateRecall;
    }

    public IReadOnlyList<RankerScore> Rankers { get; }

    /// <summary>AUC of P(order) over the held-out candidate rows.</summary>
    public double Auc { get; }

    /// <summary>Held-out users with at least one ordered target.</summary>
    public int Users { get; }

    /// <summary>Held-out candidate rows.</summary>
    public int Rows { get; }

    /// <summary>Share of the held-out users' ordered items that are among their candidates (the ceiling of every ranker).</summary>
    public double CandidateRecall { get; }

    /// <summary>Flat metrics for a manifest.</summary>
    public IReadOnlyDictionary<string, double> Metrics
    {
        get
        {
            var m = new Dictionary<string, double>(StringComparer.Ordinal)
            {
                ["fusion.auc"] = Auc,
                ["fusion.eval_users"] = Users,
                ["fusion.candidate_recall"] = CandidateRecall,
            };
            foreach (var r in Rankers)
            {
                m[$"ndcg10.{r.Ranker}"] = r.Ndcg10;
                m[$"hr10.{r.Ranker}"] = r.HitRate10;
                m[$"margin_per_impression.{r.Ranker}"] = r.MarginPerImpression;
            }

            return m;
        }
    }

    /// <summary>Ranks the held-out users' candidates every way and scores the rankings.</summary>
    public static FusionEvaluation Run(FusionDataset data, FusionModel fusion, ServingModels early, IReadOnlyList<double>? marginWeights = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(fusion);
        ArgumentNullException.ThrowIfNull(early);
        marginWeights ??= [0, 0.25, 0.5, 0.75, 1];
        var users = data.EvalUsers.Where(u => u.Targets > 0).ToList();
        var catalog = early.Catalog;
        var rankers = new List<RankerScore>();
        var probabilities = users.Select(u => u.Rows.Select(r => fusion.Probability(r)).ToArray()).ToList();

        rankers.Add(Evaluate("fused", i => probabilities[i]));
        foreach (var w in marginWeights)
        {
            rankers.Add(Evaluate(
                $"fused-value-w{w:0.##}",
                i => probabilities[i].Select((p, j) => p * catalog.ValueOf(users[i].Items[j], w)).ToArray()));
        }

        rankers.Add(Evaluate("rrf", i => users[i].Rows.Select(RrfOf).ToArray()));
        for (var s = 0; s < CandidatePool.SourceCount; s++)
        {
            var column = (2 * s) + 1;
            var source = (CandidateSource)s;
            if (users.All(u => u.Rows.All(r => r[column] == 0)))
            {
                // The source proposed nothing (not trained): its "ranking" would be the tie-break order.
                continue;
            }

            rankers.Add(Evaluate(source.ToString().ToLowerInvariant(), i => users[i].Rows.Select(r => (double)r[column]).ToArray()));
        }

        var scores = new List<double>();
        var labels = new List<bool>();
        for (var i = 0; i < users.Count; i++)
        {
            scores.AddRange(probabilities[i]);
            labels.AddRange(users[i].Labels);
        }

        var hits = users.Sum(u => u.Labels.Count(l => l));
        var targets = users.Sum(u => u.Targets);
        return new FusionEvaluation(
            rankers, PropensityMetrics.Auc([.. scores], [.. labels]), users.Count, scores.Count, targets == 0 ? 0 : hits / (double)targets);

        RankerScore Evaluate(string name, Func<int, double[]> score)
        {
            double ndcg = 0, hr = 0, margin = 0, gmv = 0, fresh = 0, freshOrdered = 0;
            var freshCount = 0;
            for (var i = 0; i < users.Count; i++)
            {
                var u = users[i];
                var s = score(i);
                var order = Enumerable.Range(0, s.Length).OrderByDescending(j => s[j]).ThenBy(j => u.Items[j]).Take(10).ToArray();
                double dcg = 0;
                var newSet = u.NewItems.ToHashSet();
                for (var p = 0; p < order.Length; p++)
                {
                    var j = order[p];
                    if (newSet.Contains(u.Items[j]))
                    {
                        fresh++;
                        freshCount++;
                        freshOrdered += u.Labels[j] ? 1 : 0;
                    }

                    if (!u.Labels[j])
                    {
                        continue;
                    }

                    dcg += 1 / Math.Log2(p + 2);
                    margin += catalog.MarginOf(u.Items[j]);
                    gmv += catalog.PriceOf(u.Items[j]);
                }

                double ideal = 0;
                for (var p = 0; p < Math.Min(10, u.Targets); p++)
                {
                    ideal += 1 / Math.Log2(p + 2);
                }

                ndcg += dcg / ideal;
                hr += dcg > 0 ? 1 : 0;
            }

            var n = Math.Max(1, users.Count);
            return new RankerScore(name, ndcg / n, hr / n, margin / (10.0 * n), gmv / (10.0 * n), fresh / (10.0 * n), freshCount == 0 ? 0 : freshOrdered / freshCount);
        }
    }

    private static double RrfOf(float[] row)
    {
        double sum = 0;
        for (var s = 0; s < CandidatePool.SourceCount; s++)
        {
            var rr = row[(2 * s) + 1];
            if (rr > 0)
            {
                var rank = (1 / rr) - 1;
                sum += 1 / (60 + rank);
            }
        }

        return sum;
    }

    /// <summary>The comparison as a Markdown table.</summary>
    public string ToMarkdown()
    {
        var lines = new List<string>
        {
            $"Held-out users with an order in the slice: {Users:N0}; candidate rows: {Rows:N0}; AUC of P(order): {Auc:0.000}; candidate recall: {CandidateRecall:0.000}",
            "",
            "| ranker | NDCG@10 | HR@10 | margin / impression | GMV / impression | new cat/brand share | of which ordered |",
            "|---|---|---|---|---|---|---|",
        };
        lines.AddRange(Rankers.Select(r =>
            $"| {r.Ranker} | {r.Ndcg10:0.0000} | {r.HitRate10:0.0000} | {r.MarginPerImpression:0.000} | {r.GmvPerImpression:0.00} | {r.NewShare:0.000} | {r.NewOrderedShare:0.000} |"));
        return string.Join('\n', lines);
    }
}

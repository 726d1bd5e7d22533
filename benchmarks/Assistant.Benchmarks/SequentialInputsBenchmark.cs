using System.Diagnostics;
using System.Globalization;
using Ranking.Candidates;
using Ranking.Data;
using Ranking.Demo;
using Ranking.Domain;
using Ranking.Evaluation;
using Ranking.Experiments.Statistics;
using Ranking.Sequential;

namespace Assistant.Benchmarks;

/// <summary>
/// The transformer's opt-in inputs on the demo marketplace (docs/benchmarks/sequential-inputs.md):
/// <c>dotnet Assistant.Benchmarks.dll sequential-inputs [scale=1] [epochs=40] [seed=42] [cold=0.1] [pairs=20] [modelseed=seed] [length=50] [only=all|next|cold|context]</c>; seed
/// draws the demo data, the cold items and the model; modelseed (default: seed) overrides the model's alone.
/// One fixed small configuration (1 block, 64 wide, max length 50, fixed epochs, no early stopping), trained on the
/// leave-one-out test stage's training rows:
/// (1) next-item HR@10 / NDCG@10 of plain, +action types, +action types +time gaps, +types +gaps +P(order) head
/// (full ranking through <see cref="RankingEvaluator"/>, and paired bootstrap differences against plain);
/// (2) AUC of <see cref="SequentialModel.PredictOrder"/> on held-out events (each event at or after the user's
/// leave-one-out cut, given every event before it, labelled "is an order"), with a user-cluster bootstrap interval
/// and a per-item order-rate baseline;
/// (3) a random share of items made cold (their training rows removed), HR@10 / NDCG@10 of cold and warm targets with
/// <see cref="SequentialOptions.UseContentFeatures"/> off and on, and with <see cref="SequentialOptions.UseTextVectors"/>
/// (MiniLM titles) instead;
/// (4) the scenario inputs: the held-out event's own context (its anchor item, or its query, and its surface) given to
/// the model, HR@10 / NDCG@10 of plain, +surfaces, +search-query tokens, +context tokens and all three, overall and by
/// the target's context kind (home, query, anchor), with paired differences against plain.
/// </summary>
internal static class SequentialInputsBenchmark
{
    private const int K = 10;
    private const int Resamples = 1000;

    public static async Task<int> RunAsync(string[] args)
    {
        var settings = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var arg in args)
        {
            var eq = arg.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                Console.Error.WriteLine($"Expected key=value, got '{arg}'. Usage: sequential-inputs [scale=1] [epochs=40] [seed=42] [cold=0.1] [pairs=20] [modelseed=N] [length=50] [only=all|next|cold|context]");
                return 2;
            }

            settings[arg[..eq]] = arg[(eq + 1)..];
        }

        string Get(string key, string value) => settings.TryGetValue(key, out var v) ? v : value;
        var scale = double.Parse(Get("scale", "1"), CultureInfo.InvariantCulture);
        var epochs = int.Parse(Get("epochs", "40"), CultureInfo.InvariantCulture);
        var seed = int.Parse(Get("seed", "42"), CultureInfo.InvariantCulture);
        var coldShare = double.Parse(Get("cold", "0.1"), CultureInfo.InvariantCulture);
        var maxPairs = int.Parse(Get("pairs", "20"), CultureInfo.InvariantCulture);
        var modelSeed = int.Parse(Get("modelseed", seed.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);
        var only = Get("only", "all");

        var total = Stopwatch.StartNew();
        Print($"sequential-inputs: cores {Environment.ProcessorCount}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, demo scale {scale}, seed {seed}, epochs {epochs}");
        var log = await InteractionLog.BuildAsync(new DemoMarketplace(new DemoMarketplaceOptions { Seed = seed, Scale = scale }), EventTypeRegistry.Default);
        var typeCounts = new long[256];
        foreach (var t in log.Type)
        {
            typeCounts[t]++;
        }

        var byType = string.Join(", ", log.EventTypes.Names.Select(n => log.EventTypes.TryGetCode(n, out var c) ? $"{n} {typeCounts[c]:N0}" : n));
        Print($"demo: {log.Count:N0} events ({byType}), {log.UserCount:N0} users, {log.ItemCount:N0} items; built in {total.Elapsed.TotalSeconds:0.0} s");
        if (!log.EventTypes.TryGetCode(EventTypeRegistry.Order, out var orderCode))
        {
            Console.Error.WriteLine("The log has no order type.");
            return 1;
        }

        var test = Splits.LeaveOneOut(log);
        Print($"loo-test: {test.Users.Length:N0} evaluated users, {test.Train.Count:N0} training rows");
        var maxLength = int.Parse(Get("length", "50"), CultureInfo.InvariantCulture);
        var baseOptions = new SequentialOptions { Width = 64, Layers = 1, Heads = 1, MaxLength = maxLength, Epochs = epochs, Seed = modelSeed };
        Print($"options: {baseOptions}");

        if (only is "all" or "next")
        {
            NextItem(test, baseOptions, log, orderCode, maxPairs);
        }

        using var encoder = new CachingEncoder(new MiniLmTextEncoder());
        if (only is "all" or "cold")
        {
            Cold(test, baseOptions, coldShare, seed, encoder);
        }

        if (only is "all" or "context")
        {
            Context(test, baseOptions, log, encoder);
        }

        Print($"total wall {total.Elapsed.TotalSeconds:0} s");
        return 0;
    }

    private static void NextItem(EvaluationSplit test, SequentialOptions baseOptions, InteractionLog log, byte orderCode, int maxPairs)
    {
        var configurations = new (string Name, SequentialOptions Options)[]
        {
            ("plain", baseOptions),
            ("+types", baseOptions with { UseActionTypes = true }),
            ("+types+gaps", baseOptions with { UseActionTypes = true, UseTimeGaps = true }),
            ("+types+gaps+order head (w 1)", baseOptions with { UseActionTypes = true, UseTimeGaps = true, OrderHeadWeight = 1f }),
        };

        Print($"## 1. next item (loo-test, full ranking, seen items removed, {test.Users.Length:N0} users)");
        PerUser? plain = null;
        SequentialModel? withHead = null;
        foreach (var (name, options) in configurations)
        {
            var (model, seconds) = TrainTimed(test.Train, options, name);
            var result = RankingEvaluator.Evaluate(model, test, new EvaluationOptions { Ks = [10] }, seconds);
            var hr = result.Metrics["hr@10"];
            var ndcg = result.Metrics["ndcg@10"];
            var mine = Evaluate(model, test.Train, test, static _ => true);
            var diff = "";
            if (plain is null)
            {
                plain = mine;
            }
            else
            {
                diff = Invariant($" | Δ vs plain HR@10 {Difference(mine.Hits, plain.Hits)}, NDCG@10 {Difference(mine.Ndcg, plain.Ndcg)}");
            }

            Print($"| {name} | {hr.Mean:0.0000} [{hr.Low:0.0000}, {hr.High:0.0000}] | {ndcg.Mean:0.0000} [{ndcg.Low:0.0000}, {ndcg.High:0.0000}] | {seconds:0} s train, {result.ScoreSeconds:0.0} s score |{diff}");
            if (options.OrderHeadWeight > 0)
            {
                withHead = model;
            }
        }

        if (withHead is not null)
        {
            OrderHead(withHead, test, log, orderCode, maxPairs);
        }
    }

    // Held-out events: for each evaluated user, the events from her leave-one-out cut (the target's first event) on, at most
    // maxPairs of them, each given the full history before it; label: the event is an order.
    private static void OrderHead(SequentialModel model, EvaluationSplit test, InteractionLog log, byte orderCode, int maxPairs)
    {
        var train = test.Train;
        var itemEvents = new double[log.ItemCount];
        var itemOrders = new double[log.ItemCount];
        var trainOrders = 0L;
        var trainItemEvents = 0L;
        for (var r = 0; r < train.Count; r++)
        {
            var item = train.Item[r];
            if (item < 0)
            {
                continue;
            }

            itemEvents[item]++;
            trainItemEvents++;
            if (train.Type[r] == orderCode)
            {
                itemOrders[item]++;
                trainOrders++;
            }
        }

        var prior = (double)trainOrders / Math.Max(1, trainItemEvents);
        var clock = Stopwatch.StartNew();
        var pairUser = new List<int>();
        var isFirst = new List<bool>();
        var afterSameItem = new List<bool>();
        var rule = new List<double>();
        var labels = new List<bool>();
        var predicted = new List<double>();
        var baseline = new List<double>();
        for (var k = 0; k < test.Users.Length; k++)
        {
            var u = test.Users[k];
            var full = UserHistory.Of(log, u);
            var start = log.UserOffsets[u];
            var cut = start + (train.UserOffsets[u + 1] - train.UserOffsets[u]);
            var taken = 0;
            for (var r = cut; r < log.UserOffsets[u + 1] && taken < maxPairs; r++)
            {
                var item = log.Item[r];
                if (item < 0)
                {
                    continue;
                }

                var j = r - start;
                var prefix = new UserHistory(u, full.Items[..j], full.Weights[..j], full.TimestampsMs[..j], full.Types[..j]);
                var p = model.PredictOrder(prefix, item);
                if (float.IsNaN(p))
                {
                    continue;
                }

                pairUser.Add(k);
                isFirst.Add(taken == 0);
                labels.Add(log.Type[r] == orderCode);
                predicted.Add(p);
                var rate = (itemOrders[item] + (2 * prior)) / (itemEvents[item] + 2);
                baseline.Add(rate);

                // The previous item event: on the same item (a cart above all) makes an order likely.
                var last = -1;
                for (var q = r - 1; q >= start; q--)
                {
                    if (log.Item[q] >= 0)
                    {
                        last = q;
                        break;
                    }
                }

                var same = last >= 0 && log.Item[last] == item;
                afterSameItem.Add(same);
                var cartCode = log.EventTypes.TryGetCode(EventTypeRegistry.Cart, out var cc) ? cc : (byte)255;
                rule.Add((same ? (log.Type[last] == cartCode ? 2 : 1) : 0) + (0.5 * rate));
                taken++;
            }
        }

        Print($"## 2. P(order) head: {labels.Count:N0} held-out events of {test.Users.Length:N0} users ({labels.Count(l => l) / (double)Math.Max(1, labels.Count):0.000} orders; training item events {prior:0.000} orders), {clock.Elapsed.TotalSeconds:0.0} s");
        var all = Enumerable.Range(0, labels.Count).ToArray();
        var first = all.Where(i => isFirst[i]).ToArray();
        Print($"first held-out event of each user (the target's first event): {first.Length:N0}, of which {first.Count(i => labels[i]):N0} orders");
        Print($"| events | pairs | orders | AUC P(order) head | AUC item order rate | AUC rule (previous item event on this item, cart > other, then item rate) |");
        var otherItem = all.Where(i => !afterSameItem[i]).ToArray();
        var sameItem = all.Where(i => afterSameItem[i]).ToArray();
        foreach (var (name, rows) in new[] { ("all held-out events", all), ("previous item event on another item", otherItem), ("previous item event on the same item", sameItem) })
        {
            var positives = rows.Count(i => labels[i]);
            Print($"| {name} | {rows.Length:N0} | {positives:N0} | {AucInterval(rows, predicted, labels, pairUser)} | {AucInterval(rows, baseline, labels, pairUser)} | {AucInterval(rows, rule, labels, pairUser)} |");
        }
    }

    private static void Cold(EvaluationSplit test, SequentialOptions baseOptions, double coldShare, int seed, ITextEncoder encoder)
    {
        var itemCount = test.Train.ItemCount;
        var random = new Random(seed);
        var cold = new bool[itemCount];
        foreach (var i in Enumerable.Range(0, itemCount).OrderBy(_ => random.Next()).Take((int)Math.Round(coldShare * itemCount)))
        {
            cold[i] = true;
        }

        var keep = new bool[test.Train.Count];
        for (var r = 0; r < keep.Length; r++)
        {
            var item = test.Train.Item[r];
            keep[r] = item < 0 || !cold[item];
        }

        var train = test.Train.Subset(keep);
        var coldTargets = 0;
        for (var k = 0; k < test.Users.Length; k++)
        {
            coldTargets += cold[test.TargetsOf(k)[0]] ? 1 : 0;
        }

        Print($"## 3. cold items: {cold.Count(c => c):N0} of {itemCount:N0} items cold ({test.Train.Count - train.Count:N0} training rows removed); targets: {coldTargets:N0} cold, {test.Users.Length - coldTargets:N0} warm");
        var clock = Stopwatch.StartNew();
        var titles = SequentialText.FromCatalogue(train, encoder, withQueries: false);
        Print($"  titles encoded (MiniLM, {encoder.Dimension} dims) in {clock.Elapsed.TotalSeconds:0.0} s");
        foreach (var (name, options) in new[]
        {
            ("content off", baseOptions), ("content on", baseOptions with { UseContentFeatures = true }),
            ("text vectors", baseOptions with { UseTextVectors = true }), ("content + text", baseOptions with { UseContentFeatures = true, UseTextVectors = true }),
        })
        {
            var (model, seconds) = TrainTimed(train, options, name, options.UseTextVectors ? titles : null);
            var coldResult = Evaluate(model, train, test, k => cold[test.TargetsOf(k)[0]], cold);
            var warmResult = Evaluate(model, train, test, k => !cold[test.TargetsOf(k)[0]]);
            Print($"| {name} | cold: HR@10 {Mean(coldResult.Hits)}, NDCG@10 {Mean(coldResult.Ndcg)}, scored {coldResult.Scored}/{coldResult.Hits.Length}, median rank {Median(coldResult.Ranks)}, HR@10 among cold items {Mean(coldResult.HitsAmongCold!)} (chance {coldResult.ChanceAmongCold:0.000}), no answer {coldResult.NoAnswer} | warm: HR@10 {Mean(warmResult.Hits)}, NDCG@10 {Mean(warmResult.Ndcg)}, no answer {warmResult.NoAnswer} | {seconds:0} s train |");
        }
    }

    // The held-out event's own context: the first event of the target item (the leave-one-out cut), with its anchor or
    // query and its surface; each model gets it (models without UseContext ignore it).
    private static void Context(EvaluationSplit test, SequentialOptions baseOptions, InteractionLog log, ITextEncoder encoder)
    {
        var contexts = new SequentialContext[test.Users.Length];
        var kinds = new string[test.Users.Length];
        for (var k = 0; k < test.Users.Length; k++)
        {
            var target = test.TargetsOf(k)[0];
            var (start, length) = log.RowsOf(test.Users[k]).GetOffsetAndLength(log.Count);
            var row = start;
            while (row < start + length - 1 && log.Item[row] != target)
            {
                row++;
            }

            var surface = log.Surface[row];
            var anchor = log.ContextItem[row];
            var query = log.Query[row];
            contexts[k] = anchor >= 0 ? SequentialContext.Anchor(anchor, surface)
                : query >= 0 ? SequentialContext.Search(log.Queries[query], surface)
                : SequentialContext.Home with { Surface = surface };
            kinds[k] = anchor >= 0 ? "anchor" : query >= 0 ? "query" : "none";
        }

        var groups = new[] { "all", "none", "query", "anchor" };
        Print($"## 4. scenario context (loo-test targets: {string.Join(", ", groups.Skip(1).Select(g => $"{kinds.Count(x => x == g)} {g}"))}; surfaces {string.Join("/", log.Surfaces)})");
        var text = new SequentialText(encoder.Dimension, null, encoder);
        var configurations = new (string Name, SequentialOptions Options)[]
        {
            ("plain", baseOptions),
            ("+surfaces", baseOptions with { UseSurfaces = true }),
            ("+search tokens", baseOptions with { UseSearchQueries = true }),
            ("+context", baseOptions with { UseContext = true }),
            ("+surfaces +search tokens +context", baseOptions with { UseSurfaces = true, UseSearchQueries = true, UseContext = true }),
        };
        PerUser? plain = null;
        foreach (var (name, options) in configurations)
        {
            var (model, seconds) = TrainTimed(test.Train, options, name, options.UseSearchQueries || options.UseContext ? text : null);
            var result = Evaluate(model, test.Train, test, static _ => true, contextOf: k => contexts[k]);
            plain ??= result;
            foreach (var group in groups)
            {
                var rows = Enumerable.Range(0, kinds.Length).Where(k => group == "all" || kinds[k] == group).ToArray();
                var hits = rows.Select(k => result.Hits[k]).ToArray();
                var ndcg = rows.Select(k => result.Ndcg[k]).ToArray();
                var diff = ReferenceEquals(result, plain) ? ""
                    : Invariant($" | Δ vs plain HR@10 {Difference(hits, [.. rows.Select(k => plain.Hits[k])])}, NDCG@10 {Difference(ndcg, [.. rows.Select(k => plain.Ndcg[k])])}");
                Print($"| {name} | {group} ({rows.Length}) | HR@10 {Mean(hits)} | NDCG@10 {Mean(ndcg)}{diff} |");
            }

            if (options.UseContext)
            {
                // Diagnosis of the home-target cost: the same model, home targets, with the history's past context tokens
                // (anchors, and queries of item events) left out; search tokens stay.
                var home = Enumerable.Range(0, kinds.Length).Where(k => kinds[k] == "none").ToHashSet();
                var stripped = Evaluate(model, test.Train, test, home.Contains, contextOf: k => contexts[k], historyOf: WithoutPastContexts);
                var rows = home.Order().ToArray();
                var hits = rows.Select(k => result.Hits[k]).ToArray();
                Print($"| {name} | none ({rows.Length}), past context tokens left out | HR@10 {Mean(stripped.Hits)} | NDCG@10 {Mean(stripped.Ndcg)} | Δ vs with them HR@10 {Difference(stripped.Hits, hits)} |");
            }

            Print($"  {name}: {seconds:0} s train, no answer {result.NoAnswer}");
        }
    }

    private static UserHistory WithoutPastContexts(UserHistory history)
    {
        var items = history.Items.Span;
        var queries = history.QueryIds.ToArray();
        for (var r = 0; r < queries.Length; r++)
        {
            queries[r] = items[r] >= 0 ? -1 : queries[r];
        }

        return history with { ContextItems = default, QueryIds = queries };
    }

    private static (SequentialModel Model, double Seconds) TrainTimed(InteractionLog train, SequentialOptions options, string name, SequentialText? text = null)
    {
        var clock = Stopwatch.StartNew();
        var last = default(SequentialEpoch);
        var model = SequentialModel.Train(train, options, progress: new EpochPrinter(e => last = e), text: text);
        var seconds = clock.Elapsed.TotalSeconds;
        Print($"  {name}: {options.Epochs} epochs in {seconds:0.0} s wall, last loss {last.Loss:0.0000}, {model.ParameterCount:N0} parameters");
        return (model, seconds);
    }

    // Per-user full ranking (seen items removed) of the single leave-one-out target, for users the filter keeps.
    private static PerUser Evaluate(
        SequentialModel model, InteractionLog train, EvaluationSplit split, Func<int, bool> filter, bool[]? coldItems = null, Func<int, SequentialContext>? contextOf = null,
        Func<UserHistory, UserHistory>? historyOf = null)
    {
        var rows = Enumerable.Range(0, split.Users.Length).Where(filter).ToArray();
        var hits = new double[rows.Length];
        var ndcg = new double[rows.Length];
        var ranks = new double[rows.Length];
        var hitsAmongCold = coldItems is null ? null : new double[rows.Length];
        var chance = new double[rows.Length];
        var scored = 0;
        var noAnswer = 0;
        Parallel.For(
            0,
            rows.Length,
            () => new float[train.ItemCount],
            (n, _, scores) =>
            {
                var k = rows[n];
                var user = split.Users[k];
                var target = split.TargetsOf(k)[0];
                ranks[n] = double.PositiveInfinity;
                var history = UserHistory.Of(train, user);
                if (!model.Score(historyOf is null ? history : historyOf(history), contextOf?.Invoke(k) ?? SequentialContext.Home, scores))
                {
                    Interlocked.Increment(ref noAnswer);
                    return scores;
                }

                foreach (var seen in train.ItemsOf(user))
                {
                    if (seen >= 0)
                    {
                        scores[seen] = float.NegativeInfinity;
                    }
                }

                var s = scores[target];
                if (float.IsNegativeInfinity(s) || float.IsNaN(s))
                {
                    return scores;
                }

                Interlocked.Increment(ref scored);
                var above = 0;
                var aboveCold = 0;
                var coldCandidates = 0;
                for (var i = 0; i < scores.Length; i++)
                {
                    var x = scores[i];
                    var better = x > s || (x == s && i < target);
                    above += better ? 1 : 0;
                    if (coldItems is not null && coldItems[i] && !float.IsNegativeInfinity(x))
                    {
                        coldCandidates++;
                        aboveCold += better ? 1 : 0;
                    }
                }

                ranks[n] = above + 1;
                hits[n] = above < K ? 1 : 0;
                ndcg[n] = above < K ? 1 / Math.Log2(above + 2) : 0;
                if (hitsAmongCold is not null)
                {
                    hitsAmongCold[n] = aboveCold < K ? 1 : 0;
                    chance[n] = Math.Min(1.0, (double)K / Math.Max(1, coldCandidates));
                }

                return scores;
            },
            static _ => { });
        return new PerUser(hits, ndcg, ranks, hitsAmongCold, scored, noAnswer, rows.Length == 0 ? 0 : chance.Average());
    }

    private static string Mean(double[] values)
    {
        if (values.Length == 0)
        {
            return "n/a";
        }

        var interval = Bootstrap.Mean(values, Resamples, 0.05, 42);
        return interval.IsDefined ? Invariant($"{values.Average():0.0000} [{interval.Low:0.0000}, {interval.High:0.0000}]") : Invariant($"{values.Average():0.0000}");
    }

    private static string Difference(double[] a, double[] b)
    {
        var d = new double[a.Length];
        for (var i = 0; i < d.Length; i++)
        {
            d[i] = a[i] - b[i];
        }

        return Mean(d);
    }

    private static string Median(double[] ranks)
    {
        var finite = ranks.Where(double.IsFinite).Order().ToArray();
        return finite.Length == 0 ? "n/a (none scored)" : Invariant($"{finite[finite.Length / 2]:N0}");
    }

    // AUC with a user-cluster bootstrap: users are resampled with replacement, with all their events.
    private static string AucInterval(int[] rows, List<double> scores, List<bool> labels, List<int> users)
    {
        var point = Auc(rows, scores, labels);
        if (double.IsNaN(point))
        {
            return "n/a";
        }

        var byUser = rows.GroupBy(i => users[i]).Select(g => g.ToArray()).ToArray();
        var random = new Random(42);
        var values = new List<double>();
        var sample = new List<int>();
        for (var b = 0; b < 300; b++)
        {
            sample.Clear();
            for (var n = 0; n < byUser.Length; n++)
            {
                sample.AddRange(byUser[random.Next(byUser.Length)]);
            }

            var v = Auc([.. sample], scores, labels);
            if (!double.IsNaN(v))
            {
                values.Add(v);
            }
        }

        values.Sort();
        return values.Count < 10
            ? Invariant($"{point:0.000}")
            : Invariant($"{point:0.000} [{values[(int)(0.025 * values.Count)]:0.000}, {values[(int)(0.975 * (values.Count - 1))]:0.000}]");
    }

    // Mann–Whitney AUC with ties counted as half.
    private static double Auc(int[] rows, List<double> scores, List<bool> labels)
    {
        var sorted = rows.OrderBy(i => scores[i]).ToArray();
        double positives = 0;
        double negatives = 0;
        double rankSum = 0;
        var n = 0;
        while (n < sorted.Length)
        {
            var end = n;
            while (end + 1 < sorted.Length && scores[sorted[end + 1]] == scores[sorted[n]])
            {
                end++;
            }

            var averageRank = ((n + end) / 2.0) + 1;
            for (var m = n; m <= end; m++)
            {
                if (labels[sorted[m]])
                {
                    positives++;
                    rankSum += averageRank;
                }
                else
                {
                    negatives++;
                }
            }

            n = end + 1;
        }

        return positives == 0 || negatives == 0 ? double.NaN : (rankSum - (positives * (positives + 1) / 2)) / (positives * negatives);
    }

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    private static void Print(FormattableString line) => Console.WriteLine(line.ToString(CultureInfo.InvariantCulture));

    private sealed record PerUser(double[] Hits, double[] Ndcg, double[] Ranks, double[]? HitsAmongCold, int Scored, int NoAnswer, double ChanceAmongCold);

    private sealed class EpochPrinter(Action<SequentialEpoch> report) : IProgress<SequentialEpoch>
    {
        public void Report(SequentialEpoch value) => report(value);
    }

    /// <summary>Encodes each distinct text once (the models of one run share their queries and titles).</summary>
    private sealed class CachingEncoder(MiniLmTextEncoder inner) : ITextEncoder, IDisposable
    {
        private readonly System.Collections.Concurrent.ConcurrentDictionary<string, float[]> _cache = new(StringComparer.Ordinal);

        public int Dimension => inner.Dimension;

        public void Encode(IReadOnlyList<string> texts, Span<float> output, CancellationToken cancellationToken = default)
        {
            var missing = texts.Where(t => !_cache.ContainsKey(t ?? string.Empty)).Distinct().ToList();
            if (missing.Count > 0)
            {
                var fresh = new float[missing.Count * Dimension];
                inner.Encode(missing, fresh, cancellationToken);
                for (var k = 0; k < missing.Count; k++)
                {
                    _cache[missing[k] ?? string.Empty] = fresh.AsSpan(k * Dimension, Dimension).ToArray();
                }
            }

            for (var k = 0; k < texts.Count; k++)
            {
                _cache[texts[k] ?? string.Empty].CopyTo(output.Slice(k * Dimension, Dimension));
            }
        }

        public void Dispose() => inner.Dispose();
    }
}

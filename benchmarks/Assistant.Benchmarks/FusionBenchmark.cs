using System.Diagnostics;
using System.Globalization;
using Ranking.Candidates;
using Ranking.Data;
using Ranking.Demo;
using Ranking.Domain;
using Ranking.Fusion;
using Ranking.Import.Datasets;
using Ranking.Sequential;

namespace Assistant.Benchmarks;

/// <summary>
/// Serving quality of the fusion ranker (docs/benchmarks/fusion.md):
/// <c>dotnet Assistant.Benchmarks.dll fusion [demo] [rees46] [discovery] [lifelong] [--scale S] [--no-content] [--rees46-content]
/// [--rees46-slice-minutes M] [--lifelong-scale S] [--lifelong-eval-share X] [--transformer EPOCHS]</c> (no part named: all
/// four; the part <c>scenarios</c> runs only when named, and needs <c>--transformer</c>). <c>--transformer</c> trains the transformer source on the demo with the service's inputs (types, gaps, surfaces,
/// search tokens, context; MiniLM for the queries).
/// <list type="bullet">
/// <item><description><c>demo</c>: the demo marketplace (400 days): the fused P(order) ranking against RRF and each single source over the
/// same candidates of the held-out users, the margin trade-off curve and a paired bootstrap over users.</description></item>
/// <item><description><c>rees46</c>: the same on the REES46 head sample (its fusion slice is the last M minutes, default 20).</description></item>
/// <item><description><c>discovery</c>: the full pipeline (<see cref="Recommender.Home"/>) on the demo's held-out users at several discovery shares.</description></item>
/// <item><description><c>lifelong</c>: a 730-day demo whose fusion slice is December: the pipeline with and without the lifelong source on users whose
/// hobby purchase is over a year old.</description></item>
/// </list>
/// Prints Markdown. Seeds: demo 42, training 42, bootstrap 42.
/// </summary>
internal static class FusionBenchmark
{
    private const int BootstrapSamples = 2000;
    private const int BootstrapSeed = 42;
    private const long DayMs = 86_400_000L;
    private static readonly double[] CurveWeights = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0];
    private static readonly double[] DiscoveryShares = [0, 0.1, 0.2, 0.3];
    private static readonly Func<int, Func<int, bool>> Everything = _ => _ => true;

    /// <summary>The end of the 730-day demo of the lifelong run: its 28-day fusion slice is 4 December 2025 to 1 January 2026.</summary>
    private static readonly DateTimeOffset WinterEnd = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public static async Task<int> RunAsync(string[] args)
    {
        var parts = args.Where(a => !a.StartsWith("--", StringComparison.Ordinal) && !double.TryParse(a, CultureInfo.InvariantCulture, out _)).ToHashSet(StringComparer.Ordinal);
        if (parts.Count == 0)
        {
            parts = ["demo", "rees46", "discovery", "lifelong"];
        }

        var scale = Option(args, "--scale", 1.0);
        var content = !args.Contains("--no-content");
        var reesContent = args.Contains("--rees46-content");
        var reesMinutes = Option(args, "--rees46-slice-minutes", 20.0);
        var lifelongScale = Option(args, "--lifelong-scale", 3.0);
        var lifelongShare = Option(args, "--lifelong-eval-share", 0.5);
        var transformerEpochs = (int)Option(args, "--transformer", 0);
        var transformer = transformerEpochs > 0
            ? new SequentialOptions
            {
                Epochs = transformerEpochs, Width = 64, MaxLength = 50,
                UseActionTypes = true, UseTimeGaps = true, UseSurfaces = true, UseContext = true, UseSearchQueries = true,
            }
            : null;
        var total = Stopwatch.StartNew();
        Console.WriteLine(Invariant($"fusion: cores {Environment.ProcessorCount}, {DateTime.UtcNow:yyyy-MM-dd}, parts {string.Join(' ', parts.Order(StringComparer.Ordinal))}, scale {scale}, content {content}, transformer {(transformer is null ? "off" : $"{transformerEpochs} epochs")}"));
        Console.WriteLine();

        using var encoder = content || reesContent || transformer is not null ? new MiniLmTextEncoder() : null;
        if (parts.Contains("demo") || parts.Contains("discovery") || parts.Contains("scenarios"))
        {
            var clock = Stopwatch.StartNew();
            var options = new DemoMarketplaceOptions { Seed = 42, Scale = scale };
            var log = await InteractionLog.BuildAsync(new DemoMarketplace(options), EventTypeRegistry.Default);
            var training = new ServingTrainingOptions { MaxFusionUsers = 1_000_000, EvaluationShare = 0.3, Transformer = transformer };
            var end = log.TimestampMs.Max() + 1;
            var cut = end - (training.FusionSliceDays * DayMs);
            Console.WriteLine(Invariant($"# Demo marketplace, scale {scale}, {options.Days} days to {options.EndDate:yyyy-MM-dd}: {log.UserCount:N0} users, {log.ItemCount:N0} items, {log.Count:N0} events"));
            Console.WriteLine();
            using var prepared = Prepare(log, training, content ? encoder : null, cut, end, transformer is null ? null : encoder);
            Console.WriteLine(Invariant($"Prepared in {clock.Elapsed.TotalSeconds:0.0} s."));
            Console.WriteLine();
            if (parts.Contains("demo"))
            {
                clock.Restart();
                Compare(prepared);
                Console.WriteLine(Invariant($"Comparison in {clock.Elapsed.TotalSeconds:0.0} s."));
                Console.WriteLine();
            }

            if (parts.Contains("scenarios"))
            {
                clock.Restart();
                Scenarios(prepared);
                Console.WriteLine(Invariant($"Scenarios in {clock.Elapsed.TotalSeconds:0.0} s."));
                Console.WriteLine();
            }

            if (parts.Contains("discovery"))
            {
                clock.Restart();
                Discovery(prepared);
                Console.WriteLine(Invariant($"Discovery in {clock.Elapsed.TotalSeconds:0.0} s."));
                Console.WriteLine();
            }
        }

        if (parts.Contains("rees46"))
        {
            var clock = Stopwatch.StartNew();
            var root = DatasetLocator.Root;
            if (root is null || !Directory.Exists(Path.Combine(root, DatasetCatalog.FolderOf(DatasetCatalog.Rees46))))
            {
                Console.WriteLine($"REES46 skipped: no data folder (set {DatasetLocator.EnvironmentVariable}).");
            }
            else
            {
                var log = await InteractionLog.BuildAsync(DatasetCatalog.Open(DatasetCatalog.Rees46, root), EventTypeRegistry.Default);
                var training = new ServingTrainingOptions { MaxFusionUsers = 1_000_000, EvaluationShare = 0.3 };
                var end = log.TimestampMs.Max() + 1;
                var cut = end - (long)(reesMinutes * 60_000);
                Console.WriteLine(Invariant($"# REES46 2019-Oct head: {log.UserCount:N0} users, {log.ItemCount:N0} items, {log.Count:N0} events, {DateTimeOffset.FromUnixTimeMilliseconds(log.TimestampMs.Min()):yyyy-MM-dd HH:mm} to {DateTimeOffset.FromUnixTimeMilliseconds(end):HH:mm} UTC; fusion slice: the last {reesMinutes} minutes (from {DateTimeOffset.FromUnixTimeMilliseconds(cut):HH:mm})"));
                Console.WriteLine();
                using var prepared = Prepare(log, training, reesContent ? encoder : null, cut, end);
                Console.WriteLine(Invariant($"Prepared in {clock.Elapsed.TotalSeconds:0.0} s."));
                Console.WriteLine();
                Compare(prepared);
                Console.WriteLine(Invariant($"REES46 total {clock.Elapsed.TotalSeconds:0.0} s."));
                Console.WriteLine();
            }
        }

        if (parts.Contains("lifelong"))
        {
            var clock = Stopwatch.StartNew();
            var options = new DemoMarketplaceOptions { Seed = 42, Scale = lifelongScale, Days = 730, EndDate = WinterEnd };
            var log = await InteractionLog.BuildAsync(new DemoMarketplace(options), EventTypeRegistry.Default);
            var training = new ServingTrainingOptions { MaxFusionUsers = 1_000_000, EvaluationShare = lifelongShare };
            var end = log.TimestampMs.Max() + 1;
            var cut = end - (training.FusionSliceDays * DayMs);
            Console.WriteLine(Invariant($"# Lifelong interests: demo scale {lifelongScale}, {options.Days} days to {options.EndDate:yyyy-MM-dd}: {log.UserCount:N0} users, {log.ItemCount:N0} items, {log.Count:N0} events; fusion slice {DateTimeOffset.FromUnixTimeMilliseconds(cut):yyyy-MM-dd HH:mm} to {DateTimeOffset.FromUnixTimeMilliseconds(end):yyyy-MM-dd HH:mm} UTC; evaluation share {lifelongShare}; no content model"));
            Console.WriteLine();
            using var prepared = Prepare(log, training, null, cut, end);
            Console.WriteLine(Invariant($"Prepared in {clock.Elapsed.TotalSeconds:0.0} s."));
            Console.WriteLine();
            clock.Restart();
            Lifelong(prepared);
            Console.WriteLine(Invariant($"Lifelong in {clock.Elapsed.TotalSeconds:0.0} s."));
            Console.WriteLine();
        }

        Console.WriteLine(Invariant($"Total {total.Elapsed.TotalSeconds:0.0} s."));
        return 0;
    }

    /// <summary>The early generators, the fusion data and model, built the way <see cref="ServingTrainer.Train"/> builds them
    /// (generators on the events before the cut, the fusion model on the orders in [cut, end)).</summary>
    private static Prepared Prepare(InteractionLog log, ServingTrainingOptions options, ITextEncoder? encoder, long cutMs, long endMs, ITextEncoder? queryEncoder = null)
    {
        var keep = new bool[log.Count];
        for (var r = 0; r < keep.Length; r++)
        {
            keep[r] = log.TimestampMs[r] < cutMs;
        }

        var prefix = log.Subset(keep);
        var steps = new List<ServingTrainingStep>();
        ContentModel? content = null;
        if (encoder is not null)
        {
            var c = Stopwatch.StartNew();
            content = ContentModel.Build(log.Items, encoder);
            steps.Add(new ServingTrainingStep("content", c.Elapsed.TotalSeconds));
        }

        var early = ServingTrainer.TrainGenerators(prefix, options, content, steps, "early ", CancellationToken.None, queryEncoder);
        var clock = Stopwatch.StartNew();
        var data = FusionDataset.Build(early, prefix, log, cutMs, endMs, options);
        steps.Add(new ServingTrainingStep("fusion data", clock.Elapsed.TotalSeconds));
        clock.Restart();
        var fusion = FusionModel.Train(data.FitMatrix(), data.FitLabels(), options.Fusion);
        steps.Add(new ServingTrainingStep("fusion model", clock.Elapsed.TotalSeconds));
        Console.WriteLine(Invariant($"Prefix {prefix.Count:N0} events before the cut; fusion data: {data.FitUsers.Count:N0} users / {data.FitRows.Count:N0} rows to fit ({data.FitLabels().Count(l => l > 0):N0} positive), {data.EvalUsers.Count:N0} users held out ({data.EvalUsers.Count(u => u.Targets > 0):N0} with an order in the slice); {fusion.TreeCount} trees."));
        Console.WriteLine("Steps: " + string.Join(", ", steps.Select(s => Invariant($"{s.Name} {s.Seconds:0.0} s"))));
        Console.WriteLine();
        var models = new ServingModels
        {
            Catalog = early.Catalog,
            Popularity = early.Popularity,
            Analogs = early.Analogs,
            Complements = early.Complements,
            Als = early.Als,
            Content = early.Content,
            Transformer = early.Transformer,
            Lifelong = early.Lifelong,
            Discovery = early.Discovery,
            Fusion = fusion,
        };
        return new Prepared(log, prefix, models, data, fusion, options, cutMs, endMs);
    }

    /// <summary>Part 1 and 2: the fused ranking against RRF and each single source, the margin curve, the bootstrap.</summary>
    private static void Compare(Prepared p)
    {
        var evaluation = FusionEvaluation.Run(p.Data, p.Fusion, p.Models, CurveWeights);
        var trained = TrainedSources(p.Models);
        Console.WriteLine(Invariant($"Held-out users with an order in the slice: {evaluation.Users:N0}; candidate rows: {evaluation.Rows:N0}; AUC of P(order): {evaluation.Auc:0.000}; candidate recall (ceiling of every ranker): {evaluation.CandidateRecall:0.000}"));
        Console.WriteLine();
        Console.WriteLine("## Fused vs single sources (same candidates)");
        Console.WriteLine();
        Console.WriteLine(Header);
        Console.WriteLine(Rule);
        // FusionEvaluation drops a source that proposed nothing to these users; an untrained one is dropped here too.
        trained.IntersectWith(evaluation.Rankers.Select(r => r.Ranker));
        foreach (var r in evaluation.Rankers.Where(r => r.Ranker is "fused" or "rrf" || trained.Contains(r.Ranker)))
        {
            Console.WriteLine(Row(r));
        }

        var untrained = Enum.GetValues<CandidateSource>().Select(Name).Where(n => !trained.Contains(n)).ToList();
        Console.WriteLine();
        Console.WriteLine($"Left out (not trained or proposed nothing to these users: every score 0, ties ranked by item index): {(untrained.Count == 0 ? "none" : string.Join(", ", untrained))}.");
        Console.WriteLine();
        Console.WriteLine("## Margin trade-off: P(order) x value, value = (1 - w) price + w margin");
        Console.WriteLine();
        Console.WriteLine(Header);
        Console.WriteLine(Rule);
        foreach (var r in evaluation.Rankers.Where(r => r.Ranker.StartsWith("fused", StringComparison.Ordinal)))
        {
            Console.WriteLine(Row(r));
        }

        Console.WriteLine();

        // Per-user NDCG@10 with the evaluation's own ranking rule, for a paired bootstrap over users.
        var users = p.Data.EvalUsers.Where(u => u.Targets > 0).ToList();
        if (users.Count == 0)
        {
            Console.WriteLine("No held-out user ordered in the slice: no bootstrap.");
            return;
        }

        var fused = users.Select(u => Ndcg(u, u.Rows.Select(r => p.Fusion.Probability(r)).ToArray())).ToArray();
        var rrf = users.Select(u => Ndcg(u, u.Rows.Select(Rrf).ToArray())).ToArray();
        var singles = trained.Select(name =>
        {
            var column = (2 * (int)Enum.Parse<CandidateSource>(name, ignoreCase: true)) + 1;
            return (Name: name, Ndcg: users.Select(u => Ndcg(u, u.Rows.Select(r => (double)r[column]).ToArray())).ToArray());
        }).ToList();
        var best = singles.MaxBy(s => s.Ndcg.Average());
        Console.WriteLine(Invariant($"## Paired bootstrap over the {users.Count:N0} held-out users ({BootstrapSamples} resamples, seed {BootstrapSeed}), NDCG@10"));
        Console.WriteLine();
        Console.WriteLine("| ranking | mean | 95% interval |");
        Console.WriteLine("|---|---|---|");
        Console.WriteLine(Interval("fused", fused));
        Console.WriteLine(Interval("rrf", rrf));
        Console.WriteLine(Interval($"best single source ({best.Name})", best.Ndcg));
        Console.WriteLine(Interval($"fused - {best.Name}", Difference(fused, best.Ndcg)));
        Console.WriteLine(Interval("fused - rrf", Difference(fused, rrf)));
        Console.WriteLine();
    }

    /// <summary>Part 3: <see cref="Recommender.Home"/> on the held-out users at several discovery shares.</summary>
    private static void Discovery(Prepared p)
    {
        var targets = Targets(p);
        var users = p.Data.EvalUsers.Where(u => u.Targets > 0).Select(u => u.User).ToList();
        Console.WriteLine(Invariant($"## Discovery: the full pipeline (Recommender.Home, count 10, now = the cut) on {users.Count:N0} held-out users with an order in the slice"));
        Console.WriteLine();
        Console.WriteLine("New = the item's leaf category or its brand has no event in her history before the cut. \"Discovery-sourced\" = the discovery source proposed the item (it may also come from others).");
        Console.WriteLine();
        foreach (var (label, exponent) in new[] { ("as served: P(order) x value, margin weight 0.3", 1.0), ("P(order) alone (ValueExponent 0)", 0.0) })
        {
            var recommender = new Recommender(p.Models, p.Options.Pipeline with { ValueExponent = exponent, ParallelSources = false });
            Console.WriteLine($"### Objective {label}");
            Console.WriteLine();
            Console.WriteLine("| discovery share | NDCG@10 | HR@10 | ordered share of all slots | new cat/brand share | of which ordered | discovery-sourced share | of which ordered | margin / impression | GMV / impression | items per answer |");
            Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|");
            double[]? baseline = null;
            var lines = new List<string>();
            foreach (var share in DiscoveryShares)
            {
                var m = HomeMetrics(p, recommender, users, targets, share, Everything);
                baseline ??= m.Ndcg;
                Console.WriteLine(Invariant(
                    $"| {share:0.0} | {m.Ndcg.Average():0.0000} | {m.Hit.Average():0.0000} | {Ratio(m.Ordered, m.Shown):0.000} | {Ratio(m.New, m.Shown):0.000} | {Ratio(m.NewOrdered, m.New):0.000} | {Ratio(m.Discovery, m.Shown):0.000} | {Ratio(m.DiscoveryOrdered, m.Discovery):0.000} | {m.Margin / (10.0 * users.Count):0.000} | {m.Gmv / (10.0 * users.Count):0.00} | {m.Shown / (double)users.Count:0.00} |"));
                if (share > 0)
                {
                    lines.Add(Interval(Invariant($"NDCG@10 share {share:0.0} - share 0"), Difference(m.Ndcg, baseline)));
                }
            }

            Console.WriteLine();
            Console.WriteLine(Invariant($"Paired bootstrap ({BootstrapSamples} resamples over users):"));
            Console.WriteLine();
            Console.WriteLine("| difference | mean | 95% interval |");
            Console.WriteLine("|---|---|---|");
            lines.ForEach(Console.WriteLine);
            Console.WriteLine();
        }
    }

    /// <summary>Part 4: the pipeline with and without the lifelong source on users whose hobby purchase is old.</summary>
    private static void Lifelong(Prepared p)
    {
        var lifelong = p.Models.Lifelong ?? throw new InvalidOperationException("The lifelong model was not trained.");
        var targets = Targets(p);
        var heldOut = p.Data.EvalUsers.Where(u => u.Targets > 0).Select(u => u.User).ToList();
        var oldHobbies = new Dictionary<int, (HashSet<int> Year, HashSet<int> HalfYear)>();
        var winter = 0;
        foreach (var u in heldOut)
        {
            var interests = lifelong.Interests(UserHistory.Of(p.Prefix, u), p.CutMs);
            var year = interests.Where(i => i.IsLifelong && i.LastOrderMs is { } last && last <= p.CutMs - (365 * DayMs)).Select(i => i.Category).ToHashSet();
            var half = interests.Where(i => i.IsLifelong && i.LastOrderMs is { } last && last <= p.CutMs - (180 * DayMs)).Select(i => i.Category).ToHashSet();
            oldHobbies[u] = (year, half);
            winter += year.Any(n => lifelong.Nodes[n] == DemoCampaignRule.PromotedNode) ? 1 : 0;
        }

        var yearUsers = heldOut.Where(u => oldHobbies[u].Year.Count > 0).ToList();
        var halfUsers = heldOut.Where(u => oldHobbies[u].HalfYear.Count > 0).ToList();
        Console.WriteLine(Invariant($"## Lifelong interests: held-out users with an order in the slice: {heldOut.Count:N0}; with a lifelong interest whose last order is >= 365 days before the cut: {yearUsers.Count:N0} ({winter:N0} of them in {DemoCampaignRule.PromotedNode}); >= 180 days: {halfUsers.Count:N0}"));
        Console.WriteLine();
        var withLifelong = new Recommender(p.Models, p.Options.Pipeline with { ParallelSources = false });
        var without = new Recommender(Without(p.Models), p.Options.Pipeline with { ParallelSources = false });
        Console.WriteLine("Hobby orders = orders in the slice in a node of an old lifelong interest. Revived alone = the top 10 of LifelongInterestModel.Revive (k 10) as the whole answer. Lifelong-sourced = answer items the lifelong source proposed.");
        Console.WriteLine();
        Console.WriteLine("| users | n | ranking | HR@10 | NDCG@10 | users with hobby orders | HR@10 on hobby orders | HR@50 on hobby orders | ordered share of all slots | lifelong-sourced share | of which ordered |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|");
        var diffs = new List<string>();
        var notes = new List<string>();
        foreach (var (group, members, year) in new[] { ("all held out (hobby: >= 365 d)", heldOut, true), ("old hobby >= 365 d", yearUsers, true), ("old hobby >= 180 d", halfUsers, false) })
        {
            if (members.Count == 0)
            {
                Console.WriteLine($"| {group} | 0 | - | - | - | - | - | - | - | - | - |");
                continue;
            }

            bool Hobby(int user, int item)
            {
                var nodes = year ? oldHobbies[user].Year : oldHobbies[user].HalfYear;
                var node = lifelong.NodeOf(item);
                return node >= 0 && nodes.Contains(node);
            }

            var hobbyUsers = members.Where(u => targets[u].Any(i => Hobby(u, i))).ToList();
            var a = HomeMetrics(p, withLifelong, members, targets, null, Everything);
            var b = HomeMetrics(p, without, members, targets, null, Everything);
            var ah = HomeMetrics(p, withLifelong, hobbyUsers, targets, null, u => i => Hobby(u, i));
            var bh = HomeMetrics(p, without, hobbyUsers, targets, null, u => i => Hobby(u, i));
            var ah50 = HomeMetrics(p, withLifelong, hobbyUsers, targets, null, u => i => Hobby(u, i), 50);
            var bh50 = HomeMetrics(p, without, hobbyUsers, targets, null, u => i => Hobby(u, i), 50);
            var revived = Revived(p, members, targets, Everything);
            var revivedHobby = Revived(p, hobbyUsers, targets, u => i => Hobby(u, i));
            Console.WriteLine(Invariant($"| {group} | {members.Count:N0} | pipeline with lifelong | {a.Hit.Average():0.0000} | {a.Ndcg.Average():0.0000} | {hobbyUsers.Count:N0} | {Mean(ah.Hit):0.0000} | {Mean(ah50.Hit):0.0000} | {Ratio(a.Ordered, a.Shown):0.000} | {Ratio(a.Lifelong, a.Shown):0.000} | {Ratio(a.LifelongOrdered, a.Lifelong):0.000} |"));
            Console.WriteLine(Invariant($"| {group} | {members.Count:N0} | pipeline without lifelong | {b.Hit.Average():0.0000} | {b.Ndcg.Average():0.0000} | {hobbyUsers.Count:N0} | {Mean(bh.Hit):0.0000} | {Mean(bh50.Hit):0.0000} | {Ratio(b.Ordered, b.Shown):0.000} | - | - |"));
            Console.WriteLine(Invariant($"| {group} | {members.Count:N0} | revived alone | {revived.Hit.Average():0.0000} | {revived.Ndcg.Average():0.0000} | {hobbyUsers.Count:N0} | {Mean(revivedHobby.Hit):0.0000} | - | {Ratio(revived.Ordered, revived.Length):0.000} | - | - |"));
            notes.Add(Invariant($"{group}: {revived.Answers:N0} of {members.Count:N0} users get a non-empty revived list; mean length {revived.Length / (double)members.Count:0.0}."));
            diffs.Add(Interval($"{group}: HR@10 with - without", Difference(a.Hit, b.Hit)));
            if (hobbyUsers.Count > 0)
            {
                diffs.Add(Interval($"{group}: HR@10 on hobby orders with - without", Difference(ah.Hit, bh.Hit)));
            }
        }

        Console.WriteLine();
        notes.ForEach(Console.WriteLine);
        Console.WriteLine();
        Console.WriteLine(Invariant($"Paired bootstrap ({BootstrapSamples} resamples over users):"));
        Console.WriteLine();
        Console.WriteLine("| difference | mean | 95% interval |");
        Console.WriteLine("|---|---|---|");
        diffs.ForEach(Console.WriteLine);
        Console.WriteLine();
    }

    private static HomeResult HomeMetrics(
        Prepared p, Recommender recommender, List<int> users, Dictionary<int, HashSet<int>> targets, double? share, Func<int, Func<int, bool>> counts, int count = 10)
    {
        var catalog = p.Models.Catalog;
        var table = catalog.Items;
        var ndcg = new double[users.Count];
        var hit = new double[users.Count];
        var perUser = new (int Shown, int Ordered, int New, int NewOrdered, int Discovery, int DiscoveryOrdered, int Lifelong, int LifelongOrdered, double Margin, double Gmv)[users.Count];
        Parallel.For(0, users.Count, i =>
        {
            var user = users[i];
            var history = UserHistory.Of(p.Prefix, user);
            var profile = new UserProfile(catalog, history, p.CutMs);
            var request = new RecommendationRequest { Count = count, NowMs = p.CutMs, DiscoveryShare = share };
            var answer = recommender.Home(history, request).Items;
            var counted = counts(user);
            var wanted = targets[user].Where(counted).ToHashSet();
            var stats = perUser[i];
            double dcg = 0;
            for (var r = 0; r < answer.Count; r++)
            {
                var item = answer[r].Item;
                var ordered = wanted.Contains(item);
                var fresh = !profile.KnowsCategory(table.CategoryIndex[item]) || (table.BrandIndex[item] >= 0 && !profile.KnowsBrand(table.BrandIndex[item]));
                var discovery = answer[r].Sources.Contains(CandidateSource.Discovery);
                var revived = answer[r].Sources.Contains(CandidateSource.Lifelong);
                stats.Shown++;
                stats.Ordered += ordered ? 1 : 0;
                stats.New += fresh ? 1 : 0;
                stats.NewOrdered += fresh && ordered ? 1 : 0;
                stats.Discovery += discovery ? 1 : 0;
                stats.DiscoveryOrdered += discovery && ordered ? 1 : 0;
                stats.Lifelong += revived ? 1 : 0;
                stats.LifelongOrdered += revived && ordered ? 1 : 0;
                if (ordered)
                {
                    dcg += 1 / Math.Log2(r + 2);
                    stats.Margin += catalog.MarginOf(item);
                    stats.Gmv += catalog.PriceOf(item);
                }
            }

            perUser[i] = stats;
            ndcg[i] = wanted.Count == 0 ? 0 : dcg / Ideal(wanted.Count);
            hit[i] = dcg > 0 ? 1 : 0;
        });

        return new HomeResult(
            ndcg, hit, perUser.Sum(s => s.Shown), perUser.Sum(s => s.Ordered), perUser.Sum(s => s.New), perUser.Sum(s => s.NewOrdered), perUser.Sum(s => s.Discovery),
            perUser.Sum(s => s.DiscoveryOrdered), perUser.Sum(s => s.Lifelong), perUser.Sum(s => s.LifelongOrdered), perUser.Sum(s => s.Margin), perUser.Sum(s => s.Gmv));
    }

    private static RevivedResult Revived(Prepared p, List<int> users, Dictionary<int, HashSet<int>> targets, Func<int, Func<int, bool>> counts)
    {
        var models = p.Models;
        IItemSimilarity complements = models.Complements is { } c ? c : models.Popularity;
        var ndcg = new double[users.Count];
        var hit = new double[users.Count];
        var answers = 0;
        var length = 0;
        var ordered = 0;
        for (var i = 0; i < users.Count; i++)
        {
            var user = users[i];
            var revived = models.Lifelong!.Revive(UserHistory.Of(p.Prefix, user), p.CutMs, complements, models.Popularity, 10);
            answers += revived.Count > 0 ? 1 : 0;
            length += revived.Count;
            var wanted = targets[user].Where(counts(user)).ToHashSet();
            double dcg = 0;
            for (var r = 0; r < revived.Count; r++)
            {
                if (wanted.Contains(revived[r].Item))
                {
                    dcg += 1 / Math.Log2(r + 2);
                    ordered++;
                }
            }

            ndcg[i] = wanted.Count == 0 ? 0 : dcg / Ideal(wanted.Count);
            hit[i] = dcg > 0 ? 1 : 0;
        }

        return new RevivedResult(ndcg, hit, answers, length, ordered);
    }

    /// <summary>The orders in [cut, end) of every user with history before the cut (the fusion data's targets).</summary>
    private static Dictionary<int, HashSet<int>> Targets(Prepared p) =>
        FusionDataset.OrdersInSlice(p.Log, p.Prefix, p.Models.Catalog.OrderCode, p.CutMs, p.EndMs);

    private static ServingModels Without(ServingModels m) => new()
    {
        Catalog = m.Catalog,
        Popularity = m.Popularity,
        Analogs = m.Analogs,
        Complements = m.Complements,
        Als = m.Als,
        Content = m.Content,
        Transformer = m.Transformer,
        Lifelong = null,
        Discovery = m.Discovery,
        Fusion = m.Fusion,
    };

    private static HashSet<string> TrainedSources(ServingModels m)
    {
        var names = new HashSet<string>(StringComparer.Ordinal) { Name(CandidateSource.Popularity) };
        void Add(object? model, CandidateSource source)
        {
            if (model is not null)
            {
                names.Add(Name(source));
            }
        }

        Add(m.Transformer, CandidateSource.Transformer);
        Add(m.Als, CandidateSource.Als);
        Add(m.Analogs, CandidateSource.Analogs);
        Add(m.Complements, CandidateSource.Complements);
        Add(m.Content, CandidateSource.Content);
        Add(m.Lifelong, CandidateSource.Lifelong);
        Add(m.Discovery, CandidateSource.Discovery);
        return names;
    }

    /// <summary>NDCG@10 of one user's candidates ranked by <paramref name="score"/>, ties by item (as FusionEvaluation ranks).</summary>
    private static double Ndcg(FusionUserRows u, double[] score)
    {
        var order = Enumerable.Range(0, score.Length).OrderByDescending(j => score[j]).ThenBy(j => u.Items[j]).Take(10).ToArray();
        double dcg = 0;
        for (var r = 0; r < order.Length; r++)
        {
            dcg += u.Labels[order[r]] ? 1 / Math.Log2(r + 2) : 0;
        }

        return dcg / Ideal(u.Targets);
    }

    private static double Ideal(int targets)
    {
        double ideal = 0;
        for (var r = 0; r < Math.Min(10, targets); r++)
        {
            ideal += 1 / Math.Log2(r + 2);
        }

        return ideal;
    }

    private static double Rrf(float[] row)
    {
        double sum = 0;
        for (var s = 0; s < CandidatePool.SourceCount; s++)
        {
            var rr = row[(2 * s) + 1];
            if (rr > 0)
            {
                sum += 1 / (60 + ((1 / rr) - 1));
            }
        }

        return sum;
    }

    private static double[] Difference(double[] a, double[] b) => [.. a.Select((x, i) => x - b[i])];

    /// <summary>The mean and a 95% percentile bootstrap interval over the users (paired: the same resample indices every call).</summary>
    private static string Interval(string name, double[] values)
    {
        var rng = new Random(BootstrapSeed);
        var means = new double[BootstrapSamples];
        for (var b = 0; b < BootstrapSamples; b++)
        {
            double sum = 0;
            for (var i = 0; i < values.Length; i++)
            {
                sum += values[rng.Next(values.Length)];
            }

            means[b] = sum / values.Length;
        }

        Array.Sort(means);
        var lo = means[(int)(0.025 * (BootstrapSamples - 1))];
        var hi = means[(int)Math.Ceiling(0.975 * (BootstrapSamples - 1))];
        return Invariant($"| {name} | {Mean(values):0.0000} | [{lo:0.0000}, {hi:0.0000}] |");
    }

    private static double Mean(double[] values) => values.Length == 0 ? double.NaN : values.Average();

    private static double Ratio(double a, double b) => b == 0 ? 0 : a / b;

    private const string Header = "| ranker | NDCG@10 | HR@10 | margin / impression | GMV / impression | new cat/brand share | of which ordered |";
    private const string Rule = "|---|---|---|---|---|---|---|";

    private static string Row(RankerScore r) =>
        Invariant($"| {r.Ranker} | {r.Ndcg10:0.0000} | {r.HitRate10:0.0000} | {r.MarginPerImpression:0.000} | {r.GmvPerImpression:0.00} | {r.NewShare:0.000} | {r.NewOrderedShare:0.000} |");

    private static string Name(CandidateSource s) => s.ToString().ToLowerInvariant();

    // The served analogs, complements and search answers for the events of the slice that happened in those scenarios
    // (a view in an analogs or complements carousel with its anchor; a view from search with its query), each asked with
    // the user's history up to that event, with and without the transformer (the same models otherwise): is the viewed
    // item in the top 10?
    private static void Scenarios(Prepared prepared)
    {
        var models = prepared.Models;
        if (models.Transformer is null)
        {
            Console.WriteLine("Scenarios skipped: the transformer is not trained (pass --transformer EPOCHS).");
            return;
        }

        var without = new ServingModels
        {
            Catalog = models.Catalog, Popularity = models.Popularity, Analogs = models.Analogs, Complements = models.Complements, Als = models.Als,
            Content = models.Content, Lifelong = models.Lifelong, Discovery = models.Discovery, Fusion = models.Fusion,
        };
        var options = new RecommenderOptions { ParallelSources = false };
        var withTransformer = new Recommender(models, options);
        var withoutTransformer = new Recommender(without, options);
        var log = prepared.Log;
        var keywords = Ranking.Search.Bm25Index.Build(log.Items);
        var view = log.EventTypes.TryGetCode(EventTypeRegistry.View, out var code) ? code : byte.MaxValue;
        var analogs = log.Surfaces.ToList().IndexOf("analogs") + 1;
        var complements = log.Surfaces.ToList().IndexOf("complements") + 1;
        var search = log.Surfaces.ToList().IndexOf("search") + 1;
        const int PerKind = 1500;
        var results = new Dictionary<string, (List<double> With, List<double> Without)>(StringComparer.Ordinal)
        {
            ["analogs"] = ([], []), ["complements"] = ([], []), ["search"] = ([], []),
        };
        var changed = new Dictionary<string, int>(StringComparer.Ordinal) { ["analogs"] = 0, ["complements"] = 0, ["search"] = 0 };
        for (var u = 0; u < log.UserCount; u++)
        {
            var (start, length) = log.RowsOf(u).GetOffsetAndLength(log.Count);
            var full = UserHistory.Of(log, u);
            for (var r = start; r < start + length; r++)
            {
                var item = log.Item[r];
                if (item < 0 || log.TimestampMs[r] < prepared.CutMs || log.Type[r] != view)
                {
                    continue;
                }

                var surface = log.Surface[r];
                var kind = surface == analogs && log.ContextItem[r] >= 0 ? "analogs"
                    : surface == complements && log.ContextItem[r] >= 0 ? "complements"
                    : surface == search && log.Query[r] >= 0 ? "search"
                    : null;
                if (kind is null || results[kind].With.Count >= PerKind)
                {
                    continue;
                }

                var n = r - start;
                var history = new UserHistory(u, full.Items[..n], full.Weights[..n], full.TimestampsMs[..n], full.Types[..n])
                {
                    Surfaces = full.Surfaces[..n], QueryIds = full.QueryIds[..n], QueryTexts = full.QueryTexts, ContextItems = full.ContextItems[..n],
                };
                var request = new RecommendationRequest { Count = 10, NowMs = log.TimestampMs[r] };
                RecommendationResult Ask(Recommender recommender) => kind switch
                {
                    "analogs" => recommender.Analogs(log.ContextItem[r], history, request),
                    "complements" => recommender.Complements(log.ContextItem[r], history, request),
                    _ => recommender.Rerank(history, keywords.Search(log.Queries[log.Query[r]], 100), log.Queries[log.Query[r]], request),
                };

                var a = Ask(withTransformer).Items.Select(i => i.Item).ToList();
                var b = Ask(withoutTransformer).Items.Select(i => i.Item).ToList();
                results[kind].With.Add(a.Contains(item) ? 1 : 0);
                results[kind].Without.Add(b.Contains(item) ? 1 : 0);
                changed[kind] += a.ToHashSet().SetEquals(b) ? 0 : 1;
            }
        }

        Console.WriteLine("## The transformer in its scenarios: served analogs, complements and search, HR@10 of the viewed item");
        Console.WriteLine();
        Console.WriteLine("| surface | events | top 10 changed | with the transformer | without | difference (paired, 95%) |");
        Console.WriteLine("|---|---|---|---|---|---|");
        foreach (var (kind, (with, withoutList)) in results)
        {
            if (with.Count == 0)
            {
                continue;
            }

            var difference = with.Zip(withoutList, (a, b) => a - b).ToArray();
            var interval = Ranking.Experiments.Statistics.Bootstrap.Mean(difference, 2000, 0.05, 42);
            Console.WriteLine(Invariant($"| {kind} | {with.Count:N0} | {changed[kind]:N0} | {with.Average():0.0000} | {withoutList.Average():0.0000} | {difference.Average():+0.0000;-0.0000} [{interval.Low:+0.0000;-0.0000}, {interval.High:+0.0000;-0.0000}] |"));
        }

        Console.WriteLine();
    }

    private static double Option(string[] args, string name, double fallback)
    {
        var at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? double.Parse(args[at + 1], CultureInfo.InvariantCulture) : fallback;
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private sealed record Prepared(
        InteractionLog Log, InteractionLog Prefix, ServingModels Models, FusionDataset Data, FusionModel Fusion, ServingTrainingOptions Options, long CutMs,
        long EndMs) : IDisposable
    {
        public void Dispose() => Models.Dispose();
    }

    private sealed record HomeResult(
        double[] Ndcg, double[] Hit, int Shown, int Ordered, int New, int NewOrdered, int Discovery, int DiscoveryOrdered, int Lifelong, int LifelongOrdered, double Margin,
        double Gmv);

    private sealed record RevivedResult(double[] Ndcg, double[] Hit, int Answers, int Length, int Ordered);
}

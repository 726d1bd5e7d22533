using System.Diagnostics;
using System.Globalization;
using Ranking.Crm;
using Ranking.Data;
using Ranking.Demo;
using Ranking.Domain;

namespace Assistant.Benchmarks;

/// <summary>
/// Uplift learners against the demo marketplace's planted campaign effect (docs/benchmarks/demo-uplift.md):
/// <c>dotnet Assistant.Benchmarks.dll demo-uplift [scale]</c>. Prints Markdown: per outcome and tree set-up, each
/// learner's correlation with the true individual effect, its Qini AUC and uplift@30% on the observed outcome, and the
/// true incremental value of a campaign sent to the top 30% it picks, beside random, propensity and oracle targeting.
/// </summary>
internal static class DemoUpliftRun
{
    private const int SplitSeed = 42;
    private const int RandomSeed = 42;
    private const double K = 0.3;
    private const double MsPerDay = 86_400_000.0;

    private static readonly string[] _extraColumns =
    [
        "winter_share", "winter_events_90d", "winter_orders", "active_30d_before_send_day", "relative_price_viewed",
    ];

    public static async Task<int> RunAsync(string[] args)
    {
        var scale = args.Length > 0 ? double.Parse(args[0], CultureInfo.InvariantCulture) : 10.0;
        var total = Stopwatch.StartNew();
        var demo = new DemoMarketplace(new DemoMarketplaceOptions { Scale = scale });

        var clock = Stopwatch.StartNew();
        var sends = new List<CrmSend>();
        var outcomes = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (var chunk in demo.ReadChunks())
        {
            foreach (var row in chunk.Sends)
            {
                sends.Add(row.Value);
            }

            foreach (var row in chunk.Outcomes)
            {
                if (!outcomes.TryGetValue(row.Value.SendId, out var types))
                {
                    types = new HashSet<string>(StringComparer.Ordinal);
                    outcomes[row.Value.SendId] = types;
                }

                types.Add(row.Value.Type);
            }
        }

        var log = await InteractionLog.BuildAsync(demo, EventTypeRegistry.Default).ConfigureAwait(false);
        var generateSeconds = clock.Elapsed.TotalSeconds;

        clock.Restart();
        var profiles = new Dictionary<string, DemoUserProfile>(StringComparer.Ordinal);
        foreach (var profile in demo.Profiles)
        {
            profiles[profile.UserId] = profile;
        }

        var propensity = new PropensityFeatures(log, PropensityTarget.TopCategory("Sports"));
        var isWinter = WinterItems(log);
        var leafMeanPrice = LeafMeanPrices(log);
        var propensityColumns = PropensityFeatures.ColumnNames.Count;
        var columnNames = PropensityFeatures.ColumnNames.Concat(_extraColumns).ToArray();
        var n = sends.Count;
        var values = new float[n * columnNames.Length];
        var propensityValues = new float[n * propensityColumns];
        var treated = new bool[n];
        var visit = new double[n];
        var order = new double[n];
        var click = new double[n];
        var truth = new TrueEffect[n];
        var winterFans = 0;
        var fatigued = 0;
        for (var i = 0; i < n; i++)
        {
            var send = sends[i];
            treated[i] = send.IsTreatment;
            if (outcomes.TryGetValue(send.SendId, out var types))
            {
                visit[i] = types.Contains(CrmOutcomeTypes.Visit) ? 1 : 0;
                order[i] = types.Contains(CrmOutcomeTypes.Order) ? 1 : 0;
                click[i] = types.Contains(CrmOutcomeTypes.Click) ? 1 : 0;
            }

            var row = values.AsSpan(i * columnNames.Length, columnNames.Length);
            var known = log.TryGetUserIndex(send.UserId, out var user);
            if (known)
            {
                propensity.Compute(user, send.SentAt, row[..propensityColumns]);
            }
            else
            {
                PropensityFeatures.ComputeEmpty(send.SentAt, row[..propensityColumns]);
            }

            var recentlyActive = known && Extras(log, user, send.SentAt, isWinter, leafMeanPrice, row[propensityColumns..]);
            row[..propensityColumns].CopyTo(propensityValues.AsSpan(i * propensityColumns, propensityColumns));
            var profile = profiles[send.UserId];
            truth[i] = Truth(demo, profile, send.SentAt, recentlyActive);
            winterFans += profile.HasInterestIn(DemoCampaignRule.PromotedNode) ? 1 : 0;
            fatigued += DemoCampaignRule.IsFatigued(profile) ? 1 : 0;
        }

        var features = new FeatureMatrix(columnNames, values);
        var propensityMatrix = new FeatureMatrix(PropensityFeatures.ColumnNames, propensityValues);
        var featureSeconds = clock.Elapsed.TotalSeconds;

        Console.WriteLine(Invariant($"Demo marketplace, scale {scale}: {demo.Users.Count:N0} users, {log.Count:N0} events, ") + Invariant(
            $"{n:N0} sends ({Count(treated):N0} treated); winter fans {winterFans:N0}, fatigued {fatigued:N0}. ") + Invariant(
            $"Generation and log {generateSeconds:0.0} s, features {featureSeconds:0.0} s; cores {Environment.ProcessorCount}; split seed {SplitSeed}."));
        Console.WriteLine();
        Calibration(truth, treated, visit, click);

        var configs = new (string Name, BoostedTreeOptions Trees)[]
        {
            ("depth 2", BoostedTreeOptions.Shallow),
            ("31 leaves", BoostedTreeOptions.Default),
        };
        foreach (var (outcomeName, outcome) in new[] { ("visit", visit), ("order", order) })
        {
            RunOutcome(outcomeName, outcome, features, propensityMatrix, treated, truth, configs);
        }

        Console.WriteLine(Invariant($"Total {total.Elapsed.TotalSeconds:0.0} s."));
        return 0;
    }

    /// <summary>
    /// The planted effect of one send. <c>Visit</c>: the change in P(visit in the window), the quantity the learners
    /// estimate. <c>Sessions</c>: expected extra sessions (the induced-visit probability, or minus the expected dropped
    /// own sessions of a fatigued user).
    /// </summary>
    private readonly record struct TrueEffect(double Visit, double Sessions, double OwnVisitProbability);

    private static void RunOutcome(
        string outcomeName,
        double[] outcome,
        FeatureMatrix features,
        FeatureMatrix propensityMatrix,
        bool[] treated,
        TrueEffect[] truth,
        (string Name, BoostedTreeOptions Trees)[] configs)
    {
        var split = UpliftSplit.Stratified(treated, outcome, 0.5, SplitSeed);
        var trainX = features.SelectRows(split.Train);
        var testX = features.SelectRows(split.Test);
        var trainW = Take(treated, split.Train);
        var testW = Take(treated, split.Test);
        var trainY = Take(outcome, split.Train);
        var testY = Take(outcome, split.Test);
        var tauVisit = Take(truth.Select(t => t.Visit).ToArray(), split.Test);
        var tauSessions = Take(truth.Select(t => t.Sessions).ToArray(), split.Test);
        var budget = (int)Math.Round(K * testY.Length);

        Console.WriteLine($"### Outcome `{outcomeName}`");
        Console.WriteLine();
        Console.WriteLine(Invariant($"Train {split.Train.Length:N0}, test {split.Test.Length:N0}; budget top 30 % = {budget:N0} test users. ") + Invariant(
            $"Test {outcomeName} rate treated {Mean(testY, testW, true):P2}, control {Mean(testY, testW, false):P2}. ") + Invariant(
            $"True effect on P(visit) summed over the test half {tauVisit.Sum():0.0}; on sessions {tauSessions.Sum():0.0}."));
        Console.WriteLine();
        Console.WriteLine("| trees | targeting | Pearson (visit effect) | Spearman (visit effect) | Spearman (session effect) | Qini AUC | uplift@30% | value: Δvisits (% of oracle) | value: Δsessions (% of oracle) | fit s |");
        Console.WriteLine("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");

        var oracleVisit = TopValue(tauVisit, tauVisit, budget);
        var oracleSessions = TopValue(tauSessions, tauSessions, budget);
        void Row(string trees, string name, double[] scores, double fitSeconds)
        {
            var visitValue = TopValue(scores, tauVisit, budget);
            var sessionValue = TopValue(scores, tauSessions, budget);
            Console.WriteLine(Invariant(
                $"| {trees} | {name} | {Pearson(scores, tauVisit):0.000} | {Spearman(scores, tauVisit):0.000} | {Spearman(scores, tauSessions):0.000} | ") + Invariant(
                $"{UpliftMetrics.QiniAucScore(testY, scores, testW):0.000} | {UpliftMetrics.UpliftAtK(testY, scores, testW, K):+0.000;-0.000} | ") + Invariant(
                $"{visitValue:0.0} ({visitValue / oracleVisit:P0}) | {sessionValue:0.0} ({sessionValue / oracleSessions:P0}) | {fitSeconds:0.00} |"));
        }

        Console.WriteLine(Invariant(
            $"| — | random (expected: 30 % of the total) | 0 | 0 | 0 | — | — | {K * tauVisit.Sum():0.0} ({K * tauVisit.Sum() / oracleVisit:P0}) | ") + Invariant(
            $"{K * tauSessions.Sum():0.0} ({K * tauSessions.Sum() / oracleSessions:P0}) | — |"));

        var random = new Random(RandomSeed);
        var noise = new double[testY.Length];
        for (var i = 0; i < noise.Length; i++)
        {
            noise[i] = random.NextDouble();
        }

        Row("—", "random scores (one draw, seed 42)", noise, 0);

        // Propensity targeting: P(outcome | no e-mail), fitted on the control arm of the training half.
        var clock = Stopwatch.StartNew();
        var control = split.Train.Where(r => !treated[r]).ToArray();
        var controlCut = new PropensityCut(
            DateTimeOffset.UnixEpoch, control, propensityMatrix.SelectRows(control), control.Select(r => outcome[r] != 0).ToArray());
        var propensityModel = PropensityModel.Train(PropensityTarget.TopCategory("Sports"), [controlCut]);
        var propensityScores = propensityModel.Predict(propensityMatrix.SelectRows(split.Test));
        Row("default propensity", $"propensity: P({outcomeName} given no e-mail)", propensityScores, clock.Elapsed.TotalSeconds);

        foreach (var (configName, trees) in configs)
        {
            IUpliftLearner[] learners = [new SLearner(trees), new TLearner(trees), new XLearner(trees), new ClassTransformationLearner(trees)];
            foreach (var learner in learners)
            {
                clock.Restart();
                var model = learner.Fit(trainX, trainW, trainY);
                var fitSeconds = clock.Elapsed.TotalSeconds;
                Row(configName, learner.Name, model.PredictUplift(testX), fitSeconds);
            }
        }

        Console.WriteLine(Invariant(
            $"| — | oracle (top 30 % by true effect) | 1 | 1 | — | {UpliftMetrics.QiniAucScore(testY, tauVisit, testW):0.000} | ") + Invariant(
            $"{UpliftMetrics.UpliftAtK(testY, tauVisit, testW, K):+0.000;-0.000} | {oracleVisit:0.0} (100%) | {TopValue(tauVisit, tauSessions, budget):0.0} | — |"));
        Console.WriteLine();
    }

    /// <summary>Checks the own-visit approximation: predicted vs observed control visit rate, and the effect by segment.</summary>
    private static void Calibration(TrueEffect[] truth, bool[] treated, double[] visit, double[] click)
    {
        Console.WriteLine("Check of the true-effect approximation (all sends): observed visit rates per arm vs the model's.");
        Console.WriteLine();
        Console.WriteLine("| segment | sends | control visit rate | predicted own-visit P (control) | treated visit rate | observed effect | mean true visit effect | treated click rate | predicted induced P (treated) |");
        Console.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        var segments = new (string Name, Func<TrueEffect, bool> In)[]
        {
            ("true effect > 0.1", t => t.Visit > 0.1),
            ("0 < true effect <= 0.1", t => t.Visit > 0 && t.Visit <= 0.1),
            ("true effect < 0 (fatigued)", t => t.Visit < 0),
            ("true effect = 0", t => t.Visit == 0),
            ("all", _ => true),
        };
        foreach (var (name, inSegment) in segments)
        {
            double visitsT = 0, visitsC = 0, ownC = 0, effect = 0, clicksT = 0, inducedT = 0;
            int nT = 0, nC = 0;
            for (var i = 0; i < truth.Length; i++)
            {
                if (!inSegment(truth[i]))
                {
                    continue;
                }

                effect += truth[i].Visit;
                if (treated[i])
                {
                    visitsT += visit[i];
                    clicksT += click[i];
                    inducedT += Math.Max(0, truth[i].Sessions);
                    nT++;
                }
                else
                {
                    visitsC += visit[i];
                    ownC += truth[i].OwnVisitProbability;
                    nC++;
                }
            }

            var count = nT + nC;
            if (count == 0)
            {
                continue;
            }

            Console.WriteLine(Invariant(
                $"| {name} | {count:N0} | {visitsC / nC:P1} | {ownC / nC:P1} | {visitsT / nT:P1} | {(visitsT / nT) - (visitsC / nC):+0.000;-0.000} | {effect / count:+0.000;-0.000} | {clicksT / nT:P1} | {inducedT / nT:P1} |"));
        }

        Console.WriteLine();
    }

    /// <summary>
    /// The planted effect from the profile and <see cref="DemoCampaignRule"/>. Own sessions follow the simulator's
    /// regular-session rate for the send's month (at most one a day, with probability
    /// min(0.9, activity × ((1 − exploration) × Σ hobby weight × season + exploration))) over the 14-day window, cut
    /// at churn; return visits scheduled by earlier sessions are ignored.
    /// </summary>
    private static TrueEffect Truth(DemoMarketplace demo, DemoUserProfile profile, DateTimeOffset sentAt, bool recentlyActive)
    {
        var month = sentAt.ToUniversalTime().Month;
        var mix = profile.Exploration;
        foreach (var hobby in profile.Hobbies)
        {
            mix += (1 - profile.Exploration) * hobby.Weight * NodeSeason(demo.Tree, hobby.Node, month);
        }

        var daily = Math.Min(0.9, profile.ActivityLevel * mix);
        var days = (double)DemoCampaignRule.OutcomeWindowDays;
        if (profile.ChurnAt is { } churn)
        {
            days = Math.Clamp((churn - sentAt).TotalDays, 0, days);
        }

        var noOwnVisit = Math.Pow(1 - daily, days);
        if (DemoCampaignRule.IsFatigued(profile))
        {
            // Each own session is dropped with probability d: P(no visit) rises from (1-p)^n to (1-p(1-d))^n.
            var keep = 1 - DemoCampaignRule.FatigueDropProbability;
            var noVisitTreated = Math.Pow(1 - (daily * keep), days);
            return new TrueEffect(-(noVisitTreated - noOwnVisit), -DemoCampaignRule.FatigueDropProbability * daily * days, 1 - noOwnVisit);
        }

        var induced = DemoCampaignRule.InducedVisitProbability(profile, recentlyActive);
        return new TrueEffect(induced * noOwnVisit, induced, 1 - noOwnVisit);
    }

    /// <summary>The mean season multiplier of the node's leaves in <paramref name="month"/> (1-12), as the simulator uses.</summary>
    private static double NodeSeason(CategoryTree tree, string node, int month)
    {
        double sum = 0;
        var count = 0;
        foreach (var leaf in tree.Leaves)
        {
            if (CategoryTree.IsUnder(leaf.Path, node))
            {
                sum += Seasonality.Multiplier(leaf.Season, month);
                count++;
            }
        }

        return count == 0 ? 1 : sum / count;
    }

    /// <summary>
    /// Cheap extra features from the user's events before the send: winter-sports share of event weight, winter weight
    /// in 90 days, winter orders, a session in the 30 days before the send day, and the mean price of viewed items
    /// relative to their leaf's mean price (a proxy for price sensitivity). Returns the recency flag.
    /// </summary>
    private static bool Extras(InteractionLog log, int user, DateTimeOffset sentAt, bool[] isWinter, double[] leafMeanPrice, Span<float> f)
    {
        var cutMs = sentAt.ToUnixTimeMilliseconds();
        var sendDayStart = (long)(Math.Floor(cutMs / MsPerDay) * MsPerDay);
        var recentFrom = sendDayStart - (long)(DemoCampaignRule.RecentDays * MsPerDay);
        var from90 = cutMs - (long)(90 * MsPerDay);
        var orderCode = log.EventTypes.TryGetCode(EventTypeRegistry.Order, out var code) ? code : -1;
        double weight = 0, winterWeight = 0, winter90 = 0, relativePrice = 0;
        int winterOrders = 0, priced = 0;
        var recent = false;
        var range = log.RowsOf(user);
        for (var r = range.Start.Value; r < range.End.Value; r++)
        {
            var ts = log.TimestampMs[r];
            if (ts >= cutMs)
            {
                break;
            }

            if (ts >= recentFrom && ts < sendDayStart)
            {
                recent = true;
            }

            var item = log.Item[r];
            var w = log.Weight[r];
            weight += w;
            if ((uint)item >= (uint)isWinter.Length)
            {
                continue;
            }

            if (isWinter[item])
            {
                winterWeight += w;
                winter90 += ts >= from90 ? w : 0;
                winterOrders += log.Type[r] == orderCode ? 1 : 0;
            }

            var leaf = log.Items.CategoryIndex[item];
            if (leaf >= 0 && leafMeanPrice[leaf] > 0 && log.Items.Price[item] > 0)
            {
                relativePrice += log.Items.Price[item] / leafMeanPrice[leaf];
                priced++;
            }
        }

        f[0] = weight > 0 ? (float)(winterWeight / weight) : 0;
        f[1] = (float)winter90;
        f[2] = winterOrders;
        f[3] = recent ? 1 : 0;
        f[4] = priced > 0 ? (float)(relativePrice / priced) : float.NaN;
        return recent;
    }

    private static bool[] WinterItems(InteractionLog log)
    {
        var items = log.Items;
        var winter = new bool[items.Count];
        for (var i = 0; i < winter.Length; i++)
        {
            var category = items.CategoryIndex[i];
            winter[i] = category >= 0 && CategoryTree.IsUnder(items.Categories[category], DemoCampaignRule.PromotedNode);
        }

        return winter;
    }

    private static double[] LeafMeanPrices(InteractionLog log)
    {
        var items = log.Items;
        var sums = new double[items.Categories.Count];
        var counts = new int[items.Categories.Count];
        for (var i = 0; i < items.Count; i++)
        {
            var category = items.CategoryIndex[i];
            if (category >= 0 && items.Price[i] > 0)
            {
                sums[category] += items.Price[i];
                counts[category]++;
            }
        }

        for (var c = 0; c < sums.Length; c++)
        {
            sums[c] = counts[c] == 0 ? 0 : sums[c] / counts[c];
        }

        return sums;
    }

    /// <summary>The summed true effect of the <paramref name="budget"/> rows with the highest scores (ties: earlier row first).</summary>
    private static double TopValue(double[] scores, double[] effect, int budget)
    {
        var order = Enumerable.Range(0, scores.Length).OrderByDescending(i => scores[i]).ThenBy(i => i).Take(budget);
        return order.Sum(i => effect[i]);
    }

    private static double Pearson(double[] x, double[] y)
    {
        double mx = x.Average(), my = y.Average(), sxy = 0, sxx = 0, syy = 0;
        for (var i = 0; i < x.Length; i++)
        {
            sxy += (x[i] - mx) * (y[i] - my);
            sxx += (x[i] - mx) * (x[i] - mx);
            syy += (y[i] - my) * (y[i] - my);
        }

        return sxx == 0 || syy == 0 ? double.NaN : sxy / Math.Sqrt(sxx * syy);
    }

    private static double Spearman(double[] x, double[] y) => Pearson(Ranks(x), Ranks(y));

    /// <summary>Ranks from 1, ties sharing their average rank.</summary>
    private static double[] Ranks(double[] values)
    {
        var order = Enumerable.Range(0, values.Length).OrderBy(i => values[i]).ToArray();
        var ranks = new double[values.Length];
        var start = 0;
        while (start < order.Length)
        {
            var end = start + 1;
            while (end < order.Length && values[order[end]] == values[order[start]])
            {
                end++;
            }

            var average = ((start + end - 1) / 2.0) + 1;
            for (var j = start; j < end; j++)
            {
                ranks[order[j]] = average;
            }

            start = end;
        }

        return ranks;
    }

    private static double Mean(double[] y, bool[] w, bool arm)
    {
        double sum = 0;
        var count = 0;
        for (var i = 0; i < y.Length; i++)
        {
            if (w[i] == arm)
            {
                sum += y[i];
                count++;
            }
        }

        return count == 0 ? double.NaN : sum / count;
    }

    private static int Count(bool[] flags) => flags.Count(f => f);

    private static T[] Take<T>(T[] values, int[] rows)
    {
        var taken = new T[rows.Length];
        for (var i = 0; i < rows.Length; i++)
        {
            taken[i] = values[rows[i]];
        }

        return taken;
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}

using System.Diagnostics;
using System.Globalization;
using Ranking.Candidates;
using Ranking.Crm;
using Ranking.Data;
using Ranking.Demo;
using Ranking.Domain;

namespace Assistant.Benchmarks;

/// <summary>
/// Purchase propensity on the demo marketplace and the contact policy on a simulated CRM history
/// (docs/benchmarks/crm-propensity-contact.md): <c>dotnet Assistant.Benchmarks.dll crm [scale ...]</c>, scales default "1 3".
/// Prints Markdown.
/// </summary>
internal static class CrmRun
{
    private const int DemoSeed = 42;
    private const int SimulatorSeed = 42;
    private const int SampleSeed = 7;
    private const int TrainWeeks = 39;
    private const int FixedHour = 10;
    private static readonly TimeSpan Horizon = TimeSpan.FromDays(30);

    public static async Task<int> RunAsync(string[] args)
    {
        var scales = args.Length > 0 ? args.Select(a => double.Parse(a, CultureInfo.InvariantCulture)).ToArray() : [1.0, 3.0];
        var total = Stopwatch.StartNew();
        Console.WriteLine(Invariant($"CRM run: cores {Environment.ProcessorCount}; demo seed {DemoSeed}; simulator seed {SimulatorSeed}; sampling seed {SampleSeed}."));
        Console.WriteLine();
        foreach (var scale in scales)
        {
            await PropensityAsync(scale);
        }

        ContactPolicyRun();
        Console.WriteLine(Invariant($"Total {total.Elapsed.TotalSeconds:0.0} s."));
        return 0;
    }

    private static async Task PropensityAsync(double scale)
    {
        var clock = Stopwatch.StartNew();
        var demo = new DemoMarketplace(new DemoMarketplaceOptions { Seed = DemoSeed, Scale = scale });
        var log = await InteractionLog.BuildAsync(demo, EventTypeRegistry.Default);
        var end = demo.Options.EndDate;
        var testCut = end - Horizon;
        var oneCut = new[] { testCut - Horizon };
        var fourCuts = new[] { testCut - (4 * Horizon), testCut - (3 * Horizon), testCut - (2 * Horizon), testCut - Horizon };
        Console.WriteLine(Invariant($"## Propensity, demo marketplace scale {scale} ({log.UserCount:N0} users, {log.ItemCount:N0} items, {log.Count:N0} events)"));
        Console.WriteLine();
        Console.WriteLine(Invariant($"Horizon {Horizon.TotalDays:0} days. Test cut {testCut:yyyy-MM-dd} (labels to {end:yyyy-MM-dd}); ") + Invariant(
            $"one-cut model trained at {oneCut[0]:yyyy-MM-dd}; four-cut model at {string.Join(", ", fourCuts.Select(c => c.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)))}. ") +
            "ALS (64 factors, 15 iterations, seed 42) is trained on the events before the first training cut of each model. " +
            Invariant($"Trees: {new PropensityOptions().Trees}."));
        Console.WriteLine();

        var alsOne = TrainAls(log, oneCut[0]);
        var alsFour = TrainAls(log, fourCuts[0]);
        Console.WriteLine(Invariant($"Data and ALS ready in {clock.Elapsed.TotalSeconds:0.0} s."));
        Console.WriteLine();

        var topLevels = new List<string>();
        var seen = new HashSet<int>();
        for (var i = 0; i < log.Items.Count; i++)
        {
            var top = log.Items.TopCategoryIndex[i];
            if (top >= 0 && seen.Add(top))
            {
                topLevels.Add(log.Items.Categories[top]);
            }
        }

        topLevels.Sort(StringComparer.Ordinal);
        Console.WriteLine("| target | test users | base rate | AUC | PR-AUC | ECE | mean p | AUC 1 cut | AUC no ALS | AUC share only | ECE Platt |");
        Console.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        CalibrationReport? sports = null;
        foreach (var name in topLevels)
        {
            var report = Row(log, PropensityTarget.TopCategory(name), oneCut, fourCuts, alsOne, alsFour, testCut);
            if (name == "Sports")
            {
                sports = report;
            }
        }

        var (leaves, brands) = MostOrdered(log, fourCuts[0]);
        foreach (var leaf in leaves)
        {
            Row(log, PropensityTarget.Category(leaf), oneCut, fourCuts, alsOne, alsFour, testCut);
        }

        foreach (var brand in brands)
        {
            Row(log, PropensityTarget.Brand(brand), oneCut, fourCuts, alsOne, alsFour, testCut);
        }

        Console.WriteLine();
        if (sports is not null)
        {
            Console.WriteLine("Reliability of the four-cut model, Sports (test cut):");
            Console.WriteLine();
            Console.WriteLine("| bin | users | mean predicted | observed |");
            Console.WriteLine("| --- | ---: | ---: | ---: |");
            foreach (var bin in sports.Bins.Where(b => b.Count > 0))
            {
                Console.WriteLine(Invariant($"| {bin.Lower:0.0}-{bin.Upper:0.0} | {bin.Count:N0} | {bin.MeanPredicted:0.000} | {bin.ObservedRate:0.000} |"));
            }

            Console.WriteLine();
        }

        Console.WriteLine(Invariant($"Scale {scale}: {clock.Elapsed.TotalSeconds:0.0} s."));
        Console.WriteLine();
    }

    private static CalibrationReport Row(
        InteractionLog log, PropensityTarget target, DateTimeOffset[] oneCut, DateTimeOffset[] fourCuts, AlsModel alsOne, AlsModel alsFour,
        DateTimeOffset testCut)
    {
        var four = new PropensityFeatures(log, target, alsFour);
        var test = four.Build(testCut, Horizon);
        var p = Fit(four, fourCuts, PropensityCalibration.None).Predict(test.Features);
        var auc = PropensityMetrics.Auc(p, test.Labels);
        var ap = PropensityMetrics.AveragePrecision(p, test.Labels);
        var calibration = PropensityMetrics.Calibration(p, test.Labels);

        var one = new PropensityFeatures(log, target, alsOne);
        var aucOne = PropensityMetrics.Auc(Fit(one, oneCut, PropensityCalibration.None).Predict(one.Build(testCut, Horizon).Features), test.Labels);

        var plain = new PropensityFeatures(log, target);
        var plainTest = plain.Build(testCut, Horizon);
        var aucPlain = PropensityMetrics.Auc(Fit(plain, fourCuts, PropensityCalibration.None).Predict(plainTest.Features), test.Labels);

        var shareColumn = plainTest.Features.IndexOf("target_share");
        var share = new double[plainTest.Features.RowCount];
        for (var i = 0; i < share.Length; i++)
        {
            share[i] = plainTest.Features[i, shareColumn];
        }

        var aucShare = PropensityMetrics.Auc(share, test.Labels);
        var platt = Fit(four, fourCuts, PropensityCalibration.Platt).Predict(test.Features);
        var ecePlatt = PropensityMetrics.Calibration(platt, test.Labels).ExpectedCalibrationError;
        Console.WriteLine(Invariant($"| {Label(target)} | {test.Labels.Length:N0} | {test.BaseRate:0.0000} | {auc:0.000} | {ap:0.000} | {calibration.ExpectedCalibrationError:0.0000} | ") + Invariant(
            $"{calibration.MeanPredicted:0.0000} | {aucOne:0.000} | {aucPlain:0.000} | {aucShare:0.000} | {ecePlatt:0.0000} |"));
        return calibration;
    }

    private static PropensityModel Fit(PropensityFeatures features, DateTimeOffset[] cuts, PropensityCalibration calibration) =>
        PropensityModel.Train(features, cuts, new PropensityOptions { Horizon = Horizon, Calibration = calibration });

    private static string Label(PropensityTarget target) => target.Kind switch
    {
        PropensityTargetKind.TopCategory => target.Name,
        PropensityTargetKind.Category => $"leaf {target.Name}",
        _ => $"brand {target.Name}",
    };

    private static AlsModel TrainAls(InteractionLog log, DateTimeOffset before)
    {
        var ms = before.ToUnixTimeMilliseconds();
        var keep = new bool[log.Count];
        for (var r = 0; r < keep.Length; r++)
        {
            keep[r] = log.TimestampMs[r] < ms;
        }

        return AlsModel.Train(log.Subset(keep), new AlsOptions { Seed = 42 });
    }

    // The three most-ordered leaves and two most-ordered brands before a time.
    private static (string[] Leaves, string[] Brands) MostOrdered(InteractionLog log, DateTimeOffset before)
    {
        log.EventTypes.TryGetCode(EventTypeRegistry.Order, out var order);
        var ms = before.ToUnixTimeMilliseconds();
        var leaf = new Dictionary<int, int>();
        var brand = new Dictionary<int, int>();
        for (var r = 0; r < log.Count; r++)
        {
            var item = log.Item[r];
            if (log.Type[r] != order || item < 0 || log.TimestampMs[r] >= ms)
            {
                continue;
            }

            leaf[log.Items.CategoryIndex[item]] = leaf.GetValueOrDefault(log.Items.CategoryIndex[item]) + 1;
            if (log.Items.BrandIndex[item] >= 0)
            {
                brand[log.Items.BrandIndex[item]] = brand.GetValueOrDefault(log.Items.BrandIndex[item]) + 1;
            }
        }

        return (
            [.. leaf.OrderByDescending(p => p.Value).ThenBy(p => p.Key).Take(3).Select(p => log.Items.Categories[p.Key])],
            [.. brand.OrderByDescending(p => p.Value).ThenBy(p => p.Key).Take(2).Select(p => log.Items.Brands[p.Key])]);
    }

    private static void ContactPolicyRun()
    {
        var clock = Stopwatch.StartNew();
        var sim = new CrmHistorySimulatorOptions { Seed = SimulatorSeed };
        var history = CrmHistorySimulator.Generate(sim);
        var split = sim.Start.AddDays(7 * TrainWeeks);
        var train = history.Sends.Where(s => s.SentAt < split).ToList();
        var heldOut = history.Sends.Where(s => s.SentAt >= split).ToList();
        var trainIds = train.Select(s => s.SendId).ToHashSet(StringComparer.Ordinal);
        var trainOutcomes = history.Outcomes.Where(o => trainIds.Contains(o.SendId)).ToList();
        var users = history.UsersById;
        var opens = history.Outcomes.Count(o => o.Type == CrmOutcomeTypes.Open);
        var unsubscribes = history.Outcomes.Count(o => o.Type == "unsubscribe");

        Console.WriteLine("## Contact policy, simulated CRM history");
        Console.WriteLine();
        Console.WriteLine(Invariant($"CrmHistorySimulator: {sim.Users:N0} users, {sim.Weeks} weeks from {sim.Start:yyyy-MM-dd}, {sim.MinSendsPerWeek}-{sim.MaxSendsPerWeek} sends per user-week ") + Invariant(
            $"at uniform random times; planted fatigue exp(-{sim.FatigueDecay} (k - 1)), unsubscribe {sim.UnsubscribeBase} exp({sim.UnsubscribeGrowth} (k - 1)) per send. ") + Invariant(
            $"{history.Sends.Count:N0} sends, {opens:N0} opens, {unsubscribes:N0} unsubscribes. Policy learned on the first {TrainWeeks} weeks ({train.Count:N0} sends), ") + Invariant(
            $"evaluated on the last {sim.Weeks - TrainWeeks} ({heldOut.Count:N0} sends)."));
        Console.WriteLine();

        var options = new ContactPolicyOptions();
        var policy = ContactPolicy.Learn(train, trainOutcomes, options, users);
        var hourOnly = new ContactPolicy(policy.Model, options with { UseDayOfWeek = false });
        var population = policy.BestSlot("(nobody)");
        Console.WriteLine(Invariant($"Options: quiet {options.QuietHoursStart:00}-{options.QuietHoursEnd:00}, prior strength {options.PriorStrength}, ") + Invariant(
            $"hour bandwidth {options.HourBandwidth}, threshold {options.MarginalResponseThreshold}, unsubscribe cost {options.UnsubscribeCost}. ") + Invariant(
            $"Population's best slot: {population.Day} {population.Hour:00}:00. Learned in {clock.Elapsed.TotalSeconds:0.0} s."));
        Console.WriteLine();

        var full = Evaluate(history, heldOut, policy, hourOnly, options, sample: true);
        var fixedHour = full.Fixed;
        Console.WriteLine("| send time | expected open rate | vs 10:00 | sampled open rate |");
        Console.WriteLine("| --- | ---: | ---: | ---: |");
        Console.WriteLine(Invariant($"| as sent (uniform random hour) | {full.Actual.Expected:0.0000} | {full.Actual.Expected / fixedHour.Expected - 1:+0.0%;-0.0%} | {full.Actual.Sampled:0.0000} |"));
        Console.WriteLine(Invariant($"| fixed 10:00, same day | {fixedHour.Expected:0.0000} | | {fixedHour.Sampled:0.0000} |"));
        Console.WriteLine(Invariant($"| population's best slot ({population.Day} {population.Hour:00}:00) | {full.Population.Expected:0.0000} | {full.Population.Expected / fixedHour.Expected - 1:+0.0%;-0.0%} | {full.Population.Sampled:0.0000} |"));
        Console.WriteLine(Invariant($"| policy: user's best hour, same day | {full.Hour.Expected:0.0000} | {full.Hour.Expected / fixedHour.Expected - 1:+0.0%;-0.0%} | {full.Hour.Sampled:0.0000} |"));
        Console.WriteLine(Invariant($"| policy: user's best day and hour (same week) | {full.DayHour.Expected:0.0000} | {full.DayHour.Expected / fixedHour.Expected - 1:+0.0%;-0.0%} | {full.DayHour.Sampled:0.0000} |"));
        Console.WriteLine(Invariant($"| oracle: true best non-quiet day and hour | {full.Oracle:0.0000} | {full.Oracle / fixedHour.Expected - 1:+0.0%;-0.0%} | |"));
        Console.WriteLine();

        Console.WriteLine("Sensitivity (expected held-out open rate, best day and hour / best hour same day):");
        Console.WriteLine();
        Console.WriteLine("| prior strength | bandwidth 0 | bandwidth 2 | bandwidth 4 |");
        Console.WriteLine("| ---: | ---: | ---: | ---: |");
        foreach (var strength in new[] { 5.0, 20.0, 80.0 })
        {
            var cells = new List<string>();
            foreach (var bandwidth in new[] { 0, 2, 4 })
            {
                var o = options with { PriorStrength = strength, HourBandwidth = bandwidth };
                var p = ContactPolicy.Learn(train, trainOutcomes, o, users);
                var e = Evaluate(history, heldOut, p, new ContactPolicy(p.Model, o with { UseDayOfWeek = false }), o, sample: false);
                cells.Add(Invariant($"{e.DayHour.Expected:0.0000} / {e.Hour.Expected:0.0000}"));
            }

            Console.WriteLine(Invariant($"| {strength} | {string.Join(" | ", cells)} |"));
        }

        Console.WriteLine();

        // The fatigue curve learned on the training weeks, beside the planted one.
        var planted = new double[sim.MaxSendsPerWeek + 1];
        var plantedUnsubscribe = new double[sim.MaxSendsPerWeek + 1];
        var plantedValue = new double[sim.MaxSendsPerWeek + 1];
        for (var k = 1; k <= sim.MaxSendsPerWeek; k++)
        {
            planted[k] = k * MeanOpenProbability(history, k);
            plantedUnsubscribe[k] = 1 - Math.Pow(1 - history.UnsubscribeProbability(k), k);
            plantedValue[k] = planted[k] - (options.UnsubscribeCost * plantedUnsubscribe[k]);
        }

        var plantedCap = 0;
        for (var k = 1; k <= sim.MaxSendsPerWeek && plantedValue[k] - plantedValue[k - 1] >= options.MarginalResponseThreshold * planted[1]; k++)
        {
            plantedCap = k;
        }

        Console.WriteLine("| contacts per week k | user-weeks | opens per send | opens per user-week R(k) | planted R(k) | unsubscribe share U(k) | planted U(k) | marginal value |");
        Console.WriteLine("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var point in policy.Model.Fatigue)
        {
            var k = point.ContactsPerWeek;
            Console.WriteLine(Invariant($"| {k} | {point.UserWeeks:N0} | {point.ResponseRate:0.0000} | {point.ResponsesPerWeek:0.0000} | {planted[k]:0.0000} | ") + Invariant(
                $"{point.UnsubscribeRate:0.0000} | {plantedUnsubscribe[k]:0.0000} | {point.MarginalValue:+0.0000;-0.0000} |"));
        }

        Console.WriteLine();
        Console.WriteLine(Invariant($"Learned weekly cap {policy.Model.FrequencyCap?.ToString(CultureInfo.InvariantCulture) ?? "none"}; planted cap by the same rule {plantedCap} ") + Invariant(
            $"(marginal value below {options.MarginalResponseThreshold} x R(1), unsubscribe cost {options.UnsubscribeCost})."));
        var noCost = ContactPolicyModel.Learn(train, trainOutcomes, options with { UnsubscribeCost = 0 }, users);
        Console.WriteLine(Invariant($"Without the unsubscribe cost the learned cap is {noCost.FrequencyCap?.ToString(CultureInfo.InvariantCulture) ?? "none"}."));
        Console.WriteLine(Invariant($"Contact policy part: {clock.Elapsed.TotalSeconds:0.0} s."));
        Console.WriteLine();
    }

    private readonly record struct Rate(double Expected, double Sampled);

    private sealed record Evaluation(Rate Actual, Rate Fixed, Rate Population, Rate Hour, Rate DayHour, double Oracle);

    // Exact expected open probability of each held-out send at each slot, with the send's own weekly count k (and,
    // when asked, one Bernoulli draw per send and slot). Slots are per user; day slots fall in the send's own week.
    private static Evaluation Evaluate(
        CrmHistory history, List<CrmSend> heldOut, ContactPolicy policy, ContactPolicy hourOnly, ContactPolicyOptions options, bool sample)
    {
        var population = policy.BestSlot("(nobody)");
        var slots = new Dictionary<string, int>(StringComparer.Ordinal);
        var random = new Random(SampleSeed);
        var expected = new double[5];
        var sampled = new long[5];
        double oracle = 0;
        var p = new double[5];
        foreach (var send in heldOut)
        {
            var u = history.IndexOf(send.UserId);
            var k = history.WeeklyCountOf(send);
            var t = send.SentAt.ToUniversalTime();
            var day = new DateTimeOffset(t.Year, t.Month, t.Day, 0, 0, 0, TimeSpan.Zero);
            var weekStart = day.AddDays(-(((int)day.DayOfWeek + 6) % 7));
            if (!slots.TryGetValue(send.UserId, out var slot))
            {
                slots[send.UserId] = slot = hourOnly.BestSlot(send.UserId).Hour;
            }

            p[0] = history.OpenProbability(u, t, k);
            p[1] = history.OpenProbability(u, day.AddHours(FixedHour), k);
            p[2] = history.OpenProbability(u, NextInWeek(weekStart, population.Day!.Value, population.Hour), k);
            p[3] = history.OpenProbability(u, day.AddHours(slot), k);
            p[4] = history.OpenProbability(u, policy.BestSendTime(send.UserId, weekStart), k);
            for (var j = 0; j < 5; j++)
            {
                expected[j] += p[j];
                sampled[j] += sample && random.NextDouble() < p[j] ? 1 : 0;
            }

            oracle += Oracle(history, u, weekStart, k, options);
        }

        var n = (double)heldOut.Count;
        Rate R(int j) => new(expected[j] / n, sampled[j] / n);
        return new Evaluation(R(0), R(1), R(2), R(3), R(4), oracle / n);
    }

    private static DateTimeOffset NextInWeek(DateTimeOffset weekStart, DayOfWeek day, int hour) =>
        weekStart.AddDays(((int)day + 6) % 7).AddHours(hour);

    private static double Oracle(CrmHistory history, int user, DateTimeOffset weekStart, int k, ContactPolicyOptions options)
    {
        var best = 0.0;
        for (var slot = 0; slot < 7 * 24; slot++)
        {
            if (!options.IsQuietHour(slot % 24))
            {
                best = Math.Max(best, history.OpenProbability(user, weekStart.AddHours(slot), k));
            }
        }

        return best;
    }

    private static double MeanOpenProbability(CrmHistory history, int k)
    {
        var monday = history.Options.Start;
        double sum = 0;
        for (var u = 0; u < history.Truth.Count; u++)
        {
            for (var slot = 0; slot < 7 * 24; slot++)
            {
                sum += history.OpenProbability(u, monday.AddHours(slot), k);
            }
        }

        return sum / (history.Truth.Count * 7 * 24);
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}

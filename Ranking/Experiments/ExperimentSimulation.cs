using Ranking.Domain;
using Ranking.Experiments.Statistics;

namespace Ranking.Experiments;

/// <summary>
/// The users of a marketplace seen through an experiment window: each user's cumulative orders and revenue at the
/// end of every day of the window, and the same over a pre-period (CUPED's covariate). Built once from real or demo
/// events; simulated experiments then only relabel users, so thousands of them are cheap.
/// </summary>
public sealed class SimulationPopulation
{
    private SimulationPopulation(string[] userIds, int days, double[] cumOrders, double[] cumRevenue, double[] preRevenue, double meanOrderValue)
    {
        UserIds = userIds;
        Days = days;
        CumulativeOrders = cumOrders;
        CumulativeRevenue = cumRevenue;
        PreRevenue = preRevenue;
        MeanOrderValue = meanOrderValue;
    }

    public IReadOnlyList<string> UserIds { get; }

    public int Days { get; }

    /// <summary>[user * Days + day]: orders from the window start to the end of that day.</summary>
    public double[] CumulativeOrders { get; }

    /// <summary>[user * Days + day]: revenue from the window start to the end of that day.</summary>
    public double[] CumulativeRevenue { get; }

    /// <summary>Revenue per user in the pre-period.</summary>
    public double[] PreRevenue { get; }

    /// <summary>Mean revenue of an order in the window (the size of a planted extra order).</summary>
    public double MeanOrderValue { get; }

    /// <summary>
    /// Users with at least one event in the pre-period or the window; orders (type <c>order</c>) counted with their
    /// price × quantity. Events must carry their price for revenue (the demo's and REES46's do).
    /// </summary>
    public static SimulationPopulation FromEvents(IEnumerable<UserEvent> events, DateTimeOffset windowStart, int days, TimeSpan prePeriod)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(days, 1);
        var start = windowStart.ToUnixTimeMilliseconds();
        var end = start + (days * 86_400_000L);
        var preStart = start - (long)prePeriod.TotalMilliseconds;
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        var daily = new List<double[]>();
        var pre = new List<double>();
        foreach (var e in events)
        {
            var t = e.Timestamp.ToUnixTimeMilliseconds();
            if (t < preStart || t >= end)
            {
                continue;
            }

            if (!index.TryGetValue(e.UserId, out var u))
            {
                u = index.Count;
                index.Add(e.UserId, u);
                daily.Add(new double[days * 2]);
                pre.Add(0);
            }

            if (e.Type != EventTypeRegistry.Order)
            {
                continue;
            }

            var value = (e.Price ?? 0) * (e.Quantity ?? 1);
            if (t < start)
            {
                pre[u] += value;
            }
            else
            {
                var d = (int)((t - start) / 86_400_000L);
                daily[u][d] += 1;
                daily[u][days + d] += value;
            }
        }

        var n = index.Count;
        var cumOrders = new double[n * days];
        var cumRevenue = new double[n * days];
        double orders = 0, revenue = 0;
        for (var u = 0; u < n; u++)
        {
            double o = 0, r = 0;
            for (var d = 0; d < days; d++)
            {
                o += daily[u][d];
                r += daily[u][days + d];
                cumOrders[(u * days) + d] = o;
                cumRevenue[(u * days) + d] = r;
            }

            orders += o;
            revenue += r;
        }

        var ids = new string[n];
        foreach (var (id, u) in index)
        {
            ids[u] = id;
        }

        return new SimulationPopulation(ids, days, cumOrders, cumRevenue, [.. pre], orders > 0 ? revenue / orders : 0);
    }
}

/// <summary>How often a test said "significant", with a 95% (Wilson) interval.</summary>
public readonly record struct RejectionRate(int Rejections, int Runs, double Rate, double Low, double High)
{
    public static RejectionRate Of(int rejections, int runs)
    {
        var p = runs == 0 ? 0 : (double)rejections / runs;
        const double z = 1.959964;
        var denominator = 1 + (z * z / runs);
        var centre = (p + (z * z / (2.0 * runs))) / denominator;
        var half = z * Math.Sqrt((p * (1 - p) / runs) + (z * z / (4.0 * runs * runs))) / denominator;
        return new RejectionRate(rejections, runs, p, Math.Max(0, centre - half), Math.Min(1, centre + half));
    }
}

/// <summary>A/A false positives of three ways of reading an experiment.</summary>
/// <param name="FixedHorizon">Welch's test once, at the end of the window.</param>
/// <param name="NaivePeeking">Welch's test every day, stopping at the first "significant".</param>
/// <param name="Sequential">The always-valid (mSPRT) test every day.</param>
public sealed record AaSimulation(string Metric, int Users, int Days, double Alpha, RejectionRate FixedHorizon, RejectionRate NaivePeeking, RejectionRate Sequential);

/// <summary>Power at one planted effect, with and without CUPED.</summary>
/// <param name="Effect">Probability that a treatment user places one extra order of the mean order value in the window.</param>
/// <param name="RelativeLift">The planted lift of mean revenue per user it amounts to.</param>
public sealed record PowerPoint(double Effect, double RelativeLift, RejectionRate Welch, RejectionRate Cuped, double MeanVarianceReduction);

/// <summary>Simulated experiments over a <see cref="SimulationPopulation"/>: users relabelled by a new salt each run.</summary>
public static class ExperimentSimulation
{
    /// <summary>Runs <paramref name="runs"/> A/A tests (50/50) on revenue per user, read daily.</summary>
    public static AaSimulation RunAa(SimulationPopulation population, int runs, double alpha = 0.05, int seed = 1)
    {
        var n = population.UserIds.Count;
        var days = population.Days;
        var inTreatment = new bool[n];
        var control = new List<double>(n);
        var treatment = new List<double>(n);
        int fixedHits = 0, naiveHits = 0, sequentialHits = 0;
        for (var run = 0; run < runs; run++)
        {
            Assign(population, $"aa-{seed}-{run}", inTreatment);
            bool naive = false, sequential = false;
            for (var d = 0; d < days; d++)
            {
                Split(population.CumulativeRevenue, days, d, inTreatment, control, treatment);
                var welch = WelchTest.Compare(control.ToArray(), treatment.ToArray(), alpha);
                naive |= welch.IsDefined && welch.PValue < alpha;
                var seq = SequentialTest.Compare(welch.Control, welch.Treatment, alpha);
                sequential |= seq.IsDefined && seq.IsSignificant;
                if (d == days - 1 && welch.IsDefined && welch.PValue < alpha)
                {
                    fixedHits++;
                }
            }

            naiveHits += naive ? 1 : 0;
            sequentialHits += sequential ? 1 : 0;
        }

        return new AaSimulation(ExperimentMetric.Revenue, n, days, alpha,
            RejectionRate.Of(fixedHits, runs), RejectionRate.Of(naiveHits, runs), RejectionRate.Of(sequentialHits, runs));
    }

    /// <summary>
    /// Runs A/B tests with a planted effect on revenue per user, read once at the end of the window with Welch's
    /// test and with CUPED (pre-period revenue as covariate).
    /// </summary>
    public static IReadOnlyList<PowerPoint> RunPower(SimulationPopulation population, IReadOnlyList<double> effects, int runs, double alpha = 0.05, int seed = 2)
    {
        var n = population.UserIds.Count;
        var days = population.Days;
        var inTreatment = new bool[n];
        var baseline = 0.0;
        for (var u = 0; u < n; u++)
        {
            baseline += population.CumulativeRevenue[(u * days) + days - 1];
        }

        baseline /= Math.Max(1, n);
        var points = new List<PowerPoint>();
        foreach (var effect in effects)
        {
            var random = new Random(HashCode.Combine(seed, effect));
            int welchHits = 0, cupedHits = 0;
            var reduction = 0.0;
            for (var run = 0; run < runs; run++)
            {
                Assign(population, $"ab-{seed}-{run}", inTreatment);
                var cy = new List<double>();
                var cx = new List<double>();
                var ty = new List<double>();
                var tx = new List<double>();
                for (var u = 0; u < n; u++)
                {
                    var y = population.CumulativeRevenue[(u * days) + days - 1];
                    if (inTreatment[u])
                    {
                        if (random.NextDouble() < effect)
                        {
                            y += population.MeanOrderValue;
                        }

                        ty.Add(y);
                        tx.Add(population.PreRevenue[u]);
                    }
                    else
                    {
                        cy.Add(y);
                        cx.Add(population.PreRevenue[u]);
                    }
                }

                var welch = WelchTest.Compare(cy.ToArray(), ty.ToArray(), alpha);
                var cuped = Cuped.Compare(cy.ToArray(), cx.ToArray(), ty.ToArray(), tx.ToArray(), alpha);
                welchHits += welch.IsDefined && welch.PValue < alpha ? 1 : 0;
                cupedHits += cuped.Adjusted.IsDefined && cuped.Adjusted.PValue < alpha ? 1 : 0;
                reduction += cuped.VarianceReduction;
            }

            var lift = baseline > 0 ? effect * population.MeanOrderValue / baseline : 0;
            points.Add(new PowerPoint(effect, lift, RejectionRate.Of(welchHits, runs), RejectionRate.Of(cupedHits, runs), reduction / runs));
        }

        return points;
    }

    private static void Assign(SimulationPopulation population, string salt, bool[] inTreatment)
    {
        for (var u = 0; u < inTreatment.Length; u++)
        {
            inTreatment[u] = UserHash.Unit("variant", salt, population.UserIds[u]) >= 0.5;
        }
    }

    private static void Split(double[] cumulative, int days, int day, bool[] inTreatment, List<double> control, List<double> treatment)
    {
        control.Clear();
        treatment.Clear();
        for (var u = 0; u < inTreatment.Length; u++)
        {
            (inTreatment[u] ? treatment : control).Add(cumulative[(u * days) + day]);
        }
    }
}

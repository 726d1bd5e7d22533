using Ranking.Data;
using Ranking.Domain;

namespace Ranking.Experiments;

/// <summary>The metrics a report can read. All are per exposed user, from events after the user's first exposure.</summary>
public static class ExperimentMetric
{
    /// <summary>1 when the user ordered at least once, else 0.</summary>
    public const string Conversion = "conversion";

    /// <summary>Order events per user.</summary>
    public const string Orders = "orders";

    /// <summary>Price × quantity of the orders, per user.</summary>
    public const string Revenue = "revenue";

    /// <summary>(Price − cost) × quantity of the orders whose item cost is known, per user.</summary>
    public const string Margin = "margin";

    /// <summary>Revenue per order: a ratio metric, read with the delta method.</summary>
    public const string AverageOrderValue = "aov";

    public static IReadOnlyList<string> All { get; } = [Conversion, Orders, Revenue, Margin, AverageOrderValue];

    public static bool IsKnown(string name) => All.Contains(name, StringComparer.Ordinal);
}

/// <summary>One exposed user's outcome after exposure (and the same quantities over the pre-period, for CUPED).</summary>
public readonly record struct UserOutcome(int Variant, double Orders, double Revenue, double Margin, double PreOrders, double PreRevenue, double PreMargin)
{
    public double Value(string metric, bool pre = false) => metric switch
    {
        ExperimentMetric.Conversion => (pre ? PreOrders : Orders) > 0 ? 1 : 0,
        ExperimentMetric.Orders => pre ? PreOrders : Orders,
        ExperimentMetric.Revenue => pre ? PreRevenue : Revenue,
        ExperimentMetric.Margin => pre ? PreMargin : Margin,
        _ => throw new ArgumentException($"'{metric}' is not a per-user metric.", nameof(metric)),
    };
}

/// <summary>The exposed users of an experiment with their outcomes, grouped by variant index.</summary>
public sealed class ExperimentOutcomes
{
    internal ExperimentOutcomes(IReadOnlyList<string> variants, List<UserOutcome>[] byVariant, int unknownVariantExposures)
    {
        Variants = variants;
        ByVariant = byVariant;
        UnknownVariantExposures = unknownVariantExposures;
    }

    public IReadOnlyList<string> Variants { get; }

    public IReadOnlyList<List<UserOutcome>> ByVariant { get; }

    /// <summary>Exposures naming a variant the experiment does not define (left out of the analysis).</summary>
    public int UnknownVariantExposures { get; }

    public long ExposedUsers => ByVariant.Sum(v => (long)v.Count);

    /// <summary>The metric's values of one variant's users.</summary>
    public double[] Values(int variant, string metric, bool pre = false)
    {
        var list = ByVariant[variant];
        var values = new double[list.Count];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = list[i].Value(metric, pre);
        }

        return values;
    }

    /// <summary>
    /// Reads the exposures of an experiment and the orders of its users: the outcome window of a user runs from her
    /// first exposure to <paramref name="asOf"/> inclusive (an exposure in the same millisecond as the report counts); the pre-period is the <paramref name="prePeriod"/> before it.
    /// Revenue uses the price on the order event, else the catalog price; margin needs the catalog cost.
    /// </summary>
    public static async Task<ExperimentOutcomes> ReadAsync(
        Experiment experiment, IExperimentStore experiments, IEventStore events, ICatalogStore catalog,
        DateTimeOffset asOf, TimeSpan prePeriod, CancellationToken cancellationToken = default)
    {
        var variantIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < experiment.Variants.Count; i++)
        {
            variantIndex[experiment.Variants[i].Name] = i;
        }

        var exposed = new Dictionary<string, (int Variant, long ExposedMs, int Slot)>(StringComparer.Ordinal);
        var unknown = 0;
        var asOfMs = asOf.ToUnixTimeMilliseconds();
        await foreach (var x in experiments.ReadExposuresAsync(experiment.Name, cancellationToken).ConfigureAwait(false))
        {
            if (!variantIndex.TryGetValue(x.Variant, out var v))
            {
                unknown++;
                continue;
            }

            var ms = x.Timestamp.ToUnixTimeMilliseconds();
            if (ms <= asOfMs && !exposed.ContainsKey(x.UserId))
            {
                exposed[x.UserId] = (v, ms, exposed.Count);
            }
        }

        var sums = new double[exposed.Count * 6];
        if (exposed.Count > 0)
        {
            var prices = new Dictionary<string, (double? Price, double? Cost)>(StringComparer.Ordinal);
            await foreach (var item in catalog.ReadItemsAsync(cancellationToken).ConfigureAwait(false))
            {
                prices[item.Id] = (item.Price, item.Cost);
            }

            var preMs = (long)prePeriod.TotalMilliseconds;
            await foreach (var e in events.ReadEventsAsync(cancellationToken).ConfigureAwait(false))
            {
                if (e.Type != EventTypeRegistry.Order || !exposed.TryGetValue(e.UserId, out var user))
                {
                    continue;
                }

                var ms = e.Timestamp.ToUnixTimeMilliseconds();
                int offset;
                if (ms >= user.ExposedMs && ms <= asOfMs)
                {
                    offset = 0;
                }
                else if (ms < user.ExposedMs && ms >= user.ExposedMs - preMs)
                {
                    offset = 3;
                }
                else
                {
                    continue;
                }

                var known = e.ItemId is not null && prices.TryGetValue(e.ItemId, out var p) ? p : (null, null);
                var quantity = e.Quantity ?? 1;
                var price = e.Price ?? known.Price ?? 0;
                var at = user.Slot * 6 + offset;
                sums[at] += 1;
                sums[at + 1] += price * quantity;
                if (known.Cost is { } cost)
                {
                    sums[at + 2] += (price - cost) * quantity;
                }
            }
        }

        var byVariant = new List<UserOutcome>[experiment.Variants.Count];
        for (var i = 0; i < byVariant.Length; i++)
        {
            byVariant[i] = [];
        }

        foreach (var (_, (variant, _, slot)) in exposed)
        {
            var s = slot * 6;
            byVariant[variant].Add(new UserOutcome(variant, sums[s], sums[s + 1], sums[s + 2], sums[s + 3], sums[s + 4], sums[s + 5]));
        }

        return new ExperimentOutcomes([.. experiment.Variants.Select(v => v.Name)], byVariant, unknown);
    }
}

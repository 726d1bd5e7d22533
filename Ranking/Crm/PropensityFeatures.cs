using System.Numerics.Tensors;
using Ranking.Candidates;
using Ranking.Data;
using Ranking.Domain;

namespace Ranking.Crm;

/// <summary>What a propensity target is matched on: an item's top-level category, its full (leaf) category, or its brand.</summary>
public enum PropensityTargetKind
{
    TopCategory,
    Category,
    Brand,
}

/// <summary>
/// The thing whose purchase a propensity model predicts: a top-level category ("Sports"), a full category path
/// ("Sports/Winter/Snowboards") or a brand. Kept by name, not index, so a saved model scores any log.
/// </summary>
/// <param name="Kind">What an item is matched on.</param>
/// <param name="Name">The category path or brand name; matched exactly (brands case-insensitively, as the catalog does).</param>
public sealed record PropensityTarget(PropensityTargetKind Kind, string Name)
{
    public static PropensityTarget TopCategory(string name) => new(PropensityTargetKind.TopCategory, name);

    public static PropensityTarget Category(string path) => new(PropensityTargetKind.Category, path);

    public static PropensityTarget Brand(string name) => new(PropensityTargetKind.Brand, name);

    public override string ToString() => $"{Kind} '{Name}'";
}

/// <summary>The rows of one cut: the users scored at <see cref="Cut"/>, their features and, when asked for, their labels.</summary>
/// <param name="Cut">Features use events strictly before it; labels the window <c>[Cut, Cut + horizon)</c>.</param>
/// <param name="Users">The log's user index of each row.</param>
/// <param name="Features">One row per user, columns <see cref="PropensityFeatures.ColumnNames"/>.</param>
/// <param name="Labels">True when the user ordered the target in the horizon.</param>
public sealed record PropensityCut(DateTimeOffset Cut, int[] Users, FeatureMatrix Features, bool[] Labels)
{
    /// <summary>Share of rows with a positive label; NaN for no rows.</summary>
    public double BaseRate
    {
        get
        {
            var positives = 0;
            foreach (var label in Labels)
            {
                positives += label ? 1 : 0;
            }

            return Labels.Length == 0 ? double.NaN : (double)positives / Labels.Length;
        }
    }
}

/// <summary>
/// Per-user features for a purchase-propensity model of one <see cref="PropensityTarget"/>, computed at a cut time T
/// from the user's events strictly before T (nothing at or after T is read, so features never leak the label).
/// </summary>
/// <remarks>
/// <para>Columns (<see cref="ColumnNames"/>); "days" are fractional days before T, windows are <c>[T - n days, T)</c>:</para>
/// <list type="bullet">
/// <item><c>days_since_last_event</c>, <c>days_since_last_order</c>: recency; NaN (missing) when there is none.</item>
/// <item><c>events_30d/90d/365d</c>, <c>orders_30d/90d/365d</c>: frequency (every event type counts as an event, searches too).</item>
/// <item><c>order_value_365d</c>: monetary, the sum of the item prices of the orders in 365 days (order count × mean
/// price); orders of items without a price add nothing.</item>
/// <item><c>target_share</c>: the share of her event weight (see <see cref="EventTypeRegistry"/>) ever spent on target
/// items; 0 without events.</item>
/// <item><c>target_events_90d</c>: her event weight on target items in 90 days.</item>
/// <item><c>target_orders</c>: her orders of target items before T.</item>
/// <item><c>days_since_target_event</c>, <c>days_since_target_order</c>: NaN when there is none.</item>
/// <item><c>als_target_affinity</c>: the mean ALS score of the target's items, <c>x_u · mean(y_i)</c> over target items
/// the model was trained on; NaN without a model, for a user the model does not know, or for a target without
/// trained items. The ALS model must share the log's user and item indices (train it on <see cref="InteractionLog.Subset"/>
/// of events before the earliest cut to keep it free of the label window).</item>
/// <item><c>month</c>: the calendar month (1-12, UTC) of T. Constant within one cut; it only helps when a model is
/// trained on cuts from several months.</item>
/// <item><c>target_orders_last_season</c>, <c>target_events_last_season</c>: her orders and event weight on the target in
/// the calendar months m-1, m and m+1 of the year before T (m = month of T), a year-ago seasonality signal.</item>
/// <item><c>tenure_days</c>: days since her first event; NaN without events.</item>
/// </list>
/// <para>Items the catalog does not know and events without an item (searches) never match the target. A target name
/// the catalog does not have matches nothing: its columns are 0 or NaN for everyone.</para>
/// </remarks>
public sealed class PropensityFeatures
{
    private const double MsPerDay = 86_400_000.0;

    private static readonly string[] Columns =
    [
        "days_since_last_event", "days_since_last_order",
        "events_30d", "events_90d", "events_365d",
        "orders_30d", "orders_90d", "orders_365d",
        "order_value_365d",
        "target_share", "target_events_90d", "target_orders",
        "days_since_target_event", "days_since_target_order",
        "als_target_affinity",
        "month", "target_orders_last_season", "target_events_last_season",
        "tenure_days",
    ];

    private readonly bool[] _isTarget;
    private readonly float[]? _alsCentroid;
    private readonly AlsModel? _als;
    private readonly int _orderCode;

    /// <param name="log">The events; features at a cut read only its rows before the cut.</param>
    /// <param name="target">What to predict the purchase of.</param>
    /// <param name="als">Optional ALS model over the same user and item indices as <paramref name="log"/>.</param>
    /// <exception cref="ArgumentException">The ALS model has another user or item count than the log.</exception>
    public PropensityFeatures(InteractionLog log, PropensityTarget target, AlsModel? als = null)
    {
        ArgumentNullException.ThrowIfNull(log);
        ArgumentNullException.ThrowIfNull(target);
        if (als is not null && (als.UserCount != log.UserCount || als.ItemCount != log.ItemCount))
        {
            throw new ArgumentException(
                $"The ALS model has {als.UserCount} users and {als.ItemCount} items; the log {log.UserCount} and {log.ItemCount}.", nameof(als));
        }

        Log = log;
        Target = target;
        _orderCode = log.EventTypes.TryGetCode(EventTypeRegistry.Order, out var code) ? code : -1;
        _isTarget = MatchItems(log.Items, target);
        _als = als;
        _alsCentroid = als is null ? null : Centroid(als, _isTarget);
    }

    /// <summary>The feature names, in column order.</summary>
    public static IReadOnlyList<string> ColumnNames => Columns;

    public InteractionLog Log { get; }

    public PropensityTarget Target { get; }

    /// <summary>Number of catalog items that match the target.</summary>
    public int TargetItemCount
    {
        get
        {
            var n = 0;
            foreach (var t in _isTarget)
            {
                n += t ? 1 : 0;
            }

            return n;
        }
    }

    /// <summary>Whether an item index matches the target (false for -1 and for indices outside the log).</summary>
    public bool IsTargetItem(int item) => (uint)item < (uint)_isTarget.Length && _isTarget[item];

    /// <summary>
    /// Writes one user's features at <paramref name="cut"/> into <paramref name="features"/> (length
    /// <see cref="ColumnNames"/>.Count). A user without events before the cut gets zero counts and NaN recencies.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The user is not an index of the log.</exception>
    /// <exception cref="ArgumentException">The span has the wrong length.</exception>
    public void Compute(int user, DateTimeOffset cut, Span<float> features)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)user, (uint)Log.UserCount, nameof(user));
        if (features.Length != Columns.Length)
        {
            throw new ArgumentException($"Expected {Columns.Length} features, got a span of {features.Length}.", nameof(features));
        }

        var range = Log.RowsOf(user);
        ComputeRows(range.Start.Value, range.End.Value, user, cut, features);
    }

    /// <summary>
    /// As <see cref="Compute(int, DateTimeOffset, Span{float})"/> by external id; a user the log does not know gets
    /// <see cref="ComputeEmpty"/> (a cold start, not an error).
    /// </summary>
    public void Compute(string userId, DateTimeOffset cut, Span<float> features)
    {
        ArgumentNullException.ThrowIfNull(userId);
        if (Log.TryGetUserIndex(userId, out var user))
        {
            Compute(user, cut, features);
        }
        else
        {
            ComputeEmpty(cut, features);
        }
    }

    /// <summary>
    /// The features of a user who is not in the log (cold start): no events, so zero counts and NaN recencies, with
    /// the month of <paramref name="cut"/>.
    /// </summary>
    public static void ComputeEmpty(DateTimeOffset cut, Span<float> features)
    {
        if (features.Length != Columns.Length)
        {
            throw new ArgumentException($"Expected {Columns.Length} features, got a span of {features.Length}.", nameof(features));
        }

        FillEmpty(features, cut);
    }

    /// <summary>
    /// Features and labels of every user with at least one event before <paramref name="cut"/> (users who had not
    /// arrived yet cannot be scored and are left out). Label: an order of a target item in <c>[cut, cut + horizon)</c>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The horizon is not positive.</exception>
    public PropensityCut Build(DateTimeOffset cut, TimeSpan horizon, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(horizon, TimeSpan.Zero, nameof(horizon));
        var cutMs = cut.ToUnixTimeMilliseconds();
        var users = new List<int>();
        for (var u = 0; u < Log.UserCount; u++)
        {
            var first = Log.UserOffsets[u];
            if (first < Log.UserOffsets[u + 1] && Log.TimestampMs[first] < cutMs)
            {
                users.Add(u);
            }
        }

        var columns = Columns.Length;
        var values = new float[users.Count * columns];
        var labels = new bool[users.Count];
        var endMs = cut.Add(horizon).ToUnixTimeMilliseconds();
        Parallel.For(0, users.Count, new ParallelOptions { CancellationToken = cancellationToken }, i =>
        {
            var u = users[i];
            var range = Log.RowsOf(u);
            ComputeRows(range.Start.Value, range.End.Value, u, cut, values.AsSpan(i * columns, columns));
            labels[i] = OrdersTarget(range.Start.Value, range.End.Value, cutMs, endMs);
        });

        return new PropensityCut(cut, [.. users], new FeatureMatrix(Columns, values), labels);
    }

    /// <summary>Whether the user ordered a target item in <c>[from, to)</c>; false for an empty window.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The user is not an index of the log.</exception>
    public bool OrderedTarget(int user, DateTimeOffset from, DateTimeOffset to)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)user, (uint)Log.UserCount, nameof(user));
        var range = Log.RowsOf(user);
        return OrdersTarget(range.Start.Value, range.End.Value, from.ToUnixTimeMilliseconds(), to.ToUnixTimeMilliseconds());
    }

    private bool OrdersTarget(int start, int end, long fromMs, long toMs)
    {
        var ts = Log.TimestampMs;
        for (var r = start; r < end; r++)
        {
            if (ts[r] >= toMs)
            {
                break;
            }

            if (ts[r] >= fromMs && Log.Type[r] == _orderCode && IsTargetItem(Log.Item[r]))
            {
                return true;
            }
        }

        return false;
    }

    private void ComputeRows(int start, int end, int user, DateTimeOffset cut, Span<float> f)
    {
        FillEmpty(f, cut);
        var cutMs = cut.ToUnixTimeMilliseconds();
        var d30 = cutMs - (long)(30 * MsPerDay);
        var d90 = cutMs - (long)(90 * MsPerDay);
        var d365 = cutMs - (long)(365 * MsPerDay);
        var yearAgo = cut.ToUniversalTime().AddYears(-1);
        var monthStart = new DateTimeOffset(yearAgo.Year, yearAgo.Month, 1, 0, 0, 0, TimeSpan.Zero);
        var seasonFrom = monthStart.AddMonths(-1).ToUnixTimeMilliseconds();
        var seasonTo = monthStart.AddMonths(2).ToUnixTimeMilliseconds();

        var ts = Log.TimestampMs;
        var items = Log.Item;
        var types = Log.Type;
        var weights = Log.Weight;
        var price = Log.Items.Price;
        long first = -1, lastEvent = -1, lastOrder = -1, lastTargetEvent = -1, lastTargetOrder = -1;
        float e30 = 0, e90 = 0, e365 = 0, o30 = 0, o90 = 0, o365 = 0, value = 0;
        double weight = 0, targetWeight = 0, target90 = 0, seasonEvents = 0;
        float targetOrders = 0, seasonOrders = 0;
        for (var r = start; r < end && ts[r] < cutMs; r++)
        {
            var t = ts[r];
            if (first < 0)
            {
                first = t;
            }

            lastEvent = t;
            var isOrder = types[r] == _orderCode;
            var isTarget = IsTargetItem(items[r]);
            weight += weights[r];
            if (t >= d365)
            {
                e365++;
                e90 += t >= d90 ? 1 : 0;
                e30 += t >= d30 ? 1 : 0;
            }

            if (isOrder)
            {
                lastOrder = t;
                if (t >= d365)
                {
                    o365++;
                    o90 += t >= d90 ? 1 : 0;
                    o30 += t >= d30 ? 1 : 0;
                    if (items[r] >= 0 && !float.IsNaN(price[items[r]]))
                    {
                        value += price[items[r]];
                    }
                }
            }

            if (!isTarget)
            {
                continue;
            }

            lastTargetEvent = t;
            targetWeight += weights[r];
            target90 += t >= d90 ? weights[r] : 0;
            var inSeason = t >= seasonFrom && t < seasonTo;
            seasonEvents += inSeason ? weights[r] : 0;
            if (isOrder)
            {
                lastTargetOrder = t;
                targetOrders++;
                seasonOrders += inSeason ? 1 : 0;
            }
        }

        f[0] = DaysBefore(cutMs, lastEvent);
        f[1] = DaysBefore(cutMs, lastOrder);
        f[2] = e30;
        f[3] = e90;
        f[4] = e365;
        f[5] = o30;
        f[6] = o90;
        f[7] = o365;
        f[8] = value;
        f[9] = weight > 0 ? (float)(targetWeight / weight) : 0f;
        f[10] = (float)target90;
        f[11] = targetOrders;
        f[12] = DaysBefore(cutMs, lastTargetEvent);
        f[13] = DaysBefore(cutMs, lastTargetOrder);
        f[14] = AlsAffinity(user);
        f[16] = seasonOrders;
        f[17] = (float)seasonEvents;
        f[18] = DaysBefore(cutMs, first);
    }

    private static void FillEmpty(Span<float> f, DateTimeOffset cut)
    {
        f.Clear();
        f[0] = float.NaN;
        f[1] = float.NaN;
        f[12] = float.NaN;
        f[13] = float.NaN;
        f[14] = float.NaN;
        f[15] = cut.ToUniversalTime().Month;
        f[18] = float.NaN;
    }

    private float AlsAffinity(int user)
    {
        if (_als is null || _alsCentroid is null || _als.UserDegree(user) == 0)
        {
            return float.NaN;
        }

        return TensorPrimitives.Dot(_als.UserVector(user), _alsCentroid);
    }

    private static float DaysBefore(long cutMs, long t) => t < 0 ? float.NaN : (float)((cutMs - t) / MsPerDay);

    private static bool[] MatchItems(ItemTable items, PropensityTarget target)
    {
        var match = new bool[items.Count];
        var index = -1;
        var names = target.Kind == PropensityTargetKind.Brand ? items.Brands : items.Categories;
        var comparison = target.Kind == PropensityTargetKind.Brand ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        for (var i = 0; i < names.Count; i++)
        {
            if (string.Equals(names[i], target.Name, comparison))
            {
                index = i;
                break;
            }
        }

        if (index < 0)
        {
            return match;
        }

        var column = target.Kind switch
        {
            PropensityTargetKind.TopCategory => items.TopCategoryIndex,
            PropensityTargetKind.Category => items.CategoryIndex,
            _ => items.BrandIndex,
        };
        for (var i = 0; i < match.Length; i++)
        {
            match[i] = column[i] == index;
        }

        return match;
    }

    // The mean of the trained target items' vectors: x_u · mean(y_i) is the mean of the ALS scores x_u · y_i.
    private static float[]? Centroid(AlsModel als, bool[] isTarget)
    {
        var centroid = new float[als.Factors];
        var n = 0;
        for (var i = 0; i < isTarget.Length; i++)
        {
            if (isTarget[i] && als.ItemDegree(i) > 0)
            {
                TensorPrimitives.Add(centroid, als.ItemVector(i), centroid);
                n++;
            }
        }

        if (n == 0)
        {
            return null;
        }

        TensorPrimitives.Multiply(centroid, 1f / n, centroid);
        return centroid;
    }
}

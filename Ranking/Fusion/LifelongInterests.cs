using System.Buffers;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using Ranking.Candidates;
using Ranking.Data;
using Ranking.Domain;

namespace Ranking.Fusion;

/// <summary>Settings of <see cref="LifelongInterestModel"/>: what training learns and how interests are read.</summary>
public sealed record LifelongInterestOptions
{
    /// <summary>Training ignores events after this time; null takes the newest event of the log.</summary>
    public DateTimeOffset? ReferenceTime { get; init; }

    /// <summary>A node with fewer orders than this keeps a flat season profile (all months 1).</summary>
    public int MinOrders { get; init; } = 10;

    /// <summary>
    /// Pseudo-orders per month that pull a node's season profile toward flat: a month's multiplier is
    /// (orders + prior) / (expected + prior), so a node with few orders stays close to 1.
    /// </summary>
    public double SeasonPrior { get; init; } = 10;

    /// <summary>Orders of one user in one node less than this many days apart are one purchase (a snowboard and the boots a
    /// week later), so the repurchase cycle is counted between purchases, not between the items of one.</summary>
    public double EpisodeGapDays { get; init; } = 30;

    /// <summary>A node's cycle is the median gap only when it has at least this many gaps; otherwise <see cref="DefaultCycleDays"/>.</summary>
    public int MinCycleGaps { get; init; } = 5;

    /// <summary>The repurchase cycle of a node with too few observed gaps.</summary>
    public double DefaultCycleDays { get; init; } = 365;

    /// <summary>An ordered interest is lifelong when its first order is at least this many days old ...</summary>
    public double LifelongDays { get; init; } = 180;

    /// <summary>... or when the user's events in it span at least this many days (she came back in another season).</summary>
    public double RecurrenceDays { get; init; } = 90;

    /// <summary>An event's weight in <see cref="UserInterest.Strength"/> halves every this many days.</summary>
    public double HalfLifeDays { get; init; } = 365;

    /// <summary>The decayed event weight at which strength reaches 0.5 (strength = s / (s + scale)); 10 is two fresh orders.</summary>
    public double StrengthScale { get; init; } = 10;

    /// <summary>Due looks at the season of this many days from now on: the season that is coming.</summary>
    public int DueWindowDays { get; init; } = 45;

    /// <summary><see cref="LifelongInterestModel.Revive"/> takes only interests at least this due.</summary>
    public double DueThreshold { get; init; } = 0.3;

    /// <summary><see cref="LifelongInterestModel.Revive"/> skips interests ordered in more recently than this (other
    /// sources cover recent purchases).</summary>
    public double MinOrderAgeDays { get; init; } = 60;

    /// <summary>Revive: the most recent ordered items of an interest that serve as anchors.</summary>
    public int AnchorsPerInterest { get; init; } = 5;

    /// <summary>Revive: complements asked of each anchor.</summary>
    public int ComplementsPerAnchor { get; init; } = 20;

    /// <summary>Revive: popular items taken of each leaf category of an interest and of its complements.</summary>
    public int PopularPerCategory { get; init; } = 10;

    /// <summary>Throws when an option is out of range.</summary>
    /// <exception cref="ArgumentException">A negative, zero where it must be positive, or non-finite value.</exception>
    public void Validate()
    {
        Positive(SeasonPrior, nameof(SeasonPrior), allowZero: true);
        Positive(EpisodeGapDays, nameof(EpisodeGapDays), allowZero: true);
        Positive(DefaultCycleDays, nameof(DefaultCycleDays), allowZero: false);
        Positive(LifelongDays, nameof(LifelongDays), allowZero: true);
        Positive(RecurrenceDays, nameof(RecurrenceDays), allowZero: true);
        Positive(HalfLifeDays, nameof(HalfLifeDays), allowZero: false);
        Positive(StrengthScale, nameof(StrengthScale), allowZero: false);
        Positive(DueThreshold, nameof(DueThreshold), allowZero: true);
        Positive(MinOrderAgeDays, nameof(MinOrderAgeDays), allowZero: true);
        if (MinOrders < 0 || MinCycleGaps < 1 || DueWindowDays < 1 || AnchorsPerInterest < 1 || ComplementsPerAnchor < 0 || PopularPerCategory < 0)
        {
            throw new ArgumentException(
                "MinOrders must be >= 0; MinCycleGaps, DueWindowDays and AnchorsPerInterest >= 1; ComplementsPerAnchor and PopularPerCategory >= 0.");
        }
    }

    private static void Positive(double value, string name, bool allowZero)
    {
        if (!double.IsFinite(value) || value < 0 || (!allowZero && value == 0))
        {
            throw new ArgumentException($"{name} must be finite and {(allowZero ? "not negative" : "positive")}; it was {value}.", name);
        }
    }
}

/// <summary>One interest of a user, as <see cref="LifelongInterestModel.Interests"/> reads it from her history.</summary>
/// <param name="Category">The interest node: an index into <see cref="LifelongInterestModel.Nodes"/>.</param>
/// <param name="Name">The node's path ("Sports/Winter").</param>
/// <param name="Strength">0–1: decayed event weight s as s / (s + <see cref="LifelongInterestOptions.StrengthScale"/>).</param>
/// <param name="FirstMs">Her first event in the node.</param>
/// <param name="LastMs">Her last event in the node (not after now).</param>
/// <param name="LastOrderMs">Her last order in the node; null when she never ordered there.</param>
/// <param name="Orders">Her orders in the node.</param>
/// <param name="Events">All her events in the node.</param>
/// <param name="IsLifelong">She ordered there and either the first order is old or she came back in another season.</param>
/// <param name="Due">0–1: the coming season of the node times how far she is into its repurchase cycle.</param>
/// <param name="EvidenceItems">The distinct items she ordered in the node, oldest first.</param>
public sealed record UserInterest(
    int Category, string Name, float Strength, long FirstMs, long LastMs, long? LastOrderMs, int Orders, int Events,
    bool IsLifelong, float Due, int[] EvidenceItems);

/// <summary>An item brought back by a due lifelong interest.</summary>
/// <param name="Item">Dense item index.</param>
/// <param name="Score">Due × strength × the normalised score of the source that found it; higher is better.</param>
/// <param name="Interest">The interest node (<see cref="LifelongInterestModel.Nodes"/>) it revives.</param>
/// <param name="AnchorItem">The ordered item it goes with ("because you bought a snowboard"), or -1.</param>
/// <param name="AnchorMs">When the anchor was last ordered; 0 without an anchor.</param>
public readonly record struct RevivedCandidate(int Item, float Score, int Interest, int AnchorItem, long AnchorMs);

/// <summary>
/// Long-horizon interests: the category clusters a user bought in, with each cluster's seasonal profile and
/// repurchase cycle learnt from the whole population, so that a snowboard bought last March makes boots, helmets and
/// goggles due again when the next winter comes.
/// </summary>
/// <remarks>
/// <para><b>Nodes.</b> An interest node is the parent of an item's category path: <c>Sports/Winter/Snowboards</c>
/// and <c>Sports/Winter/Helmets</c> are both <c>Sports/Winter</c>. Leaves alone are too sparse to learn a season
/// from, and the complements of a purchase usually sit under the same parent; top-level categories are too broad
/// (winter and summer sports would share one season). A path of one segment is its own node. Nodes are numbered in
/// <see cref="Nodes"/>; items of unknown category have none.</para>
/// <para><b>Orders.</b> Training counts events of type <c>order</c> (none when the registry has no such type: then every
/// season is flat and every cycle the default). A history without type codes counts an event as an order when its
/// weight is at least the order weight.</para>
/// <para><b>Thread safety.</b> Immutable once trained or loaded; every method may run concurrently.</para>
/// </remarks>
public sealed class LifelongInterestModel
{
    private const string ArtifactKind = "lifelong-interests";
    private const int ArtifactVersion = 1;
    private const double DayMs = 86_400_000.0;
    private const byte NoCode = byte.MaxValue;

    // Source weights of Revive: a learnt complement of the very item she bought says more than a bestseller of the node.
    private const float ComplementSourceWeight = 1f;
    private const float PopularSourceWeight = 0.6f;

    private readonly LifelongInterestOptions _options;
    private readonly string[] _nodes;
    private readonly int[] _itemNode;
    private readonly int[] _itemCategory;
    private readonly bool[] _sellable;
    private readonly float[] _season;
    private readonly float[] _seasonMax;
    private readonly float[] _cycleDays;
    private readonly int[] _nodeLeafOffsets;
    private readonly int[] _nodeLeaves;
    private readonly byte _orderCode;
    private readonly float _orderWeight;

    private LifelongInterestModel(
        LifelongInterestOptions options, long referenceMs, string[] nodes, int[] itemNode, int[] itemCategory, bool[] sellable,
        float[] season, float[] cycleDays, int[] nodeLeafOffsets, int[] nodeLeaves, byte orderCode, float orderWeight)
    {
        _options = options;
        ReferenceTimeMs = referenceMs;
        _nodes = nodes;
        _itemNode = itemNode;
        _itemCategory = itemCategory;
        _sellable = sellable;
        _season = season;
        _cycleDays = cycleDays;
        _nodeLeafOffsets = nodeLeafOffsets;
        _nodeLeaves = nodeLeaves;
        _orderCode = orderCode;
        _orderWeight = orderWeight;
        _seasonMax = new float[nodes.Length];
        for (var n = 0; n < nodes.Length; n++)
        {
            _seasonMax[n] = Math.Max(TensorPrimitives.Max(season.AsSpan(n * 12, 12)), float.Epsilon);
        }
    }

    /// <summary>Size of the item index space.</summary>
    public int ItemCount => _itemNode.Length;

    /// <summary>The newest event training counted (Unix milliseconds): a natural "now" for this model.</summary>
    public long ReferenceTimeMs { get; }

    /// <summary>The interest nodes (parent category paths), indexed by <see cref="UserInterest.Category"/>.</summary>
    public IReadOnlyList<string> Nodes => _nodes;

    /// <summary>The settings the model was trained and reads interests with.</summary>
    public LifelongInterestOptions Options => _options;

    /// <summary>The interest node of an item; -1 for an item out of range or of unknown category.</summary>
    public int NodeOf(int item) => (uint)item < (uint)_itemNode.Length ? _itemNode[item] : -1;

    /// <summary>The twelve monthly multipliers of a node's orders (January first), averaging 1.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The node is out of range.</exception>
    public ReadOnlySpan<float> SeasonProfile(int node)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)node, (uint)_nodes.Length, nameof(node));
        return _season.AsSpan(node * 12, 12);
    }

    /// <summary>A node's typical days between purchases (see <see cref="LifelongInterestOptions.EpisodeGapDays"/>).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The node is out of range.</exception>
    public float CycleDays(int node)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)node, (uint)_nodes.Length, nameof(node));
        return _cycleDays[node];
    }

    /// <summary>
    /// Learns each node's monthly order profile and repurchase cycle from the whole log. The profile corrects for
    /// the months the log covers (a log of 400 days holds some months twice); months it does not cover stay at 1.
    /// </summary>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public static LifelongInterestModel Train(InteractionLog log, LifelongInterestOptions? options = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(log);
        options ??= new LifelongInterestOptions();
        options.Validate();

        long reference = long.MinValue, first = long.MaxValue;
        foreach (var ts in log.TimestampMs)
        {
            reference = Math.Max(reference, ts);
            first = Math.Min(first, ts);
        }

        if (options.ReferenceTime is { } rt)
        {
            reference = rt.ToUnixTimeMilliseconds();
        }

        if (log.Count == 0)
        {
            reference = options.ReferenceTime?.ToUnixTimeMilliseconds() ?? 0;
            first = reference;
        }

        var items = log.Items;
        var (nodes, itemNode, leafOffsets, leaves) = BuildNodes(items, log.ItemCount);
        var sellable = new bool[log.ItemCount];
        for (var i = 0; i < sellable.Length; i++)
        {
            sellable[i] = items.IsKnown(i) && items.InStock[i] && float.IsFinite(items.Price[i]);
        }

        var orderCode = log.EventTypes.TryGetCode(EventTypeRegistry.Order, out var oc) ? oc : NoCode;
        var orderWeight = orderCode == NoCode ? float.PositiveInfinity : log.EventTypes.WeightOf(orderCode);

        var nodeCount = nodes.Length;
        var monthOrders = new double[nodeCount * 12];
        var totalOrders = new int[nodeCount];
        var gaps = new List<float>[nodeCount];
        for (var n = 0; n < nodeCount; n++)
        {
            gaps[n] = [];
        }

        // Per user and node: the start and the last order of the current purchase episode.
        var episodeStart = new long[nodeCount];
        var lastOrder = new long[nodeCount];
        Array.Fill(lastOrder, long.MinValue);
        var touched = new List<int>();
        var episodeGapMs = options.EpisodeGapDays * DayMs;
        for (var u = 0; u < log.UserCount; u++)
        {
            if ((u & 0x3FF) == 0)
            {
                ct.ThrowIfCancellationRequested();
            }

            for (var r = log.UserOffsets[u]; r < log.UserOffsets[u + 1]; r++)
            {
                var item = log.Item[r];
                var t = log.TimestampMs[r];
                if (item < 0 || log.Type[r] != orderCode || t > reference)
                {
                    continue;
                }

                var node = itemNode[item];
                if (node < 0)
                {
                    continue;
                }

                monthOrders[(node * 12) + MonthOf(t)]++;
                totalOrders[node]++;
                if (lastOrder[node] == long.MinValue)
                {
                    touched.Add(node);
                    episodeStart[node] = t;
                }
                else if (t - lastOrder[node] > episodeGapMs)
                {
                    gaps[node].Add((float)((t - episodeStart[node]) / DayMs));
                    episodeStart[node] = t;
                }

                lastOrder[node] = t;
            }

            foreach (var node in touched)
            {
                lastOrder[node] = long.MinValue;
            }

            touched.Clear();
        }

        var season = SeasonProfiles(monthOrders, totalOrders, CoveredDays(first, reference), options);
        var cycle = new float[nodeCount];
        for (var n = 0; n < nodeCount; n++)
        {
            cycle[n] = gaps[n].Count >= options.MinCycleGaps ? Median(gaps[n]) : (float)options.DefaultCycleDays;
        }

        return new LifelongInterestModel(
            options, reference, nodes, itemNode, (int[])items.CategoryIndex.Clone(), sellable, season, cycle, leafOffsets, leaves,
            orderCode, orderWeight);
    }

    /// <summary>
    /// The user's interests as of <paramref name="nowMs"/>: one per node she has an event in, strongest first (ties by
    /// node). Events after now, events without an item and items of unknown category are ignored; an empty or unknown
    /// history gives an empty list.
    /// </summary>
    public IReadOnlyList<UserInterest> Interests(in UserHistory history, long nowMs)
    {
        var items = history.Items.Span;
        if (items.IsEmpty)
        {
            return [];
        }

        var weights = history.Weights.Span;
        var times = history.TimestampsMs.Span;
        var types = history.Types.Span;
        var slot = ArrayPool<int>.Shared.Rent(_nodes.Length);
        var accs = new List<Accumulator>();
        var orders = new List<(int Slot, int Item)>();
        try
        {
            slot.AsSpan(0, _nodes.Length).Fill(-1);
            var decayPerMs = Math.Log(2) / (_options.HalfLifeDays * DayMs);
            for (var r = 0; r < items.Length; r++)
            {
                var item = items[r];
                var t = times[r];
                if ((uint)item >= (uint)_itemNode.Length || t > nowMs || _itemNode[item] < 0)
                {
                    continue;
                }

                var node = _itemNode[item];
                var s = slot[node];
                if (s < 0)
                {
                    s = slot[node] = accs.Count;
                    accs.Add(new Accumulator { Node = node, FirstMs = t, FirstOrderMs = long.MaxValue, LastOrderMs = long.MinValue });
                }

                ref var acc = ref CollectionsMarshal.AsSpan(accs)[s];
                acc.Events++;
                acc.LastMs = t;
                var w = weights[r];
                if (w > 0)
                {
                    acc.Weight += w * Math.Exp(-decayPerMs * (nowMs - t));
                }

                if (IsOrder(types, weights, r))
                {
                    acc.Orders++;
                    acc.FirstOrderMs = Math.Min(acc.FirstOrderMs, t);
                    acc.LastOrderMs = t;
                    orders.Add((s, item));
                }
            }
        }
        finally
        {
            ArrayPool<int>.Shared.Return(slot);
        }

        Span<float> window = stackalloc float[12];
        DueWindow(nowMs, _options.DueWindowDays, window);
        var result = new UserInterest[accs.Count];
        for (var s = 0; s < accs.Count; s++)
        {
            var a = accs[s];
            var hasOrder = a.Orders > 0;
            var lifelong = hasOrder
                && (nowMs - a.FirstOrderMs >= _options.LifelongDays * DayMs || a.LastMs - a.FirstMs >= _options.RecurrenceDays * DayMs);
            var strength = (float)(a.Weight / (a.Weight + _options.StrengthScale));
            var due = Due(a.Node, window, nowMs - (hasOrder ? a.LastOrderMs : a.LastMs));
            result[s] = new UserInterest(
                a.Node, _nodes[a.Node], strength, a.FirstMs, a.LastMs, hasOrder ? a.LastOrderMs : null, a.Orders, a.Events, lifelong, due,
                Evidence(orders, s));
        }

        Array.Sort(result, static (x, y) => x.Strength != y.Strength ? y.Strength.CompareTo(x.Strength) : x.Category.CompareTo(y.Category));
        return result;
    }

    /// <summary>
    /// Items that bring back her due lifelong interests: for each lifelong interest with Due at least
    /// <see cref="LifelongInterestOptions.DueThreshold"/> and a last order at least
    /// <see cref="LifelongInterestOptions.MinOrderAgeDays"/> old, the complements of her most recent ordered items in
    /// it and the popular items of its leaf categories and of those complements' categories. Score = Due × Strength ×
    /// the source's score normalised to (0, 1] (complements weigh 1, popular items 0.6). Only in-stock items with a
    /// known price; never an item of <paramref name="exclude"/>, an item she already ordered in that interest, or an
    /// item twice (the best score wins). Best first, ties by item; empty for an empty history or k = 0.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="k"/> is negative.</exception>
    public IReadOnlyList<RevivedCandidate> Revive(
        in UserHistory history, long nowMs, IItemSimilarity complements, PopularityModel popularity, int k, ReadOnlySpan<int> exclude = default)
    {
        ArgumentNullException.ThrowIfNull(complements);
        ArgumentNullException.ThrowIfNull(popularity);
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        if (k == 0 || history.IsEmpty)
        {
            return [];
        }

        var interests = Interests(history, nowMs);
        var excluded = exclude.ToArray();
        Array.Sort(excluded);
        var found = new List<RevivedCandidate>();
        var minAgeMs = _options.MinOrderAgeDays * DayMs;
        var categories = new List<(int Category, int Anchor)>();
        var popular = new List<(int Item, float Score, int Anchor)>();
        foreach (var interest in interests)
        {
            if (!interest.IsLifelong || interest.Due < _options.DueThreshold || interest.LastOrderMs is not { } lastOrder
                || nowMs - lastOrder < minAgeMs)
            {
                continue;
            }

            var factor = interest.Due * interest.Strength;
            var evidence = interest.EvidenceItems;
            var latest = evidence[^1];
            categories.Clear();
            for (var p = _nodeLeafOffsets[interest.Category]; p < _nodeLeafOffsets[interest.Category + 1]; p++)
            {
                categories.Add((_nodeLeaves[p], latest));
            }

            // The anchors: her most recent distinct ordered items of the interest, newest first.
            for (var e = evidence.Length - 1; e >= Math.Max(0, evidence.Length - _options.AnchorsPerInterest); e--)
            {
                var anchor = evidence[e];
                var anchorMs = LastOrderOf(history, anchor, nowMs);
                var similar = complements.Similar(anchor, _options.ComplementsPerAnchor);
                var top = similar.Count > 0 ? similar[0].Score : 0f;
                foreach (var c in similar)
                {
                    if (!(top > 0) || !Allowed(c.Item, excluded, evidence))
                    {
                        continue;
                    }

                    found.Add(new RevivedCandidate(c.Item, factor * ComplementSourceWeight * (c.Score / top), interest.Category, anchor, anchorMs));
                    var category = _itemCategory[c.Item];
                    if (category >= 0 && !Contains(categories, category))
                    {
                        categories.Add((category, anchor));
                    }
                }
            }

            popular.Clear();
            var best = 0f;
            foreach (var (category, anchor) in categories)
            {
                foreach (var p in popularity.TopInCategory(category, _options.PopularPerCategory))
                {
                    // Normalised before filtering, so excluding an item does not change the others' scores.
                    best = Math.Max(best, p.Score);
                    if (Allowed(p.Item, excluded, evidence) && p.Score > 0)
                    {
                        popular.Add((p.Item, p.Score, anchor));
                    }
                }
            }

            foreach (var (item, score, anchor) in popular)
            {
                found.Add(new RevivedCandidate(item, factor * PopularSourceWeight * (score / best), interest.Category, anchor, LastOrderOf(history, anchor, nowMs)));
            }
        }

        return BestDistinct(found, k);
    }

    /// <summary>Writes the model as an artifact (see <see cref="ArtifactWriter"/>).</summary>
    public void Save(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var w = new ArtifactWriter(stream, ArtifactKind, ArtifactVersion, ItemCount);
        var o = _options;
        w.Write(ReferenceTimeMs);
        w.Write(o.MinOrders);
        w.Write(o.SeasonPrior);
        w.Write(o.EpisodeGapDays);
        w.Write(o.MinCycleGaps);
        w.Write(o.DefaultCycleDays);
        w.Write(o.LifelongDays);
        w.Write(o.RecurrenceDays);
        w.Write(o.HalfLifeDays);
        w.Write(o.StrengthScale);
        w.Write(o.DueWindowDays);
        w.Write(o.DueThreshold);
        w.Write(o.MinOrderAgeDays);
        w.Write(o.AnchorsPerInterest);
        w.Write(o.ComplementsPerAnchor);
        w.Write(o.PopularPerCategory);
        w.Write((int)_orderCode);
        w.Write(_orderWeight);
        w.WriteStrings(_nodes);
        w.WriteArray<int>(_itemNode);
        w.WriteArray<int>(_itemCategory);
        w.WriteArray<byte>(Array.ConvertAll(_sellable, static x => x ? (byte)1 : (byte)0));
        w.WriteArray<float>(_season);
        w.WriteArray<float>(_cycleDays);
        w.WriteArray<int>(_nodeLeafOffsets);
        w.WriteArray<int>(_nodeLeaves);
    }

    /// <summary>Reads a model written by <see cref="Save"/>.</summary>
    /// <exception cref="InvalidDataException">Not a lifelong-interest artifact of this version, truncated, or inconsistent.</exception>
    public static LifelongInterestModel Load(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var r = new ArtifactReader(stream, ArtifactKind, ArtifactVersion);
        var reference = r.ReadInt64();
        var options = new LifelongInterestOptions
        {
            ReferenceTime = DateTimeOffset.FromUnixTimeMilliseconds(Math.Clamp(reference, -62_135_596_800_000L, 253_402_300_799_999L)),
            MinOrders = r.ReadInt32(),
            SeasonPrior = r.ReadDouble(),
            EpisodeGapDays = r.ReadDouble(),
            MinCycleGaps = r.ReadInt32(),
            DefaultCycleDays = r.ReadDouble(),
            LifelongDays = r.ReadDouble(),
            RecurrenceDays = r.ReadDouble(),
            HalfLifeDays = r.ReadDouble(),
            StrengthScale = r.ReadDouble(),
            DueWindowDays = r.ReadInt32(),
            DueThreshold = r.ReadDouble(),
            MinOrderAgeDays = r.ReadDouble(),
            AnchorsPerInterest = r.ReadInt32(),
            ComplementsPerAnchor = r.ReadInt32(),
            PopularPerCategory = r.ReadInt32(),
        };
        var orderCode = r.ReadInt32();
        var orderWeight = r.ReadSingle();
        var nodes = r.ReadStrings();
        var itemNode = r.ReadArray<int>();
        var itemCategory = r.ReadArray<int>();
        var sellable = Array.ConvertAll(r.ReadArray<byte>(), static x => x != 0);
        var season = r.ReadArray<float>();
        var cycle = r.ReadArray<float>();
        var leafOffsets = r.ReadArray<int>();
        var leaves = r.ReadArray<int>();
        try
        {
            options.Validate();
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException("The lifelong-interest artifact holds invalid options.", e);
        }

        var n = nodes.Length;
        Check(orderCode is >= 0 and <= NoCode && !float.IsNaN(orderWeight), "bad order type");
        Check(itemNode.Length == r.ItemCount && itemCategory.Length == r.ItemCount && sellable.Length == r.ItemCount, "item arrays do not match the item count");
        Check(season.Length == n * 12 && cycle.Length == n && leafOffsets.Length == n + 1, "node arrays do not match the node count");
        Check(leafOffsets[0] == 0 && leafOffsets[^1] == leaves.Length, "leaf offsets do not match");
        for (var i = 0; i < n; i++)
        {
            Check(leafOffsets[i] <= leafOffsets[i + 1] && float.IsFinite(cycle[i]) && cycle[i] > 0, "bad node data");
        }

        foreach (var node in itemNode)
        {
            Check(node >= -1 && node < n, "an item node is out of range");
        }

        foreach (var s in season)
        {
            Check(float.IsFinite(s) && s > 0, "a season multiplier is not positive and finite");
        }

        return new LifelongInterestModel(
            options, reference, nodes, itemNode, itemCategory, sellable, season, cycle, leafOffsets, leaves, (byte)orderCode, orderWeight);
    }

    private static void Check(bool condition, string what)
    {
        if (!condition)
        {
            throw new InvalidDataException($"The lifelong-interest artifact is inconsistent: {what}.");
        }
    }

    private bool IsOrder(ReadOnlySpan<byte> types, ReadOnlySpan<float> weights, int r) =>
        types.IsEmpty ? weights[r] >= _orderWeight : types[r] == _orderCode && _orderCode != NoCode;

    private float Due(int node, ReadOnlySpan<float> window, long sinceMs)
    {
        var upcoming = 0f;
        var season = _season.AsSpan(node * 12, 12);
        for (var m = 0; m < 12; m++)
        {
            upcoming += window[m] * season[m];
        }

        var seasonal = upcoming / _seasonMax[node];
        var cycle = (float)Math.Clamp(sinceMs / (_cycleDays[node] * DayMs), 0, 1);
        return Math.Clamp(seasonal * cycle, 0f, 1f);
    }

    private bool Allowed(int item, int[] excludedSorted, int[] evidence) =>
        (uint)item < (uint)_sellable.Length && _sellable[item] && Array.BinarySearch(excludedSorted, item) < 0
        && Array.IndexOf(evidence, item) < 0;

    private long LastOrderOf(in UserHistory history, int item, long nowMs)
    {
        var items = history.Items.Span;
        var times = history.TimestampsMs.Span;
        var types = history.Types.Span;
        var weights = history.Weights.Span;
        for (var r = items.Length - 1; r >= 0; r--)
        {
            if (items[r] == item && times[r] <= nowMs && IsOrder(types, weights, r))
            {
                return times[r];
            }
        }

        return 0;
    }

    private static List<RevivedCandidate> BestDistinct(List<RevivedCandidate> found, int k)
    {
        // By item, best first, so the first of each run is the one kept.
        found.Sort(static (a, b) => a.Item != b.Item ? a.Item.CompareTo(b.Item) : b.Score.CompareTo(a.Score));
        var distinct = new List<RevivedCandidate>(found.Count);
        for (var i = 0; i < found.Count; i++)
        {
            if (i == 0 || found[i].Item != found[i - 1].Item)
            {
                distinct.Add(found[i]);
            }
        }

        distinct.Sort(static (a, b) => a.Score != b.Score ? b.Score.CompareTo(a.Score) : a.Item.CompareTo(b.Item));
        if (distinct.Count > k)
        {
            distinct.RemoveRange(k, distinct.Count - k);
        }

        return distinct;
    }

    private static bool Contains(List<(int Category, int Anchor)> categories, int category)
    {
        foreach (var (c, _) in categories)
        {
            if (c == category)
            {
                return true;
            }
        }

        return false;
    }

    private static int[] Evidence(List<(int Slot, int Item)> orders, int slot)
    {
        var result = new List<int>();
        foreach (var (s, item) in orders)
        {
            if (s == slot && !result.Contains(item))
            {
                result.Add(item);
            }
        }

        return [.. result];
    }

    private static int MonthOf(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms).Month - 1;

    /// <summary>The share of the next <paramref name="days"/> days (from the day of now) that falls in each month.</summary>
    private static void DueWindow(long nowMs, int days, Span<float> shares)
    {
        shares.Clear();
        var day = DateTimeOffset.FromUnixTimeMilliseconds(nowMs).UtcDateTime.Date;
        for (var d = 0; d < days; d++)
        {
            shares[day.AddDays(d).Month - 1] += 1f / days;
        }
    }

    /// <summary>Days the span [first, last] covers in each month of the year.</summary>
    private static double[] CoveredDays(long firstMs, long lastMs)
    {
        var days = new double[12];
        if (lastMs < firstMs)
        {
            return days;
        }

        var day = DateTimeOffset.FromUnixTimeMilliseconds(firstMs).UtcDateTime.Date;
        var last = DateTimeOffset.FromUnixTimeMilliseconds(lastMs).UtcDateTime.Date;
        for (; day <= last; day = day.AddDays(1))
        {
            days[day.Month - 1]++;
        }

        return days;
    }

    private static float[] SeasonProfiles(double[] monthOrders, int[] totalOrders, double[] coveredDays, LifelongInterestOptions options)
    {
        var nodeCount = totalOrders.Length;
        var season = new float[nodeCount * 12];
        Array.Fill(season, 1f);
        var totalDays = coveredDays.Sum();
        for (var n = 0; n < nodeCount; n++)
        {
            if (totalOrders[n] < Math.Max(1, options.MinOrders) || totalDays <= 0)
            {
                continue;
            }

            var profile = season.AsSpan(n * 12, 12);
            for (var m = 0; m < 12; m++)
            {
                if (coveredDays[m] > 0)
                {
                    var expected = totalOrders[n] * coveredDays[m] / totalDays;
                    var value = (monthOrders[(n * 12) + m] + options.SeasonPrior) / (expected + options.SeasonPrior);

                    // A prior of 0 on a covered month without orders would give a multiplier of 0; keep every month positive.
                    profile[m] = (float)Math.Max(value, 1e-3);
                }
            }

            FillUncovered(profile, coveredDays);
            var sum = 0f;
            foreach (var v in profile)
            {
                sum += v;
            }

            var scale = 12 / sum;
            for (var m = 0; m < 12; m++)
            {
                profile[m] *= scale;
            }
        }

        return season;
    }

    /// <summary>
    /// A month the log does not cover takes the value between its nearest covered months on either side (the year is a
    /// circle), by distance: a log that ends in June still sees July as the slope from June toward September, not as
    /// an average month.
    /// </summary>
    private static void FillUncovered(Span<float> profile, double[] coveredDays)
    {
        for (var m = 0; m < 12; m++)
        {
            if (coveredDays[m] > 0)
            {
                continue;
            }

            int before = 1, after = 1;
            while (before < 12 && coveredDays[(m - before + 12) % 12] <= 0)
            {
                before++;
            }

            while (after < 12 && coveredDays[(m + after) % 12] <= 0)
            {
                after++;
            }

            if (before == 12)
            {
                return; // Nothing covered: the profile stays flat.
            }

            var from = profile[(m - before + 12) % 12];
            var to = profile[(m + after) % 12];
            profile[m] = from + ((to - from) * before / (before + after));
        }
    }

    private static (string[] Nodes, int[] ItemNode, int[] LeafOffsets, int[] Leaves) BuildNodes(ItemTable items, int itemCount)
    {
        var categoryNode = new int[items.Categories.Count];
        Array.Fill(categoryNode, -1);
        var names = new List<string>();
        var byName = new Dictionary<string, int>(StringComparer.Ordinal);
        var itemNode = new int[itemCount];
        Array.Fill(itemNode, -1);
        for (var i = 0; i < itemCount; i++)
        {
            var c = items.CategoryIndex[i];
            if (c < 0)
            {
                continue;
            }

            if (categoryNode[c] < 0)
            {
                var path = items.Categories[c];
                var slash = path.LastIndexOf(CategoryPath.Separator);
                var name = slash > 0 ? path[..slash] : path;
                if (!byName.TryGetValue(name, out var node))
                {
                    node = names.Count;
                    byName.Add(name, node);
                    names.Add(name);
                }

                categoryNode[c] = node;
            }

            itemNode[i] = categoryNode[c];
        }

        // Leaf categories of each node, ascending, as CSR.
        var offsets = new int[names.Count + 1];
        for (var c = 0; c < categoryNode.Length; c++)
        {
            if (categoryNode[c] >= 0)
            {
                offsets[categoryNode[c] + 1]++;
            }
        }

        for (var n = 0; n < names.Count; n++)
        {
            offsets[n + 1] += offsets[n];
        }

        var leaves = new int[offsets[^1]];
        var cursor = offsets[..^1];
        for (var c = 0; c < categoryNode.Length; c++)
        {
            if (categoryNode[c] >= 0)
            {
                leaves[cursor[categoryNode[c]]++] = c;
            }
        }

        return ([.. names], itemNode, offsets, leaves);
    }

    private static float Median(List<float> values)
    {
        values.Sort();
        var n = values.Count;
        return n % 2 == 1 ? values[n / 2] : (values[(n / 2) - 1] + values[n / 2]) / 2;
    }

    private struct Accumulator
    {
        public int Node;
        public long FirstMs;
        public long LastMs;
        public long FirstOrderMs;
        public long LastOrderMs;
        public int Orders;
        public int Events;
        public double Weight;
    }
}

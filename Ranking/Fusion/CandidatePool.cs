using System.Buffers;
using Ranking.Candidates;

namespace Ranking.Fusion;

/// <summary>Where a candidate came from. The order is the order of the source columns in the fusion features.</summary>
public enum CandidateSource
{
    /// <summary>The transformer over the user's event sequence.</summary>
    Transformer,

    /// <summary>ALS user-item affinity.</summary>
    Als,

    /// <summary>Co-occurrence analogs of the user's recent items (co-views within sessions).</summary>
    Analogs,

    /// <summary>Co-occurrence complements of the user's orders (bought after them, in other categories).</summary>
    Complements,

    /// <summary>Text-embedding neighbours of the user's recent items.</summary>
    Content,

    /// <summary>A lifelong interest that is due again (its season or cycle), revived through complements and category tops.</summary>
    Lifelong,

    /// <summary>A category or brand new to the user, adjacent to her interests.</summary>
    Discovery,

    /// <summary>Time-decayed popularity.</summary>
    Popularity,
}

/// <summary>What a user's history says about her tastes, computed once per request for the features and explanations.</summary>
public sealed class UserProfile
{
    private readonly Dictionary<int, float> _category = [];
    private readonly Dictionary<int, float> _brand = [];
    private readonly Dictionary<int, long> _lastInTop = [];
    private readonly Dictionary<int, (long Ms, byte Type)> _itemLast = [];
    private readonly HashSet<int> _ordered = [];

    /// <summary>Builds the profile of a history at time <paramref name="nowMs"/>.</summary>
    public UserProfile(ServingCatalog catalog, in UserHistory history, long nowMs)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        NowMs = nowMs;
        var items = history.Items.Span;
        var weights = history.Weights.Span;
        var times = history.TimestampsMs.Span;
        var types = history.Types.Span;
        var table = catalog.Items;
        var total = 0f;
        for (var r = 0; r < items.Length; r++)
        {
            var item = items[r];
            if (item < 0)
            {
                continue;
            }

            var w = weights[r];
            total += w;
            Add(_category, table.CategoryIndex[item], w);
            Add(_category, table.TopCategoryIndex[item], w);
            Add(_brand, table.BrandIndex[item], w);
            var top = table.TopCategoryIndex[item];
            if (top >= 0)
            {
                _lastInTop[top] = Math.Max(_lastInTop.GetValueOrDefault(top), times[r]);
            }

            var type = types.IsEmpty ? (byte)0 : types[r];
            _itemLast[item] = (times[r], type);
            if (!types.IsEmpty && type == catalog.OrderCode)
            {
                _ordered.Add(item);
            }
        }

        TotalWeight = total;
        EventCount = items.Length;
    }

    /// <summary>The request time (Unix ms).</summary>
    public long NowMs { get; }

    /// <summary>
    /// The user's interest in an item's category, 0–1: from a category-interest profile given with the request (an LLM's
    /// reading of her history, when enabled) or else the lifelong-interest statistics. Set by the pipeline.
    /// </summary>
    public Func<int, float> InterestOf { get; internal set; } = static _ => 0;

    /// <summary>Number of events in the history.</summary>
    public int EventCount { get; }

    /// <summary>Sum of the event weights with an item.</summary>
    public float TotalWeight { get; }

    /// <summary>True when the history has no item events.</summary>
    public bool IsCold => TotalWeight <= 0;

    /// <summary>Share of the user's weighted events in a category (leaf or top-level index), 0–1.</summary>
    public float CategoryAffinity(int category) =>
        category >= 0 && TotalWeight > 0 && _category.TryGetValue(category, out var w) ? w / TotalWeight : 0;

    /// <summary>Share of the user's weighted events on a brand, 0–1.</summary>
    public float BrandAffinity(int brand) =>
        brand >= 0 && TotalWeight > 0 && _brand.TryGetValue(brand, out var w) ? w / TotalWeight : 0;

    /// <summary>Days since the user's last event in a top-level category, or null when she never had one.</summary>
    public double? DaysSinceTop(int top) =>
        top >= 0 && _lastInTop.TryGetValue(top, out var ms) ? Math.Max(0, (NowMs - ms) / 86_400_000.0) : null;

    /// <summary>True when the user interacted with the item.</summary>
    public bool HasSeen(int item) => _itemLast.ContainsKey(item);

    /// <summary>True when the user ordered the item.</summary>
    public bool HasOrdered(int item) => _ordered.Contains(item);

    /// <summary>True when the user engaged with the category (leaf or top-level index).</summary>
    public bool KnowsCategory(int category) => category >= 0 && _category.ContainsKey(category);

    /// <summary>True when the user engaged with the brand.</summary>
    public bool KnowsBrand(int brand) => brand >= 0 && _brand.ContainsKey(brand);

    private static void Add(Dictionary<int, float> map, int key, float w)
    {
        if (key >= 0)
        {
            map[key] = map.GetValueOrDefault(key) + w;
        }
    }
}

/// <summary>Why a discovery or lifelong candidate is there: the anchor of its explanation.</summary>
public readonly record struct CandidateReason(int AnchorItem, long AnchorMs, int Node, int BecauseNode, bool NewBrand);

/// <summary>
/// The candidates of one request: each source's full-catalogue score vector (so every candidate has every source's
/// score, not only the sources that proposed it), the rank of the candidate in each source's top list, and the
/// reasons of the sparse sources (lifelong interests and discovery).
/// </summary>
public sealed class CandidatePool : IDisposable
{
    /// <summary>Number of sources (columns per source in the features).</summary>
    public static readonly int SourceCount = Enum.GetValues<CandidateSource>().Length;

    private readonly float[]?[] _vectors = new float[SourceCount][];
    private readonly Dictionary<int, float>[] _sparse = new Dictionary<int, float>[SourceCount];
    private readonly Dictionary<int, int>[] _ranks = new Dictionary<int, int>[SourceCount];
    private readonly Dictionary<int, CandidateReason> _reasons = [];
    private readonly List<int> _items = [];
    private readonly HashSet<int> _itemSet = [];
    private readonly int _itemCount;

    /// <summary>An empty pool over an item space.</summary>
    public CandidatePool(int itemCount)
    {
        _itemCount = itemCount;
        for (var s = 0; s < SourceCount; s++)
        {
            _sparse[s] = [];
            _ranks[s] = [];
        }
    }

    /// <summary>The candidates in the order they were first proposed.</summary>
    public IReadOnlyList<int> Items => _items;

    /// <summary>Number of candidates.</summary>
    public int Count => _items.Count;

    /// <summary>The sources that proposed at least one candidate.</summary>
    public IEnumerable<CandidateSource> Served => Enum.GetValues<CandidateSource>().Where(s => _ranks[(int)s].Count > 0);

    /// <summary>A pooled score vector for a dense source, to be filled by the caller and then proposed from.</summary>
    public float[] RentVector(CandidateSource source)
    {
        var v = _vectors[(int)source] ??= ArrayPool<float>.Shared.Rent(_itemCount);
        return v;
    }

    /// <summary>Drops a dense source's vector (its generator failed or had nothing to say).</summary>
    public void DropVector(CandidateSource source)
    {
        if (_vectors[(int)source] is { } v)
        {
            ArrayPool<float>.Shared.Return(v);
            _vectors[(int)source] = null;
        }
    }

    /// <summary>Proposes the source's top <paramref name="k"/> of its vector, skipping items <paramref name="skip"/> rejects.</summary>
    public void ProposeTop(CandidateSource source, int k, Func<int, bool> skip)
    {
        var v = _vectors[(int)source] ?? throw new InvalidOperationException($"No vector was rented for {source}.");
        var scores = v.AsSpan(0, _itemCount);
        var rented = ArrayPool<float>.Shared.Rent(_itemCount);
        var buffer = rented.AsSpan(0, _itemCount);
        scores.CopyTo(buffer);
        for (var i = 0; i < buffer.Length; i++)
        {
            if (!float.IsFinite(buffer[i]) || skip(i))
            {
                buffer[i] = float.NegativeInfinity;
            }
        }

        var top = TopKSelector.Select(buffer, k);
        ArrayPool<float>.Shared.Return(rented);
        for (var r = 0; r < top.Length; r++)
        {
            if (float.IsFinite(top[r].Score))
            {
                Add(source, top[r].Item, r);
            }
        }
    }

    /// <summary>Proposes a sparse list (best first) with its scores and optional reasons.</summary>
    public void Propose(CandidateSource source, IReadOnlyList<ScoredItem> items, Func<int, bool> skip, Func<int, CandidateReason?>? reason = null)
    {
        ArgumentNullException.ThrowIfNull(items);
        var rank = 0;
        foreach (var (item, score) in items)
        {
            if ((uint)item >= (uint)_itemCount || skip(item) || _sparse[(int)source].ContainsKey(item))
            {
                continue;
            }

            _sparse[(int)source][item] = score;
            if (reason?.Invoke(item) is { } why)
            {
                _reasons.TryAdd(item, why);
            }

            Add(source, item, rank++);
        }
    }

    /// <summary>The source's score of an item (0 when it has none).</summary>
    public float Score(CandidateSource source, int item)
    {
        if (_vectors[(int)source] is { } v)
        {
            var s = v[item];
            return float.IsFinite(s) ? s : 0;
        }

        return _sparse[(int)source].GetValueOrDefault(item);
    }

    /// <summary>The candidate's rank in the source's top list (0 = first), or -1 when the source did not propose it.</summary>
    public int Rank(CandidateSource source, int item) => _ranks[(int)source].TryGetValue(item, out var r) ? r : -1;

    /// <summary>The reason of a lifelong or discovery candidate, if it has one.</summary>
    public CandidateReason? Reason(int item) => _reasons.TryGetValue(item, out var r) ? r : null;

    /// <summary>The sources that proposed the item, best rank first.</summary>
    public IReadOnlyList<CandidateSource> SourcesOf(int item)
    {
        var list = new List<(CandidateSource S, int Rank)>();
        for (var s = 0; s < SourceCount; s++)
        {
            if (_ranks[s].TryGetValue(item, out var r))
            {
                list.Add(((CandidateSource)s, r));
            }
        }

        return [.. list.OrderBy(p => p.Rank).ThenBy(p => p.S).Select(p => p.S)];
    }

    public void Dispose()
    {
        for (var s = 0; s < SourceCount; s++)
        {
            DropVector((CandidateSource)s);
        }
    }

    private void Add(CandidateSource source, int item, int rank)
    {
        _ranks[(int)source].TryAdd(item, rank);
        if (_itemSet.Add(item))
        {
            _items.Add(item);
        }
    }
}

/// <summary>The fusion model's feature row of a candidate: every source's score and reciprocal rank, then item and
/// user-item features. One definition for training and serving.</summary>
public static class FusionFeatures
{
    private static readonly string[] ItemColumns =
    [
        "log_price", "margin_share", "log_margin", "log_popularity", "log_item_age_days",
        "category_affinity", "top_category_affinity", "brand_affinity", "new_category", "new_top_category", "new_brand",
        "log_days_since_interest", "seen_item", "ordered_item", "log_history_length", "interest_strength",
    ];

    /// <summary>The column names, in order.</summary>
    public static IReadOnlyList<string> Names { get; } =
    [
        .. Enum.GetValues<CandidateSource>().SelectMany(s => new[] { $"{Lower(s)}_score", $"{Lower(s)}_rrank" }),
        .. ItemColumns,
    ];

    /// <summary>Number of columns.</summary>
    public static int Count => Names.Count;

    /// <summary>Writes the features of one candidate into <paramref name="row"/> (length <see cref="Count"/>).</summary>
    public static void Fill(CandidatePool pool, UserProfile profile, ServingCatalog catalog, PopularityModel popularity, int item, Span<float> row)
    {
        ArgumentNullException.ThrowIfNull(pool);
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(popularity);
        var c = 0;
        for (var s = 0; s < CandidatePool.SourceCount; s++)
        {
            var source = (CandidateSource)s;
            row[c++] = pool.Score(source, item);
            var rank = pool.Rank(source, item);
            row[c++] = rank < 0 ? 0 : 1f / (1 + rank);
        }

        var table = catalog.Items;
        var price = catalog.PriceOf(item);
        var margin = catalog.MarginOf(item);
        row[c++] = MathF.Log(1 + price);
        row[c++] = price > 0 ? margin / price : 0;
        row[c++] = MathF.Sign(margin) * MathF.Log(1 + MathF.Abs(margin));
        var pop = popularity.Scores[item];
        row[c++] = MathF.Log(1 + Math.Max(0, pop));
        var created = table.CreatedAtMs[item];
        row[c++] = created > 0 ? MathF.Log(1 + (float)Math.Max(0, (profile.NowMs - created) / 86_400_000.0)) : -1;
        var leaf = table.CategoryIndex[item];
        var top = table.TopCategoryIndex[item];
        var brand = table.BrandIndex[item];
        row[c++] = profile.CategoryAffinity(leaf);
        row[c++] = profile.CategoryAffinity(top);
        row[c++] = profile.BrandAffinity(brand);
        row[c++] = !profile.IsCold && !profile.KnowsCategory(leaf) ? 1 : 0;
        row[c++] = !profile.IsCold && !profile.KnowsCategory(top) ? 1 : 0;
        row[c++] = !profile.IsCold && brand >= 0 && !profile.KnowsBrand(brand) ? 1 : 0;
        row[c++] = profile.DaysSinceTop(top) is { } days ? MathF.Log(1 + (float)days) : 10;
        row[c++] = profile.HasSeen(item) ? 1 : 0;
        row[c++] = profile.HasOrdered(item) ? 1 : 0;
        row[c++] = MathF.Log(1 + profile.EventCount);
        row[c++] = profile.InterestOf(item);
    }

    private static string Lower(CandidateSource s) => s.ToString().ToLowerInvariant();
}

using Ranking.Candidates;
using Ranking.Data;
using Ranking.Domain;

namespace Ranking.Fusion;

/// <summary>
/// What serving needs of the training data without its events: the item and user index maps, the item table (category,
/// brand, price, cost, stock) as of training, the event-type weights, and per-category statistics (is the category
/// bought repeatedly, its typical margin share). Turns a user's events from the store into a <see cref="UserHistory"/>
/// in the models' index space, so answers use events that arrived after training.
/// </summary>
public sealed class ServingCatalog
{
    private const string Kind = "serving-catalog";
    private const int Version = 2;

    private readonly string[] _itemIds;
    private readonly string[] _userIds;
    private readonly Dictionary<string, int> _itemIndex;
    private readonly Dictionary<string, int> _userIndex;
    private readonly float[] _repeatShare;
    private readonly float[] _marginShare;
    private readonly Dictionary<string, byte> _surfaceCodes;

    private ServingCatalog(
        string[] itemIds, string[] userIds, ItemTable items, EventTypeRegistry eventTypes, float[] repeatShare, float[] marginShare,
        float defaultMarginShare, long trainedUntilMs, string[] surfaces)
    {
        _itemIds = itemIds;
        Surfaces = surfaces;
        _surfaceCodes = new Dictionary<string, byte>(StringComparer.Ordinal);
        for (var k = 0; k < surfaces.Length; k++)
        {
            _surfaceCodes[surfaces[k]] = (byte)(k + 1);
        }

        _userIds = userIds;
        Items = items;
        EventTypes = eventTypes;
        _repeatShare = repeatShare;
        _marginShare = marginShare;
        DefaultMarginShare = defaultMarginShare;
        TrainedUntilMs = trainedUntilMs;
        _itemIndex = new Dictionary<string, int>(itemIds.Length, StringComparer.Ordinal);
        for (var i = 0; i < itemIds.Length; i++)
        {
            _itemIndex[itemIds[i]] = i;
        }

        _userIndex = new Dictionary<string, int>(userIds.Length, StringComparer.Ordinal);
        for (var u = 0; u < userIds.Length; u++)
        {
            _userIndex[userIds[u]] = u;
        }

        OrderCode = eventTypes.TryGetCode(EventTypeRegistry.Order, out var order) ? order : byte.MaxValue;
        CartCode = eventTypes.TryGetCode(EventTypeRegistry.Cart, out var cart) ? cart : byte.MaxValue;
    }

    /// <summary>Share of a category's orders that repeat an item the user had already ordered, above which
    /// ordered items of the category stay recommendable (consumables, not snowboards).</summary>
    public const float RepeatableShare = 0.1f;

    /// <summary>The training log's surface names: a history's surface code c is <c>Surfaces[c - 1]</c> (0: none or unknown).</summary>
    public IReadOnlyList<string> Surfaces { get; }

    /// <summary>The surface code of a name; 0 when the training log never named it.</summary>
    public byte SurfaceCode(string? surface) => surface is not null && _surfaceCodes.TryGetValue(surface, out var code) ? code : (byte)0;

    /// <summary>Items in the models' index order, with their attributes at training time.</summary>
    public ItemTable Items { get; }

    /// <summary>The event types and weights the models were trained with.</summary>
    public EventTypeRegistry EventTypes { get; }

    /// <summary>Number of items in the index space.</summary>
    public int ItemCount => _itemIds.Length;

    /// <summary>Number of users the models were trained on.</summary>
    public int UserCount => _userIds.Length;

    /// <summary>Median margin share over items with a known cost; used for items whose category has none.</summary>
    public float DefaultMarginShare { get; }

    /// <summary>The time of the last training event (Unix ms).</summary>
    public long TrainedUntilMs { get; }

    /// <summary>Type code of orders, or 255 when the registry has none.</summary>
    public byte OrderCode { get; }

    /// <summary>Type code of add-to-cart events, or 255 when the registry has none.</summary>
    public byte CartCode { get; }

    public string ItemId(int item) => _itemIds[item];

    public string UserId(int user) => _userIds[user];

    public bool TryGetItem(string itemId, out int item) => _itemIndex.TryGetValue(itemId, out item);

    public bool TryGetUser(string userId, out int user) => _userIndex.TryGetValue(userId, out user);

    /// <summary>True when ordered items of the item's category are bought again often enough to recommend again.</summary>
    public bool IsRepeatable(int item)
    {
        var c = Items.CategoryIndex[item];
        return c >= 0 && _repeatShare[c] >= RepeatableShare;
    }

    /// <summary>The item's margin (price minus cost), or an estimate from its category's typical margin share when the
    /// cost is unknown; 0 when the price is unknown too.</summary>
    public float MarginOf(int item)
    {
        var price = Items.Price[item];
        if (float.IsNaN(price))
        {
            return 0;
        }

        var cost = Items.Cost[item];
        if (!float.IsNaN(cost))
        {
            return price - cost;
        }

        var c = Items.CategoryIndex[item];
        var share = c >= 0 && !float.IsNaN(_marginShare[c]) ? _marginShare[c] : DefaultMarginShare;
        return price * share;
    }

    /// <summary>The value of an item for the business objective: (1 - w) · price + w · margin, never below 0.</summary>
    public double ValueOf(int item, double marginWeight) =>
        Math.Max(0, ((1 - marginWeight) * PriceOf(item)) + (marginWeight * MarginOf(item)));

    /// <summary>The item's price, or 0 when unknown.</summary>
    public float PriceOf(int item) => Items.Price[item] is var p && float.IsNaN(p) ? 0 : p;

    /// <summary>Builds the serving catalog of a training log.</summary>
    public static ServingCatalog FromLog(InteractionLog log)
    {
        ArgumentNullException.ThrowIfNull(log);
        var items = log.Items;
        var categoryCount = items.Categories.Count;
        var orders = new int[categoryCount];
        var repeats = new int[categoryCount];
        byte order = log.EventTypes.TryGetCode(EventTypeRegistry.Order, out var o) ? o : byte.MaxValue;
        var seen = new HashSet<int>();
        for (var u = 0; u < log.UserCount; u++)
        {
            seen.Clear();
            var rows = log.RowsOf(u);
            for (var r = rows.Start.Value; r < rows.End.Value; r++)
            {
                var item = log.Item[r];
                if (log.Type[r] != order || item < 0)
                {
                    continue;
                }

                var c = items.CategoryIndex[item];
                if (c < 0)
                {
                    continue;
                }

                orders[c]++;
                if (!seen.Add(item))
                {
                    repeats[c]++;
                }
            }
        }

        var repeatShare = new float[categoryCount];
        for (var c = 0; c < categoryCount; c++)
        {
            repeatShare[c] = orders[c] == 0 ? 0 : (float)repeats[c] / orders[c];
        }

        var shares = new List<float>[categoryCount];
        var all = new List<float>();
        for (var i = 0; i < items.Count; i++)
        {
            var price = items.Price[i];
            var cost = items.Cost[i];
            var c = items.CategoryIndex[i];
            if (c < 0 || float.IsNaN(price) || float.IsNaN(cost) || price <= 0)
            {
                continue;
            }

            var share = (price - cost) / price;
            (shares[c] ??= []).Add(share);
            all.Add(share);
        }

        var marginShare = new float[categoryCount];
        for (var c = 0; c < categoryCount; c++)
        {
            marginShare[c] = shares[c] is { Count: > 0 } list ? Median(list) : float.NaN;
        }

        var until = log.Count == 0 ? 0 : log.TimestampMs.Max();
        return new ServingCatalog(
            [.. log.ItemIds], [.. log.UserIds], items, log.EventTypes, repeatShare, marginShare, all.Count > 0 ? Median(all) : 0.25f, until, [.. log.Surfaces]);
    }

    /// <summary>
    /// A user's history in the models' index space from her events (any order; sorted here by time): events of items
    /// unknown to the models and of unknown types are dropped. The user index is the trained one, or -1. Each event's
    /// surface (<see cref="SurfaceCode"/>), query and anchor item (when the models know it) come along for the transformer.
    /// </summary>
    public UserHistory HistoryOf(string userId, IEnumerable<UserEvent> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        var rows = new List<Row>();
        var queries = new List<string>();
        var queryIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var e in events)
        {
            if (!EventTypes.TryGetCode(e.Type, out var code))
            {
                continue;
            }

            var item = -1;
            if (e.ItemId is { } id && !_itemIndex.TryGetValue(id, out item))
            {
                continue;
            }

            var query = -1;
            if (e.Query?.Trim() is { Length: > 0 } text && !queryIndex.TryGetValue(text, out query))
            {
                query = queries.Count;
                queryIndex[text] = query;
                queries.Add(text);
            }

            var anchor = e.ContextItemId is { } contextId && _itemIndex.TryGetValue(contextId, out var a) ? a : -1;
            rows.Add(new Row(e.Timestamp.ToUnixTimeMilliseconds(), item, code, EventTypes.WeightOf(code), SurfaceCode(e.Surface), query, anchor));
        }

        // Stable, so that events with equal times keep the store's order.
        var sorted = rows.Select((r, k) => (r, k)).OrderBy(p => p.r.Ms).ThenBy(p => p.k).Select(p => p.r).ToList();
        return Build(TryGetUser(userId, out var u) ? u : -1, sorted, queries);
    }

    /// <summary>A history from item ids alone (an anonymous session: "these were viewed"), as views in the given order.</summary>
    public UserHistory HistoryOfItems(IEnumerable<string> itemIds, long nowMs)
    {
        ArgumentNullException.ThrowIfNull(itemIds);
        var view = EventTypes.TryGetCode(EventTypeRegistry.View, out var v) ? v : (byte)0;
        var rows = new List<Row>();
        foreach (var id in itemIds)
        {
            if (_itemIndex.TryGetValue(id, out var item))
            {
                rows.Add(new Row(nowMs, item, view, EventTypes.WeightOf(view), 0, -1, -1));
            }
        }

        return Build(-1, rows, []);
    }

    private static UserHistory Build(int user, List<Row> rows, List<string> queries)
    {
        if (rows.Count == 0)
        {
            return new UserHistory(user, default, default, default);
        }

        var items = new int[rows.Count];
        var weights = new float[rows.Count];
        var times = new long[rows.Count];
        var types = new byte[rows.Count];
        var surfaces = new byte[rows.Count];
        var queryIds = new int[rows.Count];
        var anchors = new int[rows.Count];
        for (var r = 0; r < rows.Count; r++)
        {
            (times[r], items[r], types[r], weights[r], surfaces[r], queryIds[r], anchors[r]) = rows[r];
        }

        return new UserHistory(user, items, weights, times, types)
        {
            Surfaces = surfaces,
            QueryIds = queryIds,
            QueryTexts = queries,
            ContextItems = anchors,
        };
    }

    /// <summary>Writes the catalog as an artifact.</summary>
    public void Save(Stream stream)
    {
        using var writer = new ArtifactWriter(stream, Kind, Version, ItemCount);
        writer.WriteStrings(_itemIds);
        writer.WriteStrings(_userIds);
        Items.WriteTo(writer);
        writer.WriteStrings(EventTypes.Names);
        var weights = new float[EventTypes.Names.Count];
        for (var t = 0; t < weights.Length; t++)
        {
            weights[t] = EventTypes.WeightOf((byte)t);
        }

        writer.WriteArray<float>(weights);
        writer.WriteArray<float>(_repeatShare);
        writer.WriteArray<float>(_marginShare);
        writer.Write(DefaultMarginShare);
        writer.Write(TrainedUntilMs);
        writer.WriteStrings(Surfaces);
    }

    /// <summary>Reads a catalog written by <see cref="Save"/>.</summary>
    /// <exception cref="InvalidDataException">Truncated or not a serving catalog.</exception>
    public static ServingCatalog Load(Stream stream)
    {
        using var reader = new ArtifactReader(stream, Kind, Version);
        var itemIds = reader.ReadStrings();
        var userIds = reader.ReadStrings();
        var items = ItemTable.ReadFrom(reader);
        var names = reader.ReadStrings();
        var weights = reader.ReadArray<float>();
        var repeatShare = reader.ReadArray<float>();
        var marginShare = reader.ReadArray<float>();
        var defaultShare = reader.ReadSingle();
        var until = reader.ReadInt64();
        var surfaces = reader.ReadStrings();
        if (itemIds.Length != items.Count || itemIds.Length != reader.ItemCount || names.Length != weights.Length
            || repeatShare.Length != items.Categories.Count || marginShare.Length != items.Categories.Count)
        {
            throw new InvalidDataException("The serving catalog's columns disagree in length.");
        }

        var registry = new Dictionary<string, double>(StringComparer.Ordinal);
        for (var t = 0; t < names.Length; t++)
        {
            registry[names[t]] = weights[t];
        }

        return new ServingCatalog(itemIds, userIds, items, new EventTypeRegistry(registry), repeatShare, marginShare, defaultShare, until, surfaces);
    }

    private static float Median(List<float> values)
    {
        values.Sort();
        var n = values.Count;
        return n % 2 == 1 ? values[n / 2] : 0.5f * (values[(n / 2) - 1] + values[n / 2]);
    }

    private readonly record struct Row(long Ms, int Item, byte Type, float Weight, byte Surface, int Query, int Anchor);
}

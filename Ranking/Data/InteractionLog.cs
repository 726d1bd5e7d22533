using System.Runtime.CompilerServices;
using Ranking.Domain;

namespace Ranking.Data;

/// <summary>
/// The event log as the engine trains on it: dense user and item indices, one array per column, sorted by user
/// and then by time. The sort is stable, so events with equal timestamps keep the order they were added (file
/// order). <see cref="UserOffsets"/> gives each user's slice: user u owns rows
/// <c>UserOffsets[u] .. UserOffsets[u + 1]</c>.
/// </summary>
public sealed class InteractionLog
{
    internal InteractionLog(
        string[] userIds, string[] itemIds, int catalogItemCount, ItemTable items, EventTypeRegistry eventTypes,
        int[] users, int[] itemColumn, byte[] types, long[] timestamps, float[] weights, int[] userOffsets,
        EventContext context)
    {
        UserIds = userIds;
        ItemIds = itemIds;
        CatalogItemCount = catalogItemCount;
        Items = items;
        EventTypes = eventTypes;
        User = users;
        Item = itemColumn;
        Type = types;
        TimestampMs = timestamps;
        Weight = weights;
        UserOffsets = userOffsets;
        Surfaces = context.SurfaceNames;
        Surface = context.Surface;
        Queries = context.QueryTexts;
        Query = context.Query;
        ContextItem = context.ContextItem;
        _userIndex = BuildIndex(userIds);
        _itemIndex = BuildIndex(itemIds);
    }

    private readonly Dictionary<string, int> _userIndex;
    private readonly Dictionary<string, int> _itemIndex;

    /// <summary>External id of each user index.</summary>
    public IReadOnlyList<string> UserIds { get; }

    /// <summary>External id of each item index. Catalog items come first, then items seen only in events.</summary>
    public IReadOnlyList<string> ItemIds { get; }

    /// <summary>Item indices below this are in the catalog; the rest were named only by events.</summary>
    public int CatalogItemCount { get; }

    public ItemTable Items { get; }

    public EventTypeRegistry EventTypes { get; }

    public int Count => User.Length;

    public int UserCount => UserIds.Count;

    public int ItemCount => ItemIds.Count;

    /// <summary>User index per row.</summary>
    public int[] User { get; }

    /// <summary>Item index per row; -1 for events without an item (searches).</summary>
    public int[] Item { get; }

    /// <summary>Event type code per row (see <see cref="EventTypeRegistry"/>).</summary>
    public byte[] Type { get; }

    /// <summary>Unix milliseconds per row.</summary>
    public long[] TimestampMs { get; }

    /// <summary>Weight of the row's event type.</summary>
    public float[] Weight { get; }

    /// <summary>Length <see cref="UserCount"/> + 1.</summary>
    public int[] UserOffsets { get; }

    /// <summary>Surface names (home, search, analogs, …) in code order: code c is <c>Surfaces[c - 1]</c>.</summary>
    public IReadOnlyList<string> Surfaces { get; }

    /// <summary>Surface code per row: 0 when the event named none, else 1 + its index in <see cref="Surfaces"/>.</summary>
    public byte[] Surface { get; }

    /// <summary>Distinct search-query texts (trimmed), indexed by <see cref="Query"/>.</summary>
    public IReadOnlyList<string> Queries { get; }

    /// <summary>Query index per row (into <see cref="Queries"/>): the search text of a search, or the query a result
    /// was viewed under; -1 for none.</summary>
    public int[] Query { get; }

    /// <summary>Item index of the anchor the event happened next to (an analogs or complements carousel); -1 for none or
    /// an item this log does not know.</summary>
    public int[] ContextItem { get; }

    public bool TryGetUserIndex(string userId, out int index) => _userIndex.TryGetValue(userId, out index);

    public bool TryGetItemIndex(string itemId, out int index) => _itemIndex.TryGetValue(itemId, out index);

    /// <summary>The row range of one user.</summary>
    public Range RowsOf(int user) => UserOffsets[user]..UserOffsets[user + 1];

    /// <summary>The items of one user's events in time order (-1 for searches).</summary>
    public ReadOnlySpan<int> ItemsOf(int user) => Item.AsSpan(RowsOf(user));

    /// <summary>
    /// The rows for which <paramref name="keep"/> is true, with the same user and item index spaces, catalog and
    /// event types as this log (so a model trained on the subset scores in this log's indices). Order is kept.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="keep"/> does not have one entry per row.</exception>
    public InteractionLog Subset(ReadOnlySpan<bool> keep)
    {
        if (keep.Length != Count)
        {
            throw new ArgumentException($"Expected {Count} row flags, got {keep.Length}.", nameof(keep));
        }

        var n = 0;
        foreach (var k in keep)
        {
            n += k ? 1 : 0;
        }

        var users = new int[n];
        var items = new int[n];
        var types = new byte[n];
        var times = new long[n];
        var weights = new float[n];
        var surfaces = new byte[n];
        var queries = new int[n];
        var contexts = new int[n];
        var offsets = new int[UserCount + 1];
        var j = 0;
        for (var u = 0; u < UserCount; u++)
        {
            for (var r = UserOffsets[u]; r < UserOffsets[u + 1]; r++)
            {
                if (!keep[r])
                {
                    continue;
                }

                users[j] = u;
                items[j] = Item[r];
                types[j] = Type[r];
                times[j] = TimestampMs[r];
                weights[j] = Weight[r];
                surfaces[j] = Surface[r];
                queries[j] = Query[r];
                contexts[j] = ContextItem[r];
                j++;
            }

            offsets[u + 1] = j;
        }

        return new InteractionLog(this, users, items, types, times, weights, offsets, new EventContext(Surfaces, surfaces, Queries, queries, contexts));
    }

    private InteractionLog(
        InteractionLog parent, int[] users, int[] items, byte[] types, long[] timestamps, float[] weights, int[] offsets, EventContext context)
    {
        UserIds = parent.UserIds;
        ItemIds = parent.ItemIds;
        CatalogItemCount = parent.CatalogItemCount;
        Items = parent.Items;
        EventTypes = parent.EventTypes;
        User = users;
        Item = items;
        Type = types;
        TimestampMs = timestamps;
        Weight = weights;
        UserOffsets = offsets;
        Surfaces = context.SurfaceNames;
        Surface = context.Surface;
        Queries = context.QueryTexts;
        Query = context.Query;
        ContextItem = context.ContextItem;
        _userIndex = parent._userIndex;
        _itemIndex = parent._itemIndex;
    }

    /// <summary>
    /// Reads the whole catalog and event log of a store. Events of types the registry does not know are skipped
    /// (they cannot carry a weight).
    /// </summary>
    public static async Task<InteractionLog> BuildAsync(
        ICatalogStore catalog, IEventStore events, EventTypeRegistry eventTypes, CancellationToken cancellationToken = default)
    {
        var builder = new InteractionLogBuilder(eventTypes);
        await foreach (var item in catalog.ReadItemsAsync(cancellationToken).ConfigureAwait(false))
        {
            builder.AddItem(item);
        }

        await foreach (var e in events.ReadEventsAsync(cancellationToken).ConfigureAwait(false))
        {
            builder.Add(e);
        }

        return builder.Build();
    }

    /// <summary>
    /// Reads a whole import source (a data set, the demo marketplace, a file) straight into a log, without a store.
    /// Rows with errors are skipped; so are events of types the registry does not know.
    /// </summary>
    public static async Task<InteractionLog> BuildAsync(
        Import.IImportSource source, EventTypeRegistry eventTypes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        var builder = new InteractionLogBuilder(eventTypes);
        await foreach (var chunk in source.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            foreach (var item in chunk.Items)
            {
                builder.AddItem(item.Value);
            }

            foreach (var e in chunk.Events)
            {
                builder.Add(e.Value);
            }
        }

        return builder.Build();
    }

    private static Dictionary<string, int> BuildIndex(string[] ids)
    {
        var map = new Dictionary<string, int>(ids.Length, StringComparer.Ordinal);
        for (var i = 0; i < ids.Length; i++)
        {
            map[ids[i]] = i;
        }

        return map;
    }
}

/// <summary>Collects catalog items and events, then builds an <see cref="InteractionLog"/>.</summary>
/// <remarks>Add the catalog first: items added by <see cref="AddItem"/> after an event named them keep their later index.</remarks>
public sealed class InteractionLogBuilder(EventTypeRegistry eventTypes)
{
    private readonly Dictionary<string, int> _users = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _items = new(StringComparer.Ordinal);
    private readonly List<string> _userIds = [];
    private readonly List<string> _itemIds = [];
    private readonly List<Item?> _catalog = [];
    private int _catalogCount;

    private int[] _user = new int[1024];
    private int[] _item = new int[1024];
    private byte[] _type = new byte[1024];
    private long[] _ts = new long[1024];
    private byte[] _surface = new byte[1024];
    private int[] _query = new int[1024];
    private string?[] _contextId = new string?[1024];
    private readonly Dictionary<string, byte> _surfaces = new(StringComparer.Ordinal);
    private readonly List<string> _surfaceNames = [];
    private readonly Dictionary<string, int> _queries = new(StringComparer.Ordinal);
    private readonly List<string> _queryTexts = [];
    private int _count;

    public int Count => _count;

    public int SkippedUnknownTypes { get; private set; }

    public void AddItem(Item item)
    {
        if (_items.TryGetValue(item.Id, out var existing))
        {
            _catalog[existing] = item;
            return;
        }

        _items.Add(item.Id, _itemIds.Count);
        _itemIds.Add(item.Id);
        _catalog.Add(item);
        _catalogCount++;
    }

    public void Add(UserEvent e)
    {
        if (!eventTypes.TryGetCode(e.Type, out var code))
        {
            SkippedUnknownTypes++;
            return;
        }

        Add(e.UserId, e.ItemId, code, e.Timestamp.ToUnixTimeMilliseconds());
        _surface[_count - 1] = SurfaceCode(e.Surface);
        _query[_count - 1] = QueryIndex(e.Query);
        _contextId[_count - 1] = string.IsNullOrEmpty(e.ContextItemId) ? null : e.ContextItemId;
    }

    /// <summary>Surfaces beyond <see cref="MaxSurfaces"/> distinct names share code 0 with "none".</summary>
    public const int MaxSurfaces = 254;

    private byte SurfaceCode(string? surface)
    {
        if (string.IsNullOrEmpty(surface))
        {
            return 0;
        }

        if (_surfaces.TryGetValue(surface, out var code))
        {
            return code;
        }

        if (_surfaceNames.Count >= MaxSurfaces)
        {
            return 0;
        }

        _surfaceNames.Add(surface);
        code = (byte)_surfaceNames.Count;
        _surfaces.Add(surface, code);
        return code;
    }

    private int QueryIndex(string? query)
    {
        var text = query?.Trim();
        if (string.IsNullOrEmpty(text))
        {
            return -1;
        }

        ref var index = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_queries, text, out var exists);
        if (!exists)
        {
            index = _queryTexts.Count;
            _queryTexts.Add(text);
        }

        return index;
    }

    /// <summary>Adds one event row by external ids; <paramref name="itemId"/> null for an event without an item.</summary>
    public void Add(string userId, string? itemId, byte typeCode, long timestampMs)
    {
        if (typeCode >= eventTypes.Names.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(typeCode), typeCode, "Not a code of the registry.");
        }

        ref var u = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_users, userId, out var userExists);
        if (!userExists)
        {
            u = _userIds.Count;
            _userIds.Add(userId);
        }

        var itemIndex = -1;
        if (itemId is not null)
        {
            ref var i = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_items, itemId, out var itemExists);
            if (!itemExists)
            {
                i = _itemIds.Count;
                _itemIds.Add(itemId);
                _catalog.Add(null);
            }

            itemIndex = i;
        }

        if (_count == _user.Length)
        {
            var size = _count * 2;
            Array.Resize(ref _user, size);
            Array.Resize(ref _item, size);
            Array.Resize(ref _type, size);
            Array.Resize(ref _ts, size);
            Array.Resize(ref _surface, size);
            Array.Resize(ref _query, size);
            Array.Resize(ref _contextId, size);
        }

        _user[_count] = u;
        _item[_count] = itemIndex;
        _type[_count] = typeCode;
        _ts[_count] = timestampMs;
        _surface[_count] = 0;
        _query[_count] = -1;
        _contextId[_count] = null;
        _count++;
    }

    public InteractionLog Build()
    {
        var n = _count;
        var userCount = _userIds.Count;

        // Counting sort by user: stable, O(n), keeps the order events were added within a user.
        var offsets = new int[userCount + 1];
        for (var r = 0; r < n; r++)
        {
            offsets[_user[r] + 1]++;
        }

        for (var u = 0; u < userCount; u++)
        {
            offsets[u + 1] += offsets[u];
        }

        var order = new int[n];
        var cursor = offsets.AsSpan(0, userCount).ToArray();
        for (var r = 0; r < n; r++)
        {
            order[cursor[_user[r]]++] = r;
        }

        // Then by time within each user, ties broken by the added order: a stable sort.
        var ts = _ts;
        Parallel.For(0, userCount, u =>
        {
            var slice = order.AsSpan(offsets[u], offsets[u + 1] - offsets[u]);
            if (!IsSortedByTime(slice, ts))
            {
                slice.Sort((a, b) => ts[a] != ts[b] ? ts[a].CompareTo(ts[b]) : a.CompareTo(b));
            }
        });

        var users = new int[n];
        var items = new int[n];
        var types = new byte[n];
        var times = new long[n];
        var weights = new float[n];
        var surfaces = new byte[n];
        var queries = new int[n];
        var contexts = new int[n];
        for (var k = 0; k < n; k++)
        {
            var r = order[k];
            surfaces[k] = _surface[r];
            queries[k] = _query[r];
            contexts[k] = _contextId[r] is { } contextId && _items.TryGetValue(contextId, out var contextItem) ? contextItem : -1;
            users[k] = _user[r];
            items[k] = _item[r];
            types[k] = _type[r];
            times[k] = _ts[r];
            weights[k] = eventTypes.WeightOf(_type[r]);
        }

        var itemIds = _itemIds.ToArray();
        var table = new ItemTable(itemIds.Length);
        for (var i = 0; i < itemIds.Length; i++)
        {
            if (_catalog[i] is { } item)
            {
                table.Set(i, item);
            }
        }

        return new InteractionLog(
            [.. _userIds], itemIds, CatalogCountIsPrefix() ? _catalogCount : CountCatalog(), table, eventTypes,
            users, items, types, times, weights, offsets,
            new EventContext([.. _surfaceNames], surfaces, [.. _queryTexts], queries, contexts));
    }

    private bool CatalogCountIsPrefix()
    {
        for (var i = 0; i < _catalogCount; i++)
        {
            if (_catalog[i] is null)
            {
                return false;
            }
        }

        return true;
    }

    // When events named items before the catalog was added, catalog items are not a prefix; count them instead.
    private int CountCatalog() => _catalog.Count(c => c is not null);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool IsSortedByTime(ReadOnlySpan<int> rows, long[] ts)
    {
        for (var k = 1; k < rows.Length; k++)
        {
            if (ts[rows[k]] < ts[rows[k - 1]])
            {
                return false;
            }
        }

        return true;
    }
}

/// <summary>The optional context columns of an <see cref="InteractionLog"/>: surface, query and anchor item per row.</summary>
internal sealed record EventContext(
    IReadOnlyList<string> SurfaceNames, byte[] Surface, IReadOnlyList<string> QueryTexts, int[] Query, int[] ContextItem);

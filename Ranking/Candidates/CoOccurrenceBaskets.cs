using System.Runtime.InteropServices;
using Ranking.Data;
using Ranking.Domain;

namespace Ranking.Candidates;

/// <summary>
/// The relation a <see cref="CoOccurrenceModel"/> counts, laid out for counting: baskets (analogs: one session's
/// distinct items; complements: one user's counted events in time order, repeats kept) in user order, an inverted
/// index from each item to its (basket, position) occurrences, and each user's relation item set I_u with the
/// per-item user counts n_a and the number of contributing users N. See <see cref="CoOccurrenceOptions"/> for the
/// definitions.
/// </summary>
internal sealed class CoOccurrenceBaskets
{
    private readonly int[] _category;
    private readonly bool _requireDifferentCategory;
    private readonly long _windowMs;
    private readonly int _maxFollow;

    private CoOccurrenceBaskets(InteractionLog log, CoOccurrenceOptions options)
    {
        Kind = options.Kind;
        ItemCount = log.ItemCount;
        _category = log.Items.CategoryIndex;
        _requireDifferentCategory = options.RequireDifferentCategory;
        _windowMs = (long)Math.Round(options.ComplementWindowDays * 86_400_000.0);
        _maxFollow = options.MaxItemsPerSession;
    }

    public CoOccurrenceKind Kind { get; }

    public int ItemCount { get; }

    /// <summary>Basket b holds <c>BasketItems[BasketOffsets[b] .. BasketOffsets[b + 1]]</c>.</summary>
    public int[] BasketOffsets { get; private set; } = [];

    public int[] BasketItems { get; private set; } = [];

    /// <summary>Event time per basket entry (complements only; empty for analogs).</summary>
    public long[] BasketTimes { get; private set; } = [];

    public int[] BasketUser { get; private set; } = [];

    /// <summary>Item i occurs at <c>OccurrenceBasket/OccurrencePosition[OccurrenceOffsets[i] .. OccurrenceOffsets[i + 1]]</c>, by basket then position.</summary>
    public int[] OccurrenceOffsets { get; private set; } = [];

    public int[] OccurrenceBasket { get; private set; } = [];

    /// <summary>Absolute index into <see cref="BasketItems"/>.</summary>
    public int[] OccurrencePosition { get; private set; } = [];

    /// <summary>User u's relation items, sorted: <c>UserItems[UserItemOffsets[u] .. UserItemOffsets[u + 1]]</c>.</summary>
    public int[] UserItemOffsets { get; private set; } = [];

    public int[] UserItems { get; private set; } = [];

    /// <summary>n_a: users whose relation items hold a.</summary>
    public int[] ItemUsers { get; private set; } = [];

    /// <summary>N: users with at least one counted pair.</summary>
    public int ContributingUsers { get; private set; }

    /// <summary>The minimum weight of the counted event types (a stand-in for "is an order" at scoring time).</summary>
    public float CountedMinWeight { get; private set; }

    /// <summary>True when complements fell back to every event type because the log holds no order.</summary>
    public bool FellBackToAllEvents { get; private set; }

    public ReadOnlySpan<int> ItemsOfUser(int user) => UserItems.AsSpan(UserItemOffsets[user], UserItemOffsets[user + 1] - UserItemOffsets[user]);

    public static CoOccurrenceBaskets Build(InteractionLog log, CoOccurrenceOptions options, CancellationToken cancellationToken)
    {
        var baskets = new CoOccurrenceBaskets(log, options);
        var counted = baskets.CountedTypes(log, options);
        if (options.Kind == CoOccurrenceKind.Analogs)
        {
            baskets.BuildSessions(log, counted, options, cancellationToken);
        }
        else
        {
            baskets.BuildSequences(log, counted, cancellationToken);
        }

        baskets.BuildOccurrences();
        baskets.BuildUserItems(log.UserCount, cancellationToken);
        return baskets;
    }

    /// <summary>
    /// Appends to <paramref name="partners"/> each item that forms a counted pair with the entry at
    /// <paramref name="position"/> of <paramref name="basket"/> (as its first item), unless its stamp already equals
    /// <paramref name="epoch"/>; stamps what it appends.
    /// </summary>
    public void CollectPartners(int basket, int position, int[] stamp, int epoch, List<int> partners)
    {
        var start = BasketOffsets[basket];
        var end = BasketOffsets[basket + 1];
        var anchor = BasketItems[position];
        if (Kind == CoOccurrenceKind.Analogs)
        {
            for (var q = start; q < end; q++)
            {
                var j = BasketItems[q];
                if (q != position && stamp[j] != epoch)
                {
                    stamp[j] = epoch;
                    partners.Add(j);
                }
            }

            return;
        }

        var t = BasketTimes[position];
        var last = Math.Min(end - 1, position + _maxFollow);
        for (var q = position + 1; q <= last; q++)
        {
            var tq = BasketTimes[q];
            if (tq - t > _windowMs)
            {
                break;
            }

            var j = BasketItems[q];
            if (tq > t && j != anchor && stamp[j] != epoch && CategoriesAllow(anchor, j))
            {
                stamp[j] = epoch;
                partners.Add(j);
            }
        }
    }

    private bool CategoriesAllow(int a, int b)
    {
        if (!_requireDifferentCategory)
        {
            return true;
        }

        var ca = _category[a];
        var cb = _category[b];
        return ca < 0 || cb < 0 || ca != cb;
    }

    private bool[] CountedTypes(InteractionLog log, CoOccurrenceOptions options)
    {
        var registry = log.EventTypes;
        var counted = new bool[256];
        if (options.EventTypes is { } names)
        {
            foreach (var name in names)
            {
                if (!registry.TryGetCode(name, out var code))
                {
                    throw new ArgumentException($"The event type '{name}' is not in the log's registry.", nameof(options));
                }

                counted[code] = true;
            }
        }
        else if (options.Kind == CoOccurrenceKind.Complements && registry.TryGetCode(EventTypeRegistry.Order, out var order) && HasItemEvent(log, order))
        {
            counted[order] = true;
        }
        else
        {
            Array.Fill(counted, true);
            FellBackToAllEvents = options.Kind == CoOccurrenceKind.Complements;
        }

        var min = float.PositiveInfinity;
        for (var c = 0; c < registry.Names.Count; c++)
        {
            if (counted[c])
            {
                min = Math.Min(min, registry.WeightOf((byte)c));
            }
        }

        CountedMinWeight = counted.AsSpan().IndexOf(false) < 0 ? float.NegativeInfinity : min;
        return counted;
    }

    private static bool HasItemEvent(InteractionLog log, byte type)
    {
        var types = log.Type;
        var items = log.Item;
        for (var r = 0; r < types.Length; r++)
        {
            if (types[r] == type && items[r] >= 0)
            {
                return true;
            }
        }

        return false;
    }

    private void BuildSessions(InteractionLog log, bool[] counted, CoOccurrenceOptions options, CancellationToken cancellationToken)
    {
        var gapMs = (long)Math.Round(options.SessionGapMinutes * 60_000.0);
        var cap = options.MaxItemsPerSession;
        var offsets = new List<int> { 0 };
        var items = new List<int>(log.Count / 2);
        var users = new List<int>();
        var stamp = new int[ItemCount];
        var epoch = 0;
        var ts = log.TimestampMs;
        var item = log.Item;
        var type = log.Type;
        for (var u = 0; u < log.UserCount; u++)
        {
            if ((u & 1023) == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }

            var start = log.UserOffsets[u];
            var end = log.UserOffsets[u + 1];
            var sessionStart = start;
            for (var r = start; r <= end; r++)
            {
                if (r < end && (r == start || ts[r] - ts[r - 1] <= gapMs))
                {
                    continue;
                }

                if (r > sessionStart)
                {
                    // Rows sessionStart .. r form one session.
                    epoch++;
                    var basketStart = items.Count;
                    for (var s = sessionStart; s < r && items.Count - basketStart < cap; s++)
                    {
                        var i = item[s];
                        if (i >= 0 && counted[type[s]] && stamp[i] != epoch)
                        {
                            stamp[i] = epoch;
                            items.Add(i);
                        }
                    }

                    if (items.Count - basketStart >= 2)
                    {
                        offsets.Add(items.Count);
                        users.Add(u);
                    }
                    else
                    {
                        items.RemoveRange(basketStart, items.Count - basketStart);
                    }
                }

                sessionStart = r;
            }
        }

        BasketOffsets = [.. offsets];
        BasketItems = [.. items];
        BasketUser = [.. users];
    }

    private void BuildSequences(InteractionLog log, bool[] counted, CancellationToken cancellationToken)
    {
        var offsets = new List<int> { 0 };
        var items = new List<int>();
        var times = new List<long>();
        var users = new List<int>();
        for (var u = 0; u < log.UserCount; u++)
        {
            if ((u & 1023) == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }

            var basketStart = items.Count;
            for (var r = log.UserOffsets[u]; r < log.UserOffsets[u + 1]; r++)
            {
                if (log.Item[r] >= 0 && counted[log.Type[r]])
                {
                    items.Add(log.Item[r]);
                    times.Add(log.TimestampMs[r]);
                }
            }

            if (items.Count - basketStart >= 2)
            {
                offsets.Add(items.Count);
                users.Add(u);
            }
            else
            {
                items.RemoveRange(basketStart, items.Count - basketStart);
                times.RemoveRange(basketStart, times.Count - basketStart);
            }
        }

        BasketOffsets = [.. offsets];
        BasketItems = [.. items];
        BasketTimes = [.. times];
        BasketUser = [.. users];
    }

    private void BuildOccurrences()
    {
        var offsets = new int[ItemCount + 1];
        foreach (var i in BasketItems)
        {
            offsets[i + 1]++;
        }

        for (var i = 0; i < ItemCount; i++)
        {
            offsets[i + 1] += offsets[i];
        }

        var cursor = offsets.AsSpan(0, ItemCount).ToArray();
        var basketOf = new int[BasketItems.Length];
        var positionOf = new int[BasketItems.Length];
        for (var b = 0; b < BasketUser.Length; b++)
        {
            for (var p = BasketOffsets[b]; p < BasketOffsets[b + 1]; p++)
            {
                var slot = cursor[BasketItems[p]]++;
                basketOf[slot] = b;
                positionOf[slot] = p;
            }
        }

        OccurrenceOffsets = offsets;
        OccurrenceBasket = basketOf;
        OccurrencePosition = positionOf;
    }

    private void BuildUserItems(int userCount, CancellationToken cancellationToken)
    {
        var offsets = new int[userCount + 1];
        var items = new List<int>(BasketItems.Length);
        var itemUsers = new int[ItemCount];
        var stamp = new int[ItemCount];
        var partnerStamp = new int[ItemCount];
        var partners = new List<int>();
        var epoch = 0;
        var partnerEpoch = 0;
        var contributing = 0;
        var b = 0;
        for (var u = 0; u < userCount; u++)
        {
            if ((u & 1023) == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }

            var userStart = items.Count;
            epoch++;
            for (; b < BasketUser.Length && BasketUser[b] == u; b++)
            {
                for (var p = BasketOffsets[b]; p < BasketOffsets[b + 1]; p++)
                {
                    if (Kind == CoOccurrenceKind.Analogs)
                    {
                        // Every item of a session basket (two or more distinct items) is in a pair.
                        Mark(BasketItems[p]);
                        continue;
                    }

                    // Complements: only the items of a counted pair, on either side, belong to the relation.
                    partners.Clear();
                    CollectPartners(b, p, partnerStamp, ++partnerEpoch, partners);
                    if (partners.Count > 0)
                    {
                        Mark(BasketItems[p]);
                        foreach (var j in partners)
                        {
                            Mark(j);
                        }
                    }
                }
            }

            var span = CollectionsMarshal.AsSpan(items)[userStart..];
            span.Sort();
            foreach (var i in span)
            {
                itemUsers[i]++;
            }

            contributing += span.Length > 0 ? 1 : 0;
            offsets[u + 1] = items.Count;
        }

        UserItemOffsets = offsets;
        UserItems = [.. items];
        ItemUsers = itemUsers;
        ContributingUsers = contributing;

        void Mark(int i)
        {
            if (stamp[i] != epoch)
            {
                stamp[i] = epoch;
                items.Add(i);
            }
        }
    }
}

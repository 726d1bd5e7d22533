using System.Text;
using Ranking.Domain;
using Ranking.Fusion;

namespace Assistant.Plugins.Shopping;

/// <summary>
/// A user's events grouped by the leaf category of their items, with her brands and recent searches: the facts the
/// interest and brand prompts show, and the sets their answers are checked against. Only events of the user herself and
/// of items the catalog knows are kept.
/// </summary>
internal sealed class HistoryDigest
{
    private HistoryDigest(IReadOnlyList<CategoryGroup> categories, IReadOnlyList<(string Brand, int Events)> brands, IReadOnlyList<string> searches,
        IReadOnlyDictionary<string, (UserEvent Event, int Item)> byId)
    {
        Categories = categories;
        Brands = brands;
        Searches = searches;
        ById = byId;
    }

    /// <summary>Her categories: most events first, then the most recent.</summary>
    public IReadOnlyList<CategoryGroup> Categories { get; }

    /// <summary>Her brands, most events first.</summary>
    public IReadOnlyList<(string Brand, int Events)> Brands { get; }

    /// <summary>Her distinct search queries, latest first.</summary>
    public IReadOnlyList<string> Searches { get; }

    /// <summary>Her events with a catalog item, by event id, with the item's index.</summary>
    public IReadOnlyDictionary<string, (UserEvent Event, int Item)> ById { get; }

    public static HistoryDigest Of(ServingCatalog catalog, string userId, IReadOnlyList<UserEvent> events)
    {
        var table = catalog.Items;
        var groups = new Dictionary<int, CategoryGroup>();
        var brands = new Dictionary<int, int>();
        var searches = new List<string>();
        var byId = new Dictionary<string, (UserEvent, int)>(StringComparer.Ordinal);
        foreach (var e in events.OrderBy(e => e.Timestamp))
        {
            if (!string.Equals(e.UserId, userId, StringComparison.Ordinal))
            {
                continue;
            }

            if (!string.IsNullOrWhiteSpace(e.Query))
            {
                searches.Remove(e.Query);
                searches.Insert(0, e.Query);
            }

            if (e.ItemId is not { } id || !catalog.TryGetItem(id, out var item) || !table.IsKnown(item))
            {
                continue;
            }

            byId[e.EventId] = (e, item);
            var c = table.CategoryIndex[item];
            if (!groups.TryGetValue(c, out var group))
            {
                group = groups[c] = new CategoryGroup(table.Categories[c], c);
            }

            group.Add(e);
            if (table.BrandIndex[item] is var b and >= 0)
            {
                brands[b] = brands.GetValueOrDefault(b) + 1;
            }
        }

        return new HistoryDigest(
            [.. groups.Values.OrderByDescending(g => g.Orders).ThenByDescending(g => g.Events.Count).ThenByDescending(g => g.LastMs).ThenBy(g => g.Path, StringComparer.Ordinal)],
            [.. brands.OrderByDescending(p => p.Value).ThenBy(p => p.Key).Select(p => (table.Brands[p.Key], p.Value))],
            searches,
            byId);
    }

    /// <summary>
    /// The history as the prompts show it: one line per category (at most <paramref name="maxCategories"/>) with up to
    /// <paramref name="eventsPerCategory"/> of its latest events (orders first), then her brands and searches. Catalog
    /// and search text is made safe for the data block. The event ids shown are added to <paramref name="shownEventIds"/>.
    /// </summary>
    public string Render(ServingCatalog catalog, int maxCategories, int eventsPerCategory, ISet<string> shownEventIds)
    {
        var text = new StringBuilder();
        foreach (var group in Categories.Take(maxCategories))
        {
            text.Append("category ").Append(group.Path).Append(": ")
                .Append(group.Orders).Append(" orders, ").Append(group.Events.Count).Append(" events, ")
                .Append(PromptText.Day(group.FirstMs)).Append(" to ").Append(PromptText.Day(group.LastMs)).Append('\n');
            foreach (var e in group.Latest(eventsPerCategory))
            {
                shownEventIds.Add(e.EventId);
                var item = ById[e.EventId].Item;
                text.Append("  ").Append(e.EventId).Append(' ').Append(e.Type).Append(' ')
                    .Append(PromptText.Day(e.Timestamp.ToUnixTimeMilliseconds())).Append(' ')
                    .Append(PromptText.Data(catalog.Items.Title[item], 40)).Append('\n');
            }
        }

        if (Brands.Count > 0)
        {
            text.Append("brands ").AppendJoin(", ", Brands.Take(6).Select(b => $"{PromptText.Data(b.Brand, 40)} ({b.Events})")).Append('\n');
        }

        if (Searches.Count > 0)
        {
            text.Append("searches ").AppendJoin("; ", Searches.Take(3).Select(s => "\"" + PromptText.Data(s, 80) + "\"")).Append('\n');
        }

        return text.ToString().TrimEnd();
    }

    /// <summary>Her events of one leaf category.</summary>
    internal sealed class CategoryGroup(string path, int index)
    {
        private readonly List<UserEvent> _events = [];
        private readonly HashSet<string> _ids = new(StringComparer.Ordinal);

        public string Path { get; } = path;

        public int Index { get; } = index;

        public int Orders { get; private set; }

        /// <summary>Oldest first.</summary>
        public IReadOnlyList<UserEvent> Events => _events;

        public long FirstMs => _events[0].Timestamp.ToUnixTimeMilliseconds();

        public long LastMs => _events[^1].Timestamp.ToUnixTimeMilliseconds();

        public void Add(UserEvent e)
        {
            _events.Add(e);
            _ids.Add(e.EventId);
            if (IsOrder(e))
            {
                Orders++;
            }
        }

        public bool Contains(string eventId) => _ids.Contains(eventId);

        /// <summary>Her latest events here, orders first, newest first within each.</summary>
        public IEnumerable<UserEvent> Latest(int count) =>
            _events.Select((e, i) => (e, i)).OrderByDescending(p => IsOrder(p.e)).ThenByDescending(p => p.i).Take(count).Select(p => p.e);
    }

    public static bool IsOrder(UserEvent e) => string.Equals(e.Type, EventTypeRegistry.Order, StringComparison.OrdinalIgnoreCase);
}

using System.ComponentModel;

namespace Assistant.Plugins.Shopping;

/// <summary>
/// The item cards the shopping tools returned during one chat turn, so that the answer can carry them as structured
/// data (ids, titles and prices from the catalog) beside the model's text. Thread-safe: a model may call tools in parallel.
/// </summary>
public sealed class TurnCards
{
    private readonly Lock _lock = new();
    private readonly List<ItemCard> _cards = [];
    private readonly HashSet<string> _ids = new(StringComparer.Ordinal);
    private readonly List<string> _tools = [];

    /// <param name="capacity">The most cards kept; later ones are still returned to the model but not collected.</param>
    public TurnCards(int capacity = 12)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
    }

    public int Capacity { get; }

    /// <summary>The cards in the order the tools first returned them, each item once.</summary>
    public IReadOnlyList<ItemCard> Cards
    {
        get
        {
            lock (_lock)
            {
                return [.. _cards];
            }
        }
    }

    /// <summary>The tools that ran, in order (a tool called twice is listed twice).</summary>
    public IReadOnlyList<string> Tools
    {
        get
        {
            lock (_lock)
            {
                return [.. _tools];
            }
        }
    }

    /// <summary>Records that <paramref name="tool"/> ran and returned <paramref name="cards"/>; an item already collected keeps its first card.</summary>
    public void Add(string tool, IEnumerable<ItemCard> cards)
    {
        ArgumentNullException.ThrowIfNull(cards);
        lock (_lock)
        {
            _tools.Add(tool);
            foreach (var card in cards)
            {
                if (_cards.Count < Capacity && _ids.Add(card.ItemId))
                {
                    _cards.Add(card);
                }
            }
        }
    }
}

/// <summary>What a shopping tool returns to the model: the items, and a note when there are none or something was off.</summary>
[Description("Items from the catalog, with prices and stock from the catalog.")]
public sealed record ShoppingItems(
    [property: Description("The items, best first.")] IReadOnlyList<ItemCard> Items,
    [property: Description("Why there are no or fewer items, when that is the case.")] string? Note = null);

using System.ComponentModel;
using Microsoft.SemanticKernel;
using Ranking.Search;

namespace Assistant.Plugins.Shopping;

/// <summary>
/// The catalogue search tool of the shopping chat: keyword (and, with text embeddings, vector) search over the loaded
/// model version's catalogue, narrowed by category, brand and price. It knows nothing about users.
/// </summary>
/// <param name="serving">The loaded model version; each call holds a lease for its duration.</param>
/// <param name="cards">Where the cards of this turn are collected; null collects nothing.</param>
public sealed class CatalogSearchPlugin(IServingContext serving, TurnCards? cards = null)
{
    /// <summary>The most items one call returns.</summary>
    public const int MaxCount = 10;

    /// <summary>Longer queries are cut: the search ranks by words, and a model may paste a whole message.</summary>
    public const int MaxQueryLength = 200;

    /// <summary>The tool's name as the model sees it (after the plugin name).</summary>
    public const string SearchName = "search_catalog";

    /// <summary>Items matching <paramref name="query"/>, best first, with prices and stock from the catalogue.</summary>
    /// <returns>
    /// No items and a note (never an exception) for a blank query, when no model version is loaded, when the version has
    /// no search index, or when nothing matches. A <paramref name="count"/> outside 1..10 is clamped; a price bound that
    /// is not a positive number is ignored; an unknown category or brand matches nothing.
    /// </returns>
    [KernelFunction(SearchName)]
    [Description("Searches the product catalog by words, optionally only in one category, of one brand or up to a price. Returns items with their catalog prices and stock.")]
    public ShoppingItems SearchCatalog(
        [Description("What the shopper is looking for, in a few words")] string query,
        [Description("Only items under this category path, for example Sports/Running")] string? category = null,
        [Description("Only items of this brand")] string? brand = null,
        [Description("The highest price the shopper wants to pay")] double? maxPrice = null,
        [Description("How many items to return, 1 to 10")] int count = 5,
        CancellationToken cancellationToken = default)
    {
        var result = Search(query, category, brand, maxPrice, count, cancellationToken);
        cards?.Add(SearchName, result.Items);
        return result;
    }

    private ShoppingItems Search(string query, string? category, string? brand, double? maxPrice, int count, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(query))
        {
            return new ShoppingItems([], "The query is empty: give a few words to search for.");
        }

        using var lease = serving.Acquire();
        if (lease is null)
        {
            return new ShoppingItems([], "The catalog is not available yet: no model version is loaded.");
        }

        if (lease.Search is not { } search)
        {
            return new ShoppingItems([], "Search is not available in the loaded model version.");
        }

        query = query.Trim();
        if (query.Length > MaxQueryLength)
        {
            query = query[..MaxQueryLength];
        }

        var filter = new SearchFilter
        {
            CategoryPrefix = string.IsNullOrWhiteSpace(category) ? null : category,
            Brand = string.IsNullOrWhiteSpace(brand) ? null : brand.Trim(),
            MaxPrice = maxPrice is { } max && max > 0 && double.IsFinite(max) ? max : null,
        };
        var found = search.Search(query, Math.Clamp(count, 1, MaxCount), SearchMode.Hybrid, filter, cancellationToken);
        var items = found.Hits.Select(h => ItemCard.Of(lease.Catalog, h.Item)).ToList();
        return items.Count == 0
            ? new ShoppingItems([], "Nothing in the catalog matches; try other words or fewer conditions.")
            : new ShoppingItems(items);
    }
}

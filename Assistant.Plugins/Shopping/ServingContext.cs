using Ranking.Fusion;
using Ranking.Search;

namespace Assistant.Plugins.Shopping;

/// <summary>
/// What the plugins ground themselves in: the serving pipeline and catalogue search of the loaded model version.
/// The host implements it over its model lifecycle; a lease keeps the version alive while a plugin uses it.
/// </summary>
public interface IServingContext
{
    /// <summary>The loaded version, or null when no model version is loaded yet.</summary>
    ServingLease? Acquire();
}

/// <summary>A loaded model version held for one plugin call; disposing releases it.</summary>
public sealed class ServingLease(Recommender recommender, HybridSearch? search, string version, IDisposable release) : IDisposable
{
    /// <summary>The ranking pipeline (its <see cref="Recommender.Models"/> carry the catalog and every model).</summary>
    public Recommender Recommender { get; } = recommender;

    /// <summary>Keyword (and, with text embeddings, vector) search over the catalogue; null without a keyword index.</summary>
    public HybridSearch? Search { get; } = search;

    /// <summary>The model version.</summary>
    public string Version { get; } = version;

    /// <summary>The catalog of the version: ids, titles, categories, brands, prices, stock.</summary>
    public ServingCatalog Catalog => Recommender.Models.Catalog;

    public void Dispose() => release.Dispose();
}

/// <summary>
/// An item as the plugins and the chat show it: id, title and category from the catalog, and the price and stock from
/// the catalog too — never from generated text.
/// </summary>
public sealed record ItemCard(string ItemId, string Title, string? Category, string? Brand, double? Price, bool InStock, string? Reason = null)
{
    /// <summary>The card of a catalog item (by its index in the serving catalog).</summary>
    public static ItemCard Of(ServingCatalog catalog, int item, string? reason = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        var table = catalog.Items;
        var c = table.CategoryIndex[item];
        var b = table.BrandIndex[item];
        var price = table.Price[item];
        return new ItemCard(
            catalog.ItemId(item), table.Title[item], c >= 0 ? table.Categories[c] : null, b >= 0 ? table.Brands[b] : null,
            float.IsNaN(price) ? null : Math.Round(price, 2), table.InStock[item], reason);
    }
}

using Ranking.Data;
using Ranking.Domain;

namespace Ranking.Search;

/// <summary>
/// Conditions a search hit must meet; every condition left null (or false) is not checked, so the empty filter
/// lets every known item through. Items the catalog does not describe (<see cref="ItemTable.IsKnown"/> false) never match.
/// </summary>
public sealed record SearchFilter
{
    /// <summary>
    /// A category path prefix, whole segments only and ignoring case: <c>Sports/Winter</c> matches
    /// <c>Sports/Winter</c> and <c>Sports/Winter/Ski</c>, not <c>Sports/Winterwear</c>. Spaces around segments and
    /// empty segments are ignored; null, empty or only slashes means any category.
    /// </summary>
    public string? CategoryPrefix { get; init; }

    /// <summary>The brand, ignoring case; items without a brand do not match. Null or empty means any brand.</summary>
    public string? Brand { get; init; }

    /// <summary>Lowest price, inclusive. Items with an unknown price do not match a price bound; a NaN bound matches nothing.</summary>
    public double? MinPrice { get; init; }

    /// <summary>Highest price, inclusive. Items with an unknown price do not match a price bound; a NaN bound matches nothing.</summary>
    public double? MaxPrice { get; init; }

    /// <summary>Only items in stock.</summary>
    public bool InStockOnly { get; init; }

    /// <summary>Whether <paramref name="item"/> (a dense item index of <paramref name="items"/>) meets every condition.</summary>
    /// <returns>False for an index out of range and for items the catalog does not describe.</returns>
    public bool Matches(ItemTable items, int item)
    {
        ArgumentNullException.ThrowIfNull(items);
        if ((uint)item >= (uint)items.Count || !items.IsKnown(item))
        {
            return false;
        }

        var prefix = NormalizedPrefix();
        if (prefix.Length > 0 && !IsPathPrefix(prefix, items.Categories[items.CategoryIndex[item]]))
        {
            return false;
        }

        if (!string.IsNullOrEmpty(Brand))
        {
            var brand = items.BrandIndex[item];
            if (brand < 0 || !string.Equals(items.Brands[brand], Brand, StringComparison.OrdinalIgnoreCase))
            {
                return false;
            }
        }

        return MatchesPriceAndStock(items, item);
    }

    /// <summary>
    /// The filter resolved against one catalog (categories and brands turned into index masks) for checking many
    /// items; agrees with <see cref="Matches"/>. Null when the filter is null.
    /// </summary>
    internal static Plan? Prepare(SearchFilter? filter, ItemTable items) => filter is null ? null : new Plan(filter, items);

    /// <summary>Whether <paramref name="path"/> starts with the whole segments of <paramref name="prefix"/>, ignoring case.</summary>
    internal static bool IsPathPrefix(string prefix, string path) =>
        path.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)
        && (path.Length == prefix.Length || path[prefix.Length] == CategoryPath.Separator);

    internal string NormalizedPrefix() => string.IsNullOrEmpty(CategoryPrefix) ? "" : CategoryPath.Normalize(CategoryPrefix);

    private bool MatchesPriceAndStock(ItemTable items, int item)
    {
        if (InStockOnly && !items.InStock[item])
        {
            return false;
        }

        // Comparisons with NaN are false: an unknown price fails a bound, a NaN bound fails every price.
        var price = items.Price[item];
        if (MinPrice is { } min && !(price >= min))
        {
            return false;
        }

        return MaxPrice is not { } max || price <= max;
    }

    /// <summary>A <see cref="SearchFilter"/> resolved against one catalog; immutable, safe to share between threads.</summary>
    internal sealed class Plan
    {
        private readonly SearchFilter _filter;
        private readonly ItemTable _items;
        private readonly bool[]? _categoryAllowed;
        private readonly bool[]? _brandAllowed;

        public Plan(SearchFilter filter, ItemTable items)
        {
            _filter = filter;
            _items = items;
            var prefix = filter.NormalizedPrefix();
            if (prefix.Length > 0)
            {
                _categoryAllowed = new bool[items.Categories.Count];
                for (var c = 0; c < _categoryAllowed.Length; c++)
                {
                    _categoryAllowed[c] = IsPathPrefix(prefix, items.Categories[c]);
                }
            }

            if (!string.IsNullOrEmpty(filter.Brand))
            {
                _brandAllowed = new bool[items.Brands.Count];
                for (var b = 0; b < _brandAllowed.Length; b++)
                {
                    _brandAllowed[b] = string.Equals(items.Brands[b], filter.Brand, StringComparison.OrdinalIgnoreCase);
                }
            }
        }

        public bool Allows(int item)
        {
            if ((uint)item >= (uint)_items.Count || !_items.IsKnown(item))
            {
                return false;
            }

            if (_categoryAllowed is not null && !_categoryAllowed[_items.CategoryIndex[item]])
            {
                return false;
            }

            if (_brandAllowed is not null)
            {
                var brand = _items.BrandIndex[item];
                if (brand < 0 || !_brandAllowed[brand])
                {
                    return false;
                }
            }

            return _filter.MatchesPriceAndStock(_items, item);
        }
    }
}

using Ranking.Domain;

namespace Ranking.Data;

/// <summary>
/// The catalog as columns over dense item indices: category, brand, price, cost, stock, age. Indices line up with
/// <see cref="InteractionLog"/> item indices. Items the catalog does not know (seen only in events) have category
/// and brand -1 and NaN prices.
/// </summary>
public sealed class ItemTable
{
    internal ItemTable(int count)
    {
        CategoryIndex = new int[count];
        TopCategoryIndex = new int[count];
        BrandIndex = new int[count];
        Price = new float[count];
        Cost = new float[count];
        InStock = new bool[count];
        CreatedAtMs = new long[count];
        Title = new string[count];
        Description = new string[count];
        Array.Fill(Title, "");
        Array.Fill(Description, "");
        Array.Fill(CategoryIndex, -1);
        Array.Fill(TopCategoryIndex, -1);
        Array.Fill(BrandIndex, -1);
        Array.Fill(Price, float.NaN);
        Array.Fill(Cost, float.NaN);
    }

    public int Count => CategoryIndex.Length;

    /// <summary>Index into <see cref="Categories"/> of the item's full category path; -1 when unknown.</summary>
    public int[] CategoryIndex { get; }

    /// <summary>Index into <see cref="Categories"/> of the item's top-level category; -1 when unknown.</summary>
    public int[] TopCategoryIndex { get; }

    /// <summary>Index into <see cref="Brands"/>; -1 when the item has no brand or is unknown.</summary>
    public int[] BrandIndex { get; }

    /// <summary>Price; NaN when unknown.</summary>
    public float[] Price { get; }

    /// <summary>Cost; NaN when unknown.</summary>
    public float[] Cost { get; }

    public bool[] InStock { get; }

    /// <summary>Unix milliseconds; 0 when unknown.</summary>
    public long[] CreatedAtMs { get; }

    /// <summary>Title; empty when unknown.</summary>
    public string[] Title { get; }

    /// <summary>Description; empty when unknown.</summary>
    public string[] Description { get; }

    /// <summary>Whether the catalog describes the item (false for items seen only in events).</summary>
    public bool IsKnown(int index) => CategoryIndex[index] >= 0;

    /// <summary>The item's text for a sentence encoder: title, category path, brand and description.</summary>
    public string TextOf(int index)
    {
        if (!IsKnown(index))
        {
            return Title[index];
        }

        var brand = BrandIndex[index] >= 0 ? _brands[BrandIndex[index]] : "";
        var category = _categories[CategoryIndex[index]].Replace(CategoryPath.Separator.ToString(), " > ", StringComparison.Ordinal);
        var text = string.Join(". ", new[] { Title[index], category, brand, Description[index] }.Where(s => s.Length > 0));
        return text;
    }

    /// <summary>Distinct category paths, full paths and top-level ones alike.</summary>
    public IReadOnlyList<string> Categories => _categories;

    public IReadOnlyList<string> Brands => _brands;

    private readonly List<string> _categories = [];
    private readonly List<string> _brands = [];
    private readonly Dictionary<string, int> _categoryIndex = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _brandIndex = new(StringComparer.OrdinalIgnoreCase);

    internal void Set(int index, Item item)
    {
        CategoryIndex[index] = Intern(item.Category, _categoryIndex, _categories);
        TopCategoryIndex[index] = Intern(item.TopCategory, _categoryIndex, _categories);
        BrandIndex[index] = string.IsNullOrWhiteSpace(item.Brand) ? -1 : Intern(item.Brand, _brandIndex, _brands);
        Price[index] = item.Price is { } p ? (float)p : float.NaN;
        Cost[index] = item.Cost is { } c ? (float)c : float.NaN;
        InStock[index] = item.InStock;
        Title[index] = item.Title ?? "";
        Description[index] = item.Description ?? "";
        CreatedAtMs[index] = item.CreatedAt == default ? 0 : item.CreatedAt.ToUnixTimeMilliseconds();
    }

    /// <summary>Writes the table (columns and the category and brand dictionaries) into an artifact.</summary>
    internal void WriteTo(Candidates.ArtifactWriter writer)
    {
        writer.WriteStrings(_categories);
        writer.WriteStrings(_brands);
        writer.WriteArray<int>(CategoryIndex);
        writer.WriteArray<int>(TopCategoryIndex);
        writer.WriteArray<int>(BrandIndex);
        writer.WriteArray<float>(Price);
        writer.WriteArray<float>(Cost);
        var stock = new byte[Count];
        for (var i = 0; i < stock.Length; i++)
        {
            stock[i] = InStock[i] ? (byte)1 : (byte)0;
        }

        writer.WriteArray<byte>(stock);
        writer.WriteArray<long>(CreatedAtMs);
        writer.WriteStrings(Title);
        writer.WriteStrings(Description);
    }

    /// <summary>Reads a table written by <see cref="WriteTo"/>.</summary>
    /// <exception cref="InvalidDataException">The columns disagree in length or point outside the dictionaries.</exception>
    internal static ItemTable ReadFrom(Candidates.ArtifactReader reader)
    {
        var categories = reader.ReadStrings();
        var brands = reader.ReadStrings();
        var category = reader.ReadArray<int>();
        var table = new ItemTable(category.Length);
        foreach (var c in categories)
        {
            Intern(c, table._categoryIndex, table._categories);
        }

        foreach (var b in brands)
        {
            Intern(b, table._brandIndex, table._brands);
        }

        Copy(category, table.CategoryIndex, categories.Length);
        Copy(reader.ReadArray<int>(), table.TopCategoryIndex, categories.Length);
        Copy(reader.ReadArray<int>(), table.BrandIndex, brands.Length);
        Copy(reader.ReadArray<float>(), table.Price);
        Copy(reader.ReadArray<float>(), table.Cost);
        var stock = reader.ReadArray<byte>();
        Check(stock.Length, table.Count);
        for (var i = 0; i < stock.Length; i++)
        {
            table.InStock[i] = stock[i] != 0;
        }

        Copy(reader.ReadArray<long>(), table.CreatedAtMs);
        Copy(reader.ReadStrings(), table.Title);
        Copy(reader.ReadStrings(), table.Description);
        return table;

        static void Copy<T>(T[] source, T[] target, int? bound = null)
        {
            Check(source.Length, target.Length);
            if (bound is { } b && source is int[] ints && ints.Any(v => v < -1 || v >= b))
            {
                throw new InvalidDataException("An item table column points outside its dictionary.");
            }

            source.CopyTo(target, 0);
        }

        static void Check(int length, int expected)
        {
            if (length != expected)
            {
                throw new InvalidDataException($"An item table column has {length} rows instead of {expected}.");
            }
        }
    }

    private static int Intern(string key, Dictionary<string, int> map, List<string> list)
    {
        if (!map.TryGetValue(key, out var i))
        {
            i = list.Count;
            map.Add(key, i);
            list.Add(key);
        }

        return i;
    }
}

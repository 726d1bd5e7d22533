namespace Ranking.Domain;

/// <summary>An item of the catalog, as every store keeps it.</summary>
/// <remarks>
/// <see cref="Price"/> and <see cref="Cost"/> may be unknown (null): imported data sets such as MovieLens have
/// no prices, and many marketplaces do not know the cost of third-party items. Margin is then unknown too.
/// </remarks>
public sealed record Item
{
    /// <summary>External id, unique in the catalog.</summary>
    public required string Id { get; init; }

    public required string Title { get; init; }

    public string Description { get; init; } = "";

    /// <summary>Category path with '/' between levels, for example <c>Sports/Winter/Snowboards</c>.</summary>
    public required string Category { get; init; }

    public string? Brand { get; init; }

    public double? Price { get; init; }

    public double? Cost { get; init; }

    public bool InStock { get; init; } = true;

    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>Free attributes (colour, size, attribute ids of a data set); never null once stored.</summary>
    public IReadOnlyDictionary<string, string> Attributes { get; init; } = EmptyAttributes;

    /// <summary>Price minus cost, or null when either is unknown.</summary>
    public double? Margin => Price is { } p && Cost is { } c ? p - c : null;

    /// <summary>The top-level category (the first segment of the path).</summary>
    public string TopCategory => CategoryPath.Top(Category);

    internal static readonly IReadOnlyDictionary<string, string> EmptyAttributes = new Dictionary<string, string>();
}

/// <summary>Helpers for '/'-separated category paths.</summary>
public static class CategoryPath
{
    public const char Separator = '/';

    /// <summary>The first segment; the whole path when it has one segment; "" for an empty path.</summary>
    public static string Top(string path)
    {
        var slash = path.IndexOf(Separator);
        return slash < 0 ? path : path[..slash];
    }

    /// <summary>Trims each segment and drops empty ones: <c>" a // b/ "</c> becomes <c>a/b</c>.</summary>
    public static string Normalize(string path)
    {
        var parts = path.Split(Separator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return string.Join(Separator, parts);
    }
}

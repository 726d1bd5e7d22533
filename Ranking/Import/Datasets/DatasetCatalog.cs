namespace Ranking.Import.Datasets;

/// <summary>The real data sets an import can name, and the folder each lives in under the data root.</summary>
/// <remarks>Names are matched case-insensitively. See each source for the mapping onto the domain.</remarks>
public static class DatasetCatalog
{
    /// <summary>Records (plus row errors) per chunk that the data set sources yield by default.</summary>
    public const int DefaultChunkSize = 10_000;

    public const string Rees46 = "rees46";
    public const string MovieLens1M = "movielens-1m";
    public const string MovieLens100K = "movielens-100k";
    public const string AmazonSports = "amazon-sports";
    public const string Hillstrom = "hillstrom";

    private static readonly DatasetEntry[] Known =
    [
        new(Rees46, "rees46-ecommerce-2019oct-head", static (folder, size) => new Rees46Source(folder, size)),
        new(MovieLens1M, "movielens-1m", static (folder, size) => new MovieLensSource(folder, size)),
        new(MovieLens100K, "movielens-100k", static (folder, size) => new MovieLensSource(folder, size)),
        new(AmazonSports, "amazon-sports-s3rec", static (folder, size) => new AmazonSportsSource(folder, size)),
        new(Hillstrom, "hillstrom", static (folder, size) => new HillstromSource(folder, size)),
    ];

    /// <summary>The known names, in a fixed order.</summary>
    public static IReadOnlyList<string> Names { get; } = Array.ConvertAll(Known, static k => k.Name);

    /// <summary>The folder (relative to the data root) that holds the named data set.</summary>
    /// <exception cref="ArgumentException">An unknown name; the message lists the known ones.</exception>
    public static string FolderOf(string name) => Find(name).Folder;

    /// <summary>A source over the named data set in <paramref name="dataRoot"/> (see <see cref="DatasetLocator.Root"/>).</summary>
    /// <exception cref="ArgumentException">An unknown name; the message lists the known ones.</exception>
    /// <exception cref="DirectoryNotFoundException">The data set's folder is not under <paramref name="dataRoot"/>.</exception>
    public static IImportSource Open(string name, string dataRoot, int chunkSize = DefaultChunkSize)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(dataRoot);
        var entry = Find(name);
        var folder = Path.Combine(dataRoot, entry.Folder);
        if (!Directory.Exists(folder))
        {
            throw new DirectoryNotFoundException(
                $"The data set '{name}' was not found: there is no folder '{entry.Folder}' in '{dataRoot}'. " +
                $"Point {DatasetLocator.EnvironmentVariable} at the folder that holds the data sets.");
        }

        return entry.Open(folder, chunkSize);
    }

    private static DatasetEntry Find(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        foreach (var entry in Known)
        {
            if (string.Equals(entry.Name, name.Trim(), StringComparison.OrdinalIgnoreCase))
            {
                return entry;
            }
        }

        throw new ArgumentException($"Unknown data set '{name}'. Known data sets: {string.Join(", ", Names)}.", nameof(name));
    }

    private sealed record DatasetEntry(string Name, string Folder, Func<string, int, IImportSource> Open);
}

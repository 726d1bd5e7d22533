using Ranking.Candidates;
using Ranking.Search;
using Ranking.Sequential;

namespace Ranking.Fusion;

/// <summary>
/// One trained version of everything serving uses: the catalog maps and the generators, each optional except the
/// catalog and popularity (the last-resort fallback). A missing optional model degrades the answers; it never breaks
/// them. Saved as one file per model into a version folder.
/// </summary>
public sealed class ServingModels : IDisposable
{
    /// <summary>File names inside a version folder.</summary>
    public static class Files
    {
        public const string Catalog = "catalog.bin";
        public const string Popularity = "popularity.bin";
        public const string Analogs = "cooc-analogs.bin";
        public const string Complements = "cooc-complements.bin";
        public const string Als = "als.bin";
        public const string Content = "content.bin";
        public const string Transformer = "transformer.bin";
        public const string Lifelong = "lifelong.bin";
        public const string Discovery = "discovery.bin";
        public const string Fusion = "fusion.bin";
        public const string Keywords = "bm25.bin";
    }

    /// <summary>Serving's item and user maps and item attributes.</summary>
    public required ServingCatalog Catalog { get; init; }

    /// <summary>Time-decayed popularity: always there.</summary>
    public required PopularityModel Popularity { get; init; }

    public CoOccurrenceModel? Analogs { get; init; }

    public CoOccurrenceModel? Complements { get; init; }

    public AlsModel? Als { get; init; }

    public ContentModel? Content { get; init; }

    public SequentialModel? Transformer { get; init; }

    public LifelongInterestModel? Lifelong { get; init; }

    public DiscoveryModel? Discovery { get; init; }

    public FusionModel? Fusion { get; init; }

    public Bm25Index? Keywords { get; init; }

    /// <summary>The artifact version these models came from ("" when built in memory).</summary>
    public string Version { get; init; } = "";

    /// <summary>The names of the models that are present.</summary>
    public IReadOnlyList<string> Present =>
    [
        "catalog", "popularity",
        .. Analogs is null ? Array.Empty<string>() : ["analogs"],
        .. Complements is null ? Array.Empty<string>() : ["complements"],
        .. Als is null ? Array.Empty<string>() : ["als"],
        .. Content is null ? Array.Empty<string>() : ["content"],
        .. Transformer is null ? Array.Empty<string>() : ["transformer"],
        .. Lifelong is null ? Array.Empty<string>() : ["lifelong"],
        .. Discovery is null ? Array.Empty<string>() : ["discovery"],
        .. Fusion is null ? Array.Empty<string>() : ["fusion"],
        .. Keywords is null ? Array.Empty<string>() : ["keywords"],
    ];

    /// <summary>Writes every present model through <paramref name="create"/> (one stream per file name, disposed here).</summary>
    /// <returns>The file names written.</returns>
    public IReadOnlyList<string> Save(Func<string, Stream> create)
    {
        ArgumentNullException.ThrowIfNull(create);
        var written = new List<string>();
        Write(Files.Catalog, Catalog.Save);
        Write(Files.Popularity, Popularity.Save);
        if (Analogs is not null)
        {
            Write(Files.Analogs, Analogs.Save);
        }

        if (Complements is not null)
        {
            Write(Files.Complements, Complements.Save);
        }

        if (Als is not null)
        {
            Write(Files.Als, Als.Save);
        }

        if (Content is not null)
        {
            Write(Files.Content, Content.Save);
        }

        if (Transformer is not null)
        {
            Write(Files.Transformer, Transformer.Save);
        }

        if (Lifelong is not null)
        {
            Write(Files.Lifelong, Lifelong.Save);
        }

        if (Discovery is not null)
        {
            Write(Files.Discovery, Discovery.Save);
        }

        if (Fusion is not null)
        {
            Write(Files.Fusion, Fusion.Save);
        }

        if (Keywords is not null)
        {
            Write(Files.Keywords, Keywords.Save);
        }

        return written;

        void Write(string name, Action<Stream> save)
        {
            using (var stream = create(name))
            {
                save(stream);
            }

            written.Add(name);
        }
    }

    /// <summary>
    /// Reads the models of a version: <paramref name="open"/> gives a file's stream, or null when the version has no
    /// such file. The catalog and popularity are required; a corrupt file of any model fails the whole load (so the
    /// host keeps its previous version rather than serve half of a broken one).
    /// </summary>
    /// <exception cref="InvalidDataException">A required file is missing, or a file is corrupt or from another item space.</exception>
    public static ServingModels Load(Func<string, Stream?> open, string version = "")
    {
        ArgumentNullException.ThrowIfNull(open);
        var catalog = Read(Files.Catalog, ServingCatalog.Load) ?? throw new InvalidDataException($"The version has no {Files.Catalog}.");
        var popularity = Read(Files.Popularity, PopularityModel.Load) ?? throw new InvalidDataException($"The version has no {Files.Popularity}.");
        var models = new ServingModels
        {
            Version = version,
            Catalog = catalog,
            Popularity = popularity,
            Analogs = Read(Files.Analogs, CoOccurrenceModel.Load),
            Complements = Read(Files.Complements, CoOccurrenceModel.Load),
            Als = Read(Files.Als, AlsModel.Load),
            Content = Read(Files.Content, s => ContentModel.Load(s)),
            Transformer = Read(Files.Transformer, SequentialModel.Load),
            Lifelong = Read(Files.Lifelong, LifelongInterestModel.Load),
            Discovery = Read(Files.Discovery, DiscoveryModel.Load),
            Fusion = Read(Files.Fusion, FusionModel.Load),
            Keywords = Read(Files.Keywords, s => Bm25Index.Load(s, catalog.Items)),
        };
        models.CheckItemSpace();
        return models;

        T? Read<T>(string name, Func<Stream, T> load)
            where T : class
        {
            using var stream = open(name);
            return stream is null ? null : load(stream);
        }
    }

    /// <summary>Throws when a model scores another item space than the catalog's.</summary>
    /// <exception cref="InvalidDataException">Item counts disagree.</exception>
    public void CheckItemSpace()
    {
        var n = Catalog.ItemCount;
        Check("popularity", Popularity.ItemCount);
        Check("analogs", Analogs?.ItemCount);
        Check("complements", Complements?.ItemCount);
        Check("als", Als?.ItemCount);
        Check("content", Content?.ItemCount);
        Check("transformer", Transformer?.ItemCount);
        if (Fusion is not null && !Fusion.FeatureNames.SequenceEqual(FusionFeatures.Names))
        {
            throw new InvalidDataException("The fusion model was trained on other features than this build computes.");
        }

        void Check(string name, int? count)
        {
            if (count is { } c && c != n)
            {
                throw new InvalidDataException($"The {name} model scores {c} items; the catalog has {n}.");
            }
        }
    }

    public void Dispose() => Content?.Dispose();
}

using System.Buffers;
using System.Numerics.Tensors;
using Ranking.Data;

namespace Ranking.Candidates;

/// <summary>How <see cref="ContentModel"/> builds its index and scores a user.</summary>
public sealed record ContentOptions
{
    /// <summary>Which index answers <see cref="ContentModel.Similar"/>; exact below 20,000 items by default.</summary>
    public VectorIndexOptions Index { get; init; } = new();

    /// <summary>How many of the user's most recent distinct items (with a vector) make her profile; 1 to 1024.</summary>
    public int HistoryLength { get; init; } = 20;

    /// <summary>
    /// Recency half-life in distinct items: the k-th most recent item (0 = the latest) counts
    /// 2^(−k / half-life) times its event weight. <see cref="float.PositiveInfinity"/> turns recency off.
    /// </summary>
    public float RecencyHalfLife { get; init; } = 10f;

    /// <exception cref="ArgumentOutOfRangeException">A value out of its documented range.</exception>
    internal void Validate()
    {
        ArgumentNullException.ThrowIfNull(Index);
        ArgumentNullException.ThrowIfNull(Index.Hnsw);
        Index.Hnsw.Validate();
        ArgumentOutOfRangeException.ThrowIfLessThan(HistoryLength, 1, nameof(HistoryLength));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(HistoryLength, MaxHistoryLength, nameof(HistoryLength));
        if (!(RecencyHalfLife > 0f))
        {
            throw new ArgumentOutOfRangeException(nameof(RecencyHalfLife), RecencyHalfLife, "The recency half-life must be positive.");
        }
    }

    internal const int MaxHistoryLength = 1024;
}

/// <summary>
/// Content similarity: every catalog item's text (<see cref="ItemTable.TextOf"/>) embedded by an
/// <see cref="ITextEncoder"/>, neighbours by cosine similarity. The analog source for items nobody has interacted
/// with yet, since it needs only the catalog.
/// </summary>
/// <remarks>
/// Items the catalog does not describe (<see cref="ItemTable.IsKnown"/> false: seen only in events) get no vector:
/// they have no neighbours, appear in no neighbour list and score −∞. <see cref="Similar"/> goes through the vector
/// index (exact or HNSW, see <see cref="ContentOptions.Index"/>); <see cref="Score"/> is always exact. Reads
/// (<see cref="Similar"/>, <see cref="Score"/>, <see cref="VectorOf"/>) may run concurrently.
/// </remarks>
public sealed class ContentModel : IItemSimilarity, ICandidateGenerator, IDisposable
{
    internal const string ArtifactKind = "content";
    internal const int ArtifactVersion = 1;

    private readonly float[] _vectors;
    private readonly bool[] _hasVector;
    private readonly IVectorIndex _index;

    /// <param name="keys">Items with a vector, strictly increasing.</param>
    /// <param name="packed">Their vectors, <c>keys.Length × dimension</c>, row-major.</param>
    /// <exception cref="ArgumentException">Keys out of range or not increasing; a zero or non-finite vector.</exception>
    private ContentModel(int itemCount, int dimension, int[] keys, float[] packed, ContentOptions options)
    {
        ItemCount = itemCount;
        Dimension = dimension;
        Options = options;
        _vectors = new float[(long)itemCount * dimension];
        _hasVector = new bool[itemCount];
        var previous = -1;
        for (var i = 0; i < keys.Length; i++)
        {
            var item = keys[i];
            if (item <= previous || item >= itemCount)
            {
                throw new ArgumentException($"Item {item} is out of range or out of order.", nameof(keys));
            }

            previous = item;
            if (!VectorIndexFactory.TryNormalize(packed.AsSpan(i * dimension, dimension), _vectors.AsSpan(item * dimension, dimension)))
            {
                throw new ArgumentException($"The vector of item {item} is zero or not finite.", nameof(packed));
            }

            _hasVector[item] = true;
        }

        VectorCount = keys.Length;
        IndexKind = VectorIndexFactory.KindFor(keys.Length, options.Index);
        _index = VectorIndexFactory.Create(dimension, keys.Length, options.Index with { Kind = IndexKind });
        try
        {
            _index.Add(keys, packed);
        }
        catch
        {
            _index.Dispose();
            throw;
        }
    }

    public string Name => "content";

    /// <summary>Size of the item index space (the catalog table's count).</summary>
    public int ItemCount { get; }

    /// <summary>Length of each item vector.</summary>
    public int Dimension { get; }

    /// <summary>How many items have a vector.</summary>
    public int VectorCount { get; }

    /// <summary>The index kind in use (exact or HNSW, never auto).</summary>
    public VectorIndexKind IndexKind { get; }

    public ContentOptions Options { get; }

    /// <summary>Embeds the text of every item the catalog describes and indexes the vectors.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Options out of range.</exception>
    /// <exception cref="OperationCanceledException">Cancelled while encoding.</exception>
    public static ContentModel Build(ItemTable items, ITextEncoder encoder, ContentOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(items);
        ArgumentNullException.ThrowIfNull(encoder);
        options ??= new ContentOptions();
        options.Validate();

        var keys = new List<int>(items.Count);
        var texts = new List<string>(items.Count);
        for (var i = 0; i < items.Count; i++)
        {
            if (items.IsKnown(i))
            {
                keys.Add(i);
                texts.Add(items.TextOf(i));
            }
        }

        var dimension = encoder.Dimension;
        var packed = new float[(long)texts.Count * dimension];
        encoder.Encode(texts, packed, cancellationToken);
        cancellationToken.ThrowIfCancellationRequested();
        return new ContentModel(items.Count, dimension, [.. keys], packed, options);
    }

    /// <summary>Whether the item has a vector (false for unknown items and indices out of range).</summary>
    public bool HasVector(int item) => (uint)item < (uint)ItemCount && _hasVector[item];

    /// <summary>The item's unit vector; empty for an item without one or an index out of range.</summary>
    public ReadOnlySpan<float> VectorOf(int item) =>
        HasVector(item) ? _vectors.AsSpan(item * Dimension, Dimension) : default;

    /// <summary>
    /// The <paramref name="k"/> items whose text is closest to this item's, by cosine similarity, best first, without
    /// the item itself. Empty for an item without a vector, an index out of range or k ≤ 0. With an HNSW index the
    /// list is approximate.
    /// </summary>
    public IReadOnlyList<ScoredItem> Similar(int item, int k)
    {
        if (k <= 0 || !HasVector(item) || VectorCount < 2)
        {
            return [];
        }

        var ask = Math.Min(k, VectorCount - 1) + 1;
        var keys = ArrayPool<int>.Shared.Rent(ask);
        var similarities = ArrayPool<float>.Shared.Rent(ask);
        try
        {
            var found = _index.Search(VectorOf(item), keys.AsSpan(0, ask), similarities.AsSpan(0, ask));
            var result = new List<ScoredItem>(Math.Min(k, found));
            for (var i = 0; i < found && result.Count < k; i++)
            {
                if (keys[i] != item)
                {
                    result.Add(new ScoredItem(keys[i], similarities[i]));
                }
            }

            return result;
        }
        finally
        {
            ArrayPool<float>.Shared.Return(similarities);
            ArrayPool<int>.Shared.Return(keys);
        }
    }

    /// <summary>
    /// Scores every item by the cosine similarity of its vector to the user's profile: the weighted mean of the
    /// vectors of her <see cref="ContentOptions.HistoryLength"/> most recent distinct items that have a vector. An
    /// item's weight is the largest event weight it got from her, times 2^(−k / <see cref="ContentOptions.RecencyHalfLife"/>)
    /// for the k-th most recent (0 = latest). Events without an item, items without a vector and items out of range
    /// are skipped. Exact over all vectors; items without a vector score −∞. The history items themselves score high:
    /// pass them as exclusions to <see cref="CandidateGeneratorExtensions.TopK"/>.
    /// </summary>
    /// <returns>False when the history has no item with a vector and a positive weight (or the weighted vectors
    /// cancel out exactly).</returns>
    /// <exception cref="ArgumentException"><paramref name="scores"/> is not <see cref="ItemCount"/> long.</exception>
    public bool Score(in UserHistory user, Span<float> scores)
    {
        if (scores.Length != ItemCount)
        {
            throw new ArgumentException($"The scores span must hold {ItemCount} items; it holds {scores.Length}.", nameof(scores));
        }

        var limit = Options.HistoryLength;
        Span<int> taken = stackalloc int[limit];
        Span<float> weights = stackalloc float[limit];
        var count = 0;
        var items = user.Items.Span;
        var eventWeights = user.Weights.Span;

        // Newest first: an item's recency rank is that of its latest event; its weight the largest of its events.
        for (var e = items.Length - 1; e >= 0; e--)
        {
            var item = items[e];
            if (!HasVector(item))
            {
                continue;
            }

            var at = taken[..count].IndexOf(item);
            if (at >= 0)
            {
                weights[at] = Math.Max(weights[at], eventWeights[e]);
            }
            else if (count < limit)
            {
                taken[count] = item;
                weights[count] = eventWeights[e];
                count++;
            }
        }

        var profile = ArrayPool<float>.Shared.Rent(Dimension);
        try
        {
            var mean = profile.AsSpan(0, Dimension);
            mean.Clear();
            var decay = float.IsPositiveInfinity(Options.RecencyHalfLife) ? 1.0 : Math.Pow(2.0, -1.0 / Options.RecencyHalfLife);
            var recency = 1.0;
            var any = false;
            for (var j = 0; j < count; j++, recency *= decay)
            {
                var w = (float)(weights[j] * recency);
                if (w > 0f && float.IsFinite(w))
                {
                    // mean += w · v (the scale does not matter for cosine: the sum is normalised below).
                    TensorPrimitives.MultiplyAdd(VectorOf(taken[j]), w, mean, mean);
                    any = true;
                }
            }

            if (!any || !VectorIndexFactory.TryNormalize(mean, mean))
            {
                return false;
            }

            for (var i = 0; i < ItemCount; i++)
            {
                scores[i] = _hasVector[i] ? TensorPrimitives.Dot(_vectors.AsSpan(i * Dimension, Dimension), mean) : float.NegativeInfinity;
            }

            return true;
        }
        finally
        {
            ArrayPool<float>.Shared.Return(profile);
        }
    }

    /// <summary>
    /// Writes the model as an artifact (kind "content", version 1): options, then the items with a vector and their
    /// vectors. The vector index is not stored; <see cref="Load"/> rebuilds it (for HNSW, about 5–30k vectors/s).
    /// </summary>
    public void Save(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var keys = new int[VectorCount];
        var packed = new float[(long)VectorCount * Dimension];
        var n = 0;
        for (var i = 0; i < ItemCount; i++)
        {
            if (_hasVector[i])
            {
                keys[n] = i;
                VectorOf(i).CopyTo(packed.AsSpan(n * Dimension, Dimension));
                n++;
            }
        }

        using var writer = new ArtifactWriter(stream, ArtifactKind, ArtifactVersion, ItemCount);
        writer.Write(Dimension);
        writer.Write(Options.HistoryLength);
        writer.Write(Options.RecencyHalfLife);
        writer.Write((int)Options.Index.Kind);
        writer.Write(Options.Index.ExactBelow);
        writer.Write(Options.Index.Hnsw.Connectivity);
        writer.Write(Options.Index.Hnsw.ExpansionAdd);
        writer.Write(Options.Index.Hnsw.ExpansionSearch);
        writer.WriteArray<int>(keys);
        writer.WriteArray<float>(packed);
    }

    /// <summary>Reads what <see cref="Save"/> wrote and rebuilds the vector index.</summary>
    /// <param name="stream">A seekable stream positioned at the artifact.</param>
    /// <param name="index">Index options to use instead of the saved ones (for example to force exact or HNSW).</param>
    /// <exception cref="InvalidDataException">Not a content artifact, another version, truncated or inconsistent.</exception>
    public static ContentModel Load(Stream stream, VectorIndexOptions? index = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var reader = new ArtifactReader(stream, ArtifactKind, ArtifactVersion);
        var itemCount = reader.ItemCount;
        var dimension = reader.ReadInt32();
        var historyLength = reader.ReadInt32();
        var halfLife = reader.ReadSingle();
        var kind = (VectorIndexKind)reader.ReadInt32();
        var exactBelow = reader.ReadInt32();
        var hnsw = new HnswOptions(reader.ReadInt32(), reader.ReadInt32(), reader.ReadInt32());
        var keys = reader.ReadArray<int>();
        var packed = reader.ReadArray<float>();
        if (dimension < 1 || !Enum.IsDefined(kind) || (long)keys.Length * dimension != packed.Length)
        {
            throw new InvalidDataException("The content artifact's sizes or options do not agree.");
        }

        try
        {
            var options = new ContentOptions
            {
                HistoryLength = historyLength,
                RecencyHalfLife = halfLife,
                Index = index ?? new VectorIndexOptions { Kind = kind, ExactBelow = exactBelow, Hnsw = hnsw },
            };
            options.Validate();
            return new ContentModel(itemCount, dimension, keys, packed, options);
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException("The content artifact holds invalid options, items or vectors.", e);
        }
    }

    /// <summary>
    /// Mean recall@k of an approximate index against the exact one: for each query (rows of
    /// <paramref name="queries"/>, <c>Dimension</c> floats each), the share of the exact top-k keys that the
    /// approximate top-k also holds. Queries for which the exact index finds nothing (zero vectors, empty index) are
    /// left out.
    /// </summary>
    /// <returns>The mean over the queries; <see cref="double.NaN"/> when no query counts.</returns>
    /// <exception cref="ArgumentException">Dimensions differ or the queries are not whole rows.</exception>
    public static double MeasureRecall(IVectorIndex approximate, ExactVectorIndex exact, ReadOnlySpan<float> queries, int k)
    {
        ArgumentNullException.ThrowIfNull(approximate);
        ArgumentNullException.ThrowIfNull(exact);
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        var dim = exact.Dimension;
        if (approximate.Dimension != dim || queries.Length % dim != 0)
        {
            throw new ArgumentException("The indices must share a dimension and the queries must be whole rows of it.", nameof(queries));
        }

        var truth = new int[k];
        var found = new int[k];
        var similarities = new float[k];
        var expected = new HashSet<int>(k);
        double sum = 0;
        var counted = 0;
        for (var q = 0; q < queries.Length / dim; q++)
        {
            var query = queries.Slice(q * dim, dim);
            var n = exact.Search(query, truth, similarities);
            if (n == 0)
            {
                continue;
            }

            expected.Clear();
            for (var i = 0; i < n; i++)
            {
                expected.Add(truth[i]);
            }

            var m = approximate.Search(query, found, similarities);
            var hits = 0;
            for (var i = 0; i < m; i++)
            {
                if (expected.Contains(found[i]))
                {
                    hits++;
                }
            }

            sum += (double)hits / n;
            counted++;
        }

        return counted == 0 ? double.NaN : sum / counted;
    }

    public void Dispose() => _index.Dispose();
}

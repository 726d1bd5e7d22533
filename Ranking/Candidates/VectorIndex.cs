using System.Buffers;
using System.Numerics.Tensors;
using Cloud.Unum.USearch;

namespace Ranking.Candidates;

/// <summary>
/// Nearest-neighbour search by cosine similarity over vectors keyed by dense item indices. Vectors are normalised
/// when added, so the caller may pass raw ones; a zero or non-finite vector is refused.
/// </summary>
public interface IVectorIndex : IDisposable
{
    int Dimension { get; }

    /// <summary>Number of vectors held.</summary>
    int Count { get; }

    /// <summary>
    /// Adds one vector per key: <paramref name="vectors"/> holds <c>keys.Length × Dimension</c> floats, row-major.
    /// Either every vector is added or none is.
    /// </summary>
    /// <exception cref="ArgumentException">
    /// A length mismatch; a negative key; a key already held or given twice; a zero or non-finite vector.
    /// </exception>
    void Add(ReadOnlySpan<int> keys, ReadOnlySpan<float> vectors);

    /// <summary>
    /// The <c>keys.Length</c> nearest vectors to <paramref name="query"/>, most similar first, with their cosine
    /// similarities (1 = same direction, higher is better).
    /// </summary>
    /// <returns>How many were written: fewer than asked when the index holds fewer vectors; 0 for a zero or
    /// non-finite query or an empty index.</returns>
    /// <exception cref="ArgumentException">The query is not <see cref="Dimension"/> long, or
    /// <paramref name="similarities"/> is shorter than <paramref name="keys"/>.</exception>
    int Search(ReadOnlySpan<float> query, Span<int> keys, Span<float> similarities);

    /// <summary>Writes the index to a file (created or overwritten).</summary>
    void Save(string path);
}

/// <summary>Which <see cref="IVectorIndex"/> <see cref="VectorIndexFactory"/> builds.</summary>
public enum VectorIndexKind
{
    /// <summary>Exact below <see cref="VectorIndexOptions.ExactBelow"/> vectors, HNSW from there on.</summary>
    Auto = 0,

    /// <summary>Always <see cref="ExactVectorIndex"/>.</summary>
    Exact = 1,

    /// <summary>Always <see cref="HnswVectorIndex"/>.</summary>
    Hnsw = 2,
}

/// <summary>HNSW graph parameters (USearch names): M, efConstruction and efSearch.</summary>
/// <param name="Connectivity">Links per node (M); more costs memory and build time and raises recall.</param>
/// <param name="ExpansionAdd">Candidate list while adding (efConstruction); more builds slower, better graphs.</param>
/// <param name="ExpansionSearch">Candidate list while searching (efSearch); more searches slower, with higher recall.</param>
public sealed record HnswOptions(int Connectivity = 16, int ExpansionAdd = 128, int ExpansionSearch = 64)
{
    /// <exception cref="ArgumentOutOfRangeException">A parameter below 1.</exception>
    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(Connectivity, 1, nameof(Connectivity));
        ArgumentOutOfRangeException.ThrowIfLessThan(ExpansionAdd, 1, nameof(ExpansionAdd));
        ArgumentOutOfRangeException.ThrowIfLessThan(ExpansionSearch, 1, nameof(ExpansionSearch));
    }
}

/// <summary>How <see cref="VectorIndexFactory"/> chooses and sets up an index.</summary>
public sealed record VectorIndexOptions
{
    public VectorIndexKind Kind { get; init; } = VectorIndexKind.Auto;

    /// <summary>Under <see cref="VectorIndexKind.Auto"/>, the vector count from which HNSW is used. Exact search over
    /// 20,000 × 384 floats takes a few milliseconds, and it is exact.</summary>
    public int ExactBelow { get; init; } = 20_000;

    public HnswOptions Hnsw { get; init; } = new();
}

/// <summary>Builds the index that <see cref="VectorIndexOptions"/> asks for.</summary>
public static class VectorIndexFactory
{
    /// <summary>An empty index for about <paramref name="expectedCount"/> vectors of <paramref name="dimension"/> floats.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Dimension below 1 or a negative count.</exception>
    public static IVectorIndex Create(int dimension, int expectedCount, VectorIndexOptions? options = null)
    {
        options ??= new VectorIndexOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(expectedCount);
        return KindFor(expectedCount, options) == VectorIndexKind.Exact
            ? new ExactVectorIndex(dimension, expectedCount)
            : new HnswVectorIndex(dimension, options.Hnsw);
    }

    /// <summary>The concrete kind (never <see cref="VectorIndexKind.Auto"/>) chosen for a vector count.</summary>
    public static VectorIndexKind KindFor(int count, VectorIndexOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.Kind switch
        {
            VectorIndexKind.Exact => VectorIndexKind.Exact,
            VectorIndexKind.Hnsw => VectorIndexKind.Hnsw,
            _ => count < options.ExactBelow ? VectorIndexKind.Exact : VectorIndexKind.Hnsw,
        };
    }

    /// <summary>Checks lengths, keys and vectors of an add before anything is added.</summary>
    internal static void ValidateAdd(ReadOnlySpan<int> keys, ReadOnlySpan<float> vectors, int dimension, Func<int, bool> holds)
    {
        if ((long)keys.Length * dimension != vectors.Length)
        {
            throw new ArgumentException($"{keys.Length} keys need {(long)keys.Length * dimension} floats; {vectors.Length} were given.", nameof(vectors));
        }

        var seen = new HashSet<int>(keys.Length);
        for (var i = 0; i < keys.Length; i++)
        {
            var key = keys[i];
            if (key < 0)
            {
                throw new ArgumentException($"Key {key} is negative; keys are dense item indices.", nameof(keys));
            }

            if (!seen.Add(key) || holds(key))
            {
                throw new ArgumentException($"Key {key} is added twice.", nameof(keys));
            }

            var norm = TensorPrimitives.Norm(vectors.Slice(i * dimension, dimension));
            if (!(norm > 0f) || !float.IsFinite(norm))
            {
                throw new ArgumentException($"The vector of key {key} is zero or not finite.", nameof(vectors));
            }
        }
    }

    /// <summary>The query scaled to unit length into <paramref name="unit"/>; false for a zero or non-finite query.</summary>
    internal static bool TryNormalize(ReadOnlySpan<float> query, Span<float> unit)
    {
        var norm = TensorPrimitives.Norm(query);
        if (!(norm > 0f) || !float.IsFinite(norm))
        {
            return false;
        }

        TensorPrimitives.Divide(query, norm, unit);
        return true;
    }

    internal static void CheckSearch(ReadOnlySpan<float> query, Span<int> keys, Span<float> similarities, int dimension)
    {
        if (query.Length != dimension)
        {
            throw new ArgumentException($"The query has {query.Length} floats; the index holds vectors of {dimension}.", nameof(query));
        }

        if (similarities.Length < keys.Length)
        {
            throw new ArgumentException("The similarities span is shorter than the keys span.", nameof(similarities));
        }
    }
}

/// <summary>
/// Brute-force cosine search: unit vectors in one array, a dot product per row (<see cref="TensorPrimitives.Dot(ReadOnlySpan{float}, ReadOnlySpan{float})"/>)
/// and a top-K heap. Exact, so it is also the oracle for <see cref="HnswVectorIndex"/>.
/// </summary>
/// <remarks>
/// Thread safety: searches may run concurrently with each other, not with <see cref="Add"/>. Scoring is spread
/// over cores with <c>Parallel.For</c> once the index holds at least <see cref="ParallelThreshold"/> floats.
/// Ties in similarity go to the vector added first.
/// </remarks>
public sealed class ExactVectorIndex : IVectorIndex
{
    internal const string ArtifactKind = "vector-index-exact";
    internal const int ArtifactVersion = 1;

    private readonly Dictionary<int, int> _rowOfKey;
    private float[] _vectors;
    private int[] _keys;
    private int _count;

    /// <param name="dimension">Floats per vector; at least 1.</param>
    /// <param name="capacity">Vectors to make room for up front.</param>
    public ExactVectorIndex(int dimension, int capacity = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        Dimension = dimension;
        _vectors = new float[(long)capacity * dimension];
        _keys = new int[capacity];
        _rowOfKey = new Dictionary<int, int>(capacity);
    }

    public int Dimension { get; }

    public int Count => _count;

    /// <summary>Floats (vectors × dimension) from which a search scores rows in parallel; 0 = always.</summary>
    public int ParallelThreshold { get; init; } = 1 << 21;

    /// <summary>The unit vector stored under <paramref name="key"/>; empty when the key is not held.</summary>
    public ReadOnlySpan<float> VectorOf(int key) =>
        _rowOfKey.TryGetValue(key, out var row) ? _vectors.AsSpan(row * Dimension, Dimension) : default;

    public void Add(ReadOnlySpan<int> keys, ReadOnlySpan<float> vectors)
    {
        VectorIndexFactory.ValidateAdd(keys, vectors, Dimension, _rowOfKey.ContainsKey);
        EnsureCapacity(_count + keys.Length);
        for (var i = 0; i < keys.Length; i++)
        {
            var row = _vectors.AsSpan(_count * Dimension, Dimension);
            VectorIndexFactory.TryNormalize(vectors.Slice(i * Dimension, Dimension), row);
            _keys[_count] = keys[i];
            _rowOfKey.Add(keys[i], _count);
            _count++;
        }
    }

    public int Search(ReadOnlySpan<float> query, Span<int> keys, Span<float> similarities)
    {
        VectorIndexFactory.CheckSearch(query, keys, similarities, Dimension);
        var k = Math.Min(keys.Length, _count);
        if (k == 0)
        {
            return 0;
        }

        var unit = ArrayPool<float>.Shared.Rent(Dimension);
        var scores = ArrayPool<float>.Shared.Rent(_count);
        var best = ArrayPool<ScoredItem>.Shared.Rent(k);
        try
        {
            if (!VectorIndexFactory.TryNormalize(query, unit.AsSpan(0, Dimension)))
            {
                return 0;
            }

            ScoreAll(unit, scores);
            var n = TopKSelector.Select(scores.AsSpan(0, _count), best.AsSpan(0, k));
            for (var i = 0; i < n; i++)
            {
                keys[i] = _keys[best[i].Item];
                similarities[i] = best[i].Score;
            }

            return n;
        }
        finally
        {
            ArrayPool<ScoredItem>.Shared.Return(best);
            ArrayPool<float>.Shared.Return(scores);
            ArrayPool<float>.Shared.Return(unit);
        }
    }

    /// <summary>Writes the cosine similarity of every stored vector (in the order added) to a unit query into the
    /// first <see cref="Count"/> slots of <paramref name="scores"/>.</summary>
    private void ScoreAll(float[] unitQuery, float[] scores)
    {
        var dim = Dimension;
        var count = _count;
        var vectors = _vectors;
        if ((long)count * dim < ParallelThreshold || Environment.ProcessorCount == 1)
        {
            var query = unitQuery.AsSpan(0, dim);
            for (var r = 0; r < count; r++)
            {
                scores[r] = TensorPrimitives.Dot(vectors.AsSpan(r * dim, dim), query);
            }

            return;
        }

        var chunks = Environment.ProcessorCount * 4;
        var chunk = (count + chunks - 1) / chunks;
        Parallel.For(0, chunks, c =>
        {
            var query = unitQuery.AsSpan(0, dim);
            var end = Math.Min(count, (c + 1) * chunk);
            for (var r = c * chunk; r < end; r++)
            {
                scores[r] = TensorPrimitives.Dot(vectors.AsSpan(r * dim, dim), query);
            }
        });
    }

    /// <summary>Writes the index as an artifact (kind "vector-index-exact", version 1).</summary>
    public void Save(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        using var stream = File.Create(path);
        using var writer = new ArtifactWriter(stream, ArtifactKind, ArtifactVersion, _count);
        writer.Write(Dimension);
        writer.WriteArray<int>(_keys.AsSpan(0, _count));
        writer.WriteArray<float>(_vectors.AsSpan(0, _count * Dimension));
    }

    /// <summary>Reads what <see cref="Save"/> wrote.</summary>
    /// <exception cref="InvalidDataException">Not such an artifact, or a truncated or inconsistent one.</exception>
    public static ExactVectorIndex Load(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        using var stream = File.OpenRead(path);
        using var reader = new ArtifactReader(stream, ArtifactKind, ArtifactVersion);
        var dimension = reader.ReadInt32();
        var keys = reader.ReadArray<int>();
        var vectors = reader.ReadArray<float>();
        if (dimension < 1 || keys.Length != reader.ItemCount || (long)keys.Length * dimension != vectors.Length)
        {
            throw new InvalidDataException("The exact index artifact's sizes do not agree.");
        }

        var index = new ExactVectorIndex(dimension, keys.Length);
        try
        {
            index.Add(keys, vectors);
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException("The exact index artifact holds bad keys or vectors.", e);
        }

        return index;
    }

    /// <summary>Nothing to release; present for <see cref="IVectorIndex"/>.</summary>
    public void Dispose()
    {
    }

    private void EnsureCapacity(int count)
    {
        if (count <= _keys.Length)
        {
            return;
        }

        var capacity = Math.Max(count, Math.Max(16, _keys.Length * 2));
        Array.Resize(ref _keys, capacity);
        Array.Resize(ref _vectors, checked(capacity * Dimension));
    }
}

/// <summary>
/// Approximate cosine search with an HNSW graph (USearch, float32). Similarity is reported as 1 − USearch's cosine
/// distance.
/// </summary>
/// <remarks>
/// Adds run on one thread (USearch's C# binding cannot reserve capacity ahead of parallel inserts); a lock enforces
/// it. Searches may run concurrently with each other once adding is done. USearch builds the graph the same way for
/// the same vectors added in the same order.
/// </remarks>
public sealed class HnswVectorIndex : IVectorIndex
{
    private readonly USearchIndex _index;
    private readonly Lock _addGate = new();
    private bool _disposed;

    /// <param name="dimension">Floats per vector; at least 1.</param>
    /// <param name="options">Graph parameters; the defaults when null.</param>
    public HnswVectorIndex(int dimension, HnswOptions? options = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        Options = options ?? new HnswOptions();
        Options.Validate();
        Dimension = dimension;
        _index = new USearchIndex(
            MetricKind.Cos,
            ScalarKind.Float32,
            (ulong)dimension,
            (ulong)Options.Connectivity,
            (ulong)Options.ExpansionAdd,
            (ulong)Options.ExpansionSearch);
    }

    private HnswVectorIndex(USearchIndex index, HnswOptions options)
    {
        _index = index;
        Options = options;
        Dimension = checked((int)index.Dimensions());
    }

    public int Dimension { get; }

    public int Count
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return checked((int)_index.Size());
        }
    }

    /// <summary>The graph parameters. For a loaded index, the connectivity comes from the file and the expansions are
    /// USearch's defaults (64 for search), whatever this reports.</summary>
    public HnswOptions Options { get; }

    public void Add(ReadOnlySpan<int> keys, ReadOnlySpan<float> vectors)
    {
        lock (_addGate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            VectorIndexFactory.ValidateAdd(keys, vectors, Dimension, key => _index.Contains((ulong)key));

            // The binding reserves capacity once per batch call; chunks bound the managed copies it needs.
            const int Chunk = 4096;
            for (var start = 0; start < keys.Length; start += Chunk)
            {
                var size = Math.Min(Chunk, keys.Length - start);
                var ids = new ulong[size];
                var rows = new float[size][];
                for (var i = 0; i < size; i++)
                {
                    ids[i] = (ulong)keys[start + i];
                    rows[i] = vectors.Slice((start + i) * Dimension, Dimension).ToArray();
                }

                _index.Add(ids, rows);
            }
        }
    }

    public int Search(ReadOnlySpan<float> query, Span<int> keys, Span<float> similarities)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        VectorIndexFactory.CheckSearch(query, keys, similarities, Dimension);
        if (keys.IsEmpty)
        {
            return 0;
        }

        var unit = new float[Dimension];
        if (!VectorIndexFactory.TryNormalize(query, unit))
        {
            return 0;
        }

        // The C# binding reserves native search contexts for as many threads as it saw at its last Add and offers no
        // way to reserve more, so a query from another thread can fail with "Reserve capacity ahead of searches":
        // queries are serialised (one query takes about 0.1 ms at 3,000 to 100,000 items).
        ulong[] ids;
        float[] distances;
        int found;
        lock (_addGate)
        {
            found = _index.Search(unit, keys.Length, out ids, out distances);
        }

        found = Math.Min(found, Math.Min(ids.Length, keys.Length));
        for (var i = 0; i < found; i++)
        {
            keys[i] = checked((int)ids[i]);
            similarities[i] = 1f - distances[i];
        }

        return found;
    }

    /// <summary>Writes USearch's own file format; read it back with <see cref="Load"/>.</summary>
    public void Save(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ObjectDisposedException.ThrowIf(_disposed, this);
        _index.Save(path);
    }

    /// <summary>Reads an index written by <see cref="Save"/>.</summary>
    /// <param name="view">Memory-map the file instead of copying it into memory (the file must then stay in place).</param>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="InvalidDataException">USearch could not read the file.</exception>
    public static HnswVectorIndex Load(string path, bool view = false)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException("No HNSW index file.", path);
        }

        USearchIndex index;
        try
        {
            index = new USearchIndex(path, view);
        }
        catch (USearchException e)
        {
            throw new InvalidDataException($"USearch could not read '{path}'.", e);
        }

        return new HnswVectorIndex(index, new HnswOptions(Connectivity: checked((int)Math.Max(1UL, index.Connectivity()))));
    }

    public void Dispose()
    {
        lock (_addGate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _index.Dispose();
        }
    }
}

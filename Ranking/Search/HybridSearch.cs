using System.Buffers;
using System.Numerics.Tensors;
using Ranking.Candidates;

namespace Ranking.Search;

/// <summary>Which retrievers a <see cref="HybridSearch"/> query uses.</summary>
public enum SearchMode
{
    /// <summary>BM25 only.</summary>
    Keyword = 0,

    /// <summary>Embedding similarity only; falls back to keywords when vectors are unavailable.</summary>
    Vector = 1,

    /// <summary>Both, fused by reciprocal rank.</summary>
    Hybrid = 2,
}

/// <summary>One result of a <see cref="HybridSearch"/>.</summary>
/// <param name="Item">Dense item index.</param>
/// <param name="Score">Fused score: Σ weight / (k0 + rank) over the retrievers that returned the item.</param>
/// <param name="KeywordRank">1-based rank in the BM25 list; -1 when BM25 did not return the item.</param>
/// <param name="VectorRank">1-based rank in the vector list; -1 when the vector search did not return the item.</param>
public readonly record struct SearchHit(int Item, float Score, int KeywordRank, int VectorRank);

/// <summary>What a <see cref="HybridSearch"/> query found and which retrievers actually ran.</summary>
/// <param name="Hits">Best first.</param>
/// <param name="UsedVectors">Whether the vector search ran (false in keyword mode, without a content model or
/// encoder, or when encoding the query failed).</param>
/// <param name="UsedKeywords">Whether BM25 ran.</param>
public sealed record SearchResult(IReadOnlyList<SearchHit> Hits, bool UsedVectors, bool UsedKeywords);

/// <summary>How <see cref="HybridSearch"/> fuses its retrievers.</summary>
public sealed record HybridSearchOptions
{
    /// <summary>The k0 of reciprocal-rank fusion, damping the lead of the very first ranks; at least 0.</summary>
    public float RankConstant { get; init; } = 60f;

    /// <summary>Weight of the BM25 list in the fusion; at least 0.</summary>
    public float KeywordWeight { get; init; } = 1f;

    /// <summary>Weight of the vector list in the fusion; at least 0.</summary>
    public float VectorWeight { get; init; } = 1f;

    /// <summary>How deep each retriever's list goes into the fusion (at least the k asked for); at least 1.</summary>
    public int CandidateDepth { get; init; } = 100;

    /// <exception cref="ArgumentOutOfRangeException">A value out of its documented range (NaN included).</exception>
    internal void Validate()
    {
        Check(RankConstant, nameof(RankConstant));
        Check(KeywordWeight, nameof(KeywordWeight));
        Check(VectorWeight, nameof(VectorWeight));
        ArgumentOutOfRangeException.ThrowIfLessThan(CandidateDepth, 1, nameof(CandidateDepth));

        static void Check(float value, string name)
        {
            if (!(value >= 0f && float.IsFinite(value)))
            {
                throw new ArgumentOutOfRangeException(name, value, "The value must be finite and at least 0.");
            }
        }
    }
}

/// <summary>
/// Catalog search combining keywords (<see cref="Bm25Index"/>) and meaning (the query embedded by an
/// <see cref="ITextEncoder"/> against a <see cref="ContentModel"/>'s item vectors) by weighted reciprocal-rank fusion:
/// an item scores Σ weight / (k0 + rank) over the lists that hold it, ranks counted from 1.
/// </summary>
/// <remarks>
/// <para>The vector part is optional: without a content model or encoder every query is keyword-only. A query whose
/// encoding throws (a model that failed to load, a disposed encoder) is answered by keywords alone with
/// <see cref="SearchResult.UsedVectors"/> false, never with an exception; <see cref="VectorFailures"/> counts them.
/// Cancellation is the exception: it propagates.</para>
/// <para>The vector search is exact: the query vector's dot product with every item vector
/// (<see cref="ContentModel.VectorOf"/>; vectors are unit length, so this is the cosine), because
/// <see cref="ContentModel"/> offers no query-by-vector search through its index. That is about a millisecond per
/// 10,000 items of 384 floats.</para>
/// <para>The filter applies to both lists before fusion. Thread-safe: the parts are immutable and
/// <see cref="ITextEncoder.Encode"/> is thread-safe by contract.</para>
/// </remarks>
public sealed class HybridSearch
{
    private readonly ContentModel? _content;
    private readonly ITextEncoder? _encoder;
    private long _vectorFailures;

    /// <param name="keywords">The BM25 index over the catalog.</param>
    /// <param name="content">Item vectors over the same catalog; null for keyword-only search.</param>
    /// <param name="encoder">The encoder the content model was built with; null for keyword-only search.</param>
    /// <param name="options">Fusion settings; null for the defaults.</param>
    /// <exception cref="ArgumentException">The content model covers another item count than the index's catalog, or the
    /// encoder's dimension differs from the model's.</exception>
    /// <exception cref="ArgumentOutOfRangeException">Options out of range.</exception>
    public HybridSearch(Bm25Index keywords, ContentModel? content = null, ITextEncoder? encoder = null, HybridSearchOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(keywords);
        options ??= new HybridSearchOptions();
        options.Validate();
        if (content is not null && content.ItemCount != keywords.Items.Count)
        {
            throw new ArgumentException($"The content model covers {content.ItemCount} items; the catalog has {keywords.Items.Count}.", nameof(content));
        }

        if (content is not null && encoder is not null && encoder.Dimension != content.Dimension)
        {
            throw new ArgumentException($"The encoder writes {encoder.Dimension} floats; the content model holds {content.Dimension}.", nameof(encoder));
        }

        Keywords = keywords;
        Options = options;
        _content = content;
        _encoder = encoder;
    }

    public Bm25Index Keywords { get; }

    public HybridSearchOptions Options { get; }

    /// <summary>Whether a content model and an encoder were given (vector search can be tried).</summary>
    public bool HasVectors => _content is not null && _encoder is not null;

    /// <summary>How many queries fell back to keywords because the encoder threw.</summary>
    public long VectorFailures => Interlocked.Read(ref _vectorFailures);

    /// <summary>
    /// The <paramref name="k"/> best items for <paramref name="query"/> that <paramref name="filter"/> lets through.
    /// <see cref="SearchMode.Vector"/> and <see cref="SearchMode.Hybrid"/> fall back to keywords when vectors are
    /// unavailable or the encoder fails; the flags of the result say what ran.
    /// </summary>
    /// <returns>No hits (and both flags false) for k ≤ 0 or a null or blank query.</returns>
    /// <exception cref="OperationCanceledException">Cancelled while encoding the query.</exception>
    public SearchResult Search(string query, int k, SearchMode mode = SearchMode.Hybrid, SearchFilter? filter = null, CancellationToken cancellationToken = default)
    {
        if (k <= 0 || string.IsNullOrWhiteSpace(query))
        {
            return new SearchResult([], UsedVectors: false, UsedKeywords: false);
        }

        var depth = Math.Max(k, Options.CandidateDepth);
        IReadOnlyList<ScoredItem>? vector = null;
        if (mode != SearchMode.Keyword && HasVectors)
        {
            vector = TryVectorSearch(query, depth, filter, cancellationToken);
        }

        IReadOnlyList<ScoredItem>? keyword = null;
        if (mode != SearchMode.Vector || vector is null)
        {
            keyword = Keywords.Search(query, depth, filter);
        }

        return new SearchResult(Fuse(keyword, vector, k, Options), UsedVectors: vector is not null, UsedKeywords: keyword is not null);
    }

    /// <summary>
    /// Weighted reciprocal-rank fusion of up to two ranked lists: each item scores Σ weight / (k0 + rank), rank from 1,
    /// best first; equal scores go to the better best rank, then the lower item index. A null list is absent; an item listed twice in one list counts at its
    /// first rank.
    /// </summary>
    internal static SearchHit[] Fuse(IReadOnlyList<ScoredItem>? keyword, IReadOnlyList<ScoredItem>? vector, int k, HybridSearchOptions options)
    {
        var keywordCount = keyword?.Count ?? 0;
        var vectorCount = vector?.Count ?? 0;
        var ranks = new Dictionary<int, int>(keywordCount + vectorCount);
        var hits = new List<SearchHit>(keywordCount + vectorCount);
        for (var r = 0; r < keywordCount; r++)
        {
            var item = keyword![r].Item;
            if (ranks.TryAdd(item, hits.Count))
            {
                hits.Add(new SearchHit(item, 0f, r + 1, -1));
            }
        }

        for (var r = 0; r < vectorCount; r++)
        {
            var item = vector![r].Item;
            if (ranks.TryGetValue(item, out var at))
            {
                if (hits[at].VectorRank < 0)
                {
                    hits[at] = hits[at] with { VectorRank = r + 1 };
                }
            }
            else
            {
                ranks.Add(item, hits.Count);
                hits.Add(new SearchHit(item, 0f, -1, r + 1));
            }
        }

        var fused = new SearchHit[hits.Count];
        for (var i = 0; i < fused.Length; i++)
        {
            var hit = hits[i];
            var score = 0.0;
            if (hit.KeywordRank > 0)
            {
                score += options.KeywordWeight / ((double)options.RankConstant + hit.KeywordRank);
            }

            if (hit.VectorRank > 0)
            {
                score += options.VectorWeight / ((double)options.RankConstant + hit.VectorRank);
            }

            fused[i] = hit with { Score = (float)score };
        }

        // Equal scores (a zero weight, or mirrored ranks) go to the better best rank, then to the lower item index,
        // so a single list keeps its own order whatever its weight.
        Array.Sort(fused, static (a, b) =>
        {
            var byScore = b.Score.CompareTo(a.Score);
            if (byScore != 0)
            {
                return byScore;
            }

            var byRank = BestRank(a).CompareTo(BestRank(b));
            return byRank != 0 ? byRank : a.Item.CompareTo(b.Item);
        });
        return fused.Length <= k ? fused : fused[..k];
    }

    private static int BestRank(in SearchHit hit) =>
        Math.Min(hit.KeywordRank > 0 ? hit.KeywordRank : int.MaxValue, hit.VectorRank > 0 ? hit.VectorRank : int.MaxValue);

    /// <summary>The vector list, or null when encoding the query failed.</summary>
    private ScoredItem[]? TryVectorSearch(string query, int depth, SearchFilter? filter, CancellationToken cancellationToken)
    {
        var content = _content!;
        var dimension = content.Dimension;
        var buffer = ArrayPool<float>.Shared.Rent(dimension);
        try
        {
            var queryVector = buffer.AsSpan(0, dimension);
            try
            {
                _encoder!.Encode([query], queryVector, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
#pragma warning disable CA1031 // Any encoder failure (ONNX, disposed, bad output) degrades to keywords by design.
            catch (Exception)
#pragma warning restore CA1031
            {
                Interlocked.Increment(ref _vectorFailures);
                return null;
            }

            // The contract promises unit rows; a zero or non-finite one would rank items arbitrarily.
            var norm = TensorPrimitives.Norm(queryVector);
            if (!(norm > 0f) || !float.IsFinite(norm))
            {
                Interlocked.Increment(ref _vectorFailures);
                return null;
            }

            var plan = SearchFilter.Prepare(filter, Keywords.Items);
            var heap = new TopHeap(Math.Min(depth, content.VectorCount));
            for (var item = 0; item < content.ItemCount; item++)
            {
                if (content.HasVector(item) && (plan is null || plan.Allows(item)))
                {
                    heap.Offer(item, TensorPrimitives.Dot(content.VectorOf(item), queryVector));
                }
            }

            return heap.ToBestFirst();
        }
        finally
        {
            ArrayPool<float>.Shared.Return(buffer);
        }
    }
}

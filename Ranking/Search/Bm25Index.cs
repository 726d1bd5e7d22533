using Ranking.Candidates;
using Ranking.Data;

namespace Ranking.Search;

/// <summary>How <see cref="Bm25Index"/> weighs terms and fields.</summary>
public sealed record Bm25Options
{
    /// <summary>Term-frequency saturation (Okapi k1); 0 makes a term count once however often it occurs. At least 0.</summary>
    public float K1 { get; init; } = 1.2f;

    /// <summary>Length normalisation (Okapi b): 0 ignores document length, 1 normalises fully. 0 to 1.</summary>
    public float B { get; init; } = 0.75f;

    /// <summary>Weight of a title occurrence. At least 0.</summary>
    public float TitleBoost { get; init; } = 2f;

    /// <summary>Weight of an occurrence in the category path (its segments split on '/'). At least 0.</summary>
    public float CategoryBoost { get; init; } = 1.5f;

    /// <summary>Weight of a brand occurrence. At least 0.</summary>
    public float BrandBoost { get; init; } = 2f;

    /// <summary>Weight of a description occurrence. At least 0.</summary>
    public float DescriptionBoost { get; init; } = 1f;

    /// <exception cref="ArgumentOutOfRangeException">A value out of its documented range (NaN included).</exception>
    internal void Validate()
    {
        Check(K1, nameof(K1));
        Check(TitleBoost, nameof(TitleBoost));
        Check(CategoryBoost, nameof(CategoryBoost));
        Check(BrandBoost, nameof(BrandBoost));
        Check(DescriptionBoost, nameof(DescriptionBoost));
        if (!(B >= 0f && B <= 1f))
        {
            throw new ArgumentOutOfRangeException(nameof(B), B, "b must lie in [0, 1].");
        }

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
/// Keyword search over the catalog with Okapi BM25. Each described item is one document made of its title, category
/// path, brand and description, each occurrence of a term counting its field's boost (<see cref="Bm25Options"/>):
/// the weighted frequencies and lengths go into one saturation, as in simplified BM25F, so a term repeated across
/// fields does not add up without bound.
/// </summary>
/// <remarks>
/// <para>Score of item d for a query with distinct terms t: Σ idf(t) · tf(t,d) · (k1 + 1) / (tf(t,d) + k1 · (1 − b + b ·
/// len(d) / avglen)), where tf and len are boost-weighted counts after <see cref="TextTokenizer"/>, and
/// idf(t) = ln(1 + (N − n(t) + 0.5) / (n(t) + 0.5)) over the N indexed items, n(t) of which contain t (always positive).
/// Each posting stores its whole term contribution, so a query only adds floats.</para>
/// <para>Items the catalog does not describe (<see cref="ItemTable.IsKnown"/> false) are not indexed. The index is
/// immutable once built or loaded, and <see cref="Search"/> may run on several threads at once.</para>
/// </remarks>
public sealed class Bm25Index
{
    internal const string ArtifactKind = "bm25";
    internal const int ArtifactVersion = 1;

    [ThreadStatic]
    private static Scratch? _scratch;

    private readonly Dictionary<string, int> _terms;
    private readonly int[] _termOffsets;
    private readonly int[] _postingItems;
    private readonly float[] _postingScores;

    private Bm25Index(ItemTable items, Bm25Options options, int documentCount, float averageLength, string[] vocabulary, int[] termOffsets, int[] postingItems, float[] postingScores)
    {
        Items = items;
        Options = options;
        DocumentCount = documentCount;
        AverageLength = averageLength;
        _termOffsets = termOffsets;
        _postingItems = postingItems;
        _postingScores = postingScores;
        _terms = new Dictionary<string, int>(vocabulary.Length, StringComparer.Ordinal);
        for (var t = 0; t < vocabulary.Length; t++)
        {
            if (!_terms.TryAdd(vocabulary[t], t))
            {
                throw new InvalidDataException($"The term '{vocabulary[t]}' appears twice in the vocabulary.");
            }
        }
    }

    /// <summary>The catalog the index was built for; filters are checked against it.</summary>
    public ItemTable Items { get; }

    public Bm25Options Options { get; }

    /// <summary>How many items are indexed (the described ones).</summary>
    public int DocumentCount { get; }

    /// <summary>Mean boost-weighted document length (0 for an empty index).</summary>
    public float AverageLength { get; }

    /// <summary>Number of distinct terms.</summary>
    public int TermCount => _termOffsets.Length - 1;

    /// <summary>Number of (term, item) postings.</summary>
    public int PostingCount => _postingItems.Length;

    /// <summary>Indexes every item the catalog describes.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Options out of range.</exception>
    public static Bm25Index Build(ItemTable items, Bm25Options? options = null)
    {
        ArgumentNullException.ThrowIfNull(items);
        options ??= new Bm25Options();
        options.Validate();

        var terms = new Dictionary<string, int>(StringComparer.Ordinal);
        var vocabulary = new List<string>();
        var documentFrequency = new List<int>();

        // Per document: weighted frequency per term, gathered in first-seen order so postings come out deterministic.
        var docTerms = new Dictionary<int, float>();
        var docOrder = new List<int>();
        var tokens = new List<string>();
        var postingDoc = new List<int>();
        var postingTerm = new List<int>();
        var postingTf = new List<float>();
        var lengths = new float[items.Count];
        var documents = 0;
        double totalLength = 0;
        for (var item = 0; item < items.Count; item++)
        {
            if (!items.IsKnown(item))
            {
                continue;
            }

            docTerms.Clear();
            docOrder.Clear();
            var length = 0f;
            var brand = items.BrandIndex[item];
            length += AddField(items.Title[item], options.TitleBoost);
            length += AddField(items.Categories[items.CategoryIndex[item]], options.CategoryBoost);
            length += AddField(brand >= 0 ? items.Brands[brand] : null, options.BrandBoost);
            length += AddField(items.Description[item], options.DescriptionBoost);
            foreach (var term in docOrder)
            {
                var tf = docTerms[term];
                if (tf > 0f)
                {
                    postingDoc.Add(item);
                    postingTerm.Add(term);
                    postingTf.Add(tf);
                    documentFrequency[term]++;
                }
            }

            lengths[item] = length;
            totalLength += length;
            documents++;
        }

        // Counting sort of the postings by term; within a term they stay in item order.
        var termCount = vocabulary.Count;
        var offsets = new int[termCount + 1];
        for (var t = 0; t < termCount; t++)
        {
            offsets[t + 1] = offsets[t] + documentFrequency[t];
        }

        var averageLength = documents == 0 ? 0f : (float)(totalLength / documents);
        var cursor = offsets[..^1];
        var postingItems = new int[postingDoc.Count];
        var postingScores = new float[postingDoc.Count];
        for (var p = 0; p < postingDoc.Count; p++)
        {
            var term = postingTerm[p];
            var at = cursor[term]++;
            var item = postingDoc[p];
            postingItems[at] = item;
            postingScores[at] = Contribution(options, documents, documentFrequency[term], postingTf[p], lengths[item], averageLength);
        }

        return new Bm25Index(items, options, documents, averageLength, [.. vocabulary], offsets, postingItems, postingScores);

        float AddField(string? text, float boost)
        {
            tokens.Clear();
            TextTokenizer.Tokenize(text, tokens);
            foreach (var token in tokens)
            {
                if (!terms.TryGetValue(token, out var term))
                {
                    term = vocabulary.Count;
                    terms.Add(token, term);
                    vocabulary.Add(token);
                    documentFrequency.Add(0);
                }

                if (docTerms.TryGetValue(term, out var tf))
                {
                    docTerms[term] = tf + boost;
                }
                else
                {
                    docTerms[term] = boost;
                    docOrder.Add(term);
                }
            }

            return tokens.Count * boost;
        }
    }

    /// <summary>
    /// The BM25 contribution of one term to one document: idf · tf · (k1 + 1) / (tf + k1 · (1 − b + b · len / avglen)).
    /// </summary>
    internal static float Contribution(Bm25Options options, int documents, int documentFrequency, float tf, float length, float averageLength)
    {
        var idf = Math.Log(1.0 + ((documents - documentFrequency + 0.5) / (documentFrequency + 0.5)));
        var relativeLength = averageLength > 0f ? length / (double)averageLength : 1.0;
        var k1 = (double)options.K1;
        var norm = k1 * (1.0 - options.B + (options.B * relativeLength));
        return (float)(idf * tf * (k1 + 1.0) / (tf + norm));
    }

    /// <summary>
    /// The <paramref name="k"/> items that score highest for <paramref name="query"/>, best first (ties: lower item
    /// index first), among those that <paramref name="filter"/> lets through. Only items containing at least one query
    /// term are returned, so the list may be shorter than k. A query term repeated counts once.
    /// </summary>
    /// <returns>Empty for k ≤ 0, a null or blank query, or a query with no indexed term.</returns>
    public IReadOnlyList<ScoredItem> Search(string query, int k, SearchFilter? filter = null)
    {
        if (k <= 0 || string.IsNullOrWhiteSpace(query))
        {
            return [];
        }

        var plan = SearchFilter.Prepare(filter, Items);
        var scratch = _scratch ??= new Scratch();
        scratch.Ensure(Items.Count);
        var tokens = scratch.Tokens;
        tokens.Clear();
        TextTokenizer.Tokenize(query, tokens);
        var queryTerms = scratch.QueryTerms;
        queryTerms.Clear();
        foreach (var token in tokens)
        {
            if (_terms.TryGetValue(token, out var term) && !queryTerms.Contains(term))
            {
                queryTerms.Add(term);
            }
        }

        if (queryTerms.Count == 0)
        {
            return [];
        }

        // Term at a time into a dense accumulator that is all zeros between calls; every contribution is positive, so
        // a zero score marks an item not yet touched.
        var scores = scratch.Scores;
        var touched = scratch.Touched;
        var touchedCount = 0;
        try
        {
            foreach (var term in queryTerms)
            {
                var end = _termOffsets[term + 1];
                for (var p = _termOffsets[term]; p < end; p++)
                {
                    var item = _postingItems[p];
                    if (scores[item] == 0f)
                    {
                        touched[touchedCount++] = item;
                    }

                    scores[item] += _postingScores[p];
                }
            }

            var heap = new TopHeap(Math.Min(k, touchedCount));
            for (var i = 0; i < touchedCount; i++)
            {
                var item = touched[i];
                if (plan is null || plan.Allows(item))
                {
                    heap.Offer(item, scores[item]);
                }
            }

            return heap.ToBestFirst();
        }
        finally
        {
            for (var i = 0; i < touchedCount; i++)
            {
                scores[touched[i]] = 0f;
            }
        }
    }

    /// <summary>
    /// Writes the index as an artifact (kind "bm25", version 1, the catalog's item count): options, vocabulary, and
    /// the postings with their precomputed contributions. The catalog itself is not stored.
    /// </summary>
    public void Save(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var vocabulary = new string[TermCount];
        foreach (var (term, id) in _terms)
        {
            vocabulary[id] = term;
        }

        using var writer = new ArtifactWriter(stream, ArtifactKind, ArtifactVersion, Items.Count);
        writer.Write(Options.K1);
        writer.Write(Options.B);
        writer.Write(Options.TitleBoost);
        writer.Write(Options.CategoryBoost);
        writer.Write(Options.BrandBoost);
        writer.Write(Options.DescriptionBoost);
        writer.Write(DocumentCount);
        writer.Write(AverageLength);
        writer.WriteStrings(vocabulary);
        writer.WriteArray<int>(_termOffsets);
        writer.WriteArray<int>(_postingItems);
        writer.WriteArray<float>(_postingScores);
    }

    /// <summary>Reads what <see cref="Save"/> wrote, for the same catalog.</summary>
    /// <param name="stream">A seekable stream positioned at the artifact.</param>
    /// <param name="items">The catalog the index was built for (filters are checked against it); its item count must
    /// equal the saved one.</param>
    /// <exception cref="InvalidDataException">Not a BM25 artifact, another version, truncated, inconsistent, or saved
    /// for a catalog of another size.</exception>
    public static Bm25Index Load(Stream stream, ItemTable items)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(items);
        using var reader = new ArtifactReader(stream, ArtifactKind, ArtifactVersion);
        if (reader.ItemCount != items.Count)
        {
            throw new InvalidDataException($"The BM25 artifact was built for {reader.ItemCount} items; the catalog has {items.Count}.");
        }

        var options = new Bm25Options
        {
            K1 = reader.ReadSingle(),
            B = reader.ReadSingle(),
            TitleBoost = reader.ReadSingle(),
            CategoryBoost = reader.ReadSingle(),
            BrandBoost = reader.ReadSingle(),
            DescriptionBoost = reader.ReadSingle(),
        };
        var documentCount = reader.ReadInt32();
        var averageLength = reader.ReadSingle();
        var vocabulary = reader.ReadStrings();
        var offsets = reader.ReadArray<int>();
        var postingItems = reader.ReadArray<int>();
        var postingScores = reader.ReadArray<float>();
        try
        {
            options.Validate();
        }
        catch (ArgumentOutOfRangeException e)
        {
            throw new InvalidDataException("The BM25 artifact holds invalid options.", e);
        }

        if (documentCount < 0 || documentCount > items.Count || !(averageLength >= 0f) || offsets.Length != vocabulary.Length + 1
            || offsets[0] != 0 || offsets[^1] != postingItems.Length || postingScores.Length != postingItems.Length)
        {
            throw new InvalidDataException("The BM25 artifact's sizes do not agree.");
        }

        for (var t = 0; t < vocabulary.Length; t++)
        {
            if (offsets[t + 1] < offsets[t])
            {
                throw new InvalidDataException("The BM25 artifact's term offsets decrease.");
            }
        }

        for (var p = 0; p < postingItems.Length; p++)
        {
            // Search relies on every contribution being positive (zero marks an untouched item).
            if ((uint)postingItems[p] >= (uint)items.Count || !(postingScores[p] > 0f) || !float.IsFinite(postingScores[p]))
            {
                throw new InvalidDataException("The BM25 artifact holds a posting out of range or with an invalid score.");
            }
        }

        return new Bm25Index(items, options, documentCount, averageLength, vocabulary, offsets, postingItems, postingScores);
    }

    /// <summary>Per-thread buffers: the accumulator is kept all zeros between searches.</summary>
    private sealed class Scratch
    {
        public float[] Scores { get; private set; } = [];

        public int[] Touched { get; private set; } = [];

        public List<string> Tokens { get; } = [];

        public List<int> QueryTerms { get; } = [];

        public void Ensure(int itemCount)
        {
            if (Scores.Length < itemCount)
            {
                Scores = new float[itemCount];
                Touched = new int[itemCount];
            }
        }
    }
}

/// <summary>A bounded min-heap keeping the best (score, then lower item) entries seen.</summary>
internal struct TopHeap
{
    private readonly ScoredItem[] _heap;
    private int _count;

    public TopHeap(int capacity)
    {
        _heap = capacity > 0 ? new ScoredItem[capacity] : [];
        _count = 0;
    }

    public void Offer(int item, float score)
    {
        if (_heap.Length == 0 || float.IsNaN(score))
        {
            return;
        }

        var entry = new ScoredItem(item, score);
        if (_count < _heap.Length)
        {
            _heap[_count] = entry;
            SiftUp(_count++);
        }
        else if (Weaker(_heap[0], entry))
        {
            _heap[0] = entry;
            SiftDown(0, _count);
        }
    }

    /// <summary>The kept entries, best first; the heap is consumed.</summary>
    public ScoredItem[] ToBestFirst()
    {
        for (var end = _count - 1; end > 0; end--)
        {
            (_heap[0], _heap[end]) = (_heap[end], _heap[0]);
            SiftDown(0, end);
        }

        return _count == _heap.Length ? _heap : _heap[.._count];
    }

    // Weaker = lower score, or an equal score with a higher item index.
    private static bool Weaker(in ScoredItem a, in ScoredItem b) => a.Score < b.Score || (a.Score == b.Score && a.Item > b.Item);

    private readonly void SiftUp(int i)
    {
        while (i > 0)
        {
            var parent = (i - 1) >> 1;
            if (!Weaker(_heap[i], _heap[parent]))
            {
                break;
            }

            (_heap[i], _heap[parent]) = (_heap[parent], _heap[i]);
            i = parent;
        }
    }

    private readonly void SiftDown(int i, int count)
    {
        while (true)
        {
            var left = (2 * i) + 1;
            if (left >= count)
            {
                return;
            }

            var weakest = left + 1 < count && Weaker(_heap[left + 1], _heap[left]) ? left + 1 : left;
            if (!Weaker(_heap[weakest], _heap[i]))
            {
                return;
            }

            (_heap[i], _heap[weakest]) = (_heap[weakest], _heap[i]);
            i = weakest;
        }
    }
}

using Ranking.Candidates;
using Ranking.Data;
using Ranking.Search;

namespace Ranking.Tests.Search;

/// <summary>
/// An encoder that looks its vectors up in a table by text prefix. A test double on purpose: the unit under test is
/// the fusion (ranks, weights, filters, fallback), and a real model would make the vector ranks unknowable by hand.
/// The real encoder is tested in ContentModelTests and measured by the search-recall benchmark.
/// </summary>
internal sealed class TableEncoder(params (string Prefix, float[] Vector)[] table) : ITextEncoder
{
    private static readonly float[] Default = [0f, 0f, 1f];

    public int Dimension => 3;

    public int Calls { get; private set; }

    public void Encode(IReadOnlyList<string> texts, Span<float> output, CancellationToken cancellationToken = default)
    {
        Calls++;
        cancellationToken.ThrowIfCancellationRequested();
        for (var i = 0; i < texts.Count; i++)
        {
            var vector = Default;
            foreach (var (prefix, v) in table)
            {
                if (texts[i].StartsWith(prefix, StringComparison.Ordinal))
                {
                    vector = v;
                    break;
                }
            }

            var norm = MathF.Sqrt((vector[0] * vector[0]) + (vector[1] * vector[1]) + (vector[2] * vector[2]));
            for (var d = 0; d < 3; d++)
            {
                output[(i * 3) + d] = vector[d] / norm;
            }
        }
    }
}

/// <summary>An encoder whose model is broken: every call throws.</summary>
internal sealed class FailingEncoder : ITextEncoder
{
    public int Dimension => 3;

    public void Encode(IReadOnlyList<string> texts, Span<float> output, CancellationToken cancellationToken = default) =>
        throw new InvalidOperationException("The ONNX session is gone.");
}

public sealed class HybridSearchTests : IDisposable
{
    // Query "red": BM25 ranks boots (title), pan (shorter), goggles; the table puts goggles, tent, pan, boots in that
    // order by cosine to the query vector (1, 0, 0).
    private static readonly (string, float[])[] Table =
    [
        ("red", [1f, 0f, 0f]),
        ("Ski goggles", [1f, 0f, 0f]),
        ("Tent", [0.8f, 0.6f, 0f]),
        ("Frying pan", [0.6f, 0.8f, 0f]),
        ("Red ski boots", [0f, 1f, 0f]),
    ];

    private readonly InteractionLog _log = SearchCatalog.Build();
    private readonly Bm25Index _keywords;
    private readonly ContentModel _content;

    public HybridSearchTests()
    {
        _keywords = Bm25Index.Build(_log.Items);
        _content = ContentModel.Build(_log.Items, new TableEncoder(Table));
    }

    public void Dispose() => _content.Dispose();

    [Fact]
    public void Search_KeywordMode_Bm25OrderAndEncoderUnused()
    {
        var encoder = new TableEncoder(Table);
        var search = new HybridSearch(_keywords, _content, encoder);

        var result = search.Search("red", 10, SearchMode.Keyword);

        Assert.True(result.UsedKeywords);
        Assert.False(result.UsedVectors);
        Assert.Equal(0, encoder.Calls);
        Assert.Equal([SearchCatalog.Boots, SearchCatalog.Pan, SearchCatalog.Goggles], result.Hits.Select(h => h.Item));
        Assert.Equal([1, 2, 3], result.Hits.Select(h => h.KeywordRank));
        Assert.All(result.Hits, h => Assert.Equal(-1, h.VectorRank));
        Assert.Equal(1.0 / 61, result.Hits[0].Score, 1e-6);
    }

    [Fact]
    public void Search_VectorMode_CosineOrder()
    {
        var search = new HybridSearch(_keywords, _content, new TableEncoder(Table));

        var result = search.Search("red", 10, SearchMode.Vector);

        Assert.True(result.UsedVectors);
        Assert.False(result.UsedKeywords);
        Assert.Equal([SearchCatalog.Goggles, SearchCatalog.Tent, SearchCatalog.Pan, SearchCatalog.Boots], result.Hits.Select(h => h.Item));
        Assert.Equal([1, 2, 3, 4], result.Hits.Select(h => h.VectorRank));
        Assert.All(result.Hits, h => Assert.Equal(-1, h.KeywordRank));
    }

    [Fact]
    public void Search_Hybrid_ReciprocalRankFusionByHand()
    {
        var search = new HybridSearch(_keywords, _content, new TableEncoder(Table));

        var result = search.Search("red", 10);

        // keyword ranks: boots 1, pan 2, goggles 3; vector ranks: goggles 1, tent 2, pan 3, boots 4; k0 = 60.
        // goggles 1/63 + 1/61 = 0.032266, boots 1/61 + 1/64 = 0.032018, pan 1/62 + 1/63 = 0.032002, tent 1/62 = 0.016129.
        Assert.True(result.UsedKeywords && result.UsedVectors);
        Assert.Equal(
            [
                new SearchHit(SearchCatalog.Goggles, (float)((1.0 / 63) + (1.0 / 61)), 3, 1),
                new SearchHit(SearchCatalog.Boots, (float)((1.0 / 61) + (1.0 / 64)), 1, 4),
                new SearchHit(SearchCatalog.Pan, (float)((1.0 / 62) + (1.0 / 63)), 2, 3),
                new SearchHit(SearchCatalog.Tent, (float)(1.0 / 62), -1, 2),
            ],
            result.Hits);
    }

    [Fact]
    public void Search_HybridWithWeights_WeightedFusionByHand()
    {
        var options = new HybridSearchOptions { RankConstant = 1f, KeywordWeight = 3f, VectorWeight = 1f };
        var search = new HybridSearch(_keywords, _content, new TableEncoder(Table), options);

        var result = search.Search("red", 2);

        // boots 3/2 + 1/5 = 1.7, goggles 3/4 + 1/2 = 1.25, pan 3/3 + 1/4 = 1.25, tent 1/3. Goggles and pan tie; goggles'
        // best rank (1, vector) beats pan's (2, keyword). k = 2 keeps boots and goggles.
        Assert.Equal([SearchCatalog.Boots, SearchCatalog.Goggles], result.Hits.Select(h => h.Item));
        Assert.Equal(1.7f, result.Hits[0].Score, 1e-6f);
        Assert.Equal(1.25f, result.Hits[1].Score, 1e-6f);
    }

    [Fact]
    public void Fuse_HandLists_OrderAndTieBreaks()
    {
        ScoredItem[] keyword = [new(5, 9f), new(7, 8f), new(9, 7f)];
        ScoredItem[] vector = [new(9, 0.9f), new(3, 0.8f)];

        var hits = HybridSearch.Fuse(keyword, vector, 10, new HybridSearchOptions());

        // 9: 1/63 + 1/61; 5: 1/61; 3 and 7: 1/62 each, both best rank 2, so the lower item first.
        Assert.Equal([9, 5, 3, 7], hits.Select(h => h.Item));
        Assert.Equal([3, 1, -1, 2], hits.Select(h => h.KeywordRank));
        Assert.Equal([1, -1, 2, -1], hits.Select(h => h.VectorRank));
    }

    [Fact]
    public void Fuse_ZeroWeightList_KeepsListOrder()
    {
        ScoredItem[] keyword = [new(8, 3f), new(2, 2f), new(5, 1f)];

        var hits = HybridSearch.Fuse(keyword, null, 10, new HybridSearchOptions { KeywordWeight = 0f });

        Assert.Equal([8, 2, 5], hits.Select(h => h.Item));
    }

    [Fact]
    public void Search_FilterAppliesToBothRetrievers()
    {
        var search = new HybridSearch(_keywords, _content, new TableEncoder(Table));

        var result = search.Search("red", 10, filter: new SearchFilter { CategoryPrefix = "Sports/Winter" });

        // Both lists shrink to boots and goggles: keyword boots 1, goggles 2; vector goggles 1, boots 2. Both score
        // 1/61 + 1/62 with best rank 1, so the lower item index (boots) comes first; pan and tent are gone from both.
        Assert.Equal([SearchCatalog.Boots, SearchCatalog.Goggles], result.Hits.Select(h => h.Item));
        Assert.Equal([1, 2], result.Hits.Select(h => h.KeywordRank));
        Assert.Equal([2, 1], result.Hits.Select(h => h.VectorRank));
    }

    [Fact]
    public void Search_EncoderThrows_KeywordOnlyWithoutException()
    {
        var search = new HybridSearch(_keywords, _content, new FailingEncoder());
        var keywordOnly = new HybridSearch(_keywords).Search("red", 10);

        var hybrid = search.Search("red", 10);
        var vector = search.Search("red", 10, SearchMode.Vector);

        Assert.False(hybrid.UsedVectors);
        Assert.True(hybrid.UsedKeywords);
        Assert.Equal(keywordOnly.Hits, hybrid.Hits);
        Assert.False(vector.UsedVectors);
        Assert.True(vector.UsedKeywords);
        Assert.Equal(keywordOnly.Hits, vector.Hits);
        Assert.Equal(2, search.VectorFailures);
    }

    [Fact]
    public void Search_NoContentModel_KeywordOnly()
    {
        var search = new HybridSearch(_keywords, content: null, encoder: new TableEncoder(Table));

        var result = search.Search("red", 10, SearchMode.Hybrid);

        Assert.False(search.HasVectors);
        Assert.False(result.UsedVectors);
        Assert.Equal([SearchCatalog.Boots, SearchCatalog.Pan, SearchCatalog.Goggles], result.Hits.Select(h => h.Item));
    }

    [Fact]
    public void Search_Cancelled_Throws()
    {
        var search = new HybridSearch(_keywords, _content, new TableEncoder(Table));
        using var cancellation = new CancellationTokenSource();
        cancellation.Cancel();

        Assert.ThrowsAny<OperationCanceledException>(() => search.Search("red", 10, cancellationToken: cancellation.Token));
        Assert.Equal(0, search.VectorFailures);
    }

    [Theory]
    [InlineData("", 10)]
    [InlineData("red", 0)]
    public void Search_BlankQueryOrNoK_NothingRan(string query, int k)
    {
        var encoder = new TableEncoder(Table);
        var search = new HybridSearch(_keywords, _content, encoder);

        var result = search.Search(query, k);

        Assert.Empty(result.Hits);
        Assert.False(result.UsedKeywords || result.UsedVectors);
        Assert.Equal(0, encoder.Calls);
    }

    [Fact]
    public void Constructor_EncoderDimensionDiffers_Throws()
    {
        var wide = new MismatchedEncoder();

        Assert.Throws<ArgumentException>(() => new HybridSearch(_keywords, _content, wide));
    }

    private sealed class MismatchedEncoder : ITextEncoder
    {
        public int Dimension => 4;

        public void Encode(IReadOnlyList<string> texts, Span<float> output, CancellationToken cancellationToken = default) => output.Fill(0.5f);
    }
}

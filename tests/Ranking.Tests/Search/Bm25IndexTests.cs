using Ranking.Candidates;
using Ranking.Data;
using Ranking.Demo;
using Ranking.Domain;
using Ranking.Search;

namespace Ranking.Tests.Search;

public sealed class Bm25IndexTests
{
    // Boosts chosen unequal so that a wrong field weight shows in the score.
    private static readonly Bm25Options Options = new() { K1 = 1.2f, B = 0.75f, TitleBoost = 2f, CategoryBoost = 1.5f, BrandBoost = 2f, DescriptionBoost = 1f };

    // Boost-weighted lengths from the token lists in SearchCatalog:
    // boots 3·2 + 3·1.5 + 1·2 + 3·1 = 15.5; goggles 2·2 + 3·1.5 + 2 + 3 = 13.5; pan 2·2 + 2·1.5 + 2 + 3 = 12; tent 2 + 2·1.5 = 5.
    private const double BootsLength = 15.5, GogglesLength = 13.5, PanLength = 12, TentLength = 5;
    private const double AverageLength = (BootsLength + GogglesLength + PanLength + TentLength) / 4;
    private const int N = 4;

    private readonly InteractionLog _log = SearchCatalog.Build();

    [Fact]
    public void Build_Catalogue_IndexesKnownItemsOnly()
    {
        var index = Bm25Index.Build(_log.Items, Options);

        Assert.Equal(5, _log.Items.Count); // four described items and the ghost
        Assert.Equal(4, index.DocumentCount);
        Assert.Equal((float)AverageLength, index.AverageLength, 1e-6f);
        Assert.True(_log.TryGetItemIndex("ghost", out var ghost));
        Assert.Empty(index.Search("ghost", 10));
        Assert.DoesNotContain(index.Search("sport winter ski red tent pan", 10), hit => hit.Item == ghost);
    }

    [Fact]
    public void Search_RedSki_MatchesHandComputedBm25()
    {
        var index = Bm25Index.Build(_log.Items, Options);

        var hits = index.Search("red ski", 10);

        // red: boots (title, tf 2), goggles (description, tf 1), pan (description, tf 1): n = 3.
        // ski: boots (title 2 + category 1.5 + "skiing" in the description 1 = 4.5), goggles (title 2 + category 1.5 = 3.5): n = 2.
        var boots = Term(3, 2, BootsLength) + Term(2, 4.5, BootsLength);
        var goggles = Term(3, 1, GogglesLength) + Term(2, 3.5, GogglesLength);
        var pan = Term(3, 1, PanLength);
        Assert.Equal([SearchCatalog.Boots, SearchCatalog.Goggles, SearchCatalog.Pan], Items(hits));
        Assert.Equal(boots, hits[0].Score, 1e-5);
        Assert.Equal(goggles, hits[1].Score, 1e-5);
        Assert.Equal(pan, hits[2].Score, 1e-5);
    }

    [Fact]
    public void Search_BrandAndCategoryTerms_FieldBoostsApplied()
    {
        var index = Bm25Index.Build(_log.Items, Options);

        var hits = index.Search("Tefal kitchen sports", 10);

        // tefal: brand of pan (tf 2), n = 1; kitchen: category of pan (tf 1.5), n = 1;
        // sport: category of boots, goggles and tent (tf 1.5 each), n = 3.
        var pan = Term(1, 2, PanLength) + Term(1, 1.5, PanLength);
        var tent = Term(3, 1.5, TentLength);
        var goggles = Term(3, 1.5, GogglesLength);
        var boots = Term(3, 1.5, BootsLength);
        Assert.Equal([SearchCatalog.Pan, SearchCatalog.Tent, SearchCatalog.Goggles, SearchCatalog.Boots], Items(hits));
        Assert.Equal(pan, hits[0].Score, 1e-5);
        Assert.Equal(tent, hits[1].Score, 1e-5);
        Assert.Equal(goggles, hits[2].Score, 1e-5);
        Assert.Equal(boots, hits[3].Score, 1e-5);
    }

    [Fact]
    public void Search_RepeatedAndInflectedQueryTerms_CountOnce()
    {
        var index = Bm25Index.Build(_log.Items, Options);

        var once = index.Search("goggle", 10);
        var repeated = index.Search("Goggles GOGGLE goggles!", 10);

        Assert.Single(once);
        Assert.Equal(once, repeated);
    }

    [Fact]
    public void Search_KSmallerThanMatches_BestK()
    {
        var index = Bm25Index.Build(_log.Items, Options);

        var all = index.Search("red ski", 10);
        var top = index.Search("red ski", 1);

        Assert.Equal([all[0]], top);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("the of and")]
    [InlineData("submarine")]
    public void Search_NoIndexedTerm_Empty(string query)
    {
        var index = Bm25Index.Build(_log.Items, Options);

        Assert.Empty(index.Search(query, 10));
    }

    [Fact]
    public void Search_KZeroOrNegative_Empty()
    {
        var index = Bm25Index.Build(_log.Items, Options);

        Assert.Empty(index.Search("red", 0));
        Assert.Empty(index.Search("red", -3));
    }

    [Fact]
    public void Search_WithFilter_OnlyMatchingItemsKeepTheirScores()
    {
        var index = Bm25Index.Build(_log.Items, Options);
        var unfiltered = index.Search("red ski", 10);

        var inStock = index.Search("red ski", 10, new SearchFilter { InStockOnly = true });
        var tefal = index.Search("red ski", 10, new SearchFilter { Brand = "TEFAL" });

        Assert.Equal(unfiltered.Where(h => h.Item != SearchCatalog.Pan), inStock);
        Assert.Equal([SearchCatalog.Pan], Items(tefal));
        Assert.Equal(unfiltered[2].Score, tefal[0].Score);
    }

    [Fact]
    public void Search_ManyThreads_SameResults()
    {
        var index = Bm25Index.Build(_log.Items, Options);
        string[] queries = ["red ski", "tent", "pan red", "sport", "goggles lens", "nothing here"];
        var expected = queries.Select(q => index.Search(q, 10)).ToArray();

        var mismatches = 0;
        Parallel.For(0, 2000, i =>
        {
            var q = i % queries.Length;
            if (!expected[q].SequenceEqual(index.Search(queries[q], 10)))
            {
                Interlocked.Increment(ref mismatches);
            }
        });

        Assert.Equal(0, mismatches);
    }

    [Fact]
    public void Build_InvalidOptions_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Bm25Index.Build(_log.Items, new Bm25Options { B = 1.5f }));
        Assert.Throws<ArgumentOutOfRangeException>(() => Bm25Index.Build(_log.Items, new Bm25Options { K1 = float.NaN }));
        Assert.Throws<ArgumentOutOfRangeException>(() => Bm25Index.Build(_log.Items, new Bm25Options { TitleBoost = -1f }));
    }

    [Fact]
    public void SaveLoad_DemoCatalog_IdenticalResults()
    {
        var items = DemoItems();
        var index = Bm25Index.Build(items);
        using var stream = new MemoryStream();
        index.Save(stream);
        stream.Position = 0;

        var loaded = Bm25Index.Load(stream, items);

        Assert.Equal(index.Options, loaded.Options);
        Assert.Equal(index.DocumentCount, loaded.DocumentCount);
        Assert.Equal(index.TermCount, loaded.TermCount);
        Assert.Equal(index.PostingCount, loaded.PostingCount);
        string[] queries = ["snowboard", "red snowboards", "kitchen knife", "tent camping", "black running shoes", "zzz"];
        var filter = new SearchFilter { CategoryPrefix = "Sports", InStockOnly = true };
        foreach (var q in queries)
        {
            Assert.Equal(index.Search(q, 20), loaded.Search(q, 20));
            Assert.Equal(index.Search(q, 20, filter), loaded.Search(q, 20, filter));
        }

        Assert.NotEmpty(loaded.Search("snowboard", 20));
    }

    [Fact]
    public void Load_TruncatedStream_InvalidData()
    {
        var index = Bm25Index.Build(_log.Items, Options);
        using var full = new MemoryStream();
        index.Save(full);
        var bytes = full.ToArray();

        for (var length = 0; length < bytes.Length; length++)
        {
            using var truncated = new MemoryStream(bytes, 0, length);
            Assert.Throws<InvalidDataException>(() => Bm25Index.Load(truncated, _log.Items));
        }
    }

    [Fact]
    public void Load_ForeignArtifactOrOtherCatalog_InvalidData()
    {
        using var foreign = new MemoryStream();
        using (var writer = new ArtifactWriter(foreign, "content", 1, _log.Items.Count))
        {
            writer.Write(384);
        }

        foreign.Position = 0;
        Assert.Throws<InvalidDataException>(() => Bm25Index.Load(foreign, _log.Items));

        using var garbage = new MemoryStream([1, 2, 3, 4, 5, 6, 7, 8]);
        Assert.Throws<InvalidDataException>(() => Bm25Index.Load(garbage, _log.Items));

        using var saved = new MemoryStream();
        Bm25Index.Build(_log.Items, Options).Save(saved);
        saved.Position = 0;
        Assert.Throws<InvalidDataException>(() => Bm25Index.Load(saved, DemoItems()));
    }

    /// <summary>One term's BM25 contribution, written out from the formula.</summary>
    private static double Term(int documentFrequency, double tf, double length)
    {
        const double k1 = 1.2, b = 0.75;
        var idf = Math.Log(1 + ((N - documentFrequency + 0.5) / (documentFrequency + 0.5)));
        return idf * tf * (k1 + 1) / (tf + (k1 * (1 - b + (b * length / AverageLength))));
    }

    private static IEnumerable<int> Items(IReadOnlyList<ScoredItem> hits) => hits.Select(h => h.Item);

    private static ItemTable DemoItems()
    {
        var demo = new DemoMarketplace(new DemoMarketplaceOptions { Items = 600, Users = 1 });
        var builder = new InteractionLogBuilder(EventTypeRegistry.Default);
        foreach (var item in demo.Items)
        {
            builder.AddItem(item);
        }

        return builder.Build().Items;
    }
}

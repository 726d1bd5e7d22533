using System.Numerics.Tensors;
using Ranking.Candidates;
using Ranking.Data;
using Ranking.Domain;

namespace Ranking.Tests.Candidates;

/// <summary>The MiniLM encoder (loaded once) and a small catalog of winter-sports and kitchen items built with it.</summary>
public sealed class ContentCatalogFixture : IDisposable
{
    public ContentCatalogFixture()
    {
        Encoder = new MiniLmTextEncoder();
        var builder = new InteractionLogBuilder(EventTypeRegistry.Default);
        AddItem(builder, "boots", "Alpine ski boots", "Sports/Winter/Ski", "Nordica", "Stiff downhill ski boots with a warm liner");
        AddItem(builder, "snowboard", "All-mountain snowboard", "Sports/Winter/Snowboard", "Burton", "Camber snowboard for piste and powder");
        AddItem(builder, "goggles", "Ski goggles with anti-fog lens", "Sports/Winter/Ski", "Oakley", "Wide view goggles for skiing and snowboarding");
        AddItem(builder, "frying-pan", "Non-stick frying pan 28 cm", "Home/Kitchen/Cookware", "Tefal", "Aluminium frying pan for eggs and pancakes");
        AddItem(builder, "saucepan", "Stainless steel saucepan with lid", "Home/Kitchen/Cookware", "Tefal", "Saucepan for sauces, soups and boiling pasta");
        AddItem(builder, "kettle", "Electric kettle 1.7 l", "Home/Kitchen/Appliances", "Bosch", "Fast boiling water kettle");
        AddItem(builder, "tent", "Two-person camping tent", "Sports/Outdoor/Camping", "Vango", "Lightweight waterproof tent for hiking trips");

        var view = Code(EventTypeRegistry.View);
        var order = Code(EventTypeRegistry.Order);
        builder.Add("skier", "boots", view, 1_000);
        builder.Add("skier", "snowboard", order, 2_000);
        builder.Add("skier", null, Code(EventTypeRegistry.Search), 3_000);
        builder.Add("searcher", null, Code(EventTypeRegistry.Search), 1_000);
        builder.Add("ghost-fan", "ghost", view, 1_000); // an item the catalog never describes
        Log = builder.Build();
        Model = ContentModel.Build(Log.Items, Encoder, new ContentOptions());
    }

    public MiniLmTextEncoder Encoder { get; }

    public InteractionLog Log { get; }

    public ContentModel Model { get; }

    public int IndexOf(string itemId) => Log.TryGetItemIndex(itemId, out var i) ? i : throw new ArgumentException(itemId);

    public UserHistory HistoryOf(string userId) =>
        Log.TryGetUserIndex(userId, out var u) ? UserHistory.Of(Log, u) : throw new ArgumentException(userId);

    public void Dispose()
    {
        Model.Dispose();
        Encoder.Dispose();
    }

    private static byte Code(string type) => EventTypeRegistry.Default.TryGetCode(type, out var c) ? c : throw new ArgumentException(type);

    private static void AddItem(InteractionLogBuilder builder, string id, string title, string category, string brand, string description) =>
        builder.AddItem(new Item { Id = id, Title = title, Category = category, Brand = brand, Description = description });
}

public sealed class ContentModelTests(ContentCatalogFixture catalog) : IClassFixture<ContentCatalogFixture>
{
    // ---- encoder ----

    [Fact]
    public void MiniLmEncode_Synonyms_CloserThanUnrelatedAndUnitNorm()
    {
        string[] texts = ["red running shoes", "crimson jogging sneakers", "stainless steel frying pan", ""];
        var dim = catalog.Encoder.Dimension;
        var output = new float[texts.Length * dim];

        catalog.Encoder.Encode(texts, output);

        var shoes = output.AsSpan(0, dim);
        var sneakers = output.AsSpan(dim, dim);
        var pan = output.AsSpan(2 * dim, dim);
        Assert.Equal(384, dim);
        Assert.True(TensorPrimitives.Dot(shoes, sneakers) > TensorPrimitives.Dot(shoes, pan) + 0.3f);
        for (var i = 0; i < texts.Length; i++)
        {
            Assert.Equal(1f, TensorPrimitives.Norm(output.AsSpan(i * dim, dim)), 1e-4f);
        }
    }

    [Fact]
    public void MiniLmEncode_OrderAcrossBatches_MatchesOneByOne()
    {
        // Three texts of different lengths with a batch of 2: the length sort must not mix up the rows.
        using var encoder = new MiniLmTextEncoder(batchSize: 2);
        string[] texts = ["a very long title about waterproof hiking boots for the mountains", "pan", "ski goggles"];
        var dim = encoder.Dimension;
        var together = new float[texts.Length * dim];
        encoder.Encode(texts, together);

        for (var i = 0; i < texts.Length; i++)
        {
            var alone = new float[dim];
            encoder.Encode([texts[i]], alone);
            Assert.True(TensorPrimitives.Dot(alone, together.AsSpan(i * dim, dim)) > 0.999f, $"row {i}");
        }
    }

    [Fact]
    public void MiniLmEncode_WrongOutputLength_Throws()
    {
        Assert.Throws<ArgumentException>(() => catalog.Encoder.Encode(["one"], new float[10]));
    }

    // ---- vector indices ----

    [Fact]
    public void ExactSearch_RandomVectors_EqualsBruteForceReference()
    {
        const int Dim = 17;
        const int Count = 301;
        var random = new Random(7);
        var vectors = RandomVectors(random, Count, Dim);
        var keys = new int[Count];
        for (var i = 0; i < Count; i++)
        {
            keys[i] = 1000 + (3 * i); // sparse keys: rows and keys must not be confused
        }

        using var index = new ExactVectorIndex(Dim) { ParallelThreshold = 0 };
        index.Add(keys, vectors);
        foreach (var k in new[] { 1, 10, Count, Count + 5 })
        {
            for (var q = 0; q < 20; q++)
            {
                var query = RandomVectors(random, 1, Dim);
                var found = new int[k];
                var sims = new float[k];
                var n = index.Search(query, found, sims);

                var reference = new List<(int Key, double Sim)>();
                for (var i = 0; i < Count; i++)
                {
                    reference.Add((keys[i], ScalarCosine(query, vectors.AsSpan(i * Dim, Dim))));
                }

                reference.Sort((a, b) => b.Sim.CompareTo(a.Sim));
                Assert.Equal(Math.Min(k, Count), n);
                for (var i = 0; i < n; i++)
                {
                    Assert.Equal(reference[i].Key, found[i]);
                    Assert.Equal(reference[i].Sim, sims[i], 1e-5);
                }
            }
        }
    }

    [Fact]
    public void HnswSearch_ClusteredVectors_RecallAtTenAbove95Percent()
    {
        const int Dim = 64;
        var random = new Random(42);
        var vectors = ClusteredVectors(random, 5000, Dim, centres: 50);
        var keys = Enumerable.Range(0, 5000).ToArray();
        using var exact = new ExactVectorIndex(Dim);
        using var hnsw = new HnswVectorIndex(Dim);
        exact.Add(keys, vectors);
        hnsw.Add(keys, vectors);
        var queries = ClusteredVectors(random, 500, Dim, centres: 50);

        var recall = ContentModel.MeasureRecall(hnsw, exact, queries, 10);

        Assert.Equal(5000, hnsw.Count);
        Assert.True(recall > 0.95, $"recall@10 {recall:F4}");
    }

    [Fact]
    public void HnswSearch_ConcurrentQueries_SameAsSequential()
    {
        const int Dim = 32;
        var random = new Random(11);
        var vectors = ClusteredVectors(random, 2000, Dim, centres: 20);
        using var index = new HnswVectorIndex(Dim);
        index.Add(Enumerable.Range(0, 2000).ToArray(), vectors);
        var queries = ClusteredVectors(random, 400, Dim, centres: 20);
        var sequential = new int[400][];
        for (var q = 0; q < 400; q++)
        {
            sequential[q] = Search(index, queries[(q * Dim)..((q + 1) * Dim)], 10);
        }

        var concurrent = new int[400][];
        Parallel.For(0, 400, new ParallelOptions { MaxDegreeOfParallelism = 8 }, q => concurrent[q] = Search(index, queries[(q * Dim)..((q + 1) * Dim)], 10));

        for (var q = 0; q < 400; q++)
        {
            Assert.Equal(sequential[q], concurrent[q]);
        }
    }

    [Fact]
    public void HnswSaveLoad_SameAnswers()
    {
        const int Dim = 16;
        var random = new Random(3);
        var vectors = RandomVectors(random, 200, Dim);
        var path = Path.Combine(Path.GetTempPath(), $"hnsw-{Guid.NewGuid():N}.usearch");
        try
        {
            using var index = new HnswVectorIndex(Dim);
            index.Add(Enumerable.Range(0, 200).ToArray(), vectors);
            index.Save(path);
            using var loaded = HnswVectorIndex.Load(path);

            Assert.Equal(200, loaded.Count);
            Assert.Equal(Dim, loaded.Dimension);
            var query = RandomVectors(random, 1, Dim);
            Assert.Equal(Search(index, query, 10), Search(loaded, query, 10));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData(VectorIndexKind.Exact)]
    [InlineData(VectorIndexKind.Hnsw)]
    public void IndexAdd_BadInput_ThrowsAndAddsNothing(VectorIndexKind kind)
    {
        using var index = VectorIndexFactory.Create(3, 10, new VectorIndexOptions { Kind = kind });
        index.Add([5], [1f, 0f, 0f]);

        Assert.Throws<ArgumentException>(() => index.Add([6, 5], [0f, 1f, 0f, 1f, 1f, 0f])); // 5 already held
        Assert.Throws<ArgumentException>(() => index.Add([7, 7], [0f, 1f, 0f, 1f, 1f, 0f])); // given twice
        Assert.Throws<ArgumentException>(() => index.Add([8], [0f, 0f, 0f])); // zero vector
        Assert.Throws<ArgumentException>(() => index.Add([-1], [1f, 0f, 0f])); // negative key
        Assert.Throws<ArgumentException>(() => index.Add([9], [1f, 0f])); // short
        Assert.Equal(1, index.Count);
        Assert.Equal(0, index.Search([0f, 0f, 0f], new int[3], new float[3]));
    }

    [Fact]
    public void Factory_AutoKind_ExactBelowThresholdHnswAbove()
    {
        var options = new VectorIndexOptions { ExactBelow = 100 };

        Assert.Equal(VectorIndexKind.Exact, VectorIndexFactory.KindFor(99, options));
        Assert.Equal(VectorIndexKind.Hnsw, VectorIndexFactory.KindFor(100, options));
        Assert.Equal(VectorIndexKind.Exact, VectorIndexFactory.KindFor(1_000_000, options with { Kind = VectorIndexKind.Exact }));
        Assert.Equal(VectorIndexKind.Hnsw, VectorIndexFactory.KindFor(1, options with { Kind = VectorIndexKind.Hnsw }));
    }

    // ---- content model ----

    [Fact]
    public void Similar_FryingPan_SaucepanFirst()
    {
        var similar = catalog.Model.Similar(catalog.IndexOf("frying-pan"), 3);

        Assert.Equal(catalog.IndexOf("saucepan"), similar[0].Item);
        Assert.Equal(3, similar.Count);
        Assert.DoesNotContain(similar, s => s.Item == catalog.IndexOf("frying-pan"));
        Assert.True(similar[0].Score >= similar[1].Score && similar[1].Score >= similar[2].Score);
    }

    [Fact]
    public void Similar_SkiBoots_WinterItemsBeforeKitchen()
    {
        var similar = catalog.Model.Similar(catalog.IndexOf("boots"), 2);

        var winter = new[] { catalog.IndexOf("goggles"), catalog.IndexOf("snowboard") };
        Assert.All(similar, s => Assert.Contains(s.Item, winter));
    }

    [Fact]
    public void Similar_UnknownOrOutOfRangeItem_Empty()
    {
        var model = catalog.Model;

        Assert.False(model.HasVector(catalog.IndexOf("ghost")));
        Assert.Empty(model.Similar(catalog.IndexOf("ghost"), 5));
        Assert.Empty(model.Similar(-1, 5));
        Assert.Empty(model.Similar(model.ItemCount, 5));
        Assert.Empty(model.Similar(catalog.IndexOf("kettle"), 0));
        Assert.True(model.VectorOf(catalog.IndexOf("ghost")).IsEmpty);
        Assert.Equal(model.Dimension, model.VectorOf(catalog.IndexOf("kettle")).Length);
    }

    [Fact]
    public void Similar_AskingForMoreThanTheCatalog_ReturnsEveryOtherItemWithAVector()
    {
        var similar = catalog.Model.Similar(catalog.IndexOf("tent"), 100);

        Assert.Equal(catalog.Model.VectorCount - 1, similar.Count);
        Assert.DoesNotContain(similar, s => s.Item == catalog.IndexOf("ghost"));
    }

    [Fact]
    public void TopK_Skier_WinterItemFirstAndExcludedItemsNeverAppear()
    {
        var user = catalog.HistoryOf("skier");
        int[] exclude = [catalog.IndexOf("boots"), catalog.IndexOf("snowboard")];

        var top = catalog.Model.TopK(user, 10, exclude);

        Assert.Equal(catalog.IndexOf("goggles"), top[0].Item);
        Assert.DoesNotContain(top, s => exclude.Contains(s.Item));
        Assert.DoesNotContain(top, s => s.Item == catalog.IndexOf("ghost"));
        Assert.Equal(catalog.Model.VectorCount - exclude.Length, top.Count);
    }

    [Fact]
    public void Score_ItemWithoutVector_GetsNegativeInfinity()
    {
        var scores = new float[catalog.Model.ItemCount];

        Assert.True(catalog.Model.Score(catalog.HistoryOf("skier"), scores));
        Assert.Equal(float.NegativeInfinity, scores[catalog.IndexOf("ghost")]);
        Assert.True(scores[catalog.IndexOf("goggles")] > scores[catalog.IndexOf("kettle")]);
    }

    [Fact]
    public void TopK_UserWithoutItemsWithVectors_Empty()
    {
        var model = catalog.Model;

        Assert.Empty(model.TopK(UserHistory.Unknown, 5));
        Assert.Empty(model.TopK(catalog.HistoryOf("searcher"), 5));
        Assert.Empty(model.TopK(catalog.HistoryOf("ghost-fan"), 5));
        Assert.False(model.Score(catalog.HistoryOf("ghost-fan"), new float[model.ItemCount]));
    }

    [Fact]
    public void Score_ShortHalfLife_NewestItemLeads()
    {
        using var model = ContentModel.Build(catalog.Log.Items, catalog.Encoder, new ContentOptions { RecencyHalfLife = 0.5f });
        var user = History([catalog.IndexOf("boots"), catalog.IndexOf("frying-pan")], [1f, 1f]);
        var scores = new float[model.ItemCount];

        Assert.True(model.Score(user, scores));
        Assert.True(scores[catalog.IndexOf("saucepan")] > scores[catalog.IndexOf("snowboard")]);
    }

    [Fact]
    public void Score_NoRecency_HeavierEventLeads()
    {
        using var model = ContentModel.Build(catalog.Log.Items, catalog.Encoder, new ContentOptions { RecencyHalfLife = float.PositiveInfinity });
        var user = History([catalog.IndexOf("boots"), catalog.IndexOf("frying-pan")], [5f, 1f]);
        var scores = new float[model.ItemCount];

        Assert.True(model.Score(user, scores));
        Assert.True(scores[catalog.IndexOf("snowboard")] > scores[catalog.IndexOf("saucepan")]);
    }

    [Fact]
    public void Score_OnlyTheLastNDistinctItemsCount()
    {
        // History length 1: the repeated old ski views do not count, the latest item alone makes the profile.
        using var model = ContentModel.Build(catalog.Log.Items, catalog.Encoder, new ContentOptions { HistoryLength = 1 });
        var boots = catalog.IndexOf("boots");
        var user = History([boots, boots, boots, catalog.IndexOf("kettle")], [5f, 5f, 5f, 1f]);
        var scores = new float[model.ItemCount];

        Assert.True(model.Score(user, scores));
        Assert.Equal(1f, scores[catalog.IndexOf("kettle")], 1e-4f);
    }

    [Fact]
    public void SaveLoad_RoundTrip_SameSimilarAnswers()
    {
        using var stream = new MemoryStream();
        catalog.Model.Save(stream);
        stream.Position = 0;
        using var loaded = ContentModel.Load(stream);
        stream.Position = 0;
        using var hnsw = ContentModel.Load(stream, new VectorIndexOptions { Kind = VectorIndexKind.Hnsw });

        Assert.Equal(VectorIndexKind.Exact, loaded.IndexKind);
        Assert.Equal(VectorIndexKind.Hnsw, hnsw.IndexKind);
        for (var item = 0; item < catalog.Model.ItemCount; item++)
        {
            Assert.Equal(catalog.Model.Similar(item, 4), loaded.Similar(item, 4));
            Assert.Equal(
                catalog.Model.Similar(item, 4).Select(s => s.Item),
                hnsw.Similar(item, 4).Select(s => s.Item));
            Assert.True(catalog.Model.VectorOf(item).SequenceEqual(loaded.VectorOf(item)));
        }
    }

    [Fact]
    public void Load_TruncatedArtifact_ThrowsInvalidData()
    {
        using var full = new MemoryStream();
        catalog.Model.Save(full);
        var bytes = full.ToArray();

        foreach (var length in new[] { 3, 20, bytes.Length / 2, bytes.Length - 1 })
        {
            using var truncated = new MemoryStream(bytes, 0, length);
            Assert.Throws<InvalidDataException>(() => ContentModel.Load(truncated));
        }
    }

    // ---- helpers ----

    private static float[] RandomVectors(Random random, int count, int dim)
    {
        var v = new float[count * dim];
        for (var i = 0; i < v.Length; i++)
        {
            v[i] = (float)((random.NextDouble() * 2) - 1);
        }

        return v;
    }

    /// <summary>Gaussian-ish noise (sum of uniforms) around a few random centres: closer to real embeddings than uniform data.</summary>
    private static float[] ClusteredVectors(Random random, int count, int dim, int centres)
    {
        var seedRandom = new Random(99); // the same centres for the data and the queries
        var centre = RandomVectors(seedRandom, centres, dim);
        var v = new float[count * dim];
        for (var i = 0; i < count; i++)
        {
            var c = random.Next(centres);
            for (var d = 0; d < dim; d++)
            {
                var noise = (random.NextDouble() + random.NextDouble() + random.NextDouble() - 1.5) * 0.4;
                v[(i * dim) + d] = centre[(c * dim) + d] + (float)noise;
            }
        }

        return v;
    }

    private static double ScalarCosine(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double dot = 0, na = 0, nb = 0;
        for (var i = 0; i < a.Length; i++)
        {
            dot += (double)a[i] * b[i];
            na += (double)a[i] * a[i];
            nb += (double)b[i] * b[i];
        }

        return dot / Math.Sqrt(na * nb);
    }

    private static UserHistory History(int[] items, float[] weights)
    {
        var timestamps = new long[items.Length];
        for (var i = 0; i < timestamps.Length; i++)
        {
            timestamps[i] = 1000L * (i + 1);
        }

        return new UserHistory(-1, items, weights, timestamps);
    }

    private static int[] Search(IVectorIndex index, float[] query, int k)
    {
        var keys = new int[k];
        var n = index.Search(query, keys, new float[k]);
        return keys[..n];
    }
}

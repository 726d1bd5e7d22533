using Ranking.Candidates;
using Ranking.Data;
using Ranking.Domain;
using Ranking.Sequential;

namespace Ranking.Tests.Sequential;

public sealed class SequentialContentTests
{
    private const int Items = 12;
    private const int Users = 5;
    private const int Length = 7;

    private static readonly SequentialOptions Small = new()
    {
        Width = 8, Heads = 2, Layers = 2, FeedForwardWidth = 12, MaxLength = 4, Dropout = 0.1f, Negatives = 6, Seed = 11, Shards = 3,
        Epochs = 3, BatchSize = 2, WarmupSteps = 2,
    };

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void Gradient_WithContentFeatures_MatchesFiniteDifferences(bool fullSoftmax, bool otherInputs)
    {
        var log = BuildLog();
        var options = Small with
        {
            Dropout = 0f, FullSoftmax = fullSoftmax, UseContentFeatures = true, UseActionTypes = otherInputs, UseTimeGaps = otherInputs,
            OrderHeadWeight = otherInputs ? 0.7f : 0f,
        };
        var (model, trainer) = SequentialModel.CreateUntrained(log, options);
        var (_, analytic, Loss) = LayerGradientTests.WholeModelGradient(model, trainer);

        LayerGradientTests.AssertWholeModelGradient(model, analytic, Loss);
    }

    [Fact]
    public void ContentFeatures_KeepThePlainWeightsAsAPrefix_AndBucketPrices()
    {
        var log = BuildLog();
        var (plain, _) = SequentialModel.CreateUntrained(log, Small);
        var (content, _) = SequentialModel.CreateUntrained(log, Small with { UseContentFeatures = true });

        var categories = log.Items.Categories.Count + 1;
        var brands = log.Items.Brands.Count + 1;
        Assert.Equal(plain.ParameterCount + ((categories + brands + SequentialOptions.PriceBuckets) * Small.Width), content.ParameterCount);
        Assert.Equal(plain.ParameterArray, content.ParameterArray.AsSpan(0, plain.ParameterCount).ToArray());

        // Prices 1, 8, …, 78 and the cold item's 1: deciles over 13 priced items, the dearest in bucket 10.
        var rows = content.Content!;
        Assert.Equal(SequentialOptions.PriceBuckets - 2, rows.PriceEdges.Length);
        Assert.InRange(rows.Price[0], 1, 2);
        Assert.Equal(10, rows.Price[Items - 1]);
        Assert.True(rows.Price.Zip(rows.Price.Skip(1)).Take(Items - 1).All(pair => pair.First <= pair.Second));
        Assert.Equal(0, ItemContent.PriceBucket(rows.PriceEdges, float.NaN));
    }

    [Fact]
    public void ContentFeatures_ScoreColdItemsTheCatalogueDescribes()
    {
        var log = BuildLog();
        Assert.True(log.TryGetItemIndex("cold", out var cold));
        var history = UserHistory.Of(log, 0);
        var scores = new float[log.ItemCount];

        var plain = SequentialModel.Train(log, Small);
        Assert.True(plain.Score(history, scores));
        Assert.Equal(float.NegativeInfinity, scores[cold]);

        var content = SequentialModel.Train(log, Small with { UseContentFeatures = true });
        Assert.True(content.Score(history, scores));
        Assert.True(float.IsFinite(scores[cold]));

        // The ONNX graph scores the cold item from its content too.
        using var scorer = new OnnxSequentialScorer(content);
        var served = new float[log.ItemCount];
        Assert.True(scorer.Score(history, served));
        Assert.Equal(scores[cold], served[cold], 1e-4f);
    }

    [Fact]
    public void SaveLoad_AllOptions_SameScoresAndOrderProbabilities()
    {
        var log = BuildLog();
        var model = SequentialModel.Train(log, Small with { UseActionTypes = true, UseTimeGaps = true, OrderHeadWeight = 0.5f, UseContentFeatures = true });

        var loaded = RoundTrip(model, seekable: true);
        var unseekable = RoundTrip(model, seekable: false);

        Assert.Equal(model.Options, loaded.Options);
        Assert.Equal(model.ParameterArray, loaded.ParameterArray);
        Assert.Equal(model.OrderCode, loaded.OrderCode);
        Assert.Equal(model.ParameterArray, unseekable.ParameterArray);
        for (var u = 0; u < Users; u++)
        {
            var history = UserHistory.Of(log, u);
            var expected = new float[model.ItemCount];
            var actual = new float[loaded.ItemCount];
            Assert.True(model.Score(history, expected));
            Assert.True(loaded.Score(history, actual));
            Assert.Equal(expected, actual);
            for (var i = 0; i < model.ItemCount; i++)
            {
                Assert.Equal(model.PredictOrder(history, i), loaded.PredictOrder(history, i));
            }
        }

        // Artifacts with the new inputs export to ONNX, and the graph reads the types and times as the C# model does.
        using var scorer = new OnnxSequentialScorer(loaded);
        var history0 = UserHistory.Of(log, 0);
        var expectedScores = new float[loaded.ItemCount];
        var servedScores = new float[loaded.ItemCount];
        Assert.True(loaded.Score(history0, expectedScores));
        Assert.True(scorer.Score(history0, servedScores));
        Assert.All(expectedScores.Zip(servedScores), pair => Assert.Equal(pair.First, pair.Second, 1e-4f));
    }

    [Fact]
    public void Load_Version1Artifact_ReadsThePlainModel()
    {
        var log = BuildLog();
        var model = SequentialModel.Train(log, Small);
        using var stream = new MemoryStream();
        using (var writer = new ArtifactWriter(stream, "sequential", 1, model.ItemCount))
        {
            // The version-1 layout: the options of version 1, item counts, weights.
            var o = model.Options;
            writer.Write(o.Layers);
            writer.Write(o.Heads);
            writer.Write(o.Width);
            writer.Write(o.FeedForwardWidth);
            writer.Write(o.MaxLength);
            writer.Write(o.Dropout);
            writer.Write(o.LearningRate);
            writer.Write(o.WeightDecay);
            writer.Write(o.WarmupSteps);
            writer.Write(o.GradientClip);
            writer.Write(o.Epochs);
            writer.Write(o.BatchSize);
            writer.Write(o.Negatives);
            writer.Write((int)o.Sampling);
            writer.Write(o.FullSoftmax);
            writer.Write(o.Seed);
            writer.Write(o.Patience);
            writer.Write(o.ValidateEvery);
            writer.Write(o.ValidationUsers ?? -1);
            writer.Write(o.Shards);
            writer.Write(o.MaxDegreeOfParallelism);
            var counts = new int[model.ItemCount];
            foreach (var item in log.Item)
            {
                if (item >= 0)
                {
                    counts[item]++;
                }
            }

            writer.WriteArray<int>(counts);
            writer.WriteArray<float>(model.ParameterArray);
        }

        stream.Position = 0;
        var loaded = SequentialModel.Load(stream);

        Assert.Equal(model.Options, loaded.Options);
        var history = UserHistory.Of(log, 1);
        var expected = new float[model.ItemCount];
        var actual = new float[loaded.ItemCount];
        Assert.True(model.Score(history, expected));
        Assert.True(loaded.Score(history, actual));
        Assert.Equal(expected, actual);
        Assert.Equal(-1, loaded.OrderCode);
    }

    [Fact]
    public void Load_OtherVersion_Throws()
    {
        using var stream = new MemoryStream();
        using (var writer = new ArtifactWriter(stream, "sequential", 5, 3))
        {
            writer.Write(1);
        }

        stream.Position = 0;
        Assert.Throws<InvalidDataException>(() => SequentialModel.Load(stream));
        Assert.Throws<InvalidDataException>(() => SequentialModel.Load(new MemoryStream([1, 2])));
    }

    private static SequentialModel RoundTrip(SequentialModel model, bool seekable)
    {
        using var stream = new MemoryStream();
        model.Save(stream);
        stream.Position = 0;
        if (seekable)
        {
            return SequentialModel.Load(stream);
        }

        using var forward = new ForwardOnlyStream(stream);
        return SequentialModel.Load(forward);
    }

    // Users walk the catalogue with varying gaps; items divisible by 3 are ordered, even ones carted, the rest viewed.
    private static InteractionLog BuildLog()
    {
        var registry = EventTypeRegistry.Default;
        var builder = new InteractionLogBuilder(registry);
        for (var i = 0; i < Items; i++)
        {
            builder.AddItem(new Item { Id = $"i{i}", Title = $"Item {i}", Category = $"c{i % 3}", Brand = $"b{i % 2}", Price = 1 + (i * 7) });
        }

        // In the catalogue, never in an event.
        builder.AddItem(new Item { Id = "cold", Title = "Cold", Category = "c0", Brand = "b0", Price = 1 });

        registry.TryGetCode(EventTypeRegistry.View, out var view);
        registry.TryGetCode(EventTypeRegistry.Cart, out var cart);
        registry.TryGetCode(EventTypeRegistry.Order, out var order);
        for (var u = 0; u < Users; u++)
        {
            var time = 1_000_000L;
            for (var j = 0; j < Length; j++)
            {
                var item = ((u * 2) + (j * 5)) % Items;
                var type = item % 3 == 0 ? order : item % 2 == 0 ? cart : view;
                time += 1_000L * (1L << ((u + j) % 12));
                builder.Add($"u{u}", $"i{item}", type, time);
            }
        }

        return builder.Build();
    }

    private sealed class ForwardOnlyStream(Stream inner) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}

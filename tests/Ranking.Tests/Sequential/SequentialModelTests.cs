using Ranking.Candidates;
using Ranking.Data;
using Ranking.Domain;
using Ranking.Evaluation;
using Ranking.Sequential;

namespace Ranking.Tests.Sequential;

public sealed class SequentialModelTests
{
    private const int Items = 20;
    private const int Users = 6;
    private const int Length = 6;

    private static readonly SequentialOptions Tiny = new()
    {
        Width = 16, Heads = 2, Layers = 1, MaxLength = 8, Dropout = 0f, LearningRate = 1e-2f, WarmupSteps = 10, Epochs = 250,
        BatchSize = Users, Negatives = 8, Seed = 3, Shards = 2,
    };

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Train_HandfulOfSequences_MemorisesNextItems(bool fullSoftmax)
    {
        var log = BuildLog();
        var progress = new Collect();

        var model = SequentialModel.Train(log, Tiny with { FullSoftmax = fullSoftmax }, progress: progress);

        Assert.True(progress.Epochs[^1].Loss < 0.05, $"Final loss {progress.Epochs[^1].Loss}.");
        var scores = new float[model.ItemCount];
        for (var u = 0; u < Users; u++)
        {
            // Positions are right-aligned (the newest item takes the last one), so the history that reproduces the
            // training positions is the whole sequence but its last item.
            var sequence = SequenceOf(u);
            Assert.True(model.Score(History(sequence[..^1]), scores));
            var best = TopKSelector.Select(scores, 1)[0].Item;
            Assert.Equal(ItemIndex(log, sequence[^1]), best);
        }
    }

    [Fact]
    public void Train_SameSeed_IdenticalWeightsOnAnyThreadCount()
    {
        var log = BuildLog();
        var options = Tiny with { Epochs = 5, Dropout = 0.3f, Sampling = NegativeSampling.Popularity };

        var one = SequentialModel.Train(log, options with { MaxDegreeOfParallelism = 1 });
        var all = SequentialModel.Train(log, options);
        var other = SequentialModel.Train(log, options with { Seed = 4 });

        Assert.Equal(one.ParameterArray, all.ParameterArray);
        Assert.NotEqual(one.ParameterArray, other.ParameterArray);
    }

    [Fact]
    public void SaveLoad_RoundTrip_SameScores()
    {
        var log = BuildLog();
        var model = SequentialModel.Train(log, Tiny with { Epochs = 3 });
        using var stream = new MemoryStream();

        model.Save(stream);
        stream.Position = 0;
        var loaded = SequentialModel.Load(stream);

        var history = History(SequenceOf(2)[..4]);
        var expected = new float[model.ItemCount];
        var actual = new float[loaded.ItemCount];
        Assert.True(model.Score(history, expected));
        Assert.True(loaded.Score(history, actual));
        Assert.Equal(expected, actual);
        Assert.Equal(model.Options, loaded.Options);
    }

    [Fact]
    public void Load_OtherKind_Throws()
    {
        using var stream = new MemoryStream();
        using (var writer = new ArtifactWriter(stream, "als", 1, 3))
        {
            writer.Write(1);
        }

        stream.Position = 0;
        Assert.Throws<InvalidDataException>(() => SequentialModel.Load(stream));
    }

    [Fact]
    public void Score_HistoryWithoutItems_ReturnsFalse()
    {
        var model = SequentialModel.Train(BuildLog(), Tiny with { Epochs = 1 });
        var scores = new float[model.ItemCount];

        Assert.False(model.Score(History([]), scores));
        Assert.False(model.Score(new UserHistory(-1, new[] { -1, -1 }, new float[2], new long[2]), scores));
    }

    [Fact]
    public void Score_ItemNeverTrainedOn_IsNegativeInfinity()
    {
        var log = BuildLog(extraItems: 3);
        var model = SequentialModel.Train(log, Tiny with { Epochs = 1 });
        var scores = new float[model.ItemCount];

        Assert.True(model.Score(History(SequenceOf(0)[..2]), scores));

        Assert.Equal(float.NegativeInfinity, scores[ItemIndex(log, Items + 1)]);
        Assert.True(float.IsFinite(scores[ItemIndex(log, SequenceOf(0)[2])]));
    }

    [Fact]
    public void Evaluate_LeaveOneOut_RunsThroughHarness()
    {
        var log = BuildLog();
        var split = Splits.LeaveOneOut(log);
        var model = SequentialModel.Train(split.Train, Tiny with { Epochs = 200 });

        var result = RankingEvaluator.Evaluate(model, split, new EvaluationOptions { BootstrapResamples = 0 });

        Assert.Equal(Users, result.Users);
        Assert.True(result.Metrics["hr@10"].Mean > 0.5);
    }

    [Theory]
    [InlineData(false, NegativeSampling.Popularity)]
    [InlineData(false, NegativeSampling.Uniform)]
    [InlineData(true, NegativeSampling.Uniform)]
    public void Gradient_WholeModel_MatchesFiniteDifferences(bool fullSoftmax, NegativeSampling sampling)
    {
        // Two blocks, two heads, a wider feed-forward layer and sequences longer than MaxLength (truncated).
        var log = BuildLog();
        var options = new SequentialOptions
        {
            Width = 8, Heads = 2, Layers = 2, FeedForwardWidth = 12, MaxLength = 4, Dropout = 0f, Negatives = 6,
            Sampling = sampling, FullSoftmax = fullSoftmax, Seed = 11, Shards = 3,
        };
        var (model, trainer) = SequentialModel.CreateUntrained(log, options);
        var (_, analytic, Loss) = LayerGradientTests.WholeModelGradient(model, trainer);

        LayerGradientTests.AssertWholeModelGradient(model, analytic, Loss);
    }

    private static int[] SequenceOf(int user)
    {
        // Distinct first items, so every prefix determines its next item.
        var items = new int[Length];
        for (var j = 0; j < Length; j++)
        {
            items[j] = ((user * 3) + (j * 7)) % Items;
        }

        return items;
    }

    private static InteractionLog BuildLog(int extraItems = 0)
    {
        var builder = new InteractionLogBuilder(EventTypeRegistry.Default);
        for (var i = 0; i < Items + extraItems; i++)
        {
            builder.AddItem(new Item { Id = $"i{i}", Title = $"Item {i}", Category = "A" });
        }

        EventTypeRegistry.Default.TryGetCode(EventTypeRegistry.View, out var view);
        for (var u = 0; u < Users; u++)
        {
            var sequence = SequenceOf(u);
            for (var j = 0; j < sequence.Length; j++)
            {
                builder.Add($"u{u}", $"i{sequence[j]}", view, 1_000_000L + (j * 60_000L));
            }
        }

        return builder.Build();
    }

    private static int ItemIndex(InteractionLog log, int item) => log.TryGetItemIndex($"i{item}", out var index) ? index : throw new ArgumentException($"i{item}");

    // The catalogue is added first in order, so item ids and indices coincide.
    private static UserHistory History(int[] items) => new(-1, items, new float[items.Length], new long[items.Length]);

    private sealed class Collect : IProgress<SequentialEpoch>
    {
        public List<SequentialEpoch> Epochs { get; } = [];

        public void Report(SequentialEpoch value) => Epochs.Add(value);
    }
}

using Ranking.Candidates;
using Ranking.Data;
using Ranking.Domain;
using Ranking.Sequential;

namespace Ranking.Tests.Sequential;

public sealed class SequentialInputsTests
{
    private const int Items = 12;
    private const int Users = 5;
    private const int Length = 7;

    private static readonly SequentialOptions Small = new()
    {
        Width = 8, Heads = 2, Layers = 2, FeedForwardWidth = 12, MaxLength = 4, Dropout = 0f, Negatives = 6, Seed = 11, Shards = 3,
    };

    [Theory]
    [InlineData(false, true, false, 0f)]
    [InlineData(false, false, true, 0f)]
    [InlineData(false, false, false, 0.7f)]
    [InlineData(false, true, true, 0.7f)]
    [InlineData(true, true, true, 0.7f)]
    public void Gradient_WithNewInputs_MatchesFiniteDifferences(bool fullSoftmax, bool types, bool gaps, float orderWeight)
    {
        var log = BuildLog();
        var options = Small with { FullSoftmax = fullSoftmax, UseActionTypes = types, UseTimeGaps = gaps, OrderHeadWeight = orderWeight };
        var (model, trainer) = SequentialModel.CreateUntrained(log, options);
        var (_, analytic, Loss) = LayerGradientTests.WholeModelGradient(model, trainer);

        LayerGradientTests.AssertWholeModelGradient(model, analytic, Loss);
    }

    [Fact]
    public void NewInputs_KeepThePlainWeightsAsAPrefix()
    {
        var log = BuildLog();
        var (plain, _) = SequentialModel.CreateUntrained(log, Small);
        var (extended, _) = SequentialModel.CreateUntrained(log, Small with { UseActionTypes = true, UseTimeGaps = true, OrderHeadWeight = 1f });

        Assert.Equal(
            plain.ParameterCount + ((SequentialOptions.ActionTypeRows + SequentialOptions.TimeGapBuckets + 2) * Small.Width) + 1,
            extended.ParameterCount);
        Assert.Equal(plain.ParameterArray, extended.ParameterArray.AsSpan(0, plain.ParameterCount).ToArray());
    }

    [Fact]
    public void UserHistoryOf_FillsTypes_AndModelReadsThem()
    {
        var log = BuildLog();
        var history = UserHistory.Of(log, 0);
        Assert.Equal(history.Items.Length, history.Types.Length);
        Assert.Equal(log.Type.AsSpan(log.RowsOf(0)).ToArray(), history.Types.ToArray());

        var (model, _) = SequentialModel.CreateUntrained(log, Small with { UseActionTypes = true });
        var withTypes = new float[model.ItemCount];
        var without = new float[model.ItemCount];
        Assert.True(model.Score(history, withTypes));
        var untyped = new UserHistory(history.User, history.Items, history.Weights, history.TimestampsMs);
        Assert.True(model.Score(untyped, without));
        Assert.NotEqual(withTypes, without);

        // The plain model ignores types.
        var (plain, _) = SequentialModel.CreateUntrained(log, Small);
        Assert.True(plain.Score(history, withTypes));
        Assert.True(plain.Score(untyped, without));
        Assert.Equal(withTypes, without);
    }

    [Fact]
    public void UserHistory_TypesOfWrongLength_Throws() =>
        Assert.Throws<ArgumentException>(() => new UserHistory(-1, new[] { 1, 2 }, new float[2], new long[2], new byte[1]));

    [Theory]
    [InlineData(-1L, 0)]
    [InlineData(0L, 1)]
    [InlineData(2_000L, 1)]
    [InlineData(5_000L, 2)]
    [InlineData(3_600_000L, 6)]
    [InlineData(long.MaxValue / 2, SequentialOptions.TimeGapBuckets - 1)]
    public void GapBucket_IsLogScaled(long gapMs, int bucket) => Assert.Equal(bucket, ParameterLayout.GapBucket(gapMs));

    [Fact]
    public void OrderHead_LearnsWhichItemsAreOrdered_AndGuardsHold()
    {
        var log = BuildLog();
        var options = Small with { Dropout = 0f, LearningRate = 1e-2f, WarmupSteps = 5, Epochs = 150, BatchSize = Users, OrderHeadWeight = 1f, UseActionTypes = true, UseTimeGaps = true };
        var model = SequentialModel.Train(log, options);
        var history = UserHistory.Of(log, 0);

        // Items divisible by 3 are always ordered in BuildLog, the others never.
        // On the training transitions, the next event's P(order) separates orders from the rest.
        log.EventTypes.TryGetCode(EventTypeRegistry.Order, out var orderCode);
        var ordered = new List<float>();
        var others = new List<float>();
        for (var u = 0; u < Users; u++)
        {
            var full = UserHistory.Of(log, u);
            for (var j = 1; j < full.Items.Length; j++)
            {
                var prefix = new UserHistory(u, full.Items[..j], full.Weights[..j], full.TimestampsMs[..j], full.Types[..j]);
                (full.Types.Span[j] == orderCode ? ordered : others).Add(model.PredictOrder(prefix, full.Items.Span[j]));
            }
        }

        Assert.True(ordered.Average() > others.Average() + 0.3, $"ordered {ordered.Average()}, others {others.Average()}");
        Assert.True(float.IsNaN(model.PredictOrder(UserHistory.Unknown, 3)));
        using var exported = new MemoryStream();
        SequentialOnnxExporter.Export(model, exported);
        Assert.True(exported.Length > 0);

        var (plain, _) = SequentialModel.CreateUntrained(log, Small);
        Assert.Throws<InvalidOperationException>(() => plain.PredictOrder(history, 3));
    }

    // Users walk the catalogue with varying gaps; items divisible by 3 are ordered, even ones carted, the rest viewed.
    private static InteractionLog BuildLog()
    {
        var registry = EventTypeRegistry.Default;
        var builder = new InteractionLogBuilder(registry);
        for (var i = 0; i < Items; i++)
        {
            builder.AddItem(new Item { Id = $"i{i}", Title = $"Item {i}", Category = "A" });
        }

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
}

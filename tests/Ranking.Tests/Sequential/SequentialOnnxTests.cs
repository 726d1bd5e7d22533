using Microsoft.ML.OnnxRuntime;
using Ranking.Candidates;
using Ranking.Data;
using Ranking.Domain;
using Ranking.Sequential;

namespace Ranking.Tests.Sequential;

public sealed class SequentialOnnxTests
{
    private const int Items = 30;
    private const int Untrained = 3;
    private const int Users = 12;
    private const int MaxLength = 8;
    private const double Tolerance = 1e-4;

    private static readonly Lazy<SequentialModel> Trained = new(() => SequentialModel.Train(
        BuildLog(),
        new SequentialOptions
        {
            Width = 16, Heads = 2, Layers = 2, FeedForwardWidth = 24, MaxLength = MaxLength, Dropout = 0.1f, LearningRate = 1e-2f,
            WarmupSteps = 2, Epochs = 3, BatchSize = 4, Negatives = 8, Seed = 11, Shards = 2,
        }));

    // Short (padding), exactly MaxLength, long (truncation), with searches, a single item, a repeated item.
    private static readonly int[][] Histories =
    [
        [4],
        [1, 2, 3],
        [-1, 5, -1, 9, 9],
        [0, 1, 2, 3, 4, 5, 6, 7],
        [3, 14, 15, 9, 26, 5, 3, 5, 8, 9, 7, 9, 3, 2, 3, 8, 4, 6, 2, 6],
        [29, -1, 28, 27, -1, -1, 26, 25, 24, 23, 22, 21, 20],
    ];

    [Fact]
    public void Export_SameInputs_OnnxRuntimeMatchesCSharpForwardPass()
    {
        var model = Trained.Value;
        using var stream = new MemoryStream();
        SequentialOnnxExporter.Export(model, stream);
        using var session = new InferenceSession(stream.ToArray());

        foreach (var history in Histories)
        {
            var ids = LeftPadded(history);
            using var input = OrtValue.CreateTensorValueFromMemory(ids, [1, MaxLength]);
            using var outputs = session.Run(
                new RunOptions(), [SequentialOnnxExporter.ItemsInput], [input], [SequentialOnnxExporter.StateOutput, SequentialOnnxExporter.ScoresOutput]);

            var expectedState = new float[model.Width];
            Assert.True(model.TryComputeState(history, expectedState));
            var expectedScores = new float[model.ItemCount];
            Assert.True(model.Score(History(history), expectedScores));
            AssertClose(expectedState, outputs[0].GetTensorDataAsSpan<float>());
            AssertClose(expectedScores, outputs[1].GetTensorDataAsSpan<float>());
        }
    }

    [Fact]
    public void Score_SameHistories_MatchesCSharpModelWithin1e4()
    {
        var model = Trained.Value;
        using var scorer = new OnnxSequentialScorer(model);
        var expected = new float[model.ItemCount];
        var actual = new float[model.ItemCount];

        foreach (var history in Histories)
        {
            Assert.True(model.Score(History(history), expected));
            Assert.True(scorer.Score(History(history), actual));
            AssertClose(expected, actual);
        }

        Assert.Equal("CPU", scorer.ExecutionProvider);
        for (var i = Items; i < Items + Untrained; i++)
        {
            Assert.Equal(float.NegativeInfinity, actual[i]);
        }
    }

    [Fact]
    public void ComputeStates_BatchLongerThanMaxBatch_MatchesOneByOne()
    {
        var model = Trained.Value;
        using var scorer = new OnnxSequentialScorer(model, new OnnxScorerOptions { MaxBatchSize = 4 });
        var items = new List<int>();
        var offsets = new List<int> { 0 };
        for (var h = 0; h < 11; h++)
        {
            // Every third history is empty or searches only: no state, and the rows around it stay aligned.
            int[] history = h % 3 == 2 ? (h % 2 == 0 ? [] : [-1, -1]) : Histories[h % Histories.Length];
            items.AddRange(history);
            offsets.Add(items.Count);
        }

        var states = new float[11 * model.Width];
        var found = new bool[11];
        var scores = new float[11 * model.ItemCount];
        var scored = new bool[11];

        var count = scorer.ComputeStates(items.ToArray(), offsets.ToArray(), states, found);
        var scoredCount = scorer.ScoreBatch(items.ToArray(), offsets.ToArray(), scores, scored);

        Assert.Equal(8, count);
        Assert.Equal(8, scoredCount);
        Assert.Equal(found, scored);
        var expectedState = new float[model.Width];
        var expectedScores = new float[model.ItemCount];
        for (var h = 0; h < 11; h++)
        {
            var history = items.GetRange(offsets[h], offsets[h + 1] - offsets[h]).ToArray();
            Assert.Equal(model.TryComputeState(history, expectedState), found[h]);
            if (found[h])
            {
                Assert.True(model.Score(History(history), expectedScores));
                AssertClose(expectedState, states.AsSpan(h * model.Width, model.Width));
                AssertClose(expectedScores, scores.AsSpan(h * model.ItemCount, model.ItemCount));
            }
        }
    }

    [Fact]
    public void Constructor_CudaRequestedButUnavailable_FallsBackToCpuWithOneLogLine()
    {
        var lines = new List<string>();

        using var scorer = new OnnxSequentialScorer(Trained.Value, new OnnxScorerOptions { UseCuda = true }, lines.Add);

        // This build carries the CPU ONNX Runtime, so the CUDA provider can never be created here.
        Assert.Equal("CPU", scorer.ExecutionProvider);
        var line = Assert.Single(lines);
        Assert.Contains("CUDA", line, StringComparison.Ordinal);
        Assert.Contains("CPU", line, StringComparison.Ordinal);
        var state = new float[scorer.Width];
        Assert.True(scorer.TryComputeState(Histories[1], state));
    }

    [Fact]
    public void Constructor_CpuByDefault_LogsNothing()
    {
        var lines = new List<string>();

        using var scorer = new OnnxSequentialScorer(Trained.Value, log: lines.Add);

        Assert.Equal("CPU", scorer.ExecutionProvider);
        Assert.Empty(lines);
    }

    [Fact]
    public void Score_EmptyOrSearchOnlyHistory_ReturnsFalseLikeCSharpModel()
    {
        var model = Trained.Value;
        using var scorer = new OnnxSequentialScorer(model);
        var scores = new float[model.ItemCount];
        var state = new float[model.Width];
        state.AsSpan().Fill(7f);
        var searches = History([-1, -1]);

        Assert.False(model.Score(UserHistory.Unknown, scores));
        Assert.False(scorer.Score(UserHistory.Unknown, scores));
        Assert.False(model.Score(searches, scores));
        Assert.False(scorer.Score(searches, scores));
        Assert.False(scorer.ScoreCandidates(searches, [1, 2], scores));
        Assert.False(scorer.TryComputeState([], state));
        Assert.All(state, value => Assert.Equal(7f, value));
        Assert.Empty(scorer.TopK(UserHistory.Unknown, 5));
    }

    [Fact]
    public void ScoreCandidates_SomeItems_EqualsFullScoresAtThoseIndices()
    {
        var model = Trained.Value;
        using var scorer = new OnnxSequentialScorer(model);
        int[] candidates = [0, 7, Items, 7, Items + Untrained - 1, 29];
        var full = new float[model.ItemCount];
        var some = new float[candidates.Length];
        var history = History(Histories[4]);

        Assert.True(scorer.Score(history, full));
        Assert.True(scorer.ScoreCandidates(history, candidates, some));

        for (var c = 0; c < candidates.Length; c++)
        {
            var expected = full[candidates[c]];
            if (float.IsNegativeInfinity(expected))
            {
                Assert.Equal(expected, some[c]);
            }
            else
            {
                Assert.True(Math.Abs(expected - some[c]) <= Tolerance, $"Candidate {candidates[c]}: {expected} vs {some[c]}.");
            }
        }

        Assert.Equal(float.NegativeInfinity, some[2]);
    }

    [Fact]
    public void TopK_WithExclusions_SameItemsAsCSharpModel()
    {
        var model = Trained.Value;
        using var scorer = new OnnxSequentialScorer(model);
        var history = History(Histories[3]);
        int[] exclude = [0, 1, 2];

        var expected = model.TopK(history, 5, exclude);
        var actual = scorer.TopK(history, 5, exclude);

        Assert.Equal(5, actual.Count);
        Assert.Equal(expected.Select(s => s.Item), actual.Select(s => s.Item));
        Assert.DoesNotContain(actual, s => exclude.Contains(s.Item));
    }

    [Fact]
    public void Score_ItemOutsideModel_Throws()
    {
        var model = Trained.Value;
        using var scorer = new OnnxSequentialScorer(model);
        var scores = new float[model.ItemCount];

        Assert.Throws<ArgumentException>(() => scorer.Score(History([1, model.ItemCount]), scores));
        Assert.Throws<ArgumentException>(() => scorer.Score(History([1]), new float[3]));
        Assert.Throws<ArgumentException>(() => scorer.ScoreCandidates(History([1]), [model.ItemCount], new float[1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new OnnxSequentialScorer(model, new OnnxScorerOptions { MaxBatchSize = 0 }));
    }

    private static long[] LeftPadded(int[] history)
    {
        var row = new long[MaxLength];
        var slot = MaxLength;
        for (var r = history.Length - 1; r >= 0 && slot > 0; r--)
        {
            if (history[r] >= 0)
            {
                row[--slot] = history[r];
            }
        }

        row.AsSpan(0, slot).Fill(SequentialOnnxExporter.PaddingId);
        return row;
    }

    private static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        var worst = 0.0;
        for (var i = 0; i < expected.Length; i++)
        {
            if (float.IsNegativeInfinity(expected[i]))
            {
                Assert.Equal(float.NegativeInfinity, actual[i]);
                continue;
            }

            worst = Math.Max(worst, Math.Abs(expected[i] - actual[i]));
        }

        Assert.True(worst <= Tolerance, $"Max abs diff {worst:g3} exceeds {Tolerance:g1}.");
    }

    private static InteractionLog BuildLog()
    {
        var builder = new InteractionLogBuilder(EventTypeRegistry.Default);

        // The last few items get no event: the model never recommends them (−∞).
        for (var i = 0; i < Items + Untrained; i++)
        {
            builder.AddItem(new Item { Id = $"i{i}", Title = $"Item {i}", Category = "A" });
        }

        EventTypeRegistry.Default.TryGetCode(EventTypeRegistry.View, out var view);
        for (var u = 0; u < Users; u++)
        {
            for (var j = 0; j < 10; j++)
            {
                builder.Add($"u{u}", $"i{((u * 5) + (j * 7)) % Items}", view, 1_000_000L + (j * 60_000L));
            }
        }

        return builder.Build();
    }

    // The catalogue is added first in order, so item ids and indices coincide.
    private static UserHistory History(int[] items) => new(-1, items, new float[items.Length], new long[items.Length]);
}

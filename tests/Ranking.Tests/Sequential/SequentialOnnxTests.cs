using Microsoft.ML.OnnxRuntime;
using Ranking.Candidates;
using Ranking.Data;
using Ranking.Domain;
using Ranking.Sequential;
using Xunit.Abstractions;

namespace Ranking.Tests.Sequential;

public sealed class SequentialOnnxTests(ITestOutputHelper output)
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

    // Models with the optional inputs, trained on a log with types, times, searches, a catalogue and cold items.
    private static readonly Dictionary<string, Lazy<SequentialModel>> WithInputs = new()
    {
        ["types"] = RichModel(new() { UseActionTypes = true }),
        ["gaps"] = RichModel(new() { UseTimeGaps = true }),
        ["content"] = RichModel(new() { UseContentFeatures = true }),
        ["all"] = RichModel(new() { UseActionTypes = true, UseTimeGaps = true, UseContentFeatures = true, OrderHeadWeight = 1f }),
    };

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

    [Theory]
    [InlineData("types")]
    [InlineData("gaps")]
    [InlineData("content")]
    [InlineData("all")]
    public void Score_WithOptionalInputs_MatchesCSharpModelWithin1e4(string kind)
    {
        var model = WithInputs[kind].Value;
        using var stream = new MemoryStream();
        SequentialOnnxExporter.Export(model, stream);
        using var scorer = new OnnxSequentialScorer(model, new OnnxScorerOptions { MaxBatchSize = 5 });
        var histories = RichHistories();
        var expectedState = new float[model.Width];
        var actualState = new float[model.Width];
        var expected = new float[model.ItemCount];
        var actual = new float[model.ItemCount];
        var worstState = 0.0;
        var worstScore = 0.0;

        Assert.True(stream.Length > 0);
        Assert.True(histories.Count >= 20);
        Assert.Contains(histories, h => h.Items.Length > MaxLength && !h.Types.IsEmpty);
        foreach (var history in histories)
        {
            Assert.True(model.TryComputeStateOf(history, expectedState));
            Assert.True(scorer.TryComputeStateOf(history, actualState));
            Assert.True(model.Score(history, expected));
            Assert.True(scorer.Score(history, actual));
            worstState = Math.Max(worstState, AssertClose(expectedState, actualState));
            worstScore = Math.Max(worstScore, AssertClose(expected, actual));
            for (var i = Items; i < Items + Untrained; i++)
            {
                // Cold items: scored from their content when the model has it, else never recommended.
                Assert.Equal(model.Options.UseContentFeatures, float.IsFinite(actual[i]));
                Assert.Equal(float.IsFinite(expected[i]), float.IsFinite(actual[i]));
            }
        }

        output.WriteLine($"{kind}: max |state diff| {worstState:g3}, max |score diff| {worstScore:g3}");

        // The batched history entry points agree with the C# model row by row.
        var states = new float[histories.Count * model.Width];
        var scores = new float[histories.Count * model.ItemCount];
        var found = new bool[histories.Count];
        var scored = new bool[histories.Count];
        Assert.Equal(histories.Count, scorer.ComputeStates(histories, states, found));
        Assert.Equal(histories.Count, scorer.ScoreBatch(histories, scores, scored));
        for (var h = 0; h < histories.Count; h++)
        {
            Assert.True(found[h] && scored[h]);
            Assert.True(model.TryComputeStateOf(histories[h], expectedState));
            Assert.True(model.Score(histories[h], expected));
            AssertClose(expectedState, states.AsSpan(h * model.Width, model.Width));
            AssertClose(expected, scores.AsSpan(h * model.ItemCount, model.ItemCount));
        }

        // Candidates and top-k read the same types and times.
        int[] candidates = [0, 5, Items, Items + Untrained - 1, 29];
        var some = new float[candidates.Length];
        var history0 = histories[^1];
        Assert.True(model.Score(history0, expected));
        Assert.True(scorer.ScoreCandidates(history0, candidates, some));
        for (var c = 0; c < candidates.Length; c++)
        {
            AssertClose([expected[candidates[c]]], [some[c]]);
        }

        Assert.Equal(model.TopK(history0, 5, [0, 1]).Select(s => s.Item), scorer.TopK(history0, 5, [0, 1]).Select(s => s.Item));
    }

    [Theory]
    [InlineData("types")]
    [InlineData("gaps")]
    [InlineData("content")]
    [InlineData("all")]
    public void UntrainedItems_WithOptionalInputs_AreTheItemsScoreGivesMinusInfinity(string kind)
    {
        var model = WithInputs[kind].Value;
        var scores = new float[model.ItemCount];

        Assert.True(model.Score(RichHistories()[3], scores));

        Assert.Equal(scores.Select(float.IsNegativeInfinity), SequentialOnnxExporter.UntrainedItems(model));
        // Every item is described by the catalogue, so content models score them all; the others leave out (at least)
        // the items without an event.
        Assert.Equal(model.Options.UseContentFeatures, !scores.Any(float.IsNegativeInfinity));
        Assert.All(scores.AsSpan(Items, Untrained).ToArray(), score => Assert.Equal(model.Options.UseContentFeatures, float.IsFinite(score)));
    }

    [Fact]
    public void InputNames_FollowTheModelsTables()
    {
        Assert.Equal([SequentialOnnxExporter.ItemsInput], SequentialOnnxExporter.InputNames(Trained.Value));
        Assert.Equal([SequentialOnnxExporter.ItemsInput, SequentialOnnxExporter.TypesInput], SequentialOnnxExporter.InputNames(WithInputs["types"].Value));
        Assert.Equal([SequentialOnnxExporter.ItemsInput, SequentialOnnxExporter.GapsInput], SequentialOnnxExporter.InputNames(WithInputs["gaps"].Value));
        Assert.Equal([SequentialOnnxExporter.ItemsInput], SequentialOnnxExporter.InputNames(WithInputs["content"].Value));
        Assert.Equal(
            [SequentialOnnxExporter.ItemsInput, SequentialOnnxExporter.TypesInput, SequentialOnnxExporter.GapsInput],
            SequentialOnnxExporter.InputNames(WithInputs["all"].Value));
    }

    [Fact]
    public void Graph_NoItemToken_IsAttendedAndChangesTheState()
    {
        var model = WithInputs["all"].Value;
        var names = SequentialOnnxExporter.InputNames(model);
        using var session = new InferenceSession(SequentialOnnxExporter.Build(model, SequentialOnnxExporter.UntrainedItems(model)));

        // The same history with and without a no-item token (a search query, say) between items 5 and 7.
        long[] withToken = [-1, -1, -1, 3, 5, SequentialOnnxExporter.NoItemId, 7, 9];
        long[] types = [0, 0, 0, 1, 2, 5, 1, 3];
        long[] gaps = [0, 0, 0, 0, 4, 2, 3, 1];
        long[] withoutToken = [-1, -1, -1, -1, 3, 5, 7, 9];
        long[] typesWithout = [0, 0, 0, 0, 1, 2, 1, 3];
        long[] gapsWithout = [0, 0, 0, 0, 0, 4, 3, 1];
        long[] asPadding = [-1, -1, -1, 3, 5, SequentialOnnxExporter.PaddingId, 7, 9];

        var state = Run(withToken, types, gaps);
        var without = Run(withoutToken, typesWithout, gapsWithout);
        var padded = Run(asPadding, types, gaps);

        Assert.Equal([SequentialOnnxExporter.ItemsInput, SequentialOnnxExporter.TypesInput, SequentialOnnxExporter.GapsInput], names);
        Assert.All(state.State, value => Assert.True(float.IsFinite(value)));
        Assert.All(state.Scores.Take(Items), value => Assert.True(float.IsFinite(value)));
        Assert.True(MaxAbsDifference(state.State, without.State) > 1e-3, "The no-item token must change the state.");
        Assert.True(MaxAbsDifference(state.State, padded.State) > 1e-3, "The no-item token must be attended, unlike padding.");

        (float[] State, float[] Scores) Run(long[] items, long[] typeRows, long[] gapRows)
        {
            using var itemsValue = OrtValue.CreateTensorValueFromMemory(items, [1, MaxLength]);
            using var typesValue = OrtValue.CreateTensorValueFromMemory(typeRows, [1, MaxLength]);
            using var gapsValue = OrtValue.CreateTensorValueFromMemory(gapRows, [1, MaxLength]);
            using var runOptions = new RunOptions();
            using var outputs = session.Run(
                runOptions, [.. names], [itemsValue, typesValue, gapsValue], [SequentialOnnxExporter.StateOutput, SequentialOnnxExporter.ScoresOutput]);
            return (outputs[0].GetTensorDataAsSpan<float>().ToArray(), outputs[1].GetTensorDataAsSpan<float>().ToArray());
        }
    }

    [Fact]
    public void LayOut_LongHistoryWithSearches_KeepsTheNewestItemsWithTheirRowsAndGaps()
    {
        int[] items = [4, -1, 1, 2, -1, 3];
        byte[] types = [0, 4, 1, 200, 4, 2];
        long[] times = [0, 500, 1_000, 5_000, 6_000, 66_000];
        var tokens = new SequentialTokens(3);

        int Lay(int[] history, byte[]? historyTypes, long[]? historyTimes)
        {
            var source = new TokenSource
            {
                Items = history, Types = historyTypes, Timestamps = historyTimes, QueryVector = _ => false, ItemCount = 5, Queries = false, Context = false,
            };
            source.LayOut(history.Length, 2, tokens);
            return tokens.Count;
        }

        Assert.Equal(2, Lay(items, types, times));
        Assert.Equal([2, 3], tokens.Ids.AsSpan(0, 2).ToArray());
        Assert.Equal([0, 3], tokens.Types.AsSpan(0, 2).ToArray());
        Assert.Equal([ParameterLayout.GapBucket(4_000), ParameterLayout.GapBucket(61_000)], tokens.Gaps.AsSpan(0, 2).ToArray());
        Assert.Equal(0, Lay([-1, -1], null, null));
        Assert.Equal(1, Lay([3], null, null));
        Assert.Equal(0, tokens.Gaps[0]);
        Assert.Throws<ArgumentException>(() => Lay([5, 1], null, null));
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

    private static double AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual)
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
        return worst;
    }

    private static double MaxAbsDifference(float[] a, float[] b) => a.Zip(b, (x, y) => (double)Math.Abs(x - y)).Max();

    private static Lazy<SequentialModel> RichModel(SequentialOptions inputs) => new(() => SequentialModel.Train(
        BuildRichLog(),
        inputs with
        {
            Width = 16, Heads = 2, Layers = 2, FeedForwardWidth = 24, MaxLength = MaxLength, Dropout = 0.1f, LearningRate = 1e-2f,
            WarmupSteps = 2, Epochs = 3, BatchSize = 4, Negatives = 8, Seed = 11, Shards = 2,
        }));

    // Like BuildLog, with categories, brands and prices, views, carts and orders, searches, and gaps from seconds to days.
    private static InteractionLog BuildRichLog()
    {
        var registry = EventTypeRegistry.Default;
        var builder = new InteractionLogBuilder(registry);
        for (var i = 0; i < Items + Untrained; i++)
        {
            builder.AddItem(new Item { Id = $"i{i}", Title = $"Item {i}", Category = $"C{i % 4}", Brand = $"B{i % 3}", Price = 5 + (i * 3.5) });
        }

        byte[] codes = [Code(EventTypeRegistry.View), Code(EventTypeRegistry.Cart), Code(EventTypeRegistry.Order)];
        var search = Code(EventTypeRegistry.Search);
        for (var u = 0; u < Users; u++)
        {
            var time = 1_000_000L;
            for (var j = 0; j < 12; j++)
            {
                time += 1_000L * (1 + (((u * 7) + (j * 13)) % 5 * (long)Math.Pow(8, j % 6)));
                if (j % 5 == 4)
                {
                    builder.Add($"u{u}", null, search, time);
                    continue;
                }

                builder.Add($"u{u}", $"i{((u * 5) + (j * 7)) % Items}", codes[(u + j) % codes.Length], time);
            }
        }

        return builder.Build();

        static byte Code(string name) => EventTypeRegistry.Default.TryGetCode(name, out var code) ? code : throw new InvalidOperationException(name);
    }

    // 24 histories with types and times: short and longer than MaxLength, searches, cold items, an unknown type code,
    // and one without types.
    private static List<UserHistory> RichHistories()
    {
        var random = new Random(17);
        var histories = new List<UserHistory>();
        for (var h = 0; h < 24; h++)
        {
            var length = 1 + (h * 7 % 20);
            var items = new int[length];
            var types = new byte[length];
            var times = new long[length];
            var time = 5_000_000L;
            for (var r = 0; r < length; r++)
            {
                items[r] = r > 0 && random.Next(6) == 0 ? -1 : random.Next(Items + Untrained);
                types[r] = (byte)(random.Next(8) == 0 ? 250 : random.Next(4));
                time += (long)Math.Pow(10, random.Next(1, 9));
                times[r] = time;
            }

            histories.Add(h == 5
                ? new UserHistory(-1, items, new float[length], times)
                : new UserHistory(-1, items, new float[length], times, types));
        }

        return histories;
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

using System.Numerics.Tensors;
using Ranking.Candidates;
using Ranking.Data;
using Ranking.Domain;
using Ranking.Sequential;

namespace Ranking.Tests.Sequential;

/// <summary>Surfaces, item text vectors, search-query tokens and scenario context tokens of the transformer.</summary>
public sealed class SequentialContextTests
{
    private static readonly SequentialOptions Small = new()
    {
        Width = 8, Heads = 2, Layers = 2, FeedForwardWidth = 12, MaxLength = 12, Dropout = 0f, Negatives = 6, Seed = 11, Shards = 3,
    };

    private static readonly SequentialOptions AllInputs = Small with
    {
        UseSurfaces = true, UseTextVectors = true, UseSearchQueries = true, UseContext = true, UseActionTypes = true, UseTimeGaps = true,
    };

    [Fact]
    public void LayOut_QueriesAndAnchors_BecomeTokensInOrderWithGapsToThePreviousEvent()
    {
        int[] items = [4, -1, 1, 2, 3, -1];
        long[] times = [0, 10_000, 20_000, 60_000, 70_000, 80_000];
        int[] queries = [-1, 0, -1, -1, -1, -1];
        int[] anchors = [-1, -1, -1, 5, -1, -1];
        byte[] surfaces = [1, 2, 2, 3, 1, 2];
        var tokens = new SequentialTokens(10);
        var source = new TokenSource
        {
            Items = items,
            Timestamps = times,
            QueryIds = queries,
            ContextItems = anchors,
            Surfaces = surfaces,
            QueryVector = key => key == 0,
            ItemCount = 8,
            Queries = true,
            Context = true,
        };

        source.LayOut(items.Length, 10, tokens);

        // The last event is a search without a vector for its query (-1): no token.
        Assert.Equal([4, SequentialTokens.NoItem, 1, 5, 2, 3], tokens.Ids.AsSpan(0, tokens.Count).ToArray());
        Assert.Equal([0, 0, 0, 1, 0, 0], tokens.Roles.AsSpan(0, tokens.Count).ToArray());
        Assert.Equal([1, 2, 2, 3, 3, 1], tokens.Surfaces.AsSpan(0, tokens.Count).ToArray());
        Assert.Equal(0, tokens.QueryKeys[1]);
        int[] gaps =
        [
            0, ParameterLayout.GapBucket(10_000), ParameterLayout.GapBucket(10_000), 0, ParameterLayout.GapBucket(40_000),
            ParameterLayout.GapBucket(10_000),
        ];
        Assert.Equal(gaps, tokens.Gaps.AsSpan(0, tokens.Count).ToArray());

        // Trimmed to three: the anchor of item 2 still fits; trimmed to two it does not.
        source.LayOut(items.Length, 3, tokens);
        Assert.Equal([5, 2, 3], tokens.Ids.AsSpan(0, tokens.Count).ToArray());
        source.LayOut(items.Length, 2, tokens);
        Assert.Equal([2, 3], tokens.Ids.AsSpan(0, tokens.Count).ToArray());
        Assert.Equal(ParameterLayout.GapBucket(40_000), tokens.Gaps[0]);

        // Without the query and context inputs only the item events remain.
        (source with { Queries = false, Context = false }).LayOut(items.Length, 10, tokens);
        Assert.Equal([4, 1, 2, 3], tokens.Ids.AsSpan(0, tokens.Count).ToArray());
        Assert.Equal(ParameterLayout.GapBucket(20_000), tokens.Gaps[1]);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Gradient_WithSurfacesTextQueriesAndContext_MatchesFiniteDifferences(bool fullSoftmax)
    {
        var log = BuildLog();
        var (model, trainer) = SequentialModel.CreateUntrained(log, AllInputs with { FullSoftmax = fullSoftmax, OrderHeadWeight = 0.5f }, TextOf(log));
        Assert.True(model.Layout.QueryProjection >= 0, "query projection");
        Assert.True(model.Layout.TextProjection >= 0, "text projection");
        Assert.True(model.Layout.RoleTable >= 0, "roles");
        Assert.True(model.Layout.SurfaceTable >= 0, "surfaces");
        var (_, analytic, Loss) = LayerGradientTests.WholeModelGradient(model, trainer);

        // The new tensors get gradient at all (the world has surfaces, queries, anchors and text).
        foreach (var (offset, length) in new[]
        {
            (model.Layout.SurfaceTable, SequentialOptions.SurfaceRows * 8), (model.Layout.RoleTable, SequentialOptions.RoleRows * 8),
            (model.Layout.TextProjection, model.Layout.TextDimension * 8), (model.Layout.QueryProjection, model.Layout.TextDimension * 8),
        })
        {
            Assert.True(TensorPrimitives.SumOfSquares(analytic.AsSpan(offset, length)) > 0, $"gradient at {offset}");
        }

        LayerGradientTests.AssertWholeModelGradient(model, analytic, Loss);
    }

    [Fact]
    public void NewInputs_Off_KeepTheVersion4LayoutAndWeights()
    {
        var log = BuildLog();
        var (plain, _) = SequentialModel.CreateUntrained(log, Small with { UseActionTypes = true });
        var (extended, _) = SequentialModel.CreateUntrained(log, Small with { UseActionTypes = true, UseSurfaces = true, UseContext = true });

        Assert.Equal(plain.ParameterCount + ((SequentialOptions.SurfaceRows + SequentialOptions.RoleRows) * Small.Width), extended.ParameterCount);
        Assert.Equal(plain.ParameterArray, extended.ParameterArray.AsSpan(0, plain.ParameterCount).ToArray());
    }

    [Fact]
    public void Context_AnchorDecidesTheNextItem_LearntAndUsedByTopK()
    {
        // Only the context can tell which partner a + 10 comes next (see World).
        var log = World(users: 300, seed: 3, queries: false);
        var options = new SequentialOptions { Width = 16, MaxLength = 12, Epochs = 25, Dropout = 0.1f, Negatives = 16, Seed = 5, LearningRate = 5e-3f, WarmupSteps = 10, UseContext = true, UseSurfaces = true };
        var model = SequentialModel.Train(log, options);
        var history = History(log, [Index(log, 1), Index(log, 2), Index(log, 3)]);
        var analogs = model.SurfaceCode("analogs");
        Assert.True(analogs > 0);

        var withContext = 0;
        var homeTops = new HashSet<int>();
        for (var a = 0; a < 10; a++)
        {
            var top = model.TopK(history, SequentialContext.Anchor(Index(log, a), analogs), 1);
            withContext += top[0].Item == Index(log, a + 10) ? 1 : 0;
            homeTops.Add(model.TopK(history, SequentialContext.Home, 1)[0].Item);
        }

        Assert.True(withContext >= 8, $"top-1 hits with the anchor: {withContext}/10");
        Assert.Single(homeTops);

        // Without UseContext the same request ignores the anchor.
        var plain = SequentialModel.Train(log, options with { UseContext = false });
        var first = plain.TopK(history, SequentialContext.Anchor(Index(log, 0), analogs), 3);
        var second = plain.TopK(history, SequentialContext.Anchor(Index(log, 7), analogs), 3);
        Assert.Equal(first.Select(s => s.Item), second.Select(s => s.Item));
    }

    [Fact]
    public void SearchQueries_AreTokens_TheLastQueryDecidesTheNextItem()
    {
        var log = World(users: 300, seed: 4, queries: true);
        var encoder = new WordHashEncoder(32);
        var options = new SequentialOptions { Width = 16, MaxLength = 12, Epochs = 25, Dropout = 0.1f, Negatives = 16, Seed = 5, LearningRate = 5e-3f, WarmupSteps = 10, UseSearchQueries = true };
        var model = SequentialModel.Train(log, options, text: new SequentialText(encoder.Dimension, null, encoder));

        var hits = 0;
        for (var k = 0; k < Queries.Length; k++)
        {
            // A query the model saw, typed by a user it never saw, after two home views.
            var history = new UserHistory(-1, new[] { Index(log, 0), Index(log, 1), -1 }, new float[3], new long[] { 0, 1_000, 2_000 })
            {
                QueryIds = new[] { -1, -1, 0 },
                QueryTexts = [Queries[k]],
            };
            hits += model.TopK(history, SequentialContext.Home, 1)[0].Item == Index(log, QueryTarget(k)) ? 1 : 0;
        }

        Assert.True(hits >= 4, $"top-1 hits after the query: {hits}/{Queries.Length}");

        // Search as the context instead of a history token: the same query moves the same item up.
        var plainHistory = History(log, [Index(log, 0), Index(log, 1)]);
        var contextHits = 0;
        for (var k = 0; k < Queries.Length; k++)
        {
            var scores = new float[model.ItemCount];
            Assert.True(model.Score(plainHistory, SequentialContext.Search(Queries[k]), scores));
            var baseline = new float[model.ItemCount];
            model.Score(plainHistory, SequentialContext.Home, baseline);
            contextHits += scores[Index(log, QueryTarget(k))] != baseline[Index(log, QueryTarget(k))] ? 1 : 0;
        }

        // Without UseContext the query context is not read: scores equal the home ones.
        Assert.Equal(0, contextHits);

        // Needs the encoder.
        Assert.Throws<ArgumentException>(() => SequentialModel.Train(log, options));
    }

    [Fact]
    public void TextVectors_ScoreItemsWithTextButNoEvent()
    {
        var log = BuildLog();
        var text = TextOf(log);
        var cold = Index(log, "cold");
        var model = SequentialModel.Train(log, Small with { Epochs = 3, UseTextVectors = true }, text: text);
        var scores = new float[model.ItemCount];

        Assert.True(model.Score(History(log, [Index(log, 1), Index(log, 2)]), scores));
        Assert.True(float.IsFinite(scores[cold]));

        var plain = SequentialModel.Train(log, Small with { Epochs = 3 });
        plain.Score(History(log, [Index(log, 1), Index(log, 2)]), scores);
        Assert.True(float.IsNegativeInfinity(scores[cold]));
        Assert.Throws<ArgumentException>(() => SequentialModel.Train(log, Small with { UseTextVectors = true }));
    }

    [Fact]
    public void SaveLoad_Version5_SameScoresInEveryContext_QueriesNeedTheEncoderAgain()
    {
        var log = BuildLog();
        var text = TextOf(log);
        var model = SequentialModel.Train(log, AllInputs with { Epochs = 3, OrderHeadWeight = 1f }, text: text);
        using var stream = new MemoryStream();
        model.Save(stream);
        stream.Position = 0;
        var loaded = SequentialModel.Load(stream);
        Assert.Equal(model.SurfaceNames, loaded.SurfaceNames);
        Assert.Null(loaded.QueryEncoder);

        var history = UserHistory.Of(log, 0);
        Assert.Contains(history.QueryIds.Span.ToArray(), q => q >= 0);
        var expected = new float[model.ItemCount];
        var actual = new float[model.ItemCount];
        model.Score(history, SequentialContext.Home, expected);
        loaded.Score(history, SequentialContext.Home, actual);
        Assert.NotEqual(expected, actual);

        loaded.AttachQueryEncoder(text.Encoder);
        foreach (var context in Contexts(log))
        {
            model.Score(history, context, expected);
            loaded.Score(history, context, actual);
            Assert.Equal(expected, actual);
        }

        Assert.Throws<ArgumentException>(() => loaded.AttachQueryEncoder(new WordHashEncoder(7)));
    }

    [Fact]
    public void Onnx_WithEveryInput_MatchesTheCSharpPassInEveryContext()
    {
        var log = BuildLog();
        var model = SequentialModel.Train(
            log, AllInputs with { Epochs = 3, OrderHeadWeight = 1f, FeedbackHeads = [new FeedbackHead(EventTypeRegistry.Cart, 0.5f)] }, text: TextOf(log));
        using var onnx = new OnnxSequentialScorer(model);
        Assert.Equal(["order", "cart"], model.FeedbackHeadTypes);
        var expected = new float[model.ItemCount];
        var actual = new float[model.ItemCount];
        var expectedState = new float[model.Width];
        var actualState = new float[model.Width];
        var histories = new List<UserHistory>();
        var contexts = new List<SequentialContext>();
        for (var u = 0; u < log.UserCount; u++)
        {
            foreach (var context in Contexts(log))
            {
                var history = UserHistory.Of(log, u);
                Assert.True(model.Score(history, context, expected));
                Assert.True(onnx.Score(history, context, actual));
                for (var i = 0; i < expected.Length; i++)
                {
                    Assert.Equal(expected[i], actual[i], 1e-4f);
                }

                // The feedback heads through the graph's third output, every item in one run.
                int[] items = [0, 3, 7, Index(log, "cold")];
                var probabilities = new float[items.Length];
                foreach (var head in model.FeedbackHeadTypes)
                {
                    Assert.True(onnx.PredictFeedback(history, context, head, items, probabilities));
                    for (var k = 0; k < items.Length; k++)
                    {
                        Assert.Equal(model.PredictFeedback(history, context, items[k], head), probabilities[k], 1e-5f);
                    }
                }

                histories.Add(history);
                contexts.Add(context);
            }
        }

        // Batched, each with its context.
        var states = new float[histories.Count * model.Width];
        var found = new bool[histories.Count];
        Assert.Equal(histories.Count, onnx.ComputeStates(histories, states, found, contexts));
        for (var h = 0; h < histories.Count; h++)
        {
            model.TryComputeStateOf(histories[h], contexts[h], expectedState);
            for (var c = 0; c < model.Width; c++)
            {
                Assert.Equal(expectedState[c], states[(h * model.Width) + c], 1e-4f);
            }
        }

        Assert.Equal(
            model.TopK(histories[1], contexts[1], 5).Select(s => s.Item),
            onnx.TopK(histories[1], contexts[1], 5).Select(s => s.Item));
        onnx.TryComputeStateOf(histories[0], contexts[0], actualState);
        Assert.True(actualState.All(float.IsFinite));
        Assert.Throws<InvalidOperationException>(() => onnx.PredictFeedback(histories[0], contexts[0], "share", [0], new float[1]));
    }

    private static readonly string[] Queries = ["red running shoes", "blue wool hat", "green garden hose", "black leather wallet", "white ceramic mug"];

    private static int QueryTarget(int k) => 10 + (2 * k);

    private static IEnumerable<SequentialContext> Contexts(InteractionLog log) =>
    [
        SequentialContext.Home,
        SequentialContext.Anchor(Index(log, 3), 1),
        SequentialContext.Search("red running shoes", 2),
        SequentialContext.Search("a query nobody typed", 0),
    ];

    private static SequentialText TextOf(InteractionLog log)
    {
        var encoder = new WordHashEncoder(16);
        return SequentialText.FromCatalogue(log, encoder, withQueries: true);
    }

    private static UserHistory History(InteractionLog log, int[] items) =>
        new(-1, items, new float[items.Length], Enumerable.Range(0, items.Length).Select(k => k * 60_000L).ToArray());

    private static int Index(InteractionLog log, int item) => Index(log, $"i{item}");

    private static int Index(InteractionLog log, string id) => log.TryGetItemIndex(id, out var index) ? index : throw new ArgumentException(id);

    // Twelve items with titles, a cold one, and five users whose events carry surfaces, searches with queries, views
    // under a query and views next to an anchor.
    private static InteractionLog BuildLog()
    {
        var builder = new InteractionLogBuilder(EventTypeRegistry.Default);
        string[] colours = ["red", "blue", "green", "black"];
        for (var i = 0; i < 12; i++)
        {
            builder.AddItem(new Item { Id = $"i{i}", Title = $"{colours[i % 4]} thing {i}", Category = $"c{i % 3}", Price = 1 + i });
        }

        builder.AddItem(new Item { Id = "cold", Title = "red thing never seen", Category = "c0", Price = 1 });
        var time = 1_000_000L;
        var no = 0;
        void Add(int user, int? item, string type, string surface, string? query = null, int? anchor = null)
        {
            time += 7_000 * (1 + (no % 5));
            builder.Add(new UserEvent
            {
                EventId = $"e{no++}", UserId = $"u{user}", ItemId = item is { } i ? $"i{i}" : null, Type = type,
                Timestamp = DateTimeOffset.FromUnixTimeMilliseconds(time), Surface = surface, Query = query,
                ContextItemId = anchor is { } a ? $"i{a}" : null,
            });
        }

        for (var u = 0; u < 5; u++)
        {
            Add(u, u, EventTypeRegistry.View, "home");
            Add(u, null, EventTypeRegistry.Search, "search", Queries[u % Queries.Length]);
            Add(u, (u + 3) % 12, EventTypeRegistry.View, "search", Queries[u % Queries.Length]);
            Add(u, (u + 3) % 12, EventTypeRegistry.Cart, "search");
            Add(u, (u + 5) % 12, EventTypeRegistry.View, "analogs", anchor: (u + 3) % 12);
            Add(u, (u + 7) % 12, EventTypeRegistry.View, "home");
            Add(u, (u + 7) % 12, EventTypeRegistry.Order, "home");
            Add(u, (u + 9) % 12, EventTypeRegistry.View, "complements", anchor: (u + 7) % 12);
        }

        return builder.Build();
    }

    // Users view two random items on the home feed, then either open the analogs of a random anchor a (not in their
    // history) and view a + 10 there, or search query k and view its target from the results; three such episodes each.
    private static InteractionLog World(int users, int seed, bool queries)
    {
        var random = new Random(seed);
        var builder = new InteractionLogBuilder(EventTypeRegistry.Default);
        for (var i = 0; i < 20; i++)
        {
            builder.AddItem(new Item { Id = $"i{i}", Title = $"Item {i}", Category = "c" });
        }

        var no = 0;
        for (var u = 0; u < users; u++)
        {
            var time = 1_000_000L;
            for (var episode = 0; episode < 3; episode++)
            {
                for (var j = 0; j < 2; j++)
                {
                    Event(builder, ref no, u, random.Next(10), "home", null, null, ref time);
                }

                if (queries)
                {
                    var k = random.Next(Queries.Length);
                    Event(builder, ref no, u, null, "search", Queries[k], null, ref time);
                    Event(builder, ref no, u, QueryTarget(k), "search", Queries[k], null, ref time);
                }
                else
                {
                    var anchor = random.Next(10);
                    Event(builder, ref no, u, anchor + 10, "analogs", null, anchor, ref time);
                }
            }
        }

        return builder.Build();
    }

    private static void Event(InteractionLogBuilder builder, ref int no, int user, int? item, string surface, string? query, int? anchor, ref long time)
    {
        time += 30_000;
        builder.Add(new UserEvent
        {
            EventId = $"e{no++}", UserId = $"u{user}", ItemId = item is { } i ? $"i{i}" : null,
            Type = item is null ? EventTypeRegistry.Search : EventTypeRegistry.View,
            Timestamp = DateTimeOffset.FromUnixTimeMilliseconds(time), Surface = surface, Query = query,
            ContextItemId = anchor is { } a ? $"i{a}" : null,
        });
    }
}

/// <summary>A bag-of-words encoder: each word adds 1 at a hashed position (FNV-1a), then the row is L2-normalised.</summary>
internal sealed class WordHashEncoder(int dimension) : ITextEncoder
{
    public int Dimension => dimension;

    public void Encode(IReadOnlyList<string> texts, Span<float> output, CancellationToken cancellationToken = default)
    {
        if (output.Length != texts.Count * dimension)
        {
            throw new ArgumentException("Output size.", nameof(output));
        }

        output.Clear();
        for (var k = 0; k < texts.Count; k++)
        {
            var row = output.Slice(k * dimension, dimension);
            foreach (var word in (texts[k] ?? string.Empty).Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                var hash = 2166136261u;
                foreach (var c in word.ToLowerInvariant())
                {
                    hash = (hash ^ c) * 16777619u;
                }

                row[(int)(hash % (uint)dimension)] += 1f;
            }

            var norm = MathF.Sqrt(TensorPrimitives.SumOfSquares(row));
            if (norm > 0)
            {
                TensorPrimitives.Divide(row, norm, row);
            }
            else
            {
                row[0] = 1f;
            }
        }
    }
}

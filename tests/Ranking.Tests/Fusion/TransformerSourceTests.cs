using Ranking.Candidates;
using Ranking.Data;
using Ranking.Demo;
using Ranking.Domain;
using Ranking.Fusion;
using Ranking.Sequential;

namespace Ranking.Tests.Fusion;

/// <summary>The transformer as one more candidate source of the serving pipeline.</summary>
public sealed class TransformerSourceTests
{
    [Fact]
    public async Task TrainedTransformer_ServesCandidates_AndSurvivesAnArtifactRoundTrip()
    {
        var demo = new DemoMarketplace(new DemoMarketplaceOptions { Scale = 0.1 });
        var log = await InteractionLog.BuildAsync(demo, EventTypeRegistry.Default);
        var options = ServingTrainingOptions.Quick with
        {
            Transformer = new SequentialOptions { Epochs = 2, Width = 16, MaxLength = 20, BatchSize = 64, Negatives = 32 },
        };
        var steps = new List<ServingTrainingStep>();
        using var models = ServingTrainer.TrainGenerators(log, options, null, steps, "", CancellationToken.None);
        var user = Enumerable.Range(0, log.UserCount).First(u => log.RowsOf(u).GetOffsetAndLength(log.Count).Length > 20);
        var history = UserHistory.Of(log, user);
        var request = new RecommendationRequest { Count = 10, NowMs = models.Catalog.TrainedUntilMs };

        var result = new Recommender(models, new RecommenderOptions { ParallelSources = false }).Home(history, request);
        var files = new Dictionary<string, MemoryStream>();
        models.Save(name => files[name] = new MemoryStream());
        using var loaded = ServingModels.Load(name => files.TryGetValue(name, out var s) ? new MemoryStream(s.ToArray()) : null);
        var again = new Recommender(loaded, new RecommenderOptions { ParallelSources = false }).Home(history, request);

        Assert.Contains(steps, s => s.Name == "transformer");
        Assert.Contains(CandidateSource.Transformer, result.Sources);
        Assert.DoesNotContain(result.Degraded, d => d.StartsWith("transformer", StringComparison.Ordinal));
        Assert.Contains(ServingModels.Files.Transformer, files.Keys);
        Assert.Equal(result.Items.Select(i => i.Item), again.Items.Select(i => i.Item));
        Assert.Equal("rrf", result.Scorer);
    }

    [Fact]
    public async Task TransformerWithContext_AnswersAnalogsComplementsAndSearchInTheirScenario()
    {
        var demo = new DemoMarketplace(new DemoMarketplaceOptions { Scale = 0.1 });
        var log = await InteractionLog.BuildAsync(demo, EventTypeRegistry.Default);
        var transformer = new SequentialOptions
        {
            Epochs = 2, Width = 16, MaxLength = 20, BatchSize = 64, Negatives = 32, UseContext = true, UseSurfaces = true, UseSearchQueries = true,
        };
        var options = ServingTrainingOptions.Quick with { Transformer = transformer };
        var steps = new List<ServingTrainingStep>();
        using var models = ServingTrainer.TrainGenerators(log, options, null, steps, "", CancellationToken.None, new Sequential.WordHashEncoder(24));
        Assert.True(models.Transformer!.Options.UseSearchQueries);
        Assert.NotNull(models.Transformer.QueryEncoder);
        var recommender = new Recommender(models, new RecommenderOptions { ParallelSources = false });
        var user = Enumerable.Range(0, log.UserCount).First(u => log.RowsOf(u).GetOffsetAndLength(log.Count).Length > 20);
        var history = UserHistory.Of(log, user);
        var request = new RecommendationRequest { Count = 10, NowMs = models.Catalog.TrainedUntilMs };
        var anchor = history.Items.ToArray().First(i => i >= 0);

        var analogs = recommender.Analogs(anchor, history, request);
        var complements = recommender.Complements(anchor, history, request);
        var anonymous = recommender.Analogs(anchor, UserHistory.Unknown, request);
        var search = recommender.Rerank(history, [.. Enumerable.Range(0, 30).Select(i => new ScoredItem(i, 30 - i))], "warm jacket", request);

        Assert.Contains(CandidateSource.Transformer, analogs.Sources);
        Assert.Contains(CandidateSource.Transformer, complements.Sources);
        Assert.Contains(CandidateSource.Transformer, anonymous.Sources); // the anchor's token alone gives a state
        Assert.Contains(CandidateSource.Transformer, search.Sources);
        Assert.DoesNotContain(analogs.Items, i => i.Item == anchor);
        Assert.Contains(analogs.Items, i => i.Explanation.Kind == "sequence" || i.Sources.Contains(CandidateSource.Transformer));

        // The same pipeline with ONNX Runtime computing the states answers the same.
        using var onnx = new OnnxSequentialScorer(models.Transformer);
        var onOnnx = new Recommender(models, new RecommenderOptions { ParallelSources = false }, transformerOnnx: onnx);
        Assert.Equal("onnx-cpu", onOnnx.TransformerStates!.Engine);
        Assert.Equal("csharp", recommender.TransformerStates!.Engine);
        Assert.Equal(analogs.Items.Select(i => i.Item), onOnnx.Analogs(anchor, history, request).Items.Select(i => i.Item));
        Assert.Equal(anonymous.Items.Select(i => i.Item), onOnnx.Analogs(anchor, UserHistory.Unknown, request).Items.Select(i => i.Item));
        Assert.Equal(recommender.Home(history, request).Items.Select(i => i.Item), onOnnx.Home(history, request).Items.Select(i => i.Item));
        var expected = recommender.TransformerStates.TopK(history, SequentialContext.Search("warm jacket", 1), 20);
        var actual = onOnnx.TransformerStates.TopK(history, SequentialContext.Search("warm jacket", 1), 20);
        Assert.Equal(expected.Select(s => s.Item), actual.Select(s => s.Item));

        // Without an encoder the text inputs are switched off, and the step says so.
        var plainSteps = new List<ServingTrainingStep>();
        using var plain = ServingTrainer.TrainGenerators(log, options, null, plainSteps, "", CancellationToken.None);
        Assert.False(plain.Transformer!.Options.UseSearchQueries);
        Assert.Contains(plainSteps, s => s.Name == "transformer text inputs");
    }

    [Fact]
    public async Task ServingHistory_CarriesSurfacesQueriesAndAnchors()
    {
        var demo = new DemoMarketplace(new DemoMarketplaceOptions { Scale = 0.1 });
        var log = await InteractionLog.BuildAsync(demo, EventTypeRegistry.Default);
        var catalog = ServingCatalog.FromLog(log);
        var item = log.ItemIds[5];
        var anchor = log.ItemIds[7];
        var at = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000);
        UserEvent[] events =
        [
            new() { EventId = "b", UserId = "x", ItemId = item, Type = EventTypeRegistry.View, Timestamp = at.AddMinutes(2), Surface = "analogs", ContextItemId = anchor },
            new() { EventId = "a", UserId = "x", Type = EventTypeRegistry.Search, Timestamp = at, Surface = "search", Query = "  red hat " },
            new() { EventId = "c", UserId = "x", ItemId = item, Type = EventTypeRegistry.View, Timestamp = at.AddMinutes(3), Surface = "nowhere-known" },
        ];

        var history = catalog.HistoryOf("x", events);

        Assert.Equal(log.Surfaces, catalog.Surfaces);
        Assert.Equal([catalog.SurfaceCode("search"), catalog.SurfaceCode("analogs"), (byte)0], history.Surfaces.ToArray());
        Assert.True(catalog.SurfaceCode("search") > 0);
        Assert.Equal([0, -1, -1], history.QueryIds.ToArray());
        Assert.Equal(["red hat"], history.QueryTexts!);
        Assert.Equal([-1, 7, -1], history.ContextItems.ToArray());

        // The catalog artifact keeps the surfaces.
        using var stream = new MemoryStream();
        catalog.Save(stream);
        stream.Position = 0;
        Assert.Equal(catalog.Surfaces, ServingCatalog.Load(stream).Surfaces);
    }

    [Fact]
    public async Task CachedStates_GiveTheModelsScores_AndRefreshWhenAnEventArrives()
    {
        var demo = new DemoMarketplace(new DemoMarketplaceOptions { Scale = 0.1 });
        var log = await InteractionLog.BuildAsync(demo, EventTypeRegistry.Default);
        var model = SequentialModel.Train(log, new SequentialOptions { Epochs = 2, Width = 16, MaxLength = 20, BatchSize = 64, Negatives = 32 });
        var cached = new CachedSequentialScorer(model, capacity: 50);
        var users = Enumerable.Range(0, log.UserCount).Where(u => log.RowsOf(u).GetOffsetAndLength(log.Count).Length > 5).Take(60).ToList();
        var expected = new float[model.ItemCount];
        var actual = new float[model.ItemCount];

        var warmed = cached.Warm(users.Take(10).Select(u => UserHistory.Of(log, u)));
        foreach (var u in users)
        {
            var history = UserHistory.Of(log, u);
            Assert.True(model.Score(history, expected));
            Assert.True(cached.Score(history, actual));
            Assert.Equal(expected, actual);
        }

        var loopHits = cached.Hits;
        var first = UserHistory.Of(log, users[0]);
        cached.Score(first, actual);
        var hitsBefore = cached.Hits;
        var missesBefore = cached.Misses;
        // A new event: the same user with one more view of another item, later.
        var items = first.Items.ToArray().Append((first.Items.Span[0] + 1) % model.ItemCount).ToArray();
        var times = first.TimestampsMs.ToArray().Append(first.TimestampsMs.Span[^1] + 60_000).ToArray();
        var weights = first.Weights.ToArray().Append(1f).ToArray();
        var types = first.Types.ToArray().Append((byte)0).ToArray();
        var longer = new UserHistory(first.User, items, weights, times, types);
        Assert.True(cached.Score(longer, actual));
        Assert.True(model.Score(longer, expected));

        Assert.Equal(10, warmed);
        Assert.Equal(10, loopHits); // exactly the warmed users were answered from the cache
        Assert.Equal(missesBefore + 1, cached.Misses);
        Assert.Equal(hitsBefore, cached.Hits);
        Assert.Equal(expected, actual);
        Assert.True(cached.Count <= 50);
    }
}

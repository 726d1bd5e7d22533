using Microsoft.ML;
using Ranking.Candidates;
using Ranking.Crm;
using Ranking.Data;
using Ranking.Demo;
using Ranking.Domain;
using Ranking.Fusion;
using Ranking.Serving;

namespace Ranking.Tests.Fusion;

/// <summary>The fusion model, the serving catalog, the trainer and the pipeline on a small demo marketplace.</summary>
public sealed class FusionPipelineTests
{
    private static readonly Lazy<(InteractionLog Log, ServingTrainingResult Result)> Trained = new(() =>
    {
        var demo = new DemoMarketplace(new DemoMarketplaceOptions { Scale = 0.2 });
        var log = InteractionLog.BuildAsync(demo, EventTypeRegistry.Default).GetAwaiter().GetResult();
        return (log, ServingTrainer.Train(log, ServingTrainingOptions.Quick));
    });

    private static InteractionLog Log => Trained.Value.Log;

    private static ServingModels Models => Trained.Value.Result.Models;

    [Fact]
    public void FusionModel_FlatTrees_MatchMlNetPredictions()
    {
        var rng = new Random(3);
        var rows = new List<float[]>();
        var labels = new List<float>();
        for (var i = 0; i < 2000; i++)
        {
            var row = new float[] { (float)rng.NextDouble(), (float)rng.NextDouble(), (float)(rng.NextDouble() * 10) };
            rows.Add(row);
            labels.Add(rng.NextDouble() < 1 / (1 + Math.Exp(-((4 * row[0]) - (3 * row[1]) + (0.3 * row[2]) - 1.5))) ? 1 : 0);
        }

        var names = new[] { "a", "b", "c" };
        var matrix = FeatureMatrix.FromRows(names, rows);
        var options = new BoostedTreeOptions { NumberOfIterations = 30, NumberOfLeaves = 8, MinimumExampleCountPerLeaf = 10 };
        var model = FusionModel.Train(matrix, [.. labels], options);

        // The reference: ML.NET's own scoring of the same fitted trainer settings.
        var ml = new MLContext(options.Seed);
        var data = new FeatureMatrixDataView(matrix, [.. labels], booleanLabel: true);
        var fitted = ml.BinaryClassification.Trainers.LightGbm(BoostedTrees.BinaryTrainerOptions(options)).Fit(data);
        var reference = new double[rows.Count];
        BoostedTrees.ReadColumn(fitted.Transform(new FeatureMatrixDataView(matrix)), "Probability", reference);

        Assert.Equal(30, model.TreeCount);
        for (var i = 0; i < rows.Count; i++)
        {
            Assert.True(Math.Abs(reference[i] - model.Probability(rows[i])) < 1e-6, $"row {i}: {reference[i]} vs {model.Probability(rows[i])}");
        }
    }

    [Fact]
    public void FusionModel_SaveLoad_SameProbabilities_TruncatedThrows()
    {
        var fusion = Models.Fusion!;
        using var stream = new MemoryStream();
        fusion.Save(stream);
        stream.Position = 0;
        var loaded = FusionModel.Load(stream);
        var row = new float[FusionFeatures.Count];
        var rng = new Random(5);
        for (var t = 0; t < 50; t++)
        {
            for (var c = 0; c < row.Length; c++)
            {
                row[c] = (float)rng.NextDouble();
            }

            Assert.Equal(fusion.Probability(row), loaded.Probability(row));
        }

        var bytes = stream.ToArray();
        Assert.Throws<InvalidDataException>(() => FusionModel.Load(new MemoryStream(bytes[..(bytes.Length / 2)])));
    }

    [Fact]
    public void FusionModel_OneClassOnly_IsTheBaseRate()
    {
        var matrix = FeatureMatrix.FromRows(["x"], [[1f], [2f], [3f]]);

        var model = FusionModel.Train(matrix, [0, 0, 0]);

        Assert.Equal(0, model.Probability([5f]));
    }

    [Fact]
    public void Trainer_FusionBeatsEverySingleSourceOnTheSlice_AndRanksOrdersAboveChance()
    {
        var evaluation = Trained.Value.Result.Evaluation!;
        var fused = evaluation.Rankers.Single(r => r.Ranker == "fused");
        var best = evaluation.Rankers.Where(r => Enum.GetNames<CandidateSource>().Any(n => n.Equals(r.Ranker, StringComparison.OrdinalIgnoreCase))).Max(r => r.Ndcg10);

        Assert.True(evaluation.Auc > 0.7, $"AUC {evaluation.Auc}");
        Assert.True(evaluation.Users > 10, $"{evaluation.Users} held-out users");
        var popularity = evaluation.Rankers.Single(r => r.Ranker == "popularity");
        // A small world (80 users): fusion is noisy here; the benchmark on the full demo compares it properly.
        Assert.True(fused.Ndcg10 >= best * 0.8, $"fused {fused.Ndcg10} vs best single source {best}\n{evaluation.ToMarkdown()}");
        Assert.True(fused.Ndcg10 > popularity.Ndcg10, $"fused {fused.Ndcg10} vs popularity {popularity.Ndcg10}");
        Assert.Contains("fusion.auc", Trained.Value.Result.Metrics.Keys);
    }

    [Fact]
    public void ServingCatalog_SaveLoad_RoundTripsAttributesAndHistories()
    {
        var catalog = Models.Catalog;
        using var stream = new MemoryStream();
        catalog.Save(stream);
        stream.Position = 0;
        var loaded = ServingCatalog.Load(stream);

        Assert.Equal(catalog.ItemCount, loaded.ItemCount);
        Assert.Equal(catalog.Items.Categories, loaded.Items.Categories);
        Assert.Equal(catalog.Items.Brands, loaded.Items.Brands);
        for (var i = 0; i < catalog.ItemCount; i += 7)
        {
            Assert.Equal(catalog.ItemId(i), loaded.ItemId(i));
            Assert.Equal(catalog.Items.Price[i], loaded.Items.Price[i]);
            Assert.Equal(catalog.MarginOf(i), loaded.MarginOf(i));
            Assert.Equal(catalog.IsRepeatable(i), loaded.IsRepeatable(i));
            Assert.Equal(catalog.Items.InStock[i], loaded.Items.InStock[i]);
        }

        Assert.Equal(catalog.EventTypes.Names, loaded.EventTypes.Names);
    }

    [Fact]
    public void ServingCatalog_HistoryOf_SortsByTime_DropsUnknownItemsAndTypes()
    {
        var catalog = Models.Catalog;
        var known = catalog.ItemId(3);
        var t0 = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000);
        var events = new[]
        {
            new UserEvent { EventId = "a", UserId = "u", ItemId = known, Type = "order", Timestamp = t0.AddHours(2) },
            new UserEvent { EventId = "b", UserId = "u", ItemId = "no-such-item", Type = "view", Timestamp = t0 },
            new UserEvent { EventId = "c", UserId = "u", ItemId = known, Type = "teleport", Timestamp = t0 },
            new UserEvent { EventId = "d", UserId = "u", ItemId = catalog.ItemId(5), Type = "view", Timestamp = t0.AddHours(1) },
        };

        var history = catalog.HistoryOf("u", events);

        Assert.Equal(-1, history.User);
        Assert.Equal([5, 3], history.Items.ToArray());
        Assert.Equal([EventTypeRegistry.Default.WeightOf("view"), EventTypeRegistry.Default.WeightOf("order")], history.Weights.ToArray());
        Assert.Equal(catalog.OrderCode, history.Types.Span[1]);
    }

    [Fact]
    public void Home_RespectsFiltersCapsAndDiscoverySlots()
    {
        var recommender = new Recommender(Models, new RecommenderOptions { MaxPerCategory = 2, MaxPerBrand = 2 });
        var now = Models.Catalog.TrainedUntilMs;
        var table = Models.Catalog.Items;
        var user = RichUser();
        var history = UserHistory.Of(Log, user);
        var profile = new UserProfile(Models.Catalog, history, now);
        var excluded = recommender.Home(history, new RecommendationRequest { Count = 5, NowMs = now }).Items.Take(2).Select(i => i.Item).ToHashSet();

        var result = recommender.Home(history, new RecommendationRequest { Count = 20, NowMs = now, Exclude = excluded, DiscoveryShare = 0.2 });

        Assert.Equal("fusion", result.Scorer);
        Assert.Equal(20, result.Items.Count);
        Assert.Equal(20, result.Items.Select(i => i.Item).Distinct().Count());
        Assert.DoesNotContain(result.Items, i => excluded.Contains(i.Item));
        Assert.All(result.Items, i => Assert.True(table.InStock[i.Item]));
        Assert.DoesNotContain(result.Items, i => profile.HasOrdered(i.Item) && !Models.Catalog.IsRepeatable(i.Item));
        Assert.All(result.Items.GroupBy(i => table.CategoryIndex[i.Item]), g => Assert.True(g.Count() <= 2, $"{g.Count()} items of one category"));
        // Every 5th slot (share 0.2) is a discovery candidate, when there are enough of them.
        var discovery = result.Items.Select((i, p) => (i, p)).Where(x => x.i.Sources.Contains(CandidateSource.Discovery)).Select(x => x.p).ToList();
        Assert.Contains(4, discovery);
        Assert.Contains(9, discovery);
        Assert.All(result.Items, i => Assert.False(string.IsNullOrWhiteSpace(i.Explanation.Text)));
    }

    [Fact]
    public void Home_Objective_IsProbabilityTimesValue_AndMarginWeightMovesMargin()
    {
        var recommender = new Recommender(Models, new RecommenderOptions { DiscoveryShare = 0 });
        var now = Models.Catalog.TrainedUntilMs;
        var history = UserHistory.Of(Log, RichUser());

        var gmv = recommender.Home(history, new RecommendationRequest { Count = 10, NowMs = now, MarginWeight = 0 });
        var margin = recommender.Home(history, new RecommendationRequest { Count = 10, NowMs = now, MarginWeight = 1 });

        foreach (var item in gmv.Items)
        {
            Assert.Equal(item.OrderProbability * Models.Catalog.PriceOf(item.Item), item.Score, 6);
        }

        Assert.True(
            margin.Items.Sum(i => Models.Catalog.MarginOf(i.Item) * i.OrderProbability) >= gmv.Items.Sum(i => Models.Catalog.MarginOf(i.Item) * i.OrderProbability) - 1e-9,
            "ranking by margin earns at least the expected margin of ranking by GMV");
    }

    [Fact]
    public void InterestProfile_ReachesTheFusionFeatures_AndRaisesTheCategory()
    {
        var recommender = new Recommender(Models, new RecommenderOptions { DiscoveryShare = 0, ParallelSources = false });
        var now = Models.Catalog.TrainedUntilMs;
        var table = Models.Catalog.Items;
        var history = UserHistory.Of(Log, RichUser());
        var plain = recommender.Home(history, new RecommendationRequest { Count = 100, NowMs = now });
        // The category the user likes least among her candidates: a profile that says she loves it must lift it.
        var target = plain.Items.GroupBy(i => table.TopCategoryIndex[i.Item]).OrderBy(g => g.Max(i => i.OrderProbability)).First().Key;
        var profile = new Dictionary<string, float> { [table.Categories[target]] = 1f };

        var lifted = recommender.Home(history, new RecommendationRequest { Count = 100, NowMs = now, InterestProfile = profile });

        double Mean(RecommendationResult r) => r.Items.Where(i => table.TopCategoryIndex[i.Item] == target).Select(i => i.OrderProbability).DefaultIfEmpty(0).Average();
        Assert.True(Mean(lifted) > Mean(plain), $"mean P(order) in the profiled category: {Mean(lifted)} vs {Mean(plain)}");
        Assert.Contains("interest_strength", FusionFeatures.Names);
    }

    [Fact]
    public void Home_ColdUser_GetsPopularItemsOfTheContextCategory()
    {
        var recommender = new Recommender(Models);
        var table = Models.Catalog.Items;
        var top = table.TopCategoryIndex[0];

        var result = recommender.Home(UserHistory.Unknown, new RecommendationRequest { Count = 5, NowMs = Models.Catalog.TrainedUntilMs, Category = top });

        Assert.True(result.ColdStart);
        Assert.Equal(5, result.Items.Count);
        Assert.All(result.Items, i => Assert.Equal(top, table.TopCategoryIndex[i.Item]));
        Assert.All(result.Items, i => Assert.Equal("popular", i.Explanation.Kind));
    }

    [Fact]
    public void Artifacts_SaveAndLoadThroughTheRepository_GiveTheSameAnswers()
    {
        var root = Path.Combine(Path.GetTempPath(), "fusion-artifacts-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var repository = new ModelRepository(root);
            var manifest = ServingArtifacts.Save(repository, Trained.Value.Result, ServingArtifacts.Snapshot(Log, "demo"), new Dictionary<string, string> { ["profile"] = "quick" });
            Assert.True(repository.Validate(manifest.Version).IsValid);
            using var loaded = ServingArtifacts.Load(repository, manifest);
            var now = Models.Catalog.TrainedUntilMs;
            var history = UserHistory.Of(Log, RichUser());
            var request = new RecommendationRequest { Count = 10, NowMs = now };

            var before = new Recommender(Models, new RecommenderOptions { ParallelSources = false }).Home(history, request);
            var after = new Recommender(loaded, new RecommenderOptions { ParallelSources = false }).Home(history, request);

            Assert.Equal(before.Items.Select(i => i.Item), after.Items.Select(i => i.Item));
            Assert.Equal(before.Items.Select(i => i.Score), after.Items.Select(i => i.Score));
            Assert.Contains("fusion.auc", manifest.Metrics.Keys);
            Assert.Contains(manifest.Files, f => f.Name == ServingModels.Files.Fusion);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void Rerank_BlendsTheQueryOrderWithTheUsersProbability()
    {
        var user = Enumerable.Range(0, Log.UserCount).First(u => Log.RowsOf(u).GetOffsetAndLength(Log.Count).Length > 40);
        var history = UserHistory.Of(Log, user);
        var request = new RecommendationRequest { Count = 20, NowMs = Models.Catalog.TrainedUntilMs };
        var retrieved = Enumerable.Range(0, Models.Catalog.ItemCount).Where(i => Models.Catalog.Items.InStock[i]).Take(40)
            .Select((item, rank) => new ScoredItem(item, 40 - rank)).ToList();
        RecommenderOptions Options(double personal) => new() { ParallelSources = false, SearchPersonalWeight = personal, MaxPerCategory = 100, MaxPerBrand = 100 };

        var byQuery = new Recommender(Models, Options(0)).Rerank(history, retrieved, "anything", request);
        var byUser = new Recommender(Models, Options(1)).Rerank(history, retrieved, "anything", request);
        var blended = new Recommender(Models, Options(0.5)).Rerank(history, retrieved, "anything", request);

        // Weight 0: the query's order. Weight 1: the user's P(order), best first. In between: a different order again.
        Assert.Equal(retrieved.Take(20).Select(r => r.Item), byQuery.Items.Select(i => i.Item));
        Assert.Equal(byUser.Items.Select(i => i.OrderProbability).OrderDescending(), byUser.Items.Select(i => i.OrderProbability));
        Assert.NotEqual(byQuery.Items.Select(i => i.Item), byUser.Items.Select(i => i.Item));
        Assert.Equal("fusion", blended.Scorer);
        Assert.True(blended.Items.Zip(blended.Items.Skip(1)).All(p => p.First.Score >= p.Second.Score), "blended relevance not descending");
    }

    [Fact]
    public void Analogs_And_Complements_ExcludeTheAnchor_AndExplainWithIt()
    {
        var recommender = new Recommender(Models);
        var now = Models.Catalog.TrainedUntilMs;
        var anchor = Enumerable.Range(0, Models.Catalog.ItemCount).First(i => Models.Complements!.Similar(i, 5).Count >= 3);

        var analogs = recommender.Analogs(anchor, UserHistory.Unknown, new RecommendationRequest { Count = 10, NowMs = now });
        var complements = recommender.Complements(anchor, UserHistory.Unknown, new RecommendationRequest { Count = 10, NowMs = now });

        Assert.NotEmpty(analogs.Items);
        Assert.NotEmpty(complements.Items);
        Assert.DoesNotContain(analogs.Items, i => i.Item == anchor);
        Assert.DoesNotContain(complements.Items, i => i.Item == anchor);
        Assert.All(complements.Items, i => Assert.Equal(anchor, i.Explanation.AnchorItem));
        var direct = Models.Complements!.Similar(anchor, 50).Select(s => s.Item).ToHashSet();
        Assert.Contains(complements.Items, i => direct.Contains(i.Item) && i.Explanation.Kind == "complement");
    }

    private static int RichUser()
    {
        var best = 0;
        for (var u = 0; u < Log.UserCount; u++)
        {
            if (Log.RowsOf(u).GetOffsetAndLength(Log.Count).Length > Log.RowsOf(best).GetOffsetAndLength(Log.Count).Length)
            {
                best = u;
            }
        }

        return best;
    }
}

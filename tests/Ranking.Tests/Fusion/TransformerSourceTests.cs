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
}

using Ranking.Candidates;
using Ranking.Data;
using Ranking.Fusion;

namespace Ranking.Tests.Fusion;

/// <summary>The pipeline with models missing: it answers with what it has and says what it lacks.</summary>
public sealed class DegradationTests
{
    // The generators of the small demo, trained once for the class: no fusion model (TrainGenerators never fits one).
    private static readonly Lazy<ServingModels> Generators = new(() =>
        ServingTrainer.TrainGenerators(FusionDemo.Log, ServingTrainingOptions.Quick, null, [], "", CancellationToken.None));

    private static long Now => FusionDemo.Log.TimestampMs.Max() + 1;

    /// <summary>The user with the most events: every personal source has something to say about her.</summary>
    private static UserHistory RichUser()
    {
        var log = FusionDemo.Log;
        var best = 0;
        var most = -1;
        for (var u = 0; u < log.UserCount; u++)
        {
            var count = log.RowsOf(u).GetOffsetAndLength(log.Count).Length;
            if (count > most)
            {
                (best, most) = (u, count);
            }
        }

        return UserHistory.Of(log, best);
    }

    [Fact]
    public void Home_NoFusionModel_FusesByReciprocalRanksAndSaysSo()
    {
        var models = Generators.Value;
        var lines = new List<string>();
        var recommender = new Recommender(models, new RecommenderOptions { ParallelSources = false }, lines.Add);

        var result = recommender.Home(RichUser(), new RecommendationRequest { Count = 10, NowMs = Now });
        recommender.Home(RichUser(), new RecommendationRequest { Count = 10, NowMs = Now });

        Assert.Null(models.Fusion);
        Assert.Equal("rrf", result.Scorer);
        Assert.Contains(result.Degraded, d => d.StartsWith("fusion: not trained", StringComparison.Ordinal));
        Assert.Equal(10, result.Items.Count);
        Assert.All(result.Items, i => Assert.True(double.IsNaN(i.OrderProbability)));
        Assert.Single(lines, l => l.StartsWith("fusion: not trained", StringComparison.Ordinal));
    }

    [Fact]
    public void Home_NoAlsModel_NoAlsCandidatesAndSaysSo()
    {
        var full = Generators.Value;
        var withoutAls = new ServingModels
        {
            Catalog = full.Catalog,
            Popularity = full.Popularity,
            Analogs = full.Analogs,
            Complements = full.Complements,
            Als = null,
            Lifelong = full.Lifelong,
            Discovery = full.Discovery,
        };
        var request = new RecommendationRequest { Count = 20, NowMs = Now };

        var before = new Recommender(full).Home(RichUser(), request);
        var after = new Recommender(withoutAls).Home(RichUser(), request);

        Assert.Contains(CandidateSource.Als, before.Sources);
        Assert.DoesNotContain(CandidateSource.Als, after.Sources);
        Assert.All(after.Items, i => Assert.DoesNotContain(CandidateSource.Als, i.Sources));
        Assert.Contains("als: not trained", after.Degraded);
        Assert.DoesNotContain("als: not trained", before.Degraded);
        Assert.Equal(20, after.Items.Count);
        Assert.Equal(after.Items.Count, after.Items.Select(i => i.Item).Distinct().Count());
    }
}

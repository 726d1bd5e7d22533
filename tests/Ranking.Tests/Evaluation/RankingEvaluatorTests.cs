using Ranking.Candidates;
using Ranking.Evaluation;
using static Ranking.Tests.Evaluation.EvaluationTestLogs;

namespace Ranking.Tests.Evaluation;

public sealed class RankingEvaluatorTests
{
    [Fact]
    public void Popularity_under_leave_one_out_gives_the_hand_computed_metrics()
    {
        // Popularity without decay counts view weights: i0 has 3 views in training, i1 2, i2 1, i3 0 (only a target).
        // u1 trains on i0 and has target i1: i0 is removed as seen, so the list is i1, i2 -> hit at rank 1.
        // u2 trains on i0, i1 and has target i2: the list is i2 -> rank 1.
        // u3 trains on i0, i1 and has target i3, which no training event names -> miss.
        var log = Build(
            4,
            ("u1", "i0", "view", 1), ("u1", "i1", "view", 2),
            ("u2", "i0", "view", 1), ("u2", "i1", "view", 2), ("u2", "i2", "view", 3),
            ("u3", "i0", "view", 1), ("u3", "i1", "view", 2), ("u3", "i3", "view", 3),
            ("u4", "i2", "view", 1));
        var split = Splits.LeaveOneOut(log);
        var model = PopularityModel.Train(split.Train, new PopularityOptions { HalfLifeDays = 0 });

        var result = RankingEvaluator.Evaluate(model, split, new EvaluationOptions { Ks = [1, 10], BootstrapResamples = 200 });

        Assert.Equal(3, result.Users);
        Assert.Equal(2.0 / 3.0, result.Metrics["hr@10"].Mean, 12);
        Assert.Equal(2.0 / 3.0, result.Metrics["ndcg@10"].Mean, 12);
        Assert.Equal(2.0 / 3.0, result.Metrics["hr@1"].Mean, 12);
        Assert.Equal(2.0 / 3.0, result.Metrics["mrr@10"].Mean, 12);
        Assert.InRange(result.Metrics["hr@10"].Low, 0, 2.0 / 3.0);
        Assert.InRange(result.Metrics["hr@10"].High, 2.0 / 3.0, 1);

        // Top-10 lists: u1 {i1, i2}, u2 {i2}, u3 {i2}: items i1, i2 of 4 are covered.
        Assert.Equal(0.5, result.Coverage[10], 12);
        // Training users per item: i1 by 2 of 4 users (u2, u3), i2 by 1 (u4). Four listed items: i1 once, i2 three times.
        var expectedNovelty = (-Math.Log2(3.0 / 5.0) - (3 * Math.Log2(2.0 / 5.0))) / 4.0;
        Assert.Equal(expectedNovelty, result.Novelty[10], 12);
    }

    [Fact]
    public void A_model_without_an_answer_counts_as_a_miss()
    {
        var log = Build(3, ("u1", "i0", "view", 1), ("u1", "i1", "view", 2), ("u2", "i1", "view", 1), ("u2", "i2", "view", 2));
        var split = Splits.LeaveOneOut(log);
        var model = ItemKnnModel.Train(split.Train);

        var result = RankingEvaluator.Evaluate(model, split, new EvaluationOptions { BootstrapResamples = 0 });

        // u1 trained on i0 alone, which co-occurs with nothing in training; u2 on i1, which co-occurs with nothing either.
        Assert.Equal(2, result.UsersWithoutAnswer);
        Assert.Equal(0.0, result.Metrics["hr@10"].Mean);
        Assert.True(double.IsNaN(result.Metrics["hr@10"].Low));
    }

    [Fact]
    public void The_offline_run_writes_every_model_into_markdown_and_json()
    {
        var log = Build(
            4,
            ("u1", "i0", "view", 1), ("u1", "i1", "view", 2), ("u1", "i2", "view", 3),
            ("u2", "i0", "view", 1), ("u2", "i1", "view", 2), ("u2", "i3", "view", 3),
            ("u3", "i1", "view", 1), ("u3", "i2", "view", 2));

        var run = OfflineEvaluation.Run("tiny", log, ["popularity", "itemknn"], new OfflineRunOptions { Evaluation = new EvaluationOptions { BootstrapResamples = 50 } });

        Assert.Equal(["popularity", "itemknn"], run.Results.Select(r => r.Model));
        var markdown = OfflineEvaluation.ToMarkdown(run);
        Assert.Contains("| popularity |", markdown, StringComparison.Ordinal);
        Assert.Contains("| itemknn |", markdown, StringComparison.Ordinal);
        using var json = System.Text.Json.JsonDocument.Parse(OfflineEvaluation.ToJson(run));
        Assert.Equal(2, json.RootElement.GetProperty("results").GetArrayLength());
        Assert.Equal("loo-test", json.RootElement.GetProperty("split").GetString());
    }
}

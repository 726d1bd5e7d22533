using System.Numerics.Tensors;
using Ranking.Candidates;
using Ranking.Crm;
using Ranking.Data;
using Ranking.Domain;
using Xunit.Abstractions;

namespace Ranking.Tests.Crm;

public sealed class PropensityTests(ITestOutputHelper output)
{
    private static readonly DateTimeOffset Cut = new(2026, 6, 15, 0, 0, 0, TimeSpan.Zero);

    private static readonly string[] Names = [.. PropensityFeatures.ColumnNames];

    [Fact]
    public void Compute_TinyLog_MatchesHandComputedFeatures()
    {
        var log = TinyLog();
        var features = new PropensityFeatures(log, PropensityTarget.TopCategory("Sports"));
        log.TryGetUserIndex("u1", out var u1);
        var row = new float[Names.Length];

        features.Compute(u1, Cut, row);

        // u1 before the cut: order ski 2025-06-01 (day -379), view ski -100, order ski -40, view novel -10,
        // order novel -5, search -2. Weights: view 1, order 5, search 0.5.
        Assert.Equal(2f, F(row, "days_since_last_event"), 4);
        Assert.Equal(5f, F(row, "days_since_last_order"), 4);
        Assert.Equal(3f, F(row, "events_30d"));
        Assert.Equal(4f, F(row, "events_90d"));
        Assert.Equal(5f, F(row, "events_365d"));
        Assert.Equal(1f, F(row, "orders_30d"));
        Assert.Equal(2f, F(row, "orders_90d"));
        Assert.Equal(2f, F(row, "orders_365d"));
        Assert.Equal(120f, F(row, "order_value_365d"), 3);
        Assert.Equal(11f / 17.5f, F(row, "target_share"), 5);
        Assert.Equal(5f, F(row, "target_events_90d"));
        Assert.Equal(2f, F(row, "target_orders"));
        Assert.Equal(40f, F(row, "days_since_target_event"), 4);
        Assert.Equal(40f, F(row, "days_since_target_order"), 4);
        Assert.True(float.IsNaN(F(row, "als_target_affinity")));
        Assert.Equal(6f, F(row, "month"));
        Assert.Equal(1f, F(row, "target_orders_last_season"));
        Assert.Equal(5f, F(row, "target_events_last_season"));
        Assert.Equal(379f, F(row, "tenure_days"), 4);
    }

    [Fact]
    public void Build_TinyLog_LabelsOrdersInHorizonAndSkipsUsersWithoutHistory()
    {
        var log = TinyLog();
        var features = new PropensityFeatures(log, PropensityTarget.TopCategory("Sports"));

        var cut = features.Build(Cut, TimeSpan.FromDays(30));
        var shortCut = features.Build(Cut, TimeSpan.FromDays(2));

        log.TryGetUserIndex("u1", out var u1);
        Assert.Equal([u1], cut.Users);
        Assert.Equal([true], cut.Labels);
        Assert.Equal([false], shortCut.Labels);
    }

    [Fact]
    public void Compute_BrandAndLeafTargets_MatchOnlyTheirItems()
    {
        var log = TinyLog();
        log.TryGetUserIndex("u1", out var u1);
        var row = new float[Names.Length];

        new PropensityFeatures(log, PropensityTarget.Brand("pagewise")).Compute(u1, Cut, row);
        Assert.Equal(1f, F(row, "target_orders"));
        Assert.Equal(6f / 17.5f, F(row, "target_share"), 5);

        new PropensityFeatures(log, PropensityTarget.Category("Sports/Winter/Skis")).Compute(u1, Cut, row);
        Assert.Equal(2f, F(row, "target_orders"));

        new PropensityFeatures(log, PropensityTarget.Category("Garden")).Compute(u1, Cut, row);
        Assert.Equal(0f, F(row, "target_share"));
        Assert.True(float.IsNaN(F(row, "days_since_target_order")));
    }

    [Fact]
    public void Compute_WithAls_IsMeanAlsScoreOfTargetItems()
    {
        var log = TinyLog();
        var als = AlsModel.Train(log, new AlsOptions { Factors = 4, Iterations = 3, Seed = 3 });
        var features = new PropensityFeatures(log, PropensityTarget.TopCategory("Sports"), als);
        log.TryGetUserIndex("u1", out var u1);
        log.TryGetItemIndex("ski", out var ski);
        var row = new float[Names.Length];

        features.Compute(u1, Cut, row);

        // Only one Sports item: the mean of its scores is its score.
        Assert.Equal(TensorPrimitives.Dot(als.UserVector(u1), als.ItemVector(ski)), F(row, "als_target_affinity"), 5);
    }

    [Fact]
    public void TrainPredict_PlantedCategoryBuyers_RanksThemFirstOnALaterCut()
    {
        var (log, fans) = PlantedLog(users: 1200, seed: 5);
        var start = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var features = new PropensityFeatures(log, PropensityTarget.TopCategory("Garden"));
        var options = new PropensityOptions
        {
            Trees = new BoostedTreeOptions { NumberOfIterations = 60, NumberOfLeaves = 8, LearningRate = 0.1, MinimumExampleCountPerLeaf = 20 },
        };

        // Train on day 120 (labels days 120-150), test on day 160: the test window starts after the training one ends.
        var model = PropensityModel.Train(features, [start.AddDays(120)], options);
        var test = features.Build(start.AddDays(160), options.Horizon);
        var p = model.Predict(test.Features);
        var auc = PropensityMetrics.Auc(p, test.Labels);
        var ap = PropensityMetrics.AveragePrecision(p, test.Labels);

        var (fanRate, otherRate) = Rates(log, test, fans);
        output.WriteLine($"test rows {test.Labels.Length}, base rate {test.BaseRate:F3}, fan+active rate {fanRate:F3}, others {otherRate:F3}, AUC {auc:F3}, AP {ap:F3}");
        Assert.True(fanRate > 3 * otherRate, $"planted: {fanRate:F3} vs {otherRate:F3}");
        Assert.True(auc > 0.7, $"AUC {auc:F3}");
        Assert.True(ap > test.BaseRate, $"AP {ap:F3} vs base rate {test.BaseRate:F3}");
    }

    [Fact]
    public void SaveLoad_RoundTrip_GivesTheSamePredictions()
    {
        var (log, _) = PlantedLog(users: 300, seed: 9);
        var start = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var features = new PropensityFeatures(log, PropensityTarget.TopCategory("Garden"));
        var options = new PropensityOptions
        {
            Trees = new BoostedTreeOptions { NumberOfIterations = 20, NumberOfLeaves = 4, MinimumExampleCountPerLeaf = 10 },
            Calibration = PropensityCalibration.Platt,
        };
        var model = PropensityModel.Train(features, [start.AddDays(100), start.AddDays(130)], options);
        var test = features.Build(start.AddDays(160), options.Horizon);

        using var stream = new MemoryStream();
        model.Save(stream);
        stream.Position = 0;
        var loaded = PropensityModel.Load(stream);

        Assert.Equal(model.Predict(test.Features), loaded.Predict(test.Features));
        Assert.Equal(model.Target, loaded.Target);
        Assert.Equal(model.Platt, loaded.Platt);
        Assert.Equal(model.Predict(features, test.Users[0], test.Cut), loaded.Predict(features, test.Users[0], test.Cut), 12);
        var cold = loaded.Predict(features, "nobody", test.Cut);
        Assert.InRange(cold, 0, 1);
    }

    [Fact]
    public void Train_OneClassOnly_GivesAConstantModel()
    {
        var log = TinyLog();
        var features = new PropensityFeatures(log, PropensityTarget.TopCategory("Garden"));

        var model = PropensityModel.Train(features, [Cut]);

        Assert.True(model.IsConstant);
        log.TryGetUserIndex("u1", out var u1);
        Assert.Equal(0, model.Predict(features, u1, Cut));
    }

    [Fact]
    public void Auc_HandExample_IsThreeQuarters()
    {
        double[] scores = [0.1, 0.4, 0.35, 0.8];
        bool[] labels = [false, false, true, true];

        Assert.Equal(0.75, PropensityMetrics.Auc(scores, labels), 12);
        Assert.Equal(0.5, PropensityMetrics.Auc([0.5, 0.5], [true, false]), 12);
        Assert.True(double.IsNaN(PropensityMetrics.Auc([0.2, 0.3], [true, true])));
    }

    [Fact]
    public void AveragePrecision_HandExample_MatchesDefinition()
    {
        double[] scores = [0.1, 0.4, 0.35, 0.8];
        bool[] labels = [false, false, true, true];

        // Ranked: 0.8 (hit, P = 1), 0.4 (miss), 0.35 (hit, P = 2/3), 0.1: AP = (1 + 2/3) / 2.
        Assert.Equal((1 + (2.0 / 3)) / 2, PropensityMetrics.AveragePrecision(scores, labels), 12);
        Assert.True(double.IsNaN(PropensityMetrics.AveragePrecision(scores, [false, false, false, false])));
    }

    [Fact]
    public void Calibration_HandExample_GivesBinsAndEce()
    {
        double[] p = [0.05, 0.05, 0.95, 0.95, 0.55];
        bool[] labels = [false, true, true, true, false];

        var report = PropensityMetrics.Calibration(p, labels, bins: 10);

        Assert.Equal(2, report.Bins[0].Count);
        Assert.Equal(0.5, report.Bins[0].ObservedRate, 12);
        Assert.Equal(2, report.Bins[9].Count);
        // ECE = 2/5 |0.05 - 0.5| + 1/5 |0.55 - 0| + 2/5 |0.95 - 1|.
        Assert.Equal((0.4 * 0.45) + (0.2 * 0.55) + (0.4 * 0.05), report.ExpectedCalibrationError, 12);
        Assert.Equal(0.6, report.ObservedRate, 12);
    }

    private static float F(float[] row, string name) => row[Array.IndexOf(Names, name)];

    // Two catalog items (a Sports ski of brand Glacierforge, a Books novel of brand Pagewise) and two users: u1 with the
    // history of the feature test, u2 with events only after the cut.
    private static InteractionLog TinyLog()
    {
        var builder = new InteractionLogBuilder(EventTypeRegistry.Default);
        builder.AddItem(new Item { Id = "ski", Title = "Ski", Category = "Sports/Winter/Skis", Brand = "Glacierforge", Price = 100 });
        builder.AddItem(new Item { Id = "novel", Title = "Novel", Category = "Books/Fiction/Novels", Brand = "Pagewise", Price = 20 });
        Add(builder, "u1", "ski", EventTypeRegistry.Order, new DateTimeOffset(2025, 6, 1, 0, 0, 0, TimeSpan.Zero));
        Add(builder, "u1", "ski", EventTypeRegistry.View, Cut.AddDays(-100));
        Add(builder, "u1", "ski", EventTypeRegistry.Order, Cut.AddDays(-40));
        Add(builder, "u1", "novel", EventTypeRegistry.View, Cut.AddDays(-10));
        Add(builder, "u1", "novel", EventTypeRegistry.Order, Cut.AddDays(-5));
        Add(builder, "u1", null, EventTypeRegistry.Search, Cut.AddDays(-2));
        Add(builder, "u1", "ski", EventTypeRegistry.Order, Cut.AddDays(3));
        Add(builder, "u2", "ski", EventTypeRegistry.Order, Cut.AddDays(1));
        return builder.Build();
    }

    private static void Add(InteractionLogBuilder builder, string user, string? item, string type, DateTimeOffset at)
    {
        EventTypeRegistry.Default.TryGetCode(type, out var code);
        builder.Add(user, item, code, at.ToUnixTimeMilliseconds());
    }

    // 200 days from 2026-01-01. A user is a Garden fan (35 %) or not, and active (0.2 events a day, 60 %) or
    // nearly idle (0.01). A fan's events are on Garden items 60 % of the time (others' 8 %); 15 % of events are orders.
    private static (InteractionLog Log, HashSet<string> FanAndActive) PlantedLog(int users, int seed)
    {
        var random = new Random(seed);
        var builder = new InteractionLogBuilder(EventTypeRegistry.Default);
        for (var i = 0; i < 20; i++)
        {
            builder.AddItem(new Item { Id = $"g{i}", Title = "Spade", Category = "Garden/Tools/Spades", Price = 20 + i });
            builder.AddItem(new Item { Id = $"b{i}", Title = "Book", Category = "Books/Fiction/Novels", Price = 10 + i });
        }

        var start = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var fans = new HashSet<string>(StringComparer.Ordinal);
        for (var u = 0; u < users; u++)
        {
            var id = $"user{u}";
            var fan = random.NextDouble() < 0.35;
            var active = random.NextDouble() < 0.6;
            if (fan && active)
            {
                fans.Add(id);
            }

            var perDay = active ? 0.2 : 0.01;
            Add(builder, id, "b0", EventTypeRegistry.View, start.AddHours(random.Next(24)));
            for (var day = 0; day < 200; day++)
            {
                if (random.NextDouble() >= perDay)
                {
                    continue;
                }

                var garden = random.NextDouble() < (fan ? 0.6 : 0.08);
                var item = $"{(garden ? 'g' : 'b')}{random.Next(20)}";
                var type = random.NextDouble() < 0.15 ? EventTypeRegistry.Order : EventTypeRegistry.View;
                Add(builder, id, item, type, start.AddDays(day).AddMinutes(random.Next(1440)));
            }
        }

        return (builder.Build(), fans);
    }

    private static (double Fan, double Other) Rates(InteractionLog log, PropensityCut cut, HashSet<string> fans)
    {
        int fanRows = 0, fanHits = 0, otherRows = 0, otherHits = 0;
        for (var i = 0; i < cut.Users.Length; i++)
        {
            var isFan = fans.Contains(log.UserIds[cut.Users[i]]);
            if (isFan)
            {
                fanRows++;
                fanHits += cut.Labels[i] ? 1 : 0;
            }
            else
            {
                otherRows++;
                otherHits += cut.Labels[i] ? 1 : 0;
            }
        }

        return ((double)fanHits / fanRows, (double)otherHits / otherRows);
    }
}

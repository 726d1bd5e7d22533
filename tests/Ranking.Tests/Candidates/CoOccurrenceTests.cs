using Ranking.Candidates;
using Ranking.Data;
using Ranking.Demo;
using Ranking.Domain;

namespace Ranking.Tests.Candidates;

/// <summary>A small demo marketplace (about 46,000 events) as a log, built once for the tests that need one.</summary>
public sealed class SmallDemoLogFixture
{
    public SmallDemoLogFixture()
    {
        Demo = new DemoMarketplace(new DemoMarketplaceOptions { Scale = 0.15 });
        Log = InteractionLog.BuildAsync(Demo, EventTypeRegistry.Default).GetAwaiter().GetResult();
    }

    public DemoMarketplace Demo { get; }

    public InteractionLog Log { get; }
}

public sealed class CoOccurrenceTests(SmallDemoLogFixture demo) : IClassFixture<SmallDemoLogFixture>
{
    private const long Minute = 60_000;
    private const long Day = 86_400_000;
    private const long T0 = 1_700_000_000_000;

    private static readonly EventTypeRegistry Types = EventTypeRegistry.Default;

    // The five-user example of the hand computations below: one session each, all views a minute apart.
    //   u1 {A, B, C}   u2 {A, B}   u3 {A, B, C, D}   u4 {C, D}   u5 {A, C, D, E}
    // Analog baskets are these sessions; every user contributes, so N = 5, and
    //   n_A = 4 (u1 u2 u3 u5), n_B = 3 (u1 u2 u3), n_C = 4 (u1 u3 u4 u5), n_D = 3 (u3 u4 u5), n_E = 1.
    // Pairs by users: AB 3 (u1 u2 u3), AC 3 (u1 u3 u5), AD 2 (u3 u5), BC 2 (u1 u3), CD 3 (u3 u4 u5);
    // BD, AE, CE, DE 1 each (dropped by MinCount = 2).
    private static readonly string[][] FiveUsers =
    [
        ["A", "B", "C"],
        ["A", "B"],
        ["A", "B", "C", "D"],
        ["C", "D"],
        ["A", "C", "D", "E"],
    ];

    private static byte Code(string type) => Types.TryGetCode(type, out var c) ? c : throw new ArgumentException(type);

    private static InteractionLog FiveUserLog()
    {
        var builder = new InteractionLogBuilder(Types);
        foreach (var id in new[] { "A", "B", "C", "D", "E" })
        {
            builder.AddItem(new Item { Id = id, Title = id, Category = "Shop/" + id });
        }

        for (var u = 0; u < FiveUsers.Length; u++)
        {
            for (var k = 0; k < FiveUsers[u].Length; k++)
            {
                builder.Add($"u{u + 1}", FiveUsers[u][k], Code("view"), T0 + (u * Day) + (k * Minute));
            }
        }

        return builder.Build();
    }

    private static int Index(InteractionLog log, string id) => log.TryGetItemIndex(id, out var i) ? i : throw new ArgumentException(id);

    private static Dictionary<string, float> SimilarById(CoOccurrenceModel model, InteractionLog log, string id) =>
        model.Similar(Index(log, id), 100).ToDictionary(s => log.ItemIds[s.Item], s => s.Score);

    [Fact]
    public void Train_PmiOnFiveUsers_MatchesHandComputedValues()
    {
        var log = FiveUserLog();
        var model = CoOccurrenceModel.Train(log, new CoOccurrenceOptions { Measure = CoOccurrenceMeasure.Pmi, PmiShrinkage = 0 });

        // PMI(A,B) = ln(n_AB * N / (n_A * n_B)) = ln(3 * 5 / (4 * 3)) = ln(1.25) = 0.2231436
        // PMI(A,C) = ln(3 * 5 / (4 * 4)) = ln(0.9375) < 0, PMI(A,D) = ln(2 * 5 / (4 * 3)) < 0: dropped.
        // PMI(C,D) = ln(3 * 5 / (4 * 3)) = ln(1.25); PMI(B,C) = ln(2 * 5 / (3 * 4)) < 0: dropped.
        var a = SimilarById(model, log, "A");
        Assert.Equal(["B"], a.Keys);
        Assert.Equal(0.2231436f, a["B"], 5);
        Assert.Equal(0.2231436f, SimilarById(model, log, "B")["A"], 5);
        Assert.Equal(["D"], SimilarById(model, log, "C").Keys);
        Assert.Equal(0.2231436f, SimilarById(model, log, "D")["C"], 5);
        Assert.Empty(model.Similar(Index(log, "E"), 10));
        Assert.Equal("cooc-analogs-pmi", model.Name);
    }

    [Fact]
    public void Train_PmiWithShrinkage_ScalesByCountOverCountPlusShrinkage()
    {
        var log = FiveUserLog();
        var model = CoOccurrenceModel.Train(log, new CoOccurrenceOptions { Measure = CoOccurrenceMeasure.Pmi, PmiShrinkage = 5 });

        // ln(1.25) * 3 / (3 + 5) = 0.2231436 * 0.375 = 0.0836789
        Assert.Equal(0.0836789f, SimilarById(model, log, "A")["B"], 5);
    }

    [Fact]
    public void Train_SwingOnFiveUsers_MatchesHandComputedValues()
    {
        var log = FiveUserLog();
        var model = CoOccurrenceModel.Train(log, new CoOccurrenceOptions { Measure = CoOccurrenceMeasure.Swing, SwingAlpha = 1 });

        // |I_u ∩ I_v|: u1u2 {A,B} 2, u1u3 {A,B,C} 3, u1u5 {A,C} 2, u2u3 {A,B} 2, u3u4 {C,D} 2, u3u5 {A,C,D} 3, u4u5 {C,D} 2.
        // Swing(A,B), users u1 u2 u3: 1/(1+2) + 1/(1+3) + 1/(1+2) = 11/12 = 0.9166667
        // Swing(A,C), users u1 u3 u5: 1/(1+3) + 1/(1+2) + 1/(1+3) = 5/6 = 0.8333333
        // Swing(A,D), users u3 u5:   1/(1+3) = 0.25
        // Swing(C,D), users u3 u4 u5: 1/(1+2) + 1/(1+3) + 1/(1+2) = 11/12
        // Swing(B,C), users u1 u3:   1/(1+3) = 0.25; B-D, A-E... are held by one user: no pair of users, no score.
        var a = model.Similar(Index(log, "A"), 10);
        Assert.Equal(["B", "C", "D"], a.Select(s => log.ItemIds[s.Item]));
        Assert.Equal(11f / 12, a[0].Score, 5);
        Assert.Equal(5f / 6, a[1].Score, 5);
        Assert.Equal(0.25f, a[2].Score, 5);
        var c = SimilarById(model, log, "C");
        Assert.Equal(11f / 12, c["D"], 5);
        Assert.Equal(5f / 6, c["A"], 5);
        Assert.Equal(0.25f, c["B"], 5);
        Assert.Empty(model.Similar(Index(log, "E"), 10));
        Assert.Equal("cooc-analogs-swing", model.Name);
    }

    [Fact]
    public void Train_SwingWithUserSample_IsDeterministicAndBoundedByTheSample()
    {
        var log = FiveUserLog();
        var options = new CoOccurrenceOptions { Measure = CoOccurrenceMeasure.Swing, MaxUsersPerItem = 2 };
        var first = CoOccurrenceModel.Train(log, options);
        var second = CoOccurrenceModel.Train(log, options);

        for (var i = 0; i < log.ItemCount; i++)
        {
            Assert.Equal(first.Similar(i, 10), second.Similar(i, 10));

            // Two sampled users make one pair: every score is a single 1/(1 + |I_u ∩ I_v|) <= 1/3.
            Assert.All(first.Similar(i, 10), s => Assert.True(s.Score <= (1f / 3) + 1e-6f));
        }
    }

    [Fact]
    public void Score_TwoAnchors_SumsNeighbourScoresWeightedByRecency()
    {
        var log = FiveUserLog();
        var model = CoOccurrenceModel.Train(log, new CoOccurrenceOptions { Measure = CoOccurrenceMeasure.Swing, RecencyDecay = 0.5 });
        int a = Index(log, "A"), b = Index(log, "B"), c = Index(log, "C"), d = Index(log, "D"), e = Index(log, "E");

        // Viewed A, then D: D is rank 0 (factor 1), A rank 1 (factor 0.5); views weigh 1.
        var history = new UserHistory(-1, new[] { a, d }, new[] { 1f, 1f }, new[] { T0, T0 + Minute });
        var scores = new float[model.ItemCount];
        Assert.True(model.Score(history, scores));

        // D's neighbours: C 11/12, A 1/4; A's: B 11/12, C 5/6, D 1/4.
        Assert.Equal((11f / 12) + (0.5f * 5 / 6), scores[c], 5);
        Assert.Equal(0.5f * 11 / 12, scores[b], 5);
        Assert.Equal(0.25f, scores[a], 5);
        Assert.Equal(0.5f * 0.25f, scores[d], 5);
        Assert.True(float.IsNegativeInfinity(scores[e]));
    }

    [Fact]
    public void Train_Complements_CountOrderedCrossCategoryPairsWithinTheWindowOnly()
    {
        var builder = new InteractionLogBuilder(Types);
        builder.AddItem(new Item { Id = "board", Title = "board", Category = "Winter/Boards" });
        builder.AddItem(new Item { Id = "boots", Title = "boots", Category = "Winter/Boots" });
        builder.AddItem(new Item { Id = "board2", Title = "board2", Category = "Winter/Boards" });
        builder.AddItem(new Item { Id = "helmet", Title = "helmet", Category = "Winter/Helmets" });
        builder.AddItem(new Item { Id = "goggles", Title = "goggles", Category = "Winter/Goggles" });
        builder.AddItem(new Item { Id = "gloves", Title = "gloves", Category = "Winter/Gloves" });
        for (var u = 0; u < 3; u++)
        {
            var user = $"u{u}";
            builder.Add(user, "board", Code("order"), T0);
            builder.Add(user, "goggles", Code("view"), T0 + Day);         // a view: complements count orders only
            builder.Add(user, "boots", Code("order"), T0 + (3 * Day));    // board -> boots
            builder.Add(user, "board2", Code("order"), T0 + (5 * Day));   // board -> board2: same category, not counted
            builder.Add(user, "helmet", Code("order"), T0 + (70 * Day));  // 65+ days after everything: out of the window
        }

        for (var u = 3; u < 6; u++)
        {
            // Ordered at the same millisecond: not "later", so no pair either way.
            builder.Add($"u{u}", "gloves", Code("order"), T0);
            builder.Add($"u{u}", "goggles", Code("order"), T0);
        }

        var log = builder.Build();
        var model = CoOccurrenceModel.Train(log, new CoOccurrenceOptions { Kind = CoOccurrenceKind.Complements, Measure = CoOccurrenceMeasure.Count });

        Assert.Equal([new ScoredItem(Index(log, "boots"), 3)], model.Similar(Index(log, "board"), 10));
        Assert.Equal([new ScoredItem(Index(log, "board2"), 3)], model.Similar(Index(log, "boots"), 10));
        Assert.Empty(model.Similar(Index(log, "board2"), 10));
        Assert.Empty(model.Similar(Index(log, "helmet"), 10));
        Assert.Empty(model.Similar(Index(log, "gloves"), 10));
        Assert.Empty(model.Similar(Index(log, "goggles"), 10));
        Assert.Equal("cooc-complements-count", model.Name);
    }

    [Fact]
    public void Train_ComplementsOnALogWithoutOrders_FallsBackToEveryEvent()
    {
        var builder = new InteractionLogBuilder(Types);
        for (var u = 0; u < 2; u++)
        {
            builder.Add($"u{u}", "film1", Code("rating"), T0);
            builder.Add($"u{u}", "film2", Code("rating"), T0 + Day);
        }

        var log = builder.Build();
        var model = CoOccurrenceModel.Train(log, new CoOccurrenceOptions { Kind = CoOccurrenceKind.Complements, Measure = CoOccurrenceMeasure.Count });

        // Unknown categories never block a pair.
        Assert.Equal([new ScoredItem(Index(log, "film2"), 2)], model.Similar(Index(log, "film1"), 10));
        Assert.Empty(model.Similar(Index(log, "film2"), 10));
    }

    [Fact]
    public void Score_ComplementModel_AnchorsOnOrdersWhenTheUserHasAny()
    {
        var builder = new InteractionLogBuilder(Types);
        for (var u = 0; u < 2; u++)
        {
            builder.Add($"u{u}", "x", Code("order"), T0);
            builder.Add($"u{u}", "y", Code("order"), T0 + Day);
            builder.Add($"v{u}", "p", Code("order"), T0);
            builder.Add($"v{u}", "q", Code("order"), T0 + Day);
        }

        var log = builder.Build();
        var model = CoOccurrenceModel.Train(log, new CoOccurrenceOptions { Kind = CoOccurrenceKind.Complements, Measure = CoOccurrenceMeasure.Count });
        int x = Index(log, "x"), y = Index(log, "y"), p = Index(log, "p"), q = Index(log, "q");
        var scores = new float[model.ItemCount];

        // Ordered x, then viewed p: only the order anchors, so p's successors (q) are not reached.
        var ordered = new UserHistory(-1, new[] { x, p }, new[] { Types.WeightOf("order"), Types.WeightOf("view") }, new[] { T0, T0 + 1 });
        Assert.True(model.Score(ordered, scores));
        Assert.True(scores[y] > 0);
        Assert.True(float.IsNegativeInfinity(scores[q]));

        // Only views: every item anchors.
        var viewed = new UserHistory(-1, new[] { p }, new[] { Types.WeightOf("view") }, new[] { T0 });
        Assert.True(model.Score(viewed, scores));
        Assert.True(scores[q] > 0);
    }

    [Fact]
    public void Train_Analogs_PairAcrossASessionGapIsNotCounted()
    {
        var builder = new InteractionLogBuilder(Types);
        for (var u = 0; u < 3; u++)
        {
            var user = $"u{u}";
            builder.Add(user, "A", Code("view"), T0);
            builder.Add(user, "C", Code("view"), T0 + (10 * Minute));
            builder.Add(user, "B", Code("view"), T0 + (45 * Minute));    // 35 minutes after C: a new session
        }

        var log = builder.Build();
        var model = CoOccurrenceModel.Train(log, new CoOccurrenceOptions { Measure = CoOccurrenceMeasure.Count });
        var wider = CoOccurrenceModel.Train(log, new CoOccurrenceOptions { Measure = CoOccurrenceMeasure.Count, SessionGapMinutes = 40 });

        Assert.Equal([new ScoredItem(Index(log, "C"), 3)], model.Similar(Index(log, "A"), 10));
        Assert.Empty(model.Similar(Index(log, "B"), 10));
        Assert.Equal(2, wider.Similar(Index(log, "B"), 10).Count);
    }

    [Fact]
    public void TopK_ExcludedItems_NeverAppear()
    {
        var log = FiveUserLog();
        var model = CoOccurrenceModel.Train(log, new CoOccurrenceOptions { Measure = CoOccurrenceMeasure.Swing });
        var history = UserHistory.Of(log, 4); // u5: A, C, D, E
        int a = Index(log, "A"), b = Index(log, "B"), c = Index(log, "C");

        var all = model.TopK(history, 10);
        var filtered = model.TopK(history, 10, [a, c]);

        Assert.Contains(all, s => s.Item == a);
        Assert.Contains(all, s => s.Item == c);
        Assert.NotEmpty(filtered);
        Assert.DoesNotContain(filtered, s => s.Item == a || s.Item == c);
        Assert.Contains(filtered, s => s.Item == b);
    }

    [Fact]
    public void TopK_UnknownUserOrEmptyHistory_IsEmpty()
    {
        var log = FiveUserLog();
        var model = CoOccurrenceModel.Train(log, new CoOccurrenceOptions { Measure = CoOccurrenceMeasure.Swing });
        var scores = new float[model.ItemCount];
        var empty = new UserHistory(0, Array.Empty<int>(), Array.Empty<float>(), Array.Empty<long>());
        var onlyUnseen = new UserHistory(-1, new[] { -1, 999, Index(log, "E") }, new[] { 1f, 1f, 1f }, new[] { T0, T0, T0 });

        Assert.Empty(model.TopK(UserHistory.Unknown, 10));
        Assert.False(model.Score(UserHistory.Unknown, scores));
        Assert.Empty(model.TopK(empty, 10));
        Assert.False(model.Score(onlyUnseen, scores));
    }

    [Fact]
    public void Similar_UnknownItemOrZeroK_IsEmpty()
    {
        var log = FiveUserLog();
        var model = CoOccurrenceModel.Train(log, new CoOccurrenceOptions { Measure = CoOccurrenceMeasure.Swing });

        Assert.Empty(model.Similar(-1, 10));
        Assert.Empty(model.Similar(model.ItemCount, 10));
        Assert.Empty(model.Similar(Index(log, "A"), 0));
        Assert.Single(model.Similar(Index(log, "A"), 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Similar(0, -1));
    }

    [Fact]
    public void Train_EmptyLog_GivesAModelThatScoresNobody()
    {
        var log = new InteractionLogBuilder(Types).Build();

        var model = CoOccurrenceModel.Train(log, new CoOccurrenceOptions { Kind = CoOccurrenceKind.Complements, Measure = CoOccurrenceMeasure.Swing });

        Assert.Equal(0, model.ItemCount);
        Assert.Equal(0, model.NeighbourCount);
        Assert.False(model.Score(UserHistory.Unknown, Span<float>.Empty));
        Assert.Empty(model.Similar(0, 5));
    }

    [Fact]
    public void Train_BadOptions_Throw()
    {
        var log = FiveUserLog();

        Assert.Throws<ArgumentException>(() => CoOccurrenceModel.Train(log, new CoOccurrenceOptions { SessionGapMinutes = 0 }));
        Assert.Throws<ArgumentException>(() => CoOccurrenceModel.Train(log, new CoOccurrenceOptions { MaxUsersPerItem = 1 }));
        Assert.Throws<ArgumentException>(() => CoOccurrenceModel.Train(log, new CoOccurrenceOptions { RecencyDecay = 1.5 }));
        Assert.Throws<ArgumentException>(() => CoOccurrenceModel.Train(log, new CoOccurrenceOptions { EventTypes = ["teleport"] }));
    }

    [Fact]
    public void SaveLoad_RoundTrip_KeepsNeighboursAndScores()
    {
        var log = demo.Log;
        var model = CoOccurrenceModel.Train(log, new CoOccurrenceOptions { Kind = CoOccurrenceKind.Complements, Measure = CoOccurrenceMeasure.Swing });
        using var stream = new MemoryStream();
        model.Save(stream);
        stream.Position = 0;

        var loaded = CoOccurrenceModel.Load(stream);

        Assert.Equal(model.Name, loaded.Name);
        Assert.Equal(model.ItemCount, loaded.ItemCount);
        Assert.Equal(model.NeighbourCount, loaded.NeighbourCount);
        Assert.True(model.NeighbourCount > 0);
        for (var i = 0; i < model.ItemCount; i++)
        {
            Assert.Equal(model.Similar(i, 100), loaded.Similar(i, 100));
        }

        for (var u = 0; u < log.UserCount; u += 37)
        {
            var history = UserHistory.Of(log, u);
            Assert.Equal(model.TopK(history, 20), loaded.TopK(history, 20));
        }
    }

    [Fact]
    public void Load_TruncatedArtifact_ThrowsInvalidData()
    {
        var model = CoOccurrenceModel.Train(FiveUserLog(), new CoOccurrenceOptions { Measure = CoOccurrenceMeasure.Swing });
        using var stream = new MemoryStream();
        model.Save(stream);
        var bytes = stream.ToArray();

        foreach (var length in new[] { 3, 20, bytes.Length / 2, bytes.Length - 1 })
        {
            using var truncated = new MemoryStream(bytes, 0, length);
            Assert.Throws<InvalidDataException>(() => CoOccurrenceModel.Load(truncated));
        }
    }

    [Fact]
    public void Train_SameLogTwice_GivesIdenticalModels()
    {
        var options = new CoOccurrenceOptions { Measure = CoOccurrenceMeasure.Swing, MaxUsersPerItem = 20 };
        var first = CoOccurrenceModel.Train(demo.Log, options);
        var second = CoOccurrenceModel.Train(demo.Log, options);

        for (var i = 0; i < first.ItemCount; i++)
        {
            Assert.Equal(first.Similar(i, 100), second.Similar(i, 100));
        }
    }

    [Fact]
    public void Train_DemoMarketplace_ComplementsFindComplementLeavesAndAnalogsTheSameLeaf()
    {
        var log = demo.Log;
        var tree = demo.Demo.Tree;
        var leafOf = new int[log.ItemCount];
        for (var i = 0; i < log.ItemCount; i++)
        {
            var category = log.Items.CategoryIndex[i];
            leafOf[i] = category < 0 ? -1 : tree.IndexOf(log.Items.Categories[category]);
        }

        var analogs = CoOccurrenceModel.Train(log, new CoOccurrenceOptions { Kind = CoOccurrenceKind.Analogs });
        var complements = CoOccurrenceModel.Train(log, new CoOccurrenceOptions { Kind = CoOccurrenceKind.Complements });

        double analogComplementShare = 0, analogSameShare = 0, complementComplementShare = 0, complementSameShare = 0;
        var anchors = 0;
        for (var i = 0; i < log.ItemCount; i++)
        {
            if (leafOf[i] < 0 || tree.Leaves[leafOf[i]].Complements.Count == 0)
            {
                continue;
            }

            var complementLeaves = tree.Leaves[leafOf[i]].Complements.Select(tree.IndexOf).ToHashSet();
            var fromAnalogs = analogs.Similar(i, 10);
            var fromComplements = complements.Similar(i, 10);
            if (fromAnalogs.Count == 0 || fromComplements.Count == 0)
            {
                continue;
            }

            anchors++;
            analogComplementShare += fromAnalogs.Count(s => complementLeaves.Contains(leafOf[s.Item])) / (double)fromAnalogs.Count;
            analogSameShare += fromAnalogs.Count(s => leafOf[s.Item] == leafOf[i]) / (double)fromAnalogs.Count;
            complementComplementShare += fromComplements.Count(s => complementLeaves.Contains(leafOf[s.Item])) / (double)fromComplements.Count;
            complementSameShare += fromComplements.Count(s => leafOf[s.Item] == leafOf[i]) / (double)fromComplements.Count;
        }

        Assert.True(anchors >= 20, $"only {anchors} anchors have neighbours in both models");
        Assert.True(complementComplementShare > analogComplementShare, $"complement leaves: complements {complementComplementShare / anchors:0.00}, analogs {analogComplementShare / anchors:0.00}");
        Assert.True(analogSameShare > complementSameShare, $"same leaf: analogs {analogSameShare / anchors:0.00}, complements {complementSameShare / anchors:0.00}");
        Assert.Equal(0, complementSameShare);
    }
}

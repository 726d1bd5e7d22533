using Microsoft.ML.Data;
using Ranking.Crm;
using Ranking.Import.Datasets;
using Ranking.Tests.Datasets;
using Xunit.Abstractions;

namespace Ranking.Tests.Crm;

public sealed class UpliftLearnerTests(ITestOutputHelper output)
{
    // Small, quick trees: the planted effect is a single split on x0.
    private static readonly BoostedTreeOptions Trees = new()
    {
        NumberOfIterations = 40, NumberOfLeaves = 8, LearningRate = 0.1, MinimumExampleCountPerLeaf = 100, Seed = 7,
    };

    private static readonly string[] Columns = ["x0", "x1", "x2", "x3"];

    public static TheoryData<string> Learners => ["S", "T", "X", "X-fitted", "CT"];

    [Theory]
    [MemberData(nameof(Learners))]
    public void Fit_PlantedBinaryEffect_RanksEffectRowsFirst(string name)
    {
        var train = Planted(20_000, seed: 11, continuous: false);
        var test = Planted(10_000, seed: 12, continuous: false);

        var model = Learner(name).Fit(train.Features, train.Treated, train.Outcome);
        var uplift = model.PredictUplift(test.Features);

        var gap = MeanGap(test, uplift);
        var qini = UpliftMetrics.QiniAucScore(test.Outcome, uplift, test.Treated);
        var oracleQini = UpliftMetrics.QiniAucScore(test.Outcome, test.Effect, test.Treated);
        output.WriteLine($"{name}: mean uplift gap {gap:F3} (true 0.2), Qini {qini:F4} (true effect's {oracleQini:F4})");
        Assert.InRange(gap, 0.1, 0.3);
        Assert.True(qini > 0.6 * oracleQini, $"Qini {qini:F4} is not close to the true effect's {oracleQini:F4}.");
    }

    [Theory]
    [MemberData(nameof(Learners))]
    public void Fit_SameSeedTwice_GivesSamePredictions(string name)
    {
        var train = Planted(4000, seed: 21, continuous: false);

        var first = Learner(name).Fit(train.Features, train.Treated, train.Outcome).PredictUplift(train.Features);
        var second = Learner(name).Fit(train.Features, train.Treated, train.Outcome).PredictUplift(train.Features);

        Assert.Equal(first, second);
    }

    [Theory]
    [InlineData("S")]
    [InlineData("T")]
    [InlineData("X")]
    public void Fit_PlantedContinuousEffect_RecoversItsSize(string name)
    {
        // Effect +2 for x0 > 0, noise sd 1: the regressors should find most of the 2.
        var train = Planted(10_000, seed: 31, continuous: true);
        var test = Planted(5000, seed: 32, continuous: true);

        var uplift = Learner(name).Fit(train.Features, train.Treated, train.Outcome).PredictUplift(test.Features);

        var gap = MeanGap(test, uplift);
        output.WriteLine($"{name}: mean uplift gap {gap:F3} (true 2)");
        Assert.InRange(gap, 1.4, 2.6);
    }

    [Fact]
    public void ClassTransformation_ContinuousOutcome_Throws()
    {
        var train = Planted(500, seed: 41, continuous: true);

        Assert.Throws<ArgumentException>(() => new ClassTransformationLearner(Trees).Fit(train.Features, train.Treated, train.Outcome));
    }

    [Fact]
    public void Fit_OneArmOnly_Throws()
    {
        var train = Planted(200, seed: 42, continuous: false);
        var allTreated = new bool[train.Treated.Length];
        Array.Fill(allTreated, true);

        Assert.Throws<ArgumentException>(() => new TLearner(Trees).Fit(train.Features, allTreated, train.Outcome));
    }

    [Fact]
    public void PredictUplift_OtherColumns_Throws()
    {
        var train = Planted(1000, seed: 43, continuous: false);
        var model = new TLearner(Trees).Fit(train.Features, train.Treated, train.Outcome);
        var renamed = new FeatureMatrix(["x0", "x1", "x2", "other"], train.Features.Values.ToArray());

        Assert.Throws<ArgumentException>(() => model.PredictUplift(renamed));
    }

    [Fact]
    public void TLearner_ArmWithoutResponders_FitsConstantModel()
    {
        // No control row responds: LightGBM cannot fit one class, so μ0 is the constant 0 and uplift = μ1.
        var train = Planted(2000, seed: 44, continuous: false);
        var outcome = (double[])train.Outcome.Clone();
        for (var i = 0; i < outcome.Length; i++)
        {
            outcome[i] = train.Treated[i] ? outcome[i] : 0;
        }

        var uplift = new TLearner(Trees).Fit(train.Features, train.Treated, outcome).PredictUplift(train.Features);

        Assert.All(uplift, u => Assert.InRange(u, 0, 1));
    }

    [Fact]
    public void FeatureMatrixDataView_Cursor_ReadsEveryRowAndLabel()
    {
        var matrix = FeatureMatrix.FromRows(["a", "b"], [[1, 2], [3, 4], [5, float.NaN]]);
        var view = new FeatureMatrixDataView(matrix, [1, 0, 1], booleanLabel: true);

        using var cursor = view.GetRowCursor(view.Schema);
        var features = cursor.GetGetter<VBuffer<float>>(view.Schema[FeatureMatrixDataView.FeaturesColumn]);
        var label = cursor.GetGetter<bool>(view.Schema[FeatureMatrixDataView.LabelColumn]);
        var rows = new List<(float[] Features, bool Label)>();
        VBuffer<float> buffer = default;
        var flag = false;
        while (cursor.MoveNext())
        {
            features(ref buffer);
            label(ref flag);
            rows.Add((buffer.DenseValues().ToArray(), flag));
        }

        Assert.Equal(3, view.GetRowCount());
        Assert.Equal(3, rows.Count);
        Assert.Equal([3f, 4f], rows[1].Features);
        Assert.True(float.IsNaN(rows[2].Features[1]));
        Assert.Equal([true, false, true], rows.Select(r => r.Label));
        Assert.Throws<InvalidOperationException>(() => cursor.GetGetter<float>(view.Schema[FeatureMatrixDataView.LabelColumn]));
    }

    [Fact]
    public void Stratified_Split_HalvesEachStratumDeterministically()
    {
        var (outcome, treated, _) = UpliftMetricsTests.Synthetic(1001, seed: 9);

        var split = UpliftSplit.Stratified(treated, outcome, 0.5, seed: 42);
        var again = UpliftSplit.Stratified(treated, outcome, 0.5, seed: 42);

        Assert.Equal(split.Train, again.Train);
        Assert.Equal(Enumerable.Range(0, 1001), split.Train.Concat(split.Test).Order());
        int Count(int[] rows, bool t, bool y) => rows.Count(r => treated[r] == t && (outcome[r] != 0) == y);
        foreach (var t in new[] { false, true })
        {
            foreach (var y in new[] { false, true })
            {
                var all = Count(split.Train, t, y) + Count(split.Test, t, y);
                Assert.Equal(all / 2, Count(split.Train, t, y));
            }
        }
    }

    [SkippableFact]
    public void ClassTransformation_HillstromWomensVisit_UpliftAt30InSaneBand()
    {
        var table = HillstromTable.Load(DatasetTestData.RequireFolder(DatasetCatalog.Hillstrom));
        var rows = table.RowsOfTest(HillstromSource.WomensEmail);
        var treated = table.Treated(rows);
        var visit = HillstromTable.Take(table.Visit, rows);
        var split = UpliftSplit.Stratified(treated, visit, 0.5, seed: 42);
        var trainRows = Pick(rows, split.Train);
        var testRows = Pick(rows, split.Test);

        var model = new ClassTransformationLearner(BoostedTreeOptions.Shallow)
            .Fit(table.Features(trainRows), table.Treated(trainRows), HillstromTable.Take(table.Visit, trainRows));
        var uplift = model.PredictUplift(table.Features(testRows));
        var atK = UpliftMetrics.UpliftAtK(HillstromTable.Take(table.Visit, testRows), uplift, table.Treated(testRows), 0.3);

        output.WriteLine($"Hillstrom women/visit, class transformation, depth 2: uplift@30% = {atK:F4} (scikit-uplift: 0.0661)");
        Assert.Equal(42_693, rows.Length);
        Assert.InRange(atK, 0.03, 0.10);
    }

    private static int[] Pick(int[] rows, int[] positions) => [.. positions.Select(p => rows[p])];

    private static IUpliftLearner Learner(string name) => name switch
    {
        "S" => new SLearner(Trees),
        "T" => new TLearner(Trees),
        "X" => new XLearner(Trees),
        "X-fitted" => new XLearner(Trees, PropensitySource.Fitted),
        "CT" => new ClassTransformationLearner(Trees),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, null),
    };

    // Mean predicted uplift where the effect is planted minus where it is not.
    private static double MeanGap(PlantedData data, double[] uplift)
    {
        double withEffect = 0, without = 0;
        int n1 = 0, n0 = 0;
        for (var i = 0; i < uplift.Length; i++)
        {
            if (data.Effect[i] != 0)
            {
                withEffect += uplift[i];
                n1++;
            }
            else
            {
                without += uplift[i];
                n0++;
            }
        }

        return withEffect / n1 - without / n0;
    }

    private sealed record PlantedData(FeatureMatrix Features, bool[] Treated, double[] Outcome, double[] Effect);

    // x0..x3 ~ U(−1, 1), w ~ Bernoulli(0.5). Binary: P(y) = 0.25 + 0.1·x1 + 0.2·w·[x0 > 0].
    // Continuous: y = x1 + 2·w·[x0 > 0] + N(0, 1). Effect = the planted treatment effect per row.
    private static PlantedData Planted(int n, int seed, bool continuous)
    {
        var random = new Random(seed);
        var values = new float[n * Columns.Length];
        var treated = new bool[n];
        var outcome = new double[n];
        var effect = new double[n];
        for (var i = 0; i < n; i++)
        {
            var row = values.AsSpan(i * Columns.Length, Columns.Length);
            for (var c = 0; c < row.Length; c++)
            {
                row[c] = (float)(random.NextDouble() * 2 - 1);
            }

            treated[i] = random.NextDouble() < 0.5;
            if (continuous)
            {
                effect[i] = row[0] > 0 ? 2 : 0;
                var noise = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
                outcome[i] = row[1] + (treated[i] ? effect[i] : 0) + noise;
            }
            else
            {
                effect[i] = row[0] > 0 ? 0.2 : 0;
                outcome[i] = random.NextDouble() < 0.25 + 0.1 * row[1] + (treated[i] ? effect[i] : 0) ? 1 : 0;
            }
        }

        return new PlantedData(new FeatureMatrix(Columns, values), treated, outcome, effect);
    }
}

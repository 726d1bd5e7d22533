using System.Diagnostics;
using System.Globalization;
using Ranking.Crm;
using Ranking.Import.Datasets;

namespace Assistant.Benchmarks;

/// <summary>
/// Uplift learners on the Hillstrom e-mail test (docs/benchmarks/uplift.md): <c>dotnet Assistant.Benchmarks.dll uplift [resamples]</c>.
/// Prints Markdown: per set-up (arm × target), each learner's uplift@30%, normalised Qini AUC and AUUC on the test half,
/// with bootstrap 95% intervals.
/// </summary>
internal static class UpliftRun
{
    private const int SplitSeed = 42;
    private const int BootstrapSeed = 42;
    private const double K = 0.3;

    // scikit-uplift's Hillstrom tutorial: class transformation, women's e-mail vs none, target visit, uplift@30%.
    private const double PublishedClassTransformation = 0.0661;

    public static Task<int> RunAsync(string[] args)
    {
        var resamples = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 1000;
        var root = DatasetLocator.Root;
        var folder = root is null ? null : Path.Combine(root, DatasetCatalog.FolderOf(DatasetCatalog.Hillstrom));
        if (folder is null || !Directory.Exists(folder))
        {
            Console.Error.WriteLine($"The Hillstrom data is not here (data root: {root ?? "not found"}); set {DatasetLocator.EnvironmentVariable}.");
            return Task.FromResult(1);
        }

        var total = Stopwatch.StartNew();
        var table = HillstromTable.Load(folder);
        Console.WriteLine(Invariant($"Hillstrom: {table.Count:N0} rows from {folder}; cores {Environment.ProcessorCount}; ") + Invariant(
            $"split seed {SplitSeed}; bootstrap {resamples} resamples, seed {BootstrapSeed}."));
        Console.WriteLine();

        var configs = new (string Name, BoostedTreeOptions Trees)[]
        {
            ("depth 2", BoostedTreeOptions.Shallow),
            ("31 leaves", BoostedTreeOptions.Default),
        };
        foreach (var arm in new[] { HillstromSource.WomensEmail, HillstromSource.MensEmail })
        {
            foreach (var (targetName, target) in new[] { ("visit", table.Visit), ("conversion", table.Conversion) })
            {
                RunSetup(table, arm, targetName, target, configs, resamples);
            }
        }

        Console.WriteLine(Invariant($"Total {total.Elapsed.TotalSeconds:0.0} s."));
        return Task.FromResult(0);
    }

    private static void RunSetup(
        HillstromTable table, string arm, string targetName, bool[] target, (string Name, BoostedTreeOptions Trees)[] configs, int resamples)
    {
        var rows = table.RowsOfTest(arm);
        var treated = table.Treated(rows);
        var outcome = HillstromTable.Take(target, rows);
        var split = UpliftSplit.Stratified(treated, outcome, 0.5, SplitSeed);
        var trainRows = Pick(rows, split.Train);
        var testRows = Pick(rows, split.Test);
        var trainX = table.Features(trainRows);
        var trainW = table.Treated(trainRows);
        var trainY = HillstromTable.Take(target, trainRows);
        var testX = table.Features(testRows);
        var testW = table.Treated(testRows);
        var testY = HillstromTable.Take(target, testRows);
        var (rateT, rateC) = Rates(testY, testW);

        Console.WriteLine($"### {arm} vs {HillstromSource.NoEmail}, target `{targetName}`");
        Console.WriteLine();
        Console.WriteLine(Invariant($"{rows.Length:N0} rows; train {trainRows.Length:N0}, test {testRows.Length:N0}. ") + Invariant(
            $"Test {targetName} rate: treated {rateT:P2}, control {rateC:P2}, average effect {rateT - rateC:+0.0000;-0.0000}."));
        Console.WriteLine();
        Console.WriteLine("| trees | learner | uplift@30% [95% CI] | Qini AUC [95% CI] | AUUC [95% CI] | fit s |");
        Console.WriteLine("| --- | --- | --- | --- | --- | ---: |");

        var random = new Random(SplitSeed);
        var noise = new double[testRows.Length];
        for (var i = 0; i < noise.Length; i++)
        {
            noise[i] = random.NextDouble();
        }

        Row("—", "random scores", UpliftMetrics.Evaluate(testY, noise, testW, K, resamples, BootstrapSeed), 0);
        foreach (var (configName, trees) in configs)
        {
            IUpliftLearner[] learners = [new SLearner(trees), new TLearner(trees), new XLearner(trees), new ClassTransformationLearner(trees)];
            foreach (var learner in learners)
            {
                var clock = Stopwatch.StartNew();
                var model = learner.Fit(trainX, trainW, trainY);
                var fitSeconds = clock.Elapsed.TotalSeconds;
                var uplift = model.PredictUplift(testX);
                Row(configName, learner.Name, UpliftMetrics.Evaluate(testY, uplift, testW, K, resamples, BootstrapSeed), fitSeconds);
            }
        }

        if (arm == HillstromSource.WomensEmail && targetName == "visit")
        {
            Console.WriteLine(Invariant(
                $"| depth 2, scikit-uplift | Class transformation, tutorial's published figure (their split) | {PublishedClassTransformation:0.0000} (published) | | | |"));
        }

        Console.WriteLine();
    }

    private static void Row(string trees, string learner, UpliftEvaluation e, double fitSeconds) =>
        Console.WriteLine(Invariant(
            $"| {trees} | {learner} | {Show(e.UpliftAtK)} | {Show(e.QiniAuc)} | {Show(e.UpliftAuc)} | {fitSeconds:0.00} |"));

    private static string Show(MetricInterval? m) =>
        m is null ? "n/a" : Invariant($"{m.Value:0.0000} [{m.Lower:0.0000}, {m.Upper:0.0000}]");

    private static (double Treated, double Control) Rates(double[] y, bool[] w)
    {
        double sumT = 0, sumC = 0;
        int nT = 0, nC = 0;
        for (var i = 0; i < y.Length; i++)
        {
            if (w[i])
            {
                sumT += y[i];
                nT++;
            }
            else
            {
                sumC += y[i];
                nC++;
            }
        }

        return (sumT / nT, sumC / nC);
    }

    private static int[] Pick(int[] rows, int[] positions)
    {
        var picked = new int[positions.Length];
        for (var i = 0; i < picked.Length; i++)
        {
            picked[i] = rows[positions[i]];
        }

        return picked;
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}

using System.Diagnostics;
using System.Globalization;
using Ranking.Candidates;
using Ranking.Data;
using Ranking.Demo;
using Ranking.Domain;
using Ranking.Import;
using Ranking.Import.Datasets;

namespace Assistant.Benchmarks;

/// <summary>
/// Co-occurrence build times (PMI and Swing, analogs and complements) on ML-1M, Amazon Sports and the demo
/// marketplace, and on the default demo the "complements are not analogs" check: where in each model's top 10 the
/// planted complement leaves and the anchor's own leaf land.
/// <c>dotnet run -c Release --project benchmarks/Assistant.Benchmarks -- cooc [demo scales...]</c>
/// (default scales: 1 and 33). Prints Markdown tables.
/// </summary>
internal static class CoOccurrenceSpeed
{
    private static readonly CoOccurrenceKind[] Kinds = [CoOccurrenceKind.Analogs, CoOccurrenceKind.Complements];
    private static readonly CoOccurrenceMeasure[] Measures = [CoOccurrenceMeasure.Pmi, CoOccurrenceMeasure.Swing];

    public static async Task<int> RunAsync(string[] args)
    {
        var scales = args.Length > 0 ? Array.ConvertAll(args, a => double.Parse(a, CultureInfo.InvariantCulture)) : [1.0, 33.0];
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"cores {Environment.ProcessorCount}, {System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription}, default options except where noted"));
        Console.WriteLine();
        Console.WriteLine("| data | events | users | items | kind | measure | build s | items with neighbours | neighbours kept | peak working set MB |");
        Console.WriteLine("| --- | ---: | ---: | ---: | --- | --- | ---: | ---: | ---: | ---: |");

        var root = DatasetLocator.Root;
        if (root is null)
        {
            Console.WriteLine("| (no shared/data folder: data sets skipped) | | | | | | | | | |");
        }
        else
        {
            // ML-1M ratings have no orders (complements fall back to every rating) and no e-commerce sessions: a
            // 30-minute gap groups rating bursts. Amazon Sports has one category, so complements must allow pairs
            // within it, and its "timestamps" are positions one minute apart.
            await MeasureAsync("ML-1M (timed ratings)", DatasetCatalog.Open(DatasetCatalog.MovieLens1M, root), new CoOccurrenceOptions());
            await MeasureAsync("Amazon Sports", DatasetCatalog.Open(DatasetCatalog.AmazonSports, root), new CoOccurrenceOptions { RequireDifferentCategory = false });
        }

        InteractionLog? defaultDemo = null;
        DemoMarketplace? defaultMarketplace = null;
        foreach (var scale in scales)
        {
            var marketplace = new DemoMarketplace(new DemoMarketplaceOptions { Seed = 42, Scale = scale });
            var log = await MeasureAsync(string.Create(CultureInfo.InvariantCulture, $"demo, scale {scale}"), marketplace, new CoOccurrenceOptions());
            if (Math.Abs(scale - 1.0) < 1e-9)
            {
                (defaultDemo, defaultMarketplace) = (log, marketplace);
            }
        }

        defaultMarketplace ??= new DemoMarketplace(new DemoMarketplaceOptions { Seed = 42 });
        defaultDemo ??= await InteractionLog.BuildAsync(defaultMarketplace, EventTypeRegistry.Default);
        Console.WriteLine();
        CompareKinds(defaultDemo, defaultMarketplace.Tree);
        return 0;
    }

    private static async Task<InteractionLog> MeasureAsync(string name, IImportSource source, CoOccurrenceOptions baseOptions)
    {
        var clock = Stopwatch.StartNew();
        var log = await InteractionLog.BuildAsync(source, EventTypeRegistry.Default);
        var loadSeconds = clock.Elapsed.TotalSeconds;
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name}: {log.Count:N0} events loaded in {loadSeconds:0.0} s"));
        foreach (var kind in Kinds)
        {
            foreach (var measure in Measures)
            {
                GC.Collect();
                clock.Restart();
                var model = CoOccurrenceModel.Train(log, baseOptions with { Kind = kind, Measure = measure });
                var seconds = clock.Elapsed.TotalSeconds;
                var covered = 0;
                for (var i = 0; i < model.ItemCount; i++)
                {
                    covered += model.Similar(i, 1).Count;
                }

                var peakMb = Process.GetCurrentProcess().PeakWorkingSet64 / (1024.0 * 1024.0);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {name} | {log.Count:N0} | {log.UserCount:N0} | {log.ItemCount:N0} | {Lower(kind)} | {Lower(measure)} | {seconds:0.00} | {covered:N0} | {model.NeighbourCount:N0} | {peakMb:N0} |"));
            }
        }

        return log;
    }

    /// <summary>
    /// Over anchors in leaves with planted complements that have neighbours in both models of a measure: the mean
    /// share of the top 10 in a complement leaf and in the anchor's own leaf, and the mean 1-based rank of the first
    /// complement-leaf neighbour among all kept neighbours (anchors without one are counted apart).
    /// </summary>
    private static void CompareKinds(InteractionLog log, CategoryTree tree)
    {
        var leafOf = new int[log.ItemCount];
        for (var i = 0; i < log.ItemCount; i++)
        {
            var category = log.Items.CategoryIndex[i];
            leafOf[i] = category < 0 ? -1 : tree.IndexOf(log.Items.Categories[category]);
        }

        var complementLeaves = new HashSet<int>[tree.Leaves.Count];
        for (var l = 0; l < tree.Leaves.Count; l++)
        {
            complementLeaves[l] = [.. tree.Leaves[l].Complements.Select(tree.IndexOf)];
        }

        Console.WriteLine("Default demo (seed 42, scale 1): anchors = items of leaves with planted complements that have neighbours in both models.");
        Console.WriteLine();
        Console.WriteLine("| measure | model | anchors | top-10 share in complement leaves | top-10 share in own leaf | anchors with a complement-leaf neighbour | mean rank of first complement-leaf neighbour |");
        Console.WriteLine("| --- | --- | ---: | ---: | ---: | ---: | ---: |");
        foreach (var measure in Measures)
        {
            var analogs = CoOccurrenceModel.Train(log, new CoOccurrenceOptions { Kind = CoOccurrenceKind.Analogs, Measure = measure });
            var complements = CoOccurrenceModel.Train(log, new CoOccurrenceOptions { Kind = CoOccurrenceKind.Complements, Measure = measure });
            var anchors = new List<int>();
            for (var i = 0; i < log.ItemCount; i++)
            {
                if (leafOf[i] >= 0 && complementLeaves[leafOf[i]].Count > 0 && analogs.Similar(i, 1).Count > 0 && complements.Similar(i, 1).Count > 0)
                {
                    anchors.Add(i);
                }
            }

            foreach (var model in new[] { complements, analogs })
            {
                double complementShare = 0, ownShare = 0, rankSum = 0;
                var found = 0;
                foreach (var anchor in anchors)
                {
                    var leaf = leafOf[anchor];
                    var top = model.Similar(anchor, 10);
                    complementShare += top.Count(s => complementLeaves[leaf].Contains(leafOf[s.Item])) / (double)top.Count;
                    ownShare += top.Count(s => leafOf[s.Item] == leaf) / (double)top.Count;
                    var all = model.Similar(anchor, int.MaxValue);
                    for (var r = 0; r < all.Count; r++)
                    {
                        if (complementLeaves[leaf].Contains(leafOf[all[r].Item]))
                        {
                            rankSum += r + 1;
                            found++;
                            break;
                        }
                    }
                }

                var n = Math.Max(1, anchors.Count);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {Lower(measure)} | {Lower(model.Kind)} | {anchors.Count:N0} | {complementShare / n:P1} | {ownShare / n:P1} | {found / (double)n:P1} | {(found > 0 ? rankSum / found : double.NaN):0.00} |"));
            }
        }
    }

    private static string Lower<T>(T value)
        where T : struct, Enum => value.ToString().ToLowerInvariant();
}

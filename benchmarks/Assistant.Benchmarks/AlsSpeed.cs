using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Runtime;
using Ranking.Candidates;
using Ranking.Data;
using Ranking.Demo;
using Ranking.Domain;
using Ranking.Import.Datasets;

namespace Assistant.Benchmarks;

/// <summary>
/// ALS training speed and memory (docs/benchmarks/als.md):
/// <c>dotnet Assistant.Benchmarks.dll als [ml1m|demo|all] [iterations] [demo scale]</c>, defaults all, 5, 33.
/// ML-1M is the full 1,000,209 user–movie pairs (<c>movielens-1m/user_movie_pairs_all.csv.gz</c>, every pair weight 1);
/// the demo marketplace at scale 33 has about 10.3M events. 64 factors, 3 CG steps, seed 42; the loss is computed
/// after each iteration but not timed.
/// </summary>
internal static class AlsSpeed
{
    // implicit's published CPU figure: 2.75 s per iteration on ML-20M (20M ratings) with 8 cores.
    private const double ImplicitSecondsPerMillion = 2.75 / 20.0;
    private const int ImplicitCores = 8;

    public static async Task<int> RunAsync(string[] args)
    {
        var which = args.Length > 0 ? args[0] : "all";
        var iterations = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 5;
        var scale = args.Length > 2 ? double.Parse(args[2], CultureInfo.InvariantCulture) : 33;
        var options = new AlsOptions { Factors = 64, Iterations = iterations, CgSteps = 3, Seed = 42, ComputeLoss = true };
        Print($"ALS speed: {options.Factors} factors, {options.CgSteps} CG steps, alpha {options.Alpha}, regularization {options.Regularization}, seed {options.Seed}, ",
            $"{iterations} iterations; cores {Environment.ProcessorCount}, server GC {GCSettings.IsServerGC}");

        if (which is "all" or "ml1m")
        {
            var root = DatasetLocator.Root ?? throw new DirectoryNotFoundException($"No shared data folder; set {DatasetLocator.EnvironmentVariable}.");
            var clock = Stopwatch.StartNew();
            var matrix = ReadMovieLensPairs(Path.Combine(root, "movielens-1m", "user_movie_pairs_all.csv.gz"), out var pairs);
            Print($"ml-1m all pairs: {pairs:N0} pairs, {matrix.UserCount:N0} users, {matrix.ItemCount:N0} items, {matrix.NonZeros:N0} nonzeros; read and matrix {clock.Elapsed.TotalSeconds:0.00} s");
            Train("ml-1m", matrix, options);
        }

        if (which is "all" or "demo")
        {
            var clock = Stopwatch.StartNew();
            var log = await InteractionLog.BuildAsync(new DemoMarketplace(new DemoMarketplaceOptions { Seed = 42, Scale = scale }), EventTypeRegistry.Default);
            var logSeconds = clock.Elapsed.TotalSeconds;
            clock.Restart();
            var matrix = UserItemMatrix.From(log);
            Print($"demo scale {scale}: {log.Count:N0} events, {log.UserCount:N0} users, {log.ItemCount:N0} items, {matrix.NonZeros:N0} nonzeros; ",
                $"log built (generation included) {logSeconds:0.00} s, matrix {clock.Elapsed.TotalSeconds:0.00} s");
            Train("demo", matrix, options);
            GC.KeepAlive(log);
        }

        return 0;
    }

    private static void Train(string name, UserItemMatrix matrix, AlsOptions options)
    {
        using (var before = Process.GetCurrentProcess())
        {
            Print($"  {name} before training: working set {before.WorkingSet64 / 1e6:0} MB, peak so far {before.PeakWorkingSet64 / 1e6:0} MB, managed heap {GC.GetTotalMemory(forceFullCollection: true) / 1e6:0} MB");
        }

        var reports = new List<AlsIteration>();
        var progress = new Recorder(reports, r =>
            Print($"  {name} iteration {r.Iteration}: {r.Seconds:0.000} s, loss {r.Loss:G6}"));
        var clock = Stopwatch.StartNew();
        var model = AlsModel.Train(matrix, options, progress);
        var total = clock.Elapsed.TotalSeconds;

        var first = reports[0].Seconds;
        var rest = 0.0;
        for (var k = 1; k < reports.Count; k++)
        {
            rest += reports[k].Seconds;
        }

        var mean = reports.Count > 1 ? rest / (reports.Count - 1) : first;
        var millions = matrix.NonZeros / 1e6;
        var cores = Environment.ProcessorCount;
        var perMillion = mean / millions;
        Print($"  {name}: first iteration {first:0.000} s, mean of iterations 2..{reports.Count} {mean:0.000} s; ",
            $"{perMillion:0.0000} s per million nonzeros on {cores} cores = {perMillion * cores:0.000} core-s/M ",
            $"(implicit ML-20M: {ImplicitSecondsPerMillion:0.0000} s/M on {ImplicitCores} cores = {ImplicitSecondsPerMillion * ImplicitCores:0.000} core-s/M); ",
            $"training with loss {total:0.0} s");

        var gc = GC.GetGCMemoryInfo();
        using var process = Process.GetCurrentProcess();
        Print($"  {name} memory: peak working set {process.PeakWorkingSet64 / 1e6:0} MB, GC heap {gc.HeapSizeBytes / 1e6:0} MB, ",
            $"allocated in total {GC.GetTotalAllocatedBytes() / 1e6:0} MB, collections gen0/1/2 {GC.CollectionCount(0)}/{GC.CollectionCount(1)}/{GC.CollectionCount(2)}, ",
            $"factors {(model.UserFactors.Length + model.ItemFactors.Length) * 4.0 / 1e6:0.0} MB");
    }

    // The importer reads only the timed ratings (users 1-2999); the untimed pairs file holds all of ML-1M.
    private static UserItemMatrix ReadMovieLensPairs(string path, out int pairs)
    {
        var userIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        var itemIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        var users = new List<int>(1_000_209);
        var items = new List<int>(1_000_209);
        using (var file = File.OpenRead(path))
        using (var gzip = new GZipStream(file, CompressionMode.Decompress))
        using (var reader = new StreamReader(gzip))
        {
            var header = reader.ReadLine();
            if (header != "user_id,movie_id")
            {
                throw new InvalidDataException($"{path}: unexpected header '{header}'.");
            }

            while (reader.ReadLine() is { } line)
            {
                var comma = line.IndexOf(',', StringComparison.Ordinal);
                if (comma <= 0)
                {
                    throw new InvalidDataException($"{path}: malformed line '{line}'.");
                }

                users.Add(IndexOf(userIndex, line[..comma]));
                items.Add(IndexOf(itemIndex, line[(comma + 1)..]));
            }
        }

        pairs = users.Count;

        // Group rows by user with a counting sort (the file is grouped already, but nothing depends on it).
        var offsets = new int[userIndex.Count + 1];
        foreach (var u in users)
        {
            offsets[u + 1]++;
        }

        for (var u = 0; u < userIndex.Count; u++)
        {
            offsets[u + 1] += offsets[u];
        }

        var cursor = offsets[..^1];
        var grouped = new int[pairs];
        for (var r = 0; r < pairs; r++)
        {
            grouped[cursor[users[r]]++] = items[r];
        }

        var weights = new float[pairs];
        Array.Fill(weights, 1f);
        return UserItemMatrix.From(userIndex.Count, itemIndex.Count, offsets, grouped, weights);
    }

    private static int IndexOf(Dictionary<string, int> index, string id)
    {
        if (!index.TryGetValue(id, out var i))
        {
            i = index.Count;
            index.Add(id, i);
        }

        return i;
    }

    private static void Print(params FormattableString[] parts)
    {
        foreach (var part in parts)
        {
            Console.Write(part.ToString(CultureInfo.InvariantCulture));
        }

        Console.WriteLine();
    }

    private sealed class Recorder(List<AlsIteration> reports, Action<AlsIteration> onReport) : IProgress<AlsIteration>
    {
        public void Report(AlsIteration value)
        {
            reports.Add(value);
            onReport(value);
        }
    }
}

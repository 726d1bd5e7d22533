using System.Diagnostics;
using System.Globalization;
using System.Numerics.Tensors;
using System.Runtime;
using System.Runtime.Intrinsics;
using Ranking.Candidates;
using Ranking.Data;
using Ranking.Domain;
using Ranking.Import.Datasets;

namespace Assistant.Benchmarks;

/// <summary>
/// EASE speed and memory (docs/benchmarks/ease.md):
/// <c>dotnet Assistant.Benchmarks.dll ease [all|inverse|data|ml100k|ml1m|sports] [orders...]</c>, default all.
/// "inverse" times <see cref="DenseSpd.CholeskyInPlace"/> and <see cref="DenseSpd.InvertInPlace"/> on random
/// diagonally dominant SPD matrices (orders 2,000, 4,000 and 8,000 unless given; seed 42) and checks G·P = I on 8
/// columns; an untimed n = 600 inverse warms the process up first; the data sets train <see cref="EaseModel"/> with the default options (λ 500, binary).
/// </summary>
internal static class EaseSpeed
{
    private const int Seed = 42;

    public static async Task<int> RunAsync(string[] args)
    {
        var which = args.Length > 0 ? args[0] : "all";
        var orders = args.Length > 1 ? Array.ConvertAll(args[1..], a => int.Parse(a, CultureInfo.InvariantCulture)) : [2_000, 4_000, 8_000];
        Print($"EASE speed: cores {Environment.ProcessorCount}, server GC {GCSettings.IsServerGC}, Vector512 {Vector512.IsHardwareAccelerated}, ",
            $"Vector256 {Vector256.IsHardwareAccelerated}, seed {Seed}, {DateTime.UtcNow:yyyy-MM-dd}");

        // The first inversion in a process pays thread-pool start-up and JIT: measured here, once, and left out below.
        var warmUp = RandomSpd(600, Seed);
        var cold = Stopwatch.StartNew();
        DenseSpd.InvertInPlace(warmUp, 600);
        Print($"  warm-up: first inverse in the process (n=600) {cold.Elapsed.TotalSeconds:0.000} s");

        if (which is "all" or "inverse")
        {
            foreach (var n in orders)
            {
                Inverse(n);
            }
        }

        var root = DatasetLocator.Root;
        if (which is "all" or "data" or "ml100k")
        {
            await TrainAsync(DatasetCatalog.MovieLens100K, root);
        }

        if (which is "all" or "data" or "ml1m")
        {
            await TrainAsync(DatasetCatalog.MovieLens1M, root);
        }

        if (which is "all" or "data" or "sports")
        {
            await TrainAsync(DatasetCatalog.AmazonSports, root);
        }

        return 0;
    }

    private static void Inverse(int n)
    {
        // Small orders run in milliseconds and vary with the neighbours on a shared machine: several runs, the median.
        var runs = n <= 4_000 ? 7 : n <= 8_000 ? 3 : 1;
        var g = RandomSpd(n, Seed);
        var work = new float[g.Length];
        var choleskyTimes = new double[runs];
        var inverseTimes = new double[runs];
        for (var r = 0; r < runs; r++)
        {
            Array.Copy(g, work, g.Length);
            var clock = Stopwatch.StartNew();
            DenseSpd.CholeskyInPlace(work, n);
            choleskyTimes[r] = clock.Elapsed.TotalSeconds;

            Array.Copy(g, work, g.Length);
            clock.Restart();
            DenseSpd.InvertInPlace(work, n);
            inverseTimes[r] = clock.Elapsed.TotalSeconds;
        }

        Array.Sort(choleskyTimes);
        Array.Sort(inverseTimes);
        var cholesky = choleskyTimes[runs / 2];
        var inverse = inverseTimes[runs / 2];

        // |G·P − I| on a few columns, in double.
        var random = new Random(Seed);
        var residual = 0.0;
        for (var t = 0; t < 8; t++)
        {
            var j = random.Next(n);
            for (var i = 0; i < n; i++)
            {
                var sum = 0.0;
                for (var p = 0; p < n; p++)
                {
                    var gip = p <= i ? g[((long)i * n) + p] : g[((long)p * n) + i];
                    sum += gip * work[((long)p * n) + j];
                }

                residual = Math.Max(residual, Math.Abs(sum - (i == j ? 1 : 0)));
            }
        }

        var flops = (double)n * n * n;
        Print($"  inverse n={n:N0}, median of {runs}: Cholesky {cholesky:0.000} s ({flops / 3 / cholesky / 1e9:0.0} GFLOP/s at n³/3), ",
            $"inverse {inverse:0.000} s ({flops / inverse / 1e9:0.0} GFLOP/s at n³; best {inverseTimes[0]:0.000} s), max |G·P − I| over 8 columns {residual:0.0e0}, ",
            $"matrix {(double)n * n * 4 / (1L << 20):0} MiB");
    }

    // Lower triangle uniform in [-1, 1], diagonal n: diagonally dominant, so positive definite (condition about 3).
    private static float[] RandomSpd(int n, int seed)
    {
        var random = new Random(seed);
        var g = new float[(long)n * n];
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j < i; j++)
            {
                g[((long)i * n) + j] = (float)((random.NextDouble() * 2) - 1);
            }

            g[((long)i * n) + i] = n;
        }

        return g;
    }

    private static async Task TrainAsync(string name, string? root)
    {
        if (root is null || !Directory.Exists(Path.Combine(root, DatasetCatalog.FolderOf(name))))
        {
            Print($"  {name}: no data under {root ?? "(no data root)"}; set {DatasetLocator.EnvironmentVariable}.");
            return;
        }

        var clock = Stopwatch.StartNew();
        var log = await InteractionLog.BuildAsync(DatasetCatalog.Open(name, root), EventTypeRegistry.Default);
        var load = clock.Elapsed.TotalSeconds;
        clock.Restart();
        var matrix = UserItemMatrix.From(log, binary: true);
        var build = clock.Elapsed.TotalSeconds;
        clock.Restart();
        var model = EaseModel.Train(matrix, new EaseOptions());
        var train = clock.Elapsed.TotalSeconds;
        var times = model.TrainingTimes;
        var n = (double)model.ModelledItemCount;

        // Scoring speed: every 10th user, full catalogue.
        var scores = new float[model.ItemCount];
        var users = 0;
        clock.Restart();
        for (var u = 0; u < log.UserCount; u += 10)
        {
            model.Score(UserHistory.Of(log, u), scores);
            users++;
        }

        var scoring = clock.Elapsed.TotalMilliseconds / Math.Max(1, users);
        using var process = Process.GetCurrentProcess();
        Print($"  {name}: {log.Count:N0} events, {log.UserCount:N0} users, {log.ItemCount:N0} items ({model.ModelledItemCount:N0} with interactions), ",
            $"{matrix.NonZeros:N0} pairs; log {load:0.0} s, matrix {build:0.00} s");
        Print($"  {name}: train {train:0.00} s = Gram {times.Gram.TotalSeconds:0.00} s + inverse {times.Inverse.TotalSeconds:0.00} s ",
            $"({n * n * n / times.Inverse.TotalSeconds / 1e9:0.0} GFLOP/s) + weights {times.Weights.TotalSeconds:0.00} s; ",
            $"B {n * n * 4 / (1L << 20):0} MiB; peak working set so far {process.PeakWorkingSet64 / (double)(1L << 20):0} MiB; ",
            $"score one user {scoring:0.00} ms");
        if (name == DatasetCatalog.MovieLens100K)
        {
            clock.Restart();
            var error = RelativeErrorAgainstDouble(matrix, model);
            Print($"  {name}: max |B − B_double| / max |B_double| = {error:0.0e0} (double Gauss–Jordan reference, {clock.Elapsed.TotalSeconds:0.0} s)");
        }

        GC.KeepAlive(model);
    }

    // The same EASE weights computed in double with an in-place Gauss–Jordan inverse (no pivoting: G is SPD).
    private static double RelativeErrorAgainstDouble(UserItemMatrix matrix, EaseModel model)
    {
        var items = new List<int>();
        for (var i = 0; i < matrix.ItemCount; i++)
        {
            if (matrix.ItemDegree(i) > 0)
            {
                items.Add(i);
            }
        }

        var n = items.Count;
        var compact = new int[matrix.ItemCount];
        for (var c = 0; c < n; c++)
        {
            compact[items[c]] = c;
        }

        var g = new double[n * n];
        for (var u = 0; u < matrix.UserCount; u++)
        {
            var row = matrix.ItemsOf(u);
            foreach (var a in row)
            {
                foreach (var b in row)
                {
                    g[(compact[a] * n) + compact[b]] += 1;
                }
            }
        }

        for (var c = 0; c < n; c++)
        {
            g[(c * n) + c] += model.Lambda;
        }

        for (var k = 0; k < n; k++)
        {
            var pivotRow = g.AsSpan(k * n, n);
            var pivot = pivotRow[k];
            pivotRow[k] = 1;
            TensorPrimitives.Multiply(pivotRow, 1 / pivot, pivotRow);
            for (var i = 0; i < n; i++)
            {
                if (i == k)
                {
                    continue;
                }

                var row = g.AsSpan(i * n, n);
                var f = row[k];
                row[k] = 0;
                TensorPrimitives.MultiplyAdd(pivotRow, -f, row, row);
            }
        }

        var maxError = 0.0;
        var maxWeight = 0.0;
        for (var a = 0; a < n; a++)
        {
            for (var b = 0; b < n; b++)
            {
                var reference = a == b ? 0 : -g[(a * n) + b] / g[(b * n) + b];
                maxWeight = Math.Max(maxWeight, Math.Abs(reference));
                maxError = Math.Max(maxError, Math.Abs(model.Weight(items[a], items[b]) - reference));
            }
        }

        return maxError / maxWeight;
    }

    private static void Print(params FormattableString[] parts)
    {
        foreach (var part in parts)
        {
            Console.Write(part.ToString(CultureInfo.InvariantCulture));
        }

        Console.WriteLine();
    }
}

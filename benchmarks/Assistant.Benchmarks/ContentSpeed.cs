using System.Diagnostics;
using System.Globalization;
using Ranking.Candidates;
using Ranking.Data;
using Ranking.Demo;
using Ranking.Domain;
using Ranking.Import.Datasets;

namespace Assistant.Benchmarks;

/// <summary>
/// Content similarity speed and HNSW quality (docs/benchmarks/content.md): MiniLM encode throughput, exact and HNSW index
/// build, single-thread query throughput, recall@10 of HNSW against exact (all items as queries), and profile
/// scoring per user, on the demo catalog, the MovieLens-1M movies and a synthetic set made by perturbing the real
/// vectors. <c>dotnet run -c Release --project benchmarks/Assistant.Benchmarks -- content [syntheticCount]</c>
/// (default 100,000; 0 skips it). Seed 42 for the synthetic set.
/// </summary>
internal static class ContentSpeed
{
    private const int K = 10;
    private const int Seed = 42;

    public static async Task<int> RunAsync(string[] args)
    {
        var syntheticCount = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 100_000;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"content: cores {Environment.ProcessorCount}, k {K}, HNSW M 16 / efC 128 / efS 64, seed {Seed}, {DateTime.UtcNow:yyyy-MM-dd}"));

        var clock = Stopwatch.StartNew();
        using var encoder = new MiniLmTextEncoder();
        Console.WriteLine($"MiniLM load: {clock.Elapsed.TotalMilliseconds:F0} ms");

        // Warm-up: the first ONNX run plans the graph; keep it out of the first catalog's figure.
        var warmUp = new string[64];
        Array.Fill(warmUp, "warm-up text for the encoder");
        encoder.Encode(warmUp, new float[warmUp.Length * encoder.Dimension]);

        var results = new List<Result>();
        var pool = new List<float[]>();

        var demo = await InteractionLog.BuildAsync(new DemoMarketplace(new DemoMarketplaceOptions()), EventTypeRegistry.Default);
        results.Add(MeasureCatalog("demo marketplace", demo, encoder, pool));

        try
        {
            var root = DatasetLocator.Root ?? throw new DirectoryNotFoundException($"No data folder; set {DatasetLocator.EnvironmentVariable}.");
            var movies = await InteractionLog.BuildAsync(DatasetCatalog.Open(DatasetCatalog.MovieLens1M, root), EventTypeRegistry.Default);
            results.Add(MeasureCatalog("MovieLens-1M movies", movies, encoder, pool));
        }
        catch (DirectoryNotFoundException e)
        {
            Console.WriteLine($"MovieLens-1M skipped: {e.Message}");
        }

        Console.WriteLine("Amazon Sports skipped: its items carry anonymised attribute ids only (title \"Amazon Sports item N\"), no text.");

        if (syntheticCount > 0 && pool.Count > 0)
        {
            results.Add(MeasureSynthetic(syntheticCount, pool));
        }

        Console.WriteLine();
        Console.WriteLine("| data | items | dim | encode (items/s) | exact build | HNSW build (vec/s) | exact QPS | HNSW QPS | recall@10 HNSW vs exact | queries | profile score per user |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var r in results)
        {
            Console.WriteLine(r.ToMarkdown());
        }

        return 0;
    }

    private static Result MeasureCatalog(string name, InteractionLog log, MiniLmTextEncoder encoder, List<float[]> pool)
    {
        Console.WriteLine($"{name}: {log.Items.Count:N0} items, {log.UserCount:N0} users");
        var clock = Stopwatch.StartNew();
        using var model = ContentModel.Build(log.Items, encoder, new ContentOptions { Index = new VectorIndexOptions { Kind = VectorIndexKind.Exact } });
        var buildSeconds = clock.Elapsed.TotalSeconds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  encode + exact build: {buildSeconds:F1} s"));

        var keys = new int[model.VectorCount];
        var vectors = new float[model.VectorCount * model.Dimension];
        var n = 0;
        for (var i = 0; i < model.ItemCount; i++)
        {
            if (model.HasVector(i))
            {
                keys[n] = i;
                model.VectorOf(i).CopyTo(vectors.AsSpan(n * model.Dimension, model.Dimension));
                pool.Add(model.VectorOf(i).ToArray());
                n++;
            }
        }

        Console.WriteLine($"  sample text: {log.Items.TextOf(keys[0])}");
        var result = MeasureIndices(name, keys, vectors, model.Dimension, queryCount: keys.Length);
        result.EncodePerSecond = keys.Length / buildSeconds;

        // Profile scoring: every user's history (at most 2,000 users), exact over all item vectors.
        var scores = new float[model.ItemCount];
        var users = Math.Min(2000, log.UserCount);
        clock.Restart();
        for (var u = 0; u < users; u++)
        {
            model.Score(UserHistory.Of(log, u), scores);
        }

        result.ScoreMicroseconds = clock.Elapsed.TotalMicroseconds / users;
        Console.WriteLine($"  profile score: {result.ScoreMicroseconds:F0} us per user");
        return result;
    }

    private static Result MeasureSynthetic(int count, List<float[]> pool)
    {
        // Each vector: a random real item vector plus Gaussian noise of norm about 0.5, renormalised by the index.
        var dim = pool[0].Length;
        var random = new Random(Seed);
        var sigma = 0.5 / Math.Sqrt(dim);
        var vectors = new float[count * dim];
        var keys = new int[count];
        for (var i = 0; i < count; i++)
        {
            keys[i] = i;
            var basis = pool[random.Next(pool.Count)];
            for (var d = 0; d < dim; d++)
            {
                vectors[(i * dim) + d] = basis[d] + (float)(sigma * Gaussian(random));
            }
        }

        Console.WriteLine($"synthetic: {count:N0} x {dim} (perturbed real vectors)");
        return MeasureIndices($"synthetic {count / 1000}k x {dim}", keys, vectors, dim, queryCount: 1000);
    }

    private static Result MeasureIndices(string name, int[] keys, float[] vectors, int dim, int queryCount)
    {
        var result = new Result { Name = name, Items = keys.Length, Dimension = dim, Queries = queryCount };
        var clock = Stopwatch.StartNew();
        using var exact = new ExactVectorIndex(dim, keys.Length);
        exact.Add(keys, vectors);
        result.ExactBuildSeconds = clock.Elapsed.TotalSeconds;

        clock.Restart();
        using var hnsw = new HnswVectorIndex(dim);
        hnsw.Add(keys, vectors);
        result.HnswBuildSeconds = clock.Elapsed.TotalSeconds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  exact build {result.ExactBuildSeconds:F2} s, HNSW build {result.HnswBuildSeconds:F2} s"));

        // Queries: all items, or an evenly spaced sample of them.
        var queries = new float[queryCount * dim];
        var step = keys.Length / (double)queryCount;
        for (var q = 0; q < queryCount; q++)
        {
            var row = (int)(q * step);
            vectors.AsSpan(row * dim, dim).CopyTo(queries.AsSpan(q * dim, dim));
        }

        result.ExactQps = QueriesPerSecond(exact, queries, dim);
        result.HnswQps = QueriesPerSecond(hnsw, queries, dim);
        result.Recall = ContentModel.MeasureRecall(hnsw, exact, queries, K);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  exact {result.ExactQps:F0} QPS, HNSW {result.HnswQps:F0} QPS, recall@{K} {result.Recall:F4} over {queryCount:N0} queries"));
        return result;
    }

    private static double QueriesPerSecond(IVectorIndex index, float[] queries, int dim)
    {
        var keys = new int[K];
        var similarities = new float[K];
        var count = queries.Length / dim;
        var clock = Stopwatch.StartNew();
        for (var q = 0; q < count; q++)
        {
            index.Search(queries.AsSpan(q * dim, dim), keys, similarities);
        }

        return count / clock.Elapsed.TotalSeconds;
    }

    private static double Gaussian(Random random)
    {
        // Box-Muller.
        var u1 = 1.0 - random.NextDouble();
        var u2 = random.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }

    private sealed class Result
    {
        public required string Name { get; init; }

        public int Items { get; init; }

        public int Dimension { get; init; }

        public int Queries { get; init; }

        public double EncodePerSecond { get; set; } = double.NaN;

        public double ExactBuildSeconds { get; set; }

        public double HnswBuildSeconds { get; set; }

        public double ExactQps { get; set; }

        public double HnswQps { get; set; }

        public double Recall { get; set; }

        public double ScoreMicroseconds { get; set; } = double.NaN;

        public string ToMarkdown() => string.Create(CultureInfo.InvariantCulture,
            $"| {Name} | {Items:N0} | {Dimension} | {(double.IsNaN(EncodePerSecond) ? "–" : EncodePerSecond.ToString("N0", CultureInfo.InvariantCulture))} " +
            $"| {ExactBuildSeconds * 1000:F0} ms | {HnswBuildSeconds:F2} s ({Items / HnswBuildSeconds:N0}) | {ExactQps:N0} | {HnswQps:N0} | {Recall:F4} | {Queries:N0} " +
            $"| {(double.IsNaN(ScoreMicroseconds) ? "–" : ScoreMicroseconds.ToString("F0", CultureInfo.InvariantCulture) + " µs")} |");
    }
}

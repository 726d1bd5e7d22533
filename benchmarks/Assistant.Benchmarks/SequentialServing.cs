using System.Diagnostics;
using System.Globalization;
using Ranking.Candidates;
using Ranking.Data;
using Ranking.Domain;
using Ranking.Sequential;

namespace Assistant.Benchmarks;

/// <summary>
/// Serving latency of the transformer ranker, ONNX Runtime (<see cref="OnnxSequentialScorer"/>) against the C# forward
/// pass (docs/benchmarks/sequential-serving.md): <c>dotnet Assistant.Benchmarks.dll sequential-serving [items=20000]
/// [length=200] [width=64] [layers=2] [heads=2] [single=200] [batched=30] [cuda=false] [inputs=plain|all]</c>. With
/// <c>inputs=all</c> the model also reads action types, time gaps, surfaces and the scenario context (histories with
/// types, times, surfaces and anchors; every request with an anchor context). The model is trained for
/// one epoch on a synthetic log that touches every item (the weights barely move from their random start, which is
/// all timing needs). Timed: one user state at a full history, all-item scores, each for one request and for a batch
/// of 32, after an untimed warm-up; p50 and p99 over the repetitions.
/// </summary>
internal static class SequentialServing
{
    private const int Batch = 32;
    private const int Seed = 7;

    public static int Run(string[] args)
    {
        var settings = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var arg in args)
        {
            var eq = arg.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                Console.Error.WriteLine($"Expected key=value, got '{arg}'.");
                return 2;
            }

            settings[arg[..eq]] = arg[(eq + 1)..];
        }

        int Get(string key, int fallback) => settings.TryGetValue(key, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;
        var items = Get("items", 20_000);
        var length = Get("length", 200);
        var single = Get("single", 200);
        var batched = Get("batched", 30);
        var useCuda = settings.TryGetValue("cuda", out var cuda) && bool.Parse(cuda);
        var all = settings.TryGetValue("inputs", out var inputs) && inputs == "all";
        var options = new SequentialOptions
        {
            Width = Get("width", 64), Layers = Get("layers", 2), Heads = Get("heads", 2), MaxLength = length, Epochs = 1, BatchSize = 64,
            Negatives = 64, Dropout = 0.2f, Seed = Seed, ValidationUsers = null,
            UseActionTypes = all, UseTimeGaps = all, UseSurfaces = all, UseContext = all,
        };
        Console.WriteLine(
            $"sequential-serving: cores {Environment.ProcessorCount}, seed {Seed}, items {items}, history {length}, width {options.Width}, " +
            $"layers {options.Layers}, heads {options.Heads}, inputs {(all ? "types+gaps+surfaces+context" : "items")}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");

        var clock = Stopwatch.StartNew();
        var (log, histories) = Synthesize(items, length, all);
        var model = SequentialModel.Train(log, options);
        Console.WriteLine($"trained 1 epoch on {log.Count} events in {clock.Elapsed.TotalSeconds:F1} s");

        clock.Restart();
        using var scorer = new OnnxSequentialScorer(model, new OnnxScorerOptions { UseCuda = useCuda, MaxBatchSize = Batch }, Console.WriteLine);
        Console.WriteLine($"exported and opened the session in {clock.Elapsed.TotalSeconds:F1} s; provider {scorer.ExecutionProvider}");

        var d = model.Width;
        var state = new float[d];
        var onnxState = new float[d];
        var scores = new float[items];
        var onnxScores = new float[items];
        var states = new float[Batch * d];
        var batchScores = new float[Batch * items];
        var found = new bool[Batch];
        var users = Array.ConvertAll(histories, h => History(h, all));
        var user = users[0];
        var contexts = Enumerable.Range(0, Batch).Select(h => all ? SequentialContext.Anchor(histories[h][0], 1) : SequentialContext.Home).ToArray();
        var context = contexts[0];

        var stateDiff = 0.0;
        var scoreDiff = 0.0;
        for (var h = 0; h < Batch; h++)
        {
            model.TryComputeStateOf(users[h], contexts[h], state);
            scorer.TryComputeStateOf(users[h], contexts[h], onnxState);
            model.Score(users[h], contexts[h], scores);
            scorer.Score(users[h], contexts[h], onnxScores);
            stateDiff = Math.Max(stateDiff, MaxDiff(state, onnxState));
            scoreDiff = Math.Max(scoreDiff, MaxDiff(scores, onnxScores));
        }

        Console.WriteLine($"parity over {Batch} histories: max |state diff| {stateDiff:E1}, max |score diff| {scoreDiff:E1}");
        Console.WriteLine();
        Console.WriteLine("| measure | requests | C# p50 ms | C# p99 ms | ORT p50 ms | ORT p99 ms |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|");
        Row($"user state, history {length}", 1, single,
            () => model.TryComputeStateOf(user, context, state),
            () => scorer.TryComputeStateOf(user, context, onnxState));
        Row($"user state, history {length}", Batch, batched,
            () =>
            {
                for (var h = 0; h < Batch; h++)
                {
                    model.TryComputeStateOf(users[h], contexts[h], states.AsSpan(h * d, d));
                }
            },
            () => scorer.ComputeStates(users, states, found, contexts));
        Row($"state + scores of {items:N0} items", 1, single,
            () => model.Score(user, context, scores),
            () => scorer.Score(user, context, onnxScores));
        Row($"state + scores of {items:N0} items", Batch, batched,
            () =>
            {
                for (var h = 0; h < Batch; h++)
                {
                    model.Score(users[h], contexts[h], batchScores.AsSpan(h * items, items));
                }
            },
            () => scorer.ScoreBatch(users, batchScores, found, contexts));
        return 0;
    }

    private static void Row(string measure, int requests, int repetitions, Action csharp, Action onnx)
    {
        var (cP50, cP99) = Time(csharp, repetitions);
        var (oP50, oP99) = Time(onnx, repetitions);
        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture, $"| {measure} | {requests} | {cP50:F2} | {cP99:F2} | {oP50:F2} | {oP99:F2} |"));
    }

    private static (double P50, double P99) Time(Action action, int repetitions)
    {
        for (var w = 0; w < Math.Max(3, repetitions / 10); w++)
        {
            action();
        }

        var times = new double[repetitions];
        for (var r = 0; r < repetitions; r++)
        {
            var start = Stopwatch.GetTimestamp();
            action();
            times[r] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }

        Array.Sort(times);
        return (Percentile(times, 0.50), Percentile(times, 0.99));
    }

    private static double Percentile(double[] sorted, double q) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)];

    private static double MaxDiff(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        var worst = 0.0;
        for (var i = 0; i < a.Length; i++)
        {
            if (float.IsFinite(a[i]) || float.IsFinite(b[i]))
            {
                worst = Math.Max(worst, Math.Abs(a[i] - b[i]));
            }
        }

        return worst;
    }

    /// <summary>A log where every item occurs (user u walks the catalogue from its own start), and 32 histories of
    /// <paramref name="length"/> random items for timing.</summary>
    private static (InteractionLog Log, int[][] Histories) Synthesize(int items, int length, bool all)
    {
        var builder = new InteractionLogBuilder(EventTypeRegistry.Default);
        for (var i = 0; i < items; i++)
        {
            builder.AddItem(new Item { Id = $"i{i}", Title = $"Item {i}", Category = "A" });
        }

        EventTypeRegistry.Default.TryGetCode(EventTypeRegistry.View, out var view);
        const int PerUser = 50;
        var users = (items + PerUser - 1) / PerUser;
        for (var u = 0; u < users; u++)
        {
            for (var j = 0; j < PerUser; j++)
            {
                var item = ((u * PerUser) + j) % items;
                if (!all)
                {
                    builder.Add($"u{u}", $"i{item}", view, 1_000_000L + (j * 60_000L));
                    continue;
                }

                builder.Add(new UserEvent
                {
                    EventId = $"e{u}-{j}", UserId = $"u{u}", ItemId = $"i{item}", Type = j % 5 == 4 ? EventTypeRegistry.Cart : EventTypeRegistry.View,
                    Timestamp = DateTimeOffset.FromUnixTimeMilliseconds(1_000_000L + (j * 60_000L * (1 + (j % 7)))),
                    Surface = Surfaces[j % Surfaces.Length], ContextItemId = j % 3 == 0 ? $"i{(item + 1) % items}" : null,
                });
            }
        }

        var random = new Random(Seed);
        var histories = new int[Batch][];
        for (var h = 0; h < Batch; h++)
        {
            histories[h] = new int[length];
            for (var t = 0; t < length; t++)
            {
                histories[h][t] = random.Next(items);
            }
        }

        return (builder.Build(), histories);
    }

    private static readonly string[] Surfaces = ["home", "analogs", "search"];

    private static UserHistory History(int[] items, bool all)
    {
        if (!all)
        {
            return new(-1, items, new float[items.Length], new long[items.Length]);
        }

        var n = items.Length;
        return new UserHistory(
            -1, items, new float[n], Enumerable.Range(0, n).Select(t => 1_000_000L + (t * 90_000L)).ToArray(), Enumerable.Range(0, n).Select(t => (byte)(t % 3)).ToArray())
        {
            Surfaces = Enumerable.Range(0, n).Select(t => (byte)(1 + (t % 3))).ToArray(),
            ContextItems = Enumerable.Range(0, n).Select(t => t % 4 == 0 ? items[(t + 1) % n] : -1).ToArray(),
        };
    }
}

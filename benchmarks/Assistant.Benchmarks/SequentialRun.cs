using System.Diagnostics;
using System.Globalization;
using System.Runtime.Intrinsics;
using Ranking.Data;
using Ranking.Domain;
using Ranking.Evaluation;
using Ranking.Import.Datasets;
using Ranking.Sequential;

namespace Assistant.Benchmarks;

/// <summary>
/// The transformer ranker's quality and speed (docs/benchmarks/sequential.md):
/// <c>dotnet Assistant.Benchmarks.dll sequential [ml100k|sports|ml1m|speed] [key=value ...]</c>.
/// A data set is trained on the leave-one-out validation stage's training rows, stopped early on validation NDCG@10,
/// then evaluated on the test stage (full ranking, seen items removed, 95 % bootstrap intervals). "speed" times
/// training steps on ML-1M's longest histories at MaxLength 50, 128, 256, 512 and 1,024 (after an untimed warm-up). Keys override <see cref="SequentialOptions"/>: layers,
/// heads, width, ffn, maxlen, dropout, lr, wd, warmup, epochs, batch, negatives, sampling (uniform|popularity),
/// full (true|false), patience, every, vusers, seed, steps (speed only), refit (true: after early stopping, train
/// again on the test stage's training rows for the best epoch count).
/// </summary>
internal static class SequentialRun
{
    public static async Task<int> RunAsync(string[] args)
    {
        var which = args.Length > 0 ? args[0] : "ml100k";
        var settings = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var arg in args.Skip(1))
        {
            var eq = arg.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                Console.Error.WriteLine($"Expected key=value, got '{arg}'.");
                return 2;
            }

            settings[arg[..eq]] = arg[(eq + 1)..];
        }

        Print($"sequential: cores {Environment.ProcessorCount}, Vector256 {Vector256.IsHardwareAccelerated}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        var root = DatasetLocator.Root;
        var name = which switch
        {
            "ml100k" => DatasetCatalog.MovieLens100K,
            "ml1m" or "speed" => DatasetCatalog.MovieLens1M,
            "sports" => DatasetCatalog.AmazonSports,
            _ => null,
        };
        if (name is null)
        {
            Console.Error.WriteLine("Usage: sequential [ml100k|sports|ml1m|speed] [key=value ...]");
            return 2;
        }

        if (root is null || !Directory.Exists(Path.Combine(root, DatasetCatalog.FolderOf(name))))
        {
            Print($"{name}: no data under {root ?? "(no data root)"}; set {DatasetLocator.EnvironmentVariable}.");
            return 1;
        }

        var clock = Stopwatch.StartNew();
        var log = await InteractionLog.BuildAsync(DatasetCatalog.Open(name, root), EventTypeRegistry.Default);
        Print($"{name}: {log.Count:N0} events, {log.UserCount:N0} users, {log.ItemCount:N0} items; read in {clock.Elapsed.TotalSeconds:0.0} s");
        var defaults = which switch
        {
            "ml1m" or "speed" => new SequentialOptions { Layers = 2, MaxLength = 200, Dropout = 0.2f, Epochs = 30 },
            "ml100k" => new SequentialOptions { Layers = 2, MaxLength = 200, Dropout = 0.2f, Epochs = 60, BatchSize = 64 },
            _ => new SequentialOptions(),
        };
        var options = Apply(defaults, settings);
        if (which == "speed")
        {
            Speed(log, options, settings.TryGetValue("steps", out var s) ? int.Parse(s, CultureInfo.InvariantCulture) : 10);
            return 0;
        }

        Quality(log, name, options, settings.TryGetValue("refit", out var r) && bool.Parse(r));
        return 0;
    }

    private static void Quality(InteractionLog log, string name, SequentialOptions options, bool refit)
    {
        var test = Splits.LeaveOneOut(log);
        var validation = Splits.LeaveOneOut(log, LeaveOneOutStage.Validation);
        Print($"{name}: options {options}");
        var positions = 0L;
        var trainingSeconds = 0.0;
        var progress = new EpochPrinter(e =>
        {
            positions += e.Positions;
            trainingSeconds += e.Seconds;
            Print($"  epoch {e.Epoch,3}: loss {e.Loss:0.0000}, {e.Seconds:0.0} s, {e.Positions / e.Seconds:N0} positions/s",
                $"{(e.ValidationNdcg is { } v ? $", validation NDCG@10 {v:0.0000}" : "")}");
        });
        var clock = Stopwatch.StartNew();
        var model = SequentialModel.Train(validation.Train, options, validation, progress);
        var wall = clock.Elapsed.TotalSeconds;
        Print($"{name}: trained {model.EpochsRun} epochs (best {model.BestEpoch}) in {wall:0.0} s wall ({trainingSeconds:0.0} s in training steps, ",
            $"{positions / Math.Max(1e-9, trainingSeconds):N0} positions/s), {model.ParameterCount:N0} parameters");
        if (refit)
        {
            // The validation stage picked the epoch count; refit on every row before the test targets (the validation
            // targets included) for that many epochs, so the learning rate decays over the run that is kept.
            var refitOptions = options with { Epochs = Math.Max(1, model.BestEpoch) };
            positions = 0;
            trainingSeconds = 0;
            clock.Restart();
            model = SequentialModel.Train(test.Train, refitOptions, progress: progress);
            var refitWall = clock.Elapsed.TotalSeconds;
            Print($"{name}: refit on the test stage's training rows, {refitOptions.Epochs} epochs in {refitWall:0.0} s wall ",
                $"({positions / Math.Max(1e-9, trainingSeconds):N0} positions/s)");
            wall += refitWall;
        }

        var result = RankingEvaluator.Evaluate(model, test, new EvaluationOptions(), wall);
        Print($"{name} loo-test, {result.Users:N0} users ({result.UsersWithoutAnswer} without answer), scoring {result.ScoreSeconds:0.0} s:");
        foreach (var metric in new[] { "hr@10", "ndcg@10", "hr@1", "hr@50", "mrr@10" })
        {
            var v = result.Metrics[metric];
            Print($"  {metric,-8} {v.Mean:0.0000} [{v.Low:0.0000}, {v.High:0.0000}]");
        }

        Print($"  coverage@10 {result.Coverage[10]:0.0000}, novelty@10 {result.Novelty[10]:0.00}");
    }

    private static void Speed(InteractionLog log, SequentialOptions options, int steps)
    {
        // The first run pays JIT and thread-pool start-up: an untimed pass at MaxLength 50, then 50 to 1,024 timed.
        var first = true;
        foreach (var maxLength in new[] { 50, 50, 128, 256, 512, 1024 })
        {
            // A fixed number of steps over the longest histories: each sequence fills MaxLength positions where it can.
            var o = options with { MaxLength = maxLength, Epochs = 1, WarmupSteps = 1 };
            var keep = new bool[log.Count];
            var users = Enumerable.Range(0, log.UserCount).OrderByDescending(u => log.UserOffsets[u + 1] - log.UserOffsets[u]).Take(steps * o.BatchSize).ToHashSet();
            for (var r = 0; r < log.Count; r++)
            {
                keep[r] = users.Contains(log.User[r]);
            }

            var subset = log.Subset(keep);
            long positions = 0;
            double seconds = 0;
            var progress = new EpochPrinter(e =>
            {
                positions = e.Positions;
                seconds = e.Seconds;
            });
            SequentialModel.Train(subset, o, progress: progress);
            if (first)
            {
                first = false;
                continue;
            }

            Print($"  MaxLength {maxLength,4}: {steps} steps of {o.BatchSize} sequences, {positions:N0} positions in {seconds:0.0} s = ",
                $"{positions / seconds:N0} positions/s, {seconds / steps * 1000:0} ms/step ({o.Layers} blocks, width {o.Width}, ",
                $"{(o.FullSoftmax ? "full softmax" : $"{o.Negatives} negatives")})");
        }
    }

    private static SequentialOptions Apply(SequentialOptions o, Dictionary<string, string> s)
    {
        int I(string key, int value) => s.TryGetValue(key, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : value;
        float F(string key, float value) => s.TryGetValue(key, out var v) ? float.Parse(v, CultureInfo.InvariantCulture) : value;
        return o with
        {
            Layers = I("layers", o.Layers),
            Heads = I("heads", o.Heads),
            Width = I("width", o.Width),
            FeedForwardWidth = I("ffn", o.FeedForwardWidth),
            MaxLength = I("maxlen", o.MaxLength),
            Dropout = F("dropout", o.Dropout),
            LearningRate = F("lr", o.LearningRate),
            WeightDecay = F("wd", o.WeightDecay),
            WarmupSteps = I("warmup", o.WarmupSteps),
            Epochs = I("epochs", o.Epochs),
            BatchSize = I("batch", o.BatchSize),
            Negatives = I("negatives", o.Negatives),
            Sampling = s.TryGetValue("sampling", out var sampling) ? Enum.Parse<NegativeSampling>(sampling, ignoreCase: true) : o.Sampling,
            FullSoftmax = s.TryGetValue("full", out var full) ? bool.Parse(full) : o.FullSoftmax,
            Patience = I("patience", o.Patience),
            ValidateEvery = I("every", o.ValidateEvery),
            ValidationUsers = s.TryGetValue("vusers", out var vu) ? (vu == "all" ? null : int.Parse(vu, CultureInfo.InvariantCulture)) : o.ValidationUsers,
            Seed = I("seed", o.Seed),
        };
    }

    private static void Print(params FormattableString[] parts)
    {
        foreach (var part in parts)
        {
            Console.Write(part.ToString(CultureInfo.InvariantCulture));
        }

        Console.WriteLine();
    }

    // Reports synchronously on the training thread (Progress<T> would post to the thread pool and reorder lines).
    private sealed class EpochPrinter(Action<SequentialEpoch> report) : IProgress<SequentialEpoch>
    {
        public void Report(SequentialEpoch value) => report(value);
    }
}

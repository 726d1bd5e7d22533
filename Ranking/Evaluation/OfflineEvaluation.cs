using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Ranking.Data;

namespace Ranking.Evaluation;

/// <summary>How <see cref="OfflineEvaluation"/> splits the log.</summary>
public enum SplitKind
{
    /// <summary>Leave-one-out, test stage (<see cref="Splits.LeaveOneOut"/>).</summary>
    LeaveOneOut,

    /// <summary>Global temporal split at <see cref="OfflineRunOptions.TemporalShare"/> of the events.</summary>
    Temporal,
}

/// <summary>Settings of an offline run.</summary>
public sealed record OfflineRunOptions
{
    public SplitKind Split { get; init; } = SplitKind.LeaveOneOut;

    /// <summary>For the temporal split: the share of events before the cut.</summary>
    public double TemporalShare { get; init; } = 0.9;

    public EvaluationOptions Evaluation { get; init; } = new();
}

/// <summary>The outcome of an offline run: the data, the split and one result per model.</summary>
public sealed record OfflineRun
{
    public required string Dataset { get; init; }

    public required string Split { get; init; }

    public int Events { get; init; }

    public int UserCount { get; init; }

    public int ItemCount { get; init; }

    public int EvaluatedUsers { get; init; }

    public DateTimeOffset Date { get; init; }

    public int Cores { get; init; }

    public required IReadOnlyList<EvaluationResult> Results { get; init; }

    /// <summary>Models that failed to train, with the reason (a run goes on without them).</summary>
    public IReadOnlyDictionary<string, string> Failures { get; init; } = new Dictionary<string, string>();
}

/// <summary>Trains each named generator on a split of a log and evaluates it with <see cref="RankingEvaluator"/>.</summary>
public static class OfflineEvaluation
{
    public static OfflineRun Run(
        string dataset, InteractionLog log, IReadOnlyList<string> models, OfflineRunOptions? options = null,
        TextWriter? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(log);
        ArgumentNullException.ThrowIfNull(models);
        options ??= new OfflineRunOptions();
        var split = options.Split == SplitKind.LeaveOneOut
            ? Splits.LeaveOneOut(log)
            : Splits.Temporal(log, Splits.TimeAtShare(log, options.TemporalShare));
        progress?.WriteLine($"{dataset}: {log.Count:N0} events, {log.UserCount:N0} users, {log.ItemCount:N0} items; split {split.Name}: {split.Users.Length:N0} users evaluated, {split.Train.Count:N0} training events.");

        var results = new List<EvaluationResult>();
        var failures = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var name in models)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var watch = Stopwatch.StartNew();
            Candidates.ICandidateGenerator model;
            try
            {
                model = GeneratorCatalog.Train(name, split.Train, cancellationToken);
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException or NotSupportedException or OutOfMemoryException)
            {
                failures[name] = e.Message;
                progress?.WriteLine($"  {name}: not trained: {e.Message}");
                continue;
            }

            var trainSeconds = watch.Elapsed.TotalSeconds;
            var result = RankingEvaluator.Evaluate(model, split, options.Evaluation, trainSeconds, cancellationToken) with { Model = name };
            (model as IDisposable)?.Dispose();
            results.Add(result);
            progress?.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"  {name}: NDCG@10 {Get(result, "ndcg@10"):F4}  HR@10 {Get(result, "hr@10"):F4}  train {trainSeconds:F1} s, score {result.ScoreSeconds:F1} s"));
        }

        return new OfflineRun
        {
            Dataset = dataset,
            Split = split.Name,
            Events = log.Count,
            UserCount = log.UserCount,
            ItemCount = log.ItemCount,
            EvaluatedUsers = split.Users.Length,
            Date = DateTimeOffset.UtcNow,
            Cores = Environment.ProcessorCount,
            Results = results,
            Failures = failures,
        };
    }

    private static double Get(EvaluationResult result, string metric) =>
        result.Metrics.TryGetValue(metric, out var v) ? v.Mean : double.NaN;

    /// <summary>One Markdown table: a row per model, metrics with their 95 % intervals, coverage, novelty and times.</summary>
    public static string ToMarkdown(OfflineRun run)
    {
        ArgumentNullException.ThrowIfNull(run);
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.Append(c, $"### {run.Dataset}, {run.Split}\n\n");
        sb.Append(c, $"{run.Events:N0} events, {run.UserCount:N0} users, {run.ItemCount:N0} items; {run.EvaluatedUsers:N0} users evaluated; full ranking, seen items removed; {run.Cores} cores; {run.Date:yyyy-MM-dd}.\n\n");
        sb.Append("| model | NDCG@10 | HR@10 | HR@1 | HR@50 | MRR@10 | Recall@10 | coverage@10 | novelty@10 | train s | score s |\n");
        sb.Append("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
        foreach (var r in run.Results)
        {
            sb.Append(c, $"| {r.Model} | {Cell(r, "ndcg@10")} | {Cell(r, "hr@10")} | {Cell(r, "hr@1")} | {Cell(r, "hr@50")} | {Cell(r, "mrr@10")} | {Cell(r, "recall@10")} | ");
            sb.Append(c, $"{(r.Coverage.TryGetValue(10, out var cov) ? cov.ToString("F3", c) : "-")} | {(r.Novelty.TryGetValue(10, out var nov) ? nov.ToString("F2", c) : "-")} | {r.TrainSeconds:F1} | {r.ScoreSeconds:F1} |\n");
        }

        foreach (var (model, reason) in run.Failures)
        {
            sb.Append(c, $"\n{model}: not trained: {reason}\n");
        }

        return sb.ToString();

        static string Cell(EvaluationResult r, string metric)
        {
            if (!r.Metrics.TryGetValue(metric, out var v))
            {
                return "-";
            }

            return double.IsNaN(v.Low)
                ? v.Mean.ToString("F4", CultureInfo.InvariantCulture)
                : string.Create(CultureInfo.InvariantCulture, $"{v.Mean:F4} [{v.Low:F4}, {v.High:F4}]");
        }
    }

    /// <summary>The run as JSON (every metric at every cut-off, with intervals).</summary>
    public static string ToJson(OfflineRun run)
    {
        ArgumentNullException.ThrowIfNull(run);
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("dataset", run.Dataset);
            w.WriteString("split", run.Split);
            w.WriteNumber("events", run.Events);
            w.WriteNumber("users", run.UserCount);
            w.WriteNumber("items", run.ItemCount);
            w.WriteNumber("evaluatedUsers", run.EvaluatedUsers);
            w.WriteString("date", run.Date);
            w.WriteNumber("cores", run.Cores);
            w.WriteStartArray("results");
            foreach (var r in run.Results)
            {
                w.WriteStartObject();
                w.WriteString("model", r.Model);
                w.WriteString("settings", GeneratorCatalog.Settings(r.Model));
                w.WriteNumber("users", r.Users);
                w.WriteNumber("usersWithoutAnswer", r.UsersWithoutAnswer);
                w.WriteNumber("trainSeconds", Math.Round(r.TrainSeconds, 3));
                w.WriteNumber("scoreSeconds", Math.Round(r.ScoreSeconds, 3));
                w.WriteStartObject("metrics");
                foreach (var (name, v) in r.Metrics)
                {
                    w.WriteStartObject(name);
                    w.WriteNumber("mean", v.Mean);
                    if (!double.IsNaN(v.Low))
                    {
                        w.WriteNumber("low", v.Low);
                        w.WriteNumber("high", v.High);
                    }

                    w.WriteEndObject();
                }

                w.WriteEndObject();
                w.WriteStartObject("coverage");
                foreach (var (k, v) in r.Coverage)
                {
                    w.WriteNumber(k.ToString(CultureInfo.InvariantCulture), v);
                }

                w.WriteEndObject();
                w.WriteStartObject("novelty");
                foreach (var (k, v) in r.Novelty)
                {
                    w.WriteNumber(k.ToString(CultureInfo.InvariantCulture), v);
                }

                w.WriteEndObject();
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteStartObject("failures");
            foreach (var (model, reason) in run.Failures)
            {
                w.WriteString(model, reason);
            }

            w.WriteEndObject();
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }
}

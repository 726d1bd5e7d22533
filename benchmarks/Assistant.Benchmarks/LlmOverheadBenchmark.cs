using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Assistant.Plugins.Grammar;
using Assistant.Plugins.Llm;
using Microsoft.Extensions.AI;
using Ranking.Import.Datasets;

namespace Assistant.Benchmarks;

/// <summary>
/// <c>llm-overhead [runs] [model.gguf]</c>: what the local LLM path costs per call with a GGUF model (the tiny
/// stories260K by default): load time, time to first token, tokens/s for free text and for grammar-constrained JSON,
/// and the grammar's own cost (schema to GBNF conversion, and constrained vs free generation).
/// </summary>
internal static class LlmOverheadBenchmark
{
    /// <summary>Output shapes of the LLM tasks, small versions of the plugins' records.</summary>
    private sealed record Explanation(string Text);

    private sealed record Interest(string Category, double Strength, bool Lifelong);

    private sealed record InterestProfile(IReadOnlyList<Interest> Interests);

    private sealed record BrandPick(string Brand, string Reason);

    private sealed record BrandPicks(IReadOnlyList<BrandPick> Brands);

    private sealed record CrmCopy(string Subject, string Body);

    public static async Task<int> RunAsync(string[] args)
    {
        var runs = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 10;
        var path = args.Length > 1 ? args[1]
            : DatasetLocator.Root is { } root ? Path.Combine(root, "stories260K-gguf", "stories260K.gguf") : null;
        if (path is null || !File.Exists(path))
        {
            Console.Error.WriteLine("No GGUF model: pass its path, or keep shared/data/stories260K-gguf beside the repository.");
            return 2;
        }

        var options = new LlmOptions
        {
            Provider = LlmProvider.Local, ModelPath = path, ContextSize = 1024, MaxOutputTokens = 256, TimeBudgetMs = 60_000,
            JsonMaxStringLength = 24, Threads = Environment.ProcessorCount,
        };
        var clock = Stopwatch.StartNew();
        using var client = new LocalLlamaChatClient(options);
        var load = clock.Elapsed.TotalMilliseconds;
        Console.WriteLine($"# LLM overhead: {Path.GetFileName(path)}, {runs} runs per task, {Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd}");
        Console.WriteLine();
        Console.WriteLine($"Model load: {load:0} ms (LocalLlamaChatClient constructor; weights loaded once per process).");
        Console.WriteLine();

        Console.WriteLine("| task | grammar (ms to build) | time to first token p50 (ms) | total p50 (ms) | output tokens (mean) | tokens/s | valid output |");
        Console.WriteLine("|---|---|---|---|---|---|---|");
        await Measure("free text (no grammar)", null, 0);
        await MeasureTyped<Explanation>("explanation");
        await MeasureTyped<InterestProfile>("user interests");
        await MeasureTyped<BrandPicks>("brand discovery");
        await MeasureTyped<CrmCopy>("CRM copy");
        return 0;

        async Task MeasureTyped<T>(string name)
        {
            var build = Stopwatch.StartNew();
            var schema = JsonSchemaGrammar.SchemaOf<T>();
            _ = JsonSchemaGrammar.FromSchema(schema, new JsonGrammarOptions { MaxStringLength = 24 });
            var ms = build.Elapsed.TotalMilliseconds;
            await Measure(name, ChatResponseFormat.ForJsonSchema(schema, typeof(T).Name), ms);
        }

        async Task Measure(string name, ChatResponseFormat? format, double grammarMs)
        {
            var first = new List<double>();
            var total = new List<double>();
            var tokens = new List<int>();
            var cutOff = 0;
            for (var r = 0; r < runs; r++)
            {
                var chat = new ChatOptions { ResponseFormat = format, Seed = 42 + r, MaxOutputTokens = format is null ? 64 : 256 };
                var sw = Stopwatch.StartNew();
                double? ttft = null;
                var count = 0;
                try
                {
                    await foreach (var update in client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "Tell me about a snowboard.")], chat))
                    {
                        if (!string.IsNullOrEmpty(update.Text))
                        {
                            ttft ??= sw.Elapsed.TotalMilliseconds;
                            count++;
                        }
                    }
                }
                catch (LlmOutputException)
                {
                    // The tiny model can run out of tokens inside a JSON string: counted, timed, reported.
                    cutOff++;
                }

                total.Add(sw.Elapsed.TotalMilliseconds);
                first.Add(ttft ?? double.NaN);
                tokens.Add(count);
            }

            var seconds = total.Sum() / 1000;
            Console.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"| {name} | {(format is null ? "none" : grammarMs.ToString("0.0", CultureInfo.InvariantCulture))} | {Median(first):0.0} | {Median(total):0.0} | {tokens.Average():0.0} | {tokens.Sum() / seconds:0} | {runs - cutOff}/{runs} |"));
        }
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Where(v => !double.IsNaN(v)).Order().ToList();
        return sorted.Count == 0 ? double.NaN : sorted[sorted.Count / 2];
    }
}

using System.Globalization;
using Ranking.Data;
using Ranking.Demo;
using Ranking.Domain;
using Ranking.Evaluation;
using Ranking.Import.Datasets;

namespace Assistant.Api.Cli;

/// <summary>
/// <c>eval</c>: trains candidate generators on a split of a data set, the demo marketplace or the configured store,
/// evaluates them with full ranking, prints one table and writes it as Markdown and JSON.
/// Exit codes: 0 done, 1 a model failed to train, 2 usage error.
/// </summary>
internal static class EvalCommand
{
    public const string Usage = """
        Usage:
          eval <movielens-100k|movielens-1m|amazon-sports|rees46|demo|store> [--models a,b,...|all] [--split loo|temporal]
               [--max-users N] [--resamples N] [--out DIR] [--data-root DIR] [--scale X] [--seed N]
        Models: popularity, popularity-alltime, itemknn, ease, als, cooc-analogs-pmi, cooc-analogs-swing, cooc-complements-pmi, content, sequential (default: all; sequential trains for minutes).
        loo: leave-one-out, the last new item of each user is the target; temporal: the last 10 % of events are the test.
        Writes DIR/eval-<data>-<split>.md and .json (DIR defaults to ./eval). The protocol is in docs/EVALUATION.md.
        """;

    public static async Task<int> RunAsync(CommandLine command, IServiceProvider services, TextWriter output, CancellationToken cancellationToken)
    {
        if (command.Has("help") || command.Positional.Count == 0)
        {
            await output.WriteLineAsync(Usage).ConfigureAwait(false);
            return command.Has("help") ? 0 : 2;
        }

        var data = command.Positional[0].ToLowerInvariant();
        IReadOnlyList<string> models;
        OfflineRunOptions options;
        try
        {
            models = ParseModels(command.Get("models"));
            options = ParseOptions(command);
        }
        catch (ArgumentException e)
        {
            await output.WriteLineAsync($"error: {e.Message}").ConfigureAwait(false);
            await output.WriteLineAsync(Usage).ConfigureAwait(false);
            return 2;
        }

        InteractionLog log;
        try
        {
            log = await LoadAsync(data, command, services, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is ArgumentException or DirectoryNotFoundException or FileNotFoundException)
        {
            await output.WriteLineAsync($"error: {e.Message}").ConfigureAwait(false);
            await output.WriteLineAsync(Usage).ConfigureAwait(false);
            return 2;
        }

        var run = OfflineEvaluation.Run(data, log, models, options, output, cancellationToken);
        var markdown = OfflineEvaluation.ToMarkdown(run);
        await output.WriteLineAsync().ConfigureAwait(false);
        await output.WriteLineAsync(markdown).ConfigureAwait(false);

        var folder = command.Get("out") ?? "eval";
        System.IO.Directory.CreateDirectory(folder);
        var stem = System.IO.Path.Combine(folder, $"eval-{data}-{run.Split}");
        await File.WriteAllTextAsync(stem + ".md", markdown, cancellationToken).ConfigureAwait(false);
        await File.WriteAllTextAsync(stem + ".json", OfflineEvaluation.ToJson(run), cancellationToken).ConfigureAwait(false);
        await output.WriteLineAsync($"Written {stem}.md and {stem}.json").ConfigureAwait(false);
        return run.Failures.Count == 0 ? 0 : 1;
    }

    private static IReadOnlyList<string> ParseModels(string? value)
    {
        if (value is null || value.Equals("all", StringComparison.OrdinalIgnoreCase))
        {
            return GeneratorCatalog.Names;
        }

        var names = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (var name in names)
        {
            if (!GeneratorCatalog.Names.Contains(name.ToLowerInvariant()))
            {
                throw new ArgumentException($"Unknown model '{name}'. Known: {string.Join(", ", GeneratorCatalog.Names)}.");
            }
        }

        return names.Length > 0 ? names : throw new ArgumentException("--models names no model.");
    }

    private static OfflineRunOptions ParseOptions(CommandLine command)
    {
        var split = command.Get("split")?.ToLowerInvariant() switch
        {
            null or "loo" => SplitKind.LeaveOneOut,
            "temporal" => SplitKind.Temporal,
            var s => throw new ArgumentException($"Unknown split '{s}': use loo or temporal."),
        };
        var evaluation = new EvaluationOptions();
        if (command.Get("max-users") is { } maxUsers)
        {
            evaluation = evaluation with { MaxUsers = PositiveInt(maxUsers, "--max-users") };
        }

        if (command.Get("resamples") is { } resamples)
        {
            evaluation = evaluation with { BootstrapResamples = int.TryParse(resamples, CultureInfo.InvariantCulture, out var r) && r >= 0 ? r : throw new ArgumentException("--resamples must be a whole number >= 0.") };
        }

        return new OfflineRunOptions { Split = split, Evaluation = evaluation };
    }

    private static int PositiveInt(string value, string option) =>
        int.TryParse(value, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : throw new ArgumentException($"{option} must be a whole number > 0.");

    private static async Task<InteractionLog> LoadAsync(string data, CommandLine command, IServiceProvider services, CancellationToken cancellationToken)
    {
        var types = services.GetRequiredService<EventTypeRegistry>();
        switch (data)
        {
            case "demo":
                var seed = int.TryParse(command.Get("seed"), CultureInfo.InvariantCulture, out var s) ? s : 42;
                var scale = double.TryParse(command.Get("scale"), CultureInfo.InvariantCulture, out var x) ? x : 1.0;
                return await InteractionLog.BuildAsync(new DemoMarketplace(new DemoMarketplaceOptions { Seed = seed, Scale = scale }), types, cancellationToken).ConfigureAwait(false);
            case "store":
                var store = services.GetRequiredService<IMarketplaceStore>();
                await store.InitializeAsync(cancellationToken).ConfigureAwait(false);
                return await InteractionLog.BuildAsync(store, store, types, cancellationToken).ConfigureAwait(false);
            default:
                var root = command.Get("data-root") ?? DatasetLocator.Root
                    ?? throw new DirectoryNotFoundException("No data folder found: pass --data-root or set ASSISTANT_DATA_DIR.");
                return await InteractionLog.BuildAsync(DatasetCatalog.Open(data, root), types, cancellationToken).ConfigureAwait(false);
        }
    }
}

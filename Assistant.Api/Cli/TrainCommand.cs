using System.Globalization;
using Assistant.Api.Hosting;

namespace Assistant.Api.Cli;

/// <summary>
/// <c>train</c>: trains every serving model on the configured store (the demo marketplace on a fresh machine), writes a
/// new versioned artifact folder with its manifest and prints the fusion model's offline comparison.
/// Exit codes: 0 done, 1 training failed, 2 usage error.
/// </summary>
internal static class TrainCommand
{
    public const string Usage = """
        Usage:
          train [--full] [--Serving:Content=true] [--Serving:Transformer=true] [--Serving:ModelsDirectory=DIR]
        Trains on the configured store: popularity, co-occurrence analogs and complements, ALS, lifelong interests,
        discovery, BM25, optionally text embeddings and the transformer, and the fusion model on the last
        Serving:FusionSliceDays days. --full uses the full configuration instead of the quick one.
        Writes <models>/<version>/ with manifest.json; a running service picks it up on POST /v1/admin/models/reload.
        """;

    public static async Task<int> RunAsync(CommandLine command, IServiceProvider services, TextWriter output, CancellationToken cancellationToken)
    {
        if (command.Has("help") || command.Positional.Count > 0)
        {
            await output.WriteLineAsync(Usage).ConfigureAwait(false);
            return command.Has("help") ? 0 : 2;
        }

        var models = services.GetRequiredService<ModelService>();
        var (job, result) = await models.TrainAsync(!command.Has("full"), line => output.WriteLine(line), cancellationToken).ConfigureAwait(false);
        if (job.State != TrainingState.Succeeded || result is null)
        {
            await output.WriteLineAsync($"error: training failed: {job.Error}").ConfigureAwait(false);
            return 1;
        }

        await output.WriteLineAsync($"Version {job.Version} in {models.Repository.FolderOf(job.Version!)}").ConfigureAwait(false);
        foreach (var step in result.Steps)
        {
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"  {step.Name,-34} {step.Seconds,8:0.00} s  {step.Note}")).ConfigureAwait(false);
        }

        if (result.Evaluation is { } evaluation)
        {
            await output.WriteLineAsync().ConfigureAwait(false);
            await output.WriteLineAsync(evaluation.ToMarkdown()).ConfigureAwait(false);
        }

        return 0;
    }
}

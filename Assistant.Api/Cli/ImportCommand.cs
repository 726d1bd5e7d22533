using System.Globalization;
using Ranking.Demo;
using Ranking.Import;
using Ranking.Import.Datasets;

namespace Assistant.Api.Cli;

/// <summary>
/// <c>import</c>: loads a CSV / JSON Lines file, a real data set or the demo marketplace into the configured store.
/// Exit codes: 0 stored, 1 bad rows (nothing stored unless --skip-bad), 2 usage error.
/// </summary>
internal static class ImportCommand
{
    public const string Usage = """
        Usage:
          import items  <file.csv|file.jsonl> [--format csv|jsonl] [--skip-bad]
          import users  <file.csv|file.jsonl> [--format csv|jsonl] [--skip-bad]
          import events <file.csv|file.jsonl> [--format csv|jsonl] [--skip-bad]
          import dataset <rees46|movielens-1m|movielens-100k|amazon-sports|hillstrom> [--data-root DIR] [--skip-bad]
          import demo [--seed N] [--scale X]
        Storage comes from configuration as for the server, e.g. --Storage:Provider=PostgreSql --Storage:ConnectionString="Host=...".
        The file formats are described in docs/IMPORT.md.
        """;

    public static async Task<int> RunAsync(CommandLine command, IServiceProvider services, TextWriter output, CancellationToken cancellationToken)
    {
        if (command.Has("help") || command.Positional.Count == 0)
        {
            await output.WriteLineAsync(Usage).ConfigureAwait(false);
            return command.Has("help") ? 0 : 2;
        }

        IImportSource source;
        try
        {
            source = OpenSource(command);
        }
        catch (Exception ex) when (ex is ArgumentException or FileNotFoundException or DirectoryNotFoundException or FormatException)
        {
            await output.WriteLineAsync($"error: {ex.Message}").ConfigureAwait(false);
            await output.WriteLineAsync(Usage).ConfigureAwait(false);
            return 2;
        }

        var store = services.GetRequiredService<Ranking.Data.IMarketplaceStore>();
        await store.InitializeAsync(cancellationToken).ConfigureAwait(false);
        var importer = services.GetRequiredService<Importer>();
        var options = new ImportOptions
        {
            SkipBad = command.Has("skip-bad"),
            MaxErrorsListed = int.TryParse(command.Get("max-errors"), CultureInfo.InvariantCulture, out var max) ? max : 100,
        };
        await output.WriteLineAsync($"Importing {source.Name} into {store.Kind}...").ConfigureAwait(false);
        var report = await importer.ImportAsync(source, options, cancellationToken).ConfigureAwait(false);
        await WriteReportAsync(report, output).ConfigureAwait(false);
        return report.Committed ? 0 : 1;
    }

    private static IImportSource OpenSource(CommandLine command)
    {
        var what = command.Positional[0].ToLowerInvariant();
        switch (what)
        {
            case "items" or "users" or "events":
                if (command.Positional.Count < 2)
                {
                    throw new ArgumentException($"import {what} needs a file.");
                }

                var path = command.Positional[1];
                if (!File.Exists(path))
                {
                    throw new FileNotFoundException($"No file '{path}'.");
                }

                var kind = what switch { "items" => RecordKind.Items, "users" => RecordKind.Users, _ => RecordKind.Events };
                RecordFormat? format = command.Get("format")?.ToLowerInvariant() switch
                {
                    null => null,
                    "csv" => RecordFormat.Csv,
                    "jsonl" or "ndjson" or "json" => RecordFormat.JsonLines,
                    var f => throw new ArgumentException($"Unknown format '{f}': use csv or jsonl."),
                };
                return RecordFileSource.FromFile(path, kind, format);
            case "dataset":
                if (command.Positional.Count < 2)
                {
                    throw new ArgumentException("import dataset needs a data set name.");
                }

                var root = command.Get("data-root") ?? DatasetLocator.Root
                    ?? throw new DirectoryNotFoundException("No data folder found: pass --data-root or set ASSISTANT_DATA_DIR.");
                return DatasetCatalog.Open(command.Positional[1], root);
            case "demo":
                var seed = int.TryParse(command.Get("seed"), CultureInfo.InvariantCulture, out var s) ? s : 42;
                var scale = double.TryParse(command.Get("scale"), CultureInfo.InvariantCulture, out var x) ? x : 1.0;
                return new DemoMarketplace(new DemoMarketplaceOptions { Seed = seed, Scale = scale });
            default:
                throw new ArgumentException($"Nothing to import called '{what}'.");
        }
    }

    private static async Task WriteReportAsync(ImportReport report, TextWriter output)
    {
        var inv = CultureInfo.InvariantCulture;
        if (!report.Committed)
        {
            await output.WriteLineAsync(string.Create(inv, $"FAILED: {report.BadRows} bad rows; nothing was stored. Fix them or pass --skip-bad.")).ConfigureAwait(false);
        }
        else
        {
            await output.WriteLineAsync(string.Create(inv, $"Done in {report.Elapsed.TotalSeconds:0.00} s.")).ConfigureAwait(false);
            await output.WriteLineAsync(string.Create(inv, $"  items:    {report.Items.Stored} written")).ConfigureAwait(false);
            await output.WriteLineAsync(string.Create(inv, $"  users:    {report.Users.Stored} written")).ConfigureAwait(false);
            await output.WriteLineAsync(string.Create(inv, $"  events:   {report.Events.Stored} stored, {report.Events.Duplicates} duplicates, {report.Events.UnknownItems} naming items not in the catalog")).ConfigureAwait(false);
            if (report.Campaigns > 0 || report.Sends.Received > 0)
            {
                await output.WriteLineAsync(string.Create(inv, $"  crm:      {report.Campaigns} campaigns, {report.Sends.Stored} sends ({report.Sends.Duplicates} duplicates), {report.Outcomes.Stored} outcomes")).ConfigureAwait(false);
            }

            if (report.Experiments > 0)
            {
                await output.WriteLineAsync(string.Create(inv, $"  experiments: {report.Experiments}, exposures: {report.Exposures.Stored}")).ConfigureAwait(false);
            }

            if (report.BadRows > 0)
            {
                await output.WriteLineAsync(string.Create(inv, $"  skipped:  {report.BadRows} bad rows (--skip-bad)")).ConfigureAwait(false);
            }
        }

        foreach (var error in report.Errors)
        {
            await output.WriteLineAsync("  " + error).ConfigureAwait(false);
        }

        if (report.BadRows > report.Errors.Count)
        {
            await output.WriteLineAsync(string.Create(inv, $"  ... {report.BadRows - report.Errors.Count} more bad rows not listed (--max-errors N)")).ConfigureAwait(false);
        }
    }
}

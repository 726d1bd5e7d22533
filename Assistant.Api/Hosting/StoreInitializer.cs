using Microsoft.Extensions.Options;
using Ranking.Data;
using Ranking.Demo;
using Ranking.Import;

namespace Assistant.Api.Hosting;

/// <summary>Brings the store up to its schema and, on an empty store, seeds the demo marketplace.</summary>
internal sealed partial class StoreInitializer(
    IMarketplaceStore store, Importer importer, IOptions<DemoOptions> demo, ILogger<StoreInitializer> logger)
{
    public async Task InitializeAsync(CancellationToken cancellationToken = default)
    {
        await store.InitializeAsync(cancellationToken).ConfigureAwait(false);
        if (!demo.Value.SeedOnStart)
        {
            return;
        }

        if (await store.CountItemsAsync(cancellationToken).ConfigureAwait(false) > 0
            || await store.CountEventsAsync(cancellationToken).ConfigureAwait(false) > 0)
        {
            return;
        }

        var options = new DemoMarketplaceOptions { Seed = demo.Value.Seed, Scale = demo.Value.Scale };
        LogSeeding(logger, store.Kind, options.Seed, options.Scale);
        var report = await importer.ImportAsync(new DemoMarketplace(options), new ImportOptions(), cancellationToken).ConfigureAwait(false);
        if (!report.Committed)
        {
            throw new InvalidOperationException($"The demo marketplace failed validation: {string.Join("; ", report.Errors.Take(5))}");
        }

        LogSeeded(logger, report.Items.Stored, report.Users.Stored, report.Events.Stored, report.Sends.Stored, report.Elapsed.TotalSeconds);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Empty {Store} store: seeding the demo marketplace (seed {Seed}, scale {Scale})")]
    private static partial void LogSeeding(ILogger logger, string store, int seed, double scale);

    [LoggerMessage(Level = LogLevel.Information, Message = "Seeded the demo marketplace: {Items} items, {Users} users, {Events} events, {Sends} CRM sends in {Seconds:0.0} s")]
    private static partial void LogSeeded(ILogger logger, int items, int users, int events, int sends, double seconds);
}

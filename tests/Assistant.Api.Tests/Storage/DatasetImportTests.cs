using Assistant.Api.Storage.Postgres;
using Assistant.Api.Storage.Sqlite;
using Npgsql;
using Ranking.Data;
using Ranking.Domain;
using Ranking.Import;
using Ranking.Import.Datasets;

namespace Assistant.Api.Tests.Storage;

/// <summary>
/// Each real data set imported end to end into both stores, with the row counts of its SOURCE.md. Skipped locally
/// when the data (or PostgreSQL) is missing; a failure when CI is set.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class DatasetImportTests(PostgresServer server) : IAsyncLifetime
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "assistant-ds-" + Guid.NewGuid().ToString("N")[..8]);
    private readonly List<IDisposable> _disposables = [];
    private readonly List<NpgsqlDataSource> _sources = [];

    public static TheoryData<string, string, long, long, long, long, long> Cases => new()
    {
        // store, data set, items, users, events, sends, outcomes
        { "sqlite", DatasetCatalog.Rees46, 6_492, 4_504, 17_433, 0, 0 },
        { "postgresql", DatasetCatalog.Rees46, 6_492, 4_504, 17_433, 0, 0 },
        { "sqlite", DatasetCatalog.MovieLens100K, 1_682, 943, 100_000, 0, 0 },
        { "postgresql", DatasetCatalog.MovieLens100K, 1_682, 943, 100_000, 0, 0 },
        { "sqlite", DatasetCatalog.MovieLens1M, 3_883, 6_040, 487_650, 0, 0 },
        { "postgresql", DatasetCatalog.MovieLens1M, 3_883, 6_040, 487_650, 0, 0 },
        { "sqlite", DatasetCatalog.AmazonSports, 18_357, 35_598, 296_337, 0, 0 },
        { "postgresql", DatasetCatalog.AmazonSports, 18_357, 35_598, 296_337, 0, 0 },
        // Hillstrom: 9,394 visits + 578 conversions.
        { "sqlite", DatasetCatalog.Hillstrom, 0, 64_000, 0, 64_000, 9_972 },
        { "postgresql", DatasetCatalog.Hillstrom, 0, 64_000, 0, 64_000, 9_972 },
    };

    [SkippableTheory]
    [MemberData(nameof(Cases))]
    public async Task Import_RealDataSet_StoresTheCountsOfItsSourceAndIsIdempotent(
        string storeKind, string dataset, long items, long users, long events, long sends, long outcomes)
    {
        var root = RequireDataRoot();
        var store = await CreateStoreAsync(storeKind);
        var importer = new Importer(store, new RecordValidator(EventTypeRegistry.Default));

        var report = await importer.ImportAsync(DatasetCatalog.Open(dataset, root), new ImportOptions());
        var again = await importer.ImportAsync(DatasetCatalog.Open(dataset, root), new ImportOptions());

        Assert.True(report.Committed, string.Join("; ", report.Errors));
        Assert.Equal(0, report.BadRows);
        Assert.Equal(items, await store.CountItemsAsync());
        Assert.Equal(users, await store.CountUsersAsync());
        Assert.Equal(events, await store.CountEventsAsync());
        Assert.Equal(sends, await store.CountSendsAsync());
        Assert.Equal(outcomes, await store.CountOutcomesAsync());
        Assert.Equal(0, report.Events.UnknownItems);
        Assert.Equal(events, again.Events.Duplicates);
        Assert.Equal(0, again.Events.Stored);
        Assert.Equal(events, await store.CountEventsAsync());
    }

    private static string RequireDataRoot()
    {
        var root = DatasetLocator.Root;
        if (root is null && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CI")))
        {
            Skip.If(true, $"No shared data folder; set {DatasetLocator.EnvironmentVariable}.");
        }

        return root ?? throw new InvalidOperationException($"CI is set but no shared data folder was found; set {DatasetLocator.EnvironmentVariable}.");
    }

    private async Task<IMarketplaceStore> CreateStoreAsync(string kind)
    {
        IMarketplaceStore store;
        if (kind == "sqlite")
        {
            var sqlite = new SqliteMarketplaceStore(Path.Combine(_dir, Guid.NewGuid().ToString("N")[..8], "assistant.db"));
            _disposables.Add(sqlite);
            store = sqlite;
        }
        else
        {
            server.RequireOrSkip();
            var source = await server.CreateDatabaseAsync();
            _sources.Add(source);
            store = new PostgresMarketplaceStore(source);
        }

        await store.InitializeAsync();
        return store;
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var d in _disposables)
        {
            d.Dispose();
        }

        foreach (var s in _sources)
        {
            await s.DisposeAsync();
        }

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }
}

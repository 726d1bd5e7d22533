using Assistant.Api.Storage.Sqlite;
using Ranking.Data;

namespace Assistant.Api.Tests.Storage;

/// <summary>The store contract on a real SQLite file in a temporary folder.</summary>
public sealed class SqliteStoreTests : MarketplaceStoreContract, IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "assistant-sqlite-" + Guid.NewGuid().ToString("N")[..8]);
    private readonly List<SqliteMarketplaceStore> _stores = [];

    protected override async Task<IMarketplaceStore> CreateStoreAsync()
    {
        var store = new SqliteMarketplaceStore(Path.Combine(_dir, $"s{_stores.Count}", "assistant.db"));
        _stores.Add(store);
        await store.InitializeAsync();
        return store;
    }

    [Fact]
    public async Task Initialize_NewFile_CreatesFileAndRecordsSchemaVersion()
    {
        var path = Path.Combine(_dir, "fresh", "nested", "assistant.db");

        var store = new SqliteMarketplaceStore(path);
        _stores.Add(store);
        await store.InitializeAsync();
        await store.InitializeAsync();

        Assert.True(File.Exists(path));
        Assert.Equal(SqliteSchema.Migrations.Count, await store.GetSchemaVersionAsync());
        Assert.True(SqliteSchema.Migrations.Count >= 2);
    }

    public void Dispose()
    {
        foreach (var store in _stores)
        {
            store.Dispose();
        }

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }
}

using Assistant.Api.Storage.Postgres;
using Npgsql;
using Ranking.Data;

namespace Assistant.Api.Tests.Storage;

/// <summary>The store contract on a real PostgreSQL server: each test in a database of its own.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresStoreTests(PostgresServer server) : MarketplaceStoreContract, IAsyncLifetime
{
    private readonly List<NpgsqlDataSource> _sources = [];

    protected override async Task<IMarketplaceStore> CreateStoreAsync()
    {
        server.RequireOrSkip();
        var source = await server.CreateDatabaseAsync();
        _sources.Add(source);
        var store = new PostgresMarketplaceStore(source);
        await store.InitializeAsync();
        return store;
    }

    [SkippableFact]
    public async Task Initialize_ConcurrentReplicas_ApplyMigrationsOnce()
    {
        server.RequireOrSkip();
        var source = await server.CreateDatabaseAsync();
        _sources.Add(source);

        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => new PostgresMarketplaceStore(source).InitializeAsync()));

        await using var cmd = source.CreateCommand("SELECT count(*) FROM schema_version");
        Assert.Equal((long)PostgresSchema.Migrations.Count, await cmd.ExecuteScalarAsync());
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var source in _sources)
        {
            await source.DisposeAsync();
        }
    }
}

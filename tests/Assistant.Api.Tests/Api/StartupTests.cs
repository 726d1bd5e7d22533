using System.Net.Http.Json;
using Assistant.Api.Endpoints;
using Microsoft.Extensions.DependencyInjection;
using Ranking.Data;

namespace Assistant.Api.Tests.Api;

/// <summary>What a new user gets from the run command: an empty data directory seeded with the demo marketplace.</summary>
public sealed class StartupTests : IDisposable
{
    private readonly AssistantFactory _factory = new();

    [Fact]
    public async Task Start_EmptyDataDirectory_CreatesStoreAndSeedsDemo()
    {
        _factory.Settings["Demo:SeedOnStart"] = "true";
        _factory.Settings["Demo:Scale"] = "0.05";
        var client = _factory.CreateClient();

        var page = await client.GetFromJsonAsync<ItemPage>("/v1/catalog/items?limit=5");
        var store = _factory.Services.GetRequiredService<IMarketplaceStore>();

        Assert.True(File.Exists(Path.Combine(_factory.DataDirectory, "assistant.db")));
        Assert.Equal(5, page!.Items.Count);
        Assert.True(page.Total > 50);
        Assert.True(await store.CountEventsAsync() > 1000);
    }

    [Fact]
    public void Start_PostgreSqlWithoutConnectionString_FailsWithClearMessage()
    {
        _factory.Settings["Storage:Provider"] = "PostgreSql";

        var ex = Assert.ThrowsAny<Exception>(() => _factory.CreateClient());

        Assert.Contains("Storage:ConnectionString", ex.ToString(), StringComparison.Ordinal);
    }

    public void Dispose() => _factory.Dispose();
}

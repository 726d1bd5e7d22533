using Assistant.Api.Cli;
using Assistant.Api.Tests.Api;
using Microsoft.Extensions.DependencyInjection;
using Ranking.Data;

namespace Assistant.Api.Tests.Cli;

/// <summary>The import verb against the real host's SQLite store.</summary>
public sealed class ImportCommandTests : IDisposable
{
    private readonly AssistantFactory _factory = new();
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "assistant-import-" + Guid.NewGuid().ToString("N")[..8]);

    public ImportCommandTests() => Directory.CreateDirectory(_dir);

    private async Task<(int Code, string Output)> RunAsync(params string[] args)
    {
        _ = _factory.Server; // builds the host
        using var output = new StringWriter();
        var code = await ImportCommand.RunAsync(CommandLine.Parse(["import", .. args]), _factory.Services, output, CancellationToken.None);
        return (code, output.ToString());
    }

    private IMarketplaceStore Store => _factory.Services.GetRequiredService<IMarketplaceStore>();

    private string Write(string name, string text)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    private const string EventsCsv = """
        event_id,user_id,item_id,type,timestamp,surface,query,price,quantity
        e1,u1,i1,view,2025-01-02T10:00:00Z,home,,,
        e2,u1,i1,cart,1735812000,home,,19.99,1
        e3,u1,,search,2025-01-02T10:01:00Z,search,"red, warm boots",,
        e4,u2,i2,teleport,2025-01-02T10:02:00Z,home,,,
        e5,u2,i2,order,2025-01-02T10:03:00Z,home,,-3,1
        e6,u2,i2,view,yesterday,home,,,
        """;

    [Fact]
    public async Task ImportEvents_BadRows_FailsWithLineNumbersAndStoresNothing()
    {
        var path = Write("events.csv", EventsCsv);

        var (code, output) = await RunAsync("events", path);

        Assert.Equal(1, code);
        Assert.Contains("line 5: type", output, StringComparison.Ordinal);
        Assert.Contains("line 6: price", output, StringComparison.Ordinal);
        Assert.Contains("line 7: timestamp", output, StringComparison.Ordinal);
        Assert.Contains("3 bad rows", output, StringComparison.Ordinal);
        Assert.Equal(0, await Store.CountEventsAsync());
    }

    [Fact]
    public async Task ImportEvents_SkipBad_StoresGoodRowsAndListsBadOnes()
    {
        var path = Write("events.csv", EventsCsv);

        var (code, output) = await RunAsync("events", path, "--skip-bad");
        var again = await RunAsync("events", path, "--skip-bad");
        var events = await Store.GetUserEventsAsync("u1", 10);

        Assert.Equal(0, code);
        Assert.Contains("3 stored", output, StringComparison.Ordinal);
        Assert.Contains("line 5: type", output, StringComparison.Ordinal);
        Assert.Equal(["e1", "e2", "e3"], events.Select(e => e.EventId));
        Assert.Equal("red, warm boots", events[2].Query);
        Assert.Equal(19.99, events[1].Price);
        Assert.Contains("0 stored, 3 duplicates", again.Output, StringComparison.Ordinal);
        Assert.Equal(3, await Store.CountEventsAsync());
    }

    [Fact]
    public async Task ImportItems_JsonLines_MalformedLineReported()
    {
        var path = Write("items.jsonl", """
            {"id": "i1", "title": "Snowboard", "category": "Sports/Winter/Snowboards", "price": 300, "attributes": {"colour": "blue"}}
            {"id": "i2", "title": "Boots", "category": "Sports/Winter/Boots", "price": "cheap"}
            {"id": "i3", "title": "Helmet", "category": "Sports/Winter/Helmets"}
            """);

        var (code, output) = await RunAsync("items", path);
        var skip = await RunAsync("items", path, "--skip-bad");

        Assert.Equal(1, code);
        Assert.Contains("line 2: price", output, StringComparison.Ordinal);
        Assert.Equal(0, skip.Code);
        Assert.Equal(2, await Store.CountItemsAsync());
        Assert.Equal("blue", (await Store.GetItemAsync("i1"))!.Attributes["colour"]);
    }

    [Fact]
    public async Task ImportUsers_Csv_ConsentAndAttributes()
    {
        var path = Write("users.csv", """
            id,attributes,consent
            u1,region=north;age=30-39,email;push
            u2,,
            """);

        var (code, _) = await RunAsync("users", path);
        var u1 = await Store.GetUserAsync("u1");

        Assert.Equal(0, code);
        Assert.Equal(2, await Store.CountUsersAsync());
        Assert.True(u1!.HasConsent("push"));
        Assert.False(u1.HasConsent("sms"));
        Assert.Equal("30-39", u1.Attributes["age"]);
    }

    [Fact]
    public async Task Import_UnknownColumnOrMissingFile_ReportsClearly()
    {
        var typo = Write("typo.csv", "event_id,user_id,item_id,typ,timestamp\ne1,u1,i1,view,2025-01-01T00:00:00Z\n");

        var (code, output) = await RunAsync("events", typo);
        var missing = await RunAsync("events", Path.Combine(_dir, "none.csv"));
        var usage = await RunAsync("nonsense");

        Assert.Equal(1, code);
        Assert.Contains("line 1: typ: unknown column", output, StringComparison.Ordinal);
        Assert.Equal(2, missing.Code);
        Assert.Equal(2, usage.Code);
        Assert.Contains("Usage:", usage.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ImportDemo_SmallScale_StoresAWorld()
    {
        var (code, output) = await RunAsync("demo", "--scale", "0.05", "--seed", "7");

        Assert.Equal(0, code);
        Assert.Contains("events:", output, StringComparison.Ordinal);
        Assert.True(await Store.CountItemsAsync() > 50);
        Assert.True(await Store.CountEventsAsync() > 1000);
        Assert.True(await Store.CountSendsAsync() > 0);
    }

    public void Dispose()
    {
        _factory.Dispose();
        Directory.Delete(_dir, recursive: true);
    }
}

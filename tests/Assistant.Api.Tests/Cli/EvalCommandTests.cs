using Assistant.Api.Cli;
using Assistant.Api.Tests.Api;

namespace Assistant.Api.Tests.Cli;

/// <summary>The eval verb against the real host: the configured store and the demo marketplace.</summary>
public sealed class EvalCommandTests : IDisposable
{
    private readonly AssistantFactory _factory = new();
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "assistant-eval-" + Guid.NewGuid().ToString("N")[..8]);

    private async Task<(int Code, string Output)> RunAsync(string verb, params string[] args)
    {
        _ = _factory.Server;
        using var output = new StringWriter();
        var command = CommandLine.Parse([verb, .. args]);
        var code = verb == "eval"
            ? await EvalCommand.RunAsync(command, _factory.Services, output, CancellationToken.None)
            : await ImportCommand.RunAsync(command, _factory.Services, output, CancellationToken.None);
        return (code, output.ToString());
    }

    [Fact]
    public async Task Eval_on_the_store_writes_a_table_in_markdown_and_json()
    {
        Directory.CreateDirectory(_dir);
        var events = Path.Combine(_dir, "events.csv");
        var lines = new List<string> { "event_id,user_id,item_id,type,timestamp" };
        var n = 0;
        for (var u = 0; u < 30; u++)
        {
            for (var k = 0; k < 4; k++)
            {
                lines.Add($"e{n++},u{u},i{(u + k) % 12},view,2025-01-0{1 + k}T10:00:00Z");
            }
        }

        await File.WriteAllLinesAsync(events, lines);
        Assert.Equal(0, (await RunAsync("import", "events", events)).Code);

        var (code, output) = await RunAsync("eval", "store", "--models", "popularity,itemknn", "--out", _dir, "--resamples", "100");

        Assert.Equal(0, code);
        Assert.Contains("30 users evaluated", output, StringComparison.Ordinal);
        Assert.Contains("| itemknn |", output, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(_dir, "eval-store-loo-test.md")));
        Assert.Contains("\"model\": \"popularity\"", await File.ReadAllTextAsync(Path.Combine(_dir, "eval-store-loo-test.json")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Eval_refuses_an_unknown_model_or_split_with_usage()
    {
        var (code, output) = await RunAsync("eval", "demo", "--models", "magic");
        Assert.Equal(2, code);
        Assert.Contains("Unknown model 'magic'", output, StringComparison.Ordinal);

        (code, output) = await RunAsync("eval", "demo", "--split", "sideways");
        Assert.Equal(2, code);
        Assert.Contains("Unknown split", output, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        _factory.Dispose();
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }
}

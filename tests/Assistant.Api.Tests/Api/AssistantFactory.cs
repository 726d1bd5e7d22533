using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;

namespace Assistant.Api.Tests.Api;

/// <summary>The real host on the embedded SQLite store in a temporary data directory.</summary>
public sealed class AssistantFactory : WebApplicationFactory<Program>
{
    public string DataDirectory { get; } = Path.Combine(Path.GetTempPath(), "assistant-api-" + Guid.NewGuid().ToString("N")[..8]);

    /// <summary>Configuration on top of the defaults (for example Demo:SeedOnStart).</summary>
    public Dictionary<string, string?> Settings { get; } = new()
    {
        ["Demo:SeedOnStart"] = "false",
        ["Api:MaxRequestBodyBytes"] = "65536",
        ["Api:MaxBatchSize"] = "100",
    };

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        Settings["Storage:DataDirectory"] = DataDirectory;
        builder.UseEnvironment("Production");
        builder.ConfigureAppConfiguration((_, config) => config.AddInMemoryCollection(Settings));
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (disposing && Directory.Exists(DataDirectory))
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
    }
}

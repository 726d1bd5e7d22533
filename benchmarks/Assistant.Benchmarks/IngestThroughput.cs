using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using Assistant.Api.Endpoints;
using Assistant.Api.Storage.Postgres;
using Assistant.Api.Storage.Sqlite;
using Npgsql;
using Ranking.Data;
using Ranking.Demo;
using Ranking.Domain;
using Ranking.Import;

namespace Assistant.Benchmarks;

/// <summary>
/// Import throughput of N events (default 1M, from the demo marketplace) into SQLite, into PostgreSQL by binary
/// COPY (when ASSISTANT_BENCH_POSTGRES holds a connection string) and over HTTP in batches against the real server
/// (started as a child process on loopback). Prints events per second for each.
/// </summary>
internal static class IngestThroughput
{
    public static async Task<int> RunAsync(string[] args)
    {
        var target = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 1_000_000;
        var batch = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 10_000;
        Console.WriteLine($"Generating {target:N0} demo events (seed 42)...");
        var events = await CollectAsync(target);
        Console.WriteLine($"cores {Environment.ProcessorCount}, batch {batch}, events {events.Count:N0}");

        var dir = Path.Combine(Path.GetTempPath(), "assistant-bench-" + Guid.NewGuid().ToString("N")[..8]);
        using (var sqlite = new SqliteMarketplaceStore(Path.Combine(dir, "bench.db")))
        {
            await sqlite.InitializeAsync();
            await MeasureAsync("sqlite", sqlite, events, batch);
            await MeasureAsync("sqlite (same batches again: all duplicates)", sqlite, events, batch);
        }

        var pg = Environment.GetEnvironmentVariable("ASSISTANT_BENCH_POSTGRES");
        if (!string.IsNullOrWhiteSpace(pg))
        {
            await using var source = NpgsqlDataSource.Create(pg);
            await using (var drop = source.CreateCommand("DROP TABLE IF EXISTS events, items, users, crm_campaigns, crm_sends, crm_outcomes, experiments, exposures, schema_version"))
            {
                await drop.ExecuteNonQueryAsync();
            }

            var store = new PostgresMarketplaceStore(source);
            await store.InitializeAsync();
            await MeasureAsync("postgresql (binary COPY)", store, events, batch);
            await MeasureAsync("postgresql (same batches again: all duplicates)", store, events, batch);
        }
        else
        {
            Console.WriteLine("postgresql: skipped (set ASSISTANT_BENCH_POSTGRES to a connection string)");
        }

        await MeasureHttpAsync(events, batch, Path.Combine(dir, "http"));
        Directory.Delete(dir, recursive: true);
        return 0;
    }

    private static async Task<List<UserEvent>> CollectAsync(int target)
    {
        // Scale 1 gives about 309k events (docs/DEMO.md); take a world a little larger than needed.
        var events = new List<UserEvent>(target);
        var scale = Math.Max(0.05, target / 309_000.0 * 1.1);
        await foreach (var chunk in new DemoMarketplace(new DemoMarketplaceOptions { Seed = 42, Scale = scale }).ReadAsync())
        {
            foreach (var row in chunk.Events)
            {
                events.Add(row.Value);
                if (events.Count == target)
                {
                    return events;
                }
            }
        }

        return events;
    }

    private static async Task MeasureAsync(string name, IEventStore store, List<UserEvent> events, int batch)
    {
        var clock = Stopwatch.StartNew();
        var total = default(IngestResult);
        for (var i = 0; i < events.Count; i += batch)
        {
            total += await store.AppendEventsAsync(events.GetRange(i, Math.Min(batch, events.Count - i)));
        }

        Report(name, events.Count, clock.Elapsed, total);
    }

    private static async Task MeasureHttpAsync(List<UserEvent> events, int batch, string dataDir)
    {
        var api = Path.Combine(AppContext.BaseDirectory, "Assistant.Api.dll");
        var port = 5500 + Random.Shared.Next(400);
        var psi = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { api, "--urls", $"http://127.0.0.1:{port}", "--Demo:SeedOnStart=false", $"--Storage:DataDirectory={dataDir}", "--Logging:LogLevel:Default=Warning" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var server = Process.Start(psi)!;
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromMinutes(5) };
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                if ((await http.GetAsync("/health")).IsSuccessStatusCode)
                {
                    break;
                }
            }
            catch (HttpRequestException) when (attempt < 100)
            {
            }

            await Task.Delay(200);
        }

        var clock = Stopwatch.StartNew();
        var total = default(IngestResult);
        for (var i = 0; i < events.Count; i += batch)
        {
            var slice = events.GetRange(i, Math.Min(batch, events.Count - i));
            var response = await http.PostAsJsonAsync("/v1/events", new EventBatchRequest([.. slice.Select(EventRecord.FromDomain)]));
            response.EnsureSuccessStatusCode();
            var body = (await response.Content.ReadFromJsonAsync<EventIngestResponse>())!;
            total += new IngestResult(body.Received, body.Stored, body.Duplicates, body.UnknownItems);
        }

        Report("http POST /v1/events (sqlite behind it, one client)", events.Count, clock.Elapsed, total);
        server.Kill(entireProcessTree: true);
        await server.WaitForExitAsync();
    }

    private static void Report(string name, int count, TimeSpan elapsed, IngestResult total) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{name,-50} {count,10:N0} events in {elapsed.TotalSeconds,7:0.00} s = {count / elapsed.TotalSeconds,10:N0} events/s (stored {total.Stored:N0}, duplicates {total.Duplicates:N0})"));
}

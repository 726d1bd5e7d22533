using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Assistant.Api.Endpoints;
using Ranking.Serving;

namespace Assistant.Api.Tests.Api;

/// <summary>The model lifecycle over HTTP, each test on its own host with a tiny demo marketplace.</summary>
public sealed class AdminApiTests : IDisposable
{
    private static readonly TimeSpan TrainingTimeout = TimeSpan.FromSeconds(120);
    private readonly List<AssistantFactory> _factories = [];

    [Fact]
    public async Task Models_FirstStart_OneValidVersionServingWithFusionMetrics()
    {
        var client = Start().CreateClient();

        var models = await client.GetFromJsonAsync<JsonElement>("/v1/admin/models");

        var version = Assert.Single(models.GetProperty("versions").EnumerateArray().ToList());
        Assert.True(version.GetProperty("valid").GetBoolean());
        Assert.Equal(models.GetProperty("serving").GetString(), version.GetProperty("version").GetString());
        Assert.True(version.GetProperty("metrics").TryGetProperty("fusion.auc", out var auc));
        Assert.InRange(auc.GetDouble(), 0, 1);
        Assert.Contains("fusion", models.GetProperty("present").EnumerateArray().Select(p => p.GetString()));
        Assert.True(Directory.Exists(Path.Combine(models.GetProperty("folder").GetString()!, version.GetProperty("version").GetString()!)));
        Assert.False(models.TryGetProperty("running", out _));
    }

    [Fact]
    public async Task Train_InBackground_409WhileRunningThenServesTheNewVersion()
    {
        var client = Start().CreateClient();
        var before = (await client.GetFromJsonAsync<JsonElement>("/v1/admin/models")).GetProperty("serving").GetString();

        var started = await client.PostAsJsonAsync("/v1/admin/train", new { full = false });
        var again = await client.PostAsJsonAsync("/v1/admin/train", new { full = false });

        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        var job = (await started.Content.ReadFromJsonAsync<TrainingJobView>())!;
        Assert.Equal($"/v1/admin/train/{job.Id}", started.Headers.Location?.OriginalString);
        Assert.Equal("running", job.State);
        var first = await WaitAsync(client, job.Id);
        if (again.StatusCode == HttpStatusCode.Accepted)
        {
            // The first run ended before the second request arrived: the second is a run of its own.
            Assert.NotEqual(job.Id, (await again.Content.ReadFromJsonAsync<TrainingJobView>())!.Id);
            await WaitAsync(client, (await again.Content.ReadFromJsonAsync<TrainingJobView>())!.Id);
        }
        else
        {
            Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
            Assert.Equal(job.Id, (await again.Content.ReadFromJsonAsync<TrainingJobView>())!.Id);
        }

        Assert.Equal("succeeded", first.State);
        Assert.NotNull(first.Version);
        Assert.NotEqual(before, first.Version);
        Assert.NotNull(first.FinishedAt);
        Assert.Contains(first.Progress, p => p.Contains(first.Version, StringComparison.Ordinal));
        var models = await client.GetFromJsonAsync<JsonElement>("/v1/admin/models");
        var versions = models.GetProperty("versions").EnumerateArray().Select(v => v.GetProperty("version").GetString()).ToList();
        Assert.Contains(first.Version, versions);
        Assert.Contains(before, versions);
        Assert.Equal(versions[0], models.GetProperty("serving").GetString());
        Assert.True(string.CompareOrdinal(models.GetProperty("serving").GetString(), before) > 0);
        var home = await client.GetFromJsonAsync<RecommendationsView>("/v1/users/user-00001/recommendations?count=5");
        Assert.Equal(versions[0], home!.ModelVersion);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/v1/admin/train/no-such-job")).StatusCode);
    }

    [Fact]
    public async Task Reload_CorruptNewerVersion_RefusedAndTheServingOneKept()
    {
        var client = Start().CreateClient();
        var models = await client.GetFromJsonAsync<JsonElement>("/v1/admin/models");
        var serving = models.GetProperty("serving").GetString()!;
        var root = models.GetProperty("folder").GetString()!;

        // A copy of the serving version under a name that sorts after it, its manifest renamed to match, then one byte
        // of a model file flipped: only the hash can tell.
        var corrupt = serving[..^4] + "zzzz";
        Assert.True(string.CompareOrdinal(corrupt, serving) > 0);
        var folder = Directory.CreateDirectory(Path.Combine(root, corrupt)).FullName;
        foreach (var file in Directory.EnumerateFiles(Path.Combine(root, serving)))
        {
            File.Copy(file, Path.Combine(folder, Path.GetFileName(file)));
        }

        var manifestPath = Path.Combine(folder, ModelRepository.ManifestFileName);
        ModelManifest manifest;
        using (var stream = File.OpenRead(manifestPath))
        {
            manifest = ModelManifest.Read(stream) with { Version = corrupt };
        }

        using (var stream = File.Create(manifestPath))
        {
            manifest.Write(stream);
        }

        var target = Path.Combine(folder, manifest.Files.OrderByDescending(f => f.Bytes).First().Name);
        var bytes = await File.ReadAllBytesAsync(target);
        bytes[bytes.Length / 2] ^= 0x5A;
        await File.WriteAllBytesAsync(target, bytes);

        var reload = await (await client.PostAsync("/v1/admin/models/reload", null)).Content.ReadFromJsonAsync<ReloadView>();
        var after = await client.GetFromJsonAsync<JsonElement>("/v1/admin/models");
        var home = await client.GetAsync("/v1/users/user-00001/recommendations?count=5");

        Assert.Equal("refused", reload!.Status);
        Assert.Equal(serving, reload.Version);
        var refused = Assert.Single(reload.Refused);
        Assert.Equal(corrupt, refused.Version);
        Assert.Contains("SHA-256 mismatch", refused.Reason, StringComparison.Ordinal);
        Assert.Equal(serving, after.GetProperty("serving").GetString());
        var listed = after.GetProperty("versions").EnumerateArray().First();
        Assert.Equal(corrupt, listed.GetProperty("version").GetString());
        Assert.False(listed.GetProperty("valid").GetBoolean());
        Assert.Equal(HttpStatusCode.OK, home.StatusCode);
        var view = await home.Content.ReadFromJsonAsync<RecommendationsView>();
        Assert.Equal(serving, view!.ModelVersion);
        Assert.Equal("fusion", view.Scorer);
        Assert.NotEmpty(view.Items);
    }

    [Fact]
    public async Task Home_NoModelAndTrainOnStartOff_AnswersFromTheCatalog()
    {
        var factory = Start();
        factory.Settings["Serving:TrainOnStart"] = "false";
        var client = factory.CreateClient();

        var models = await client.GetFromJsonAsync<JsonElement>("/v1/admin/models");
        var response = await client.GetAsync("/v1/users/user-00001/recommendations?count=5");

        Assert.Equal(0, models.GetProperty("versions").GetArrayLength());
        Assert.False(models.TryGetProperty("serving", out _));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var home = (await response.Content.ReadFromJsonAsync<RecommendationsView>())!;
        Assert.Equal("catalog", home.Scorer);
        Assert.NotEmpty(home.Degraded);
        Assert.Null(home.ModelVersion);
        Assert.NotEmpty(home.Items);
        foreach (var item in home.Items)
        {
            var stored = await client.GetAsync($"/v1/catalog/items/{item.ItemId}");
            Assert.Equal(HttpStatusCode.OK, stored.StatusCode);
            Assert.Equal(["catalog"], item.Sources);
        }
    }

    public void Dispose()
    {
        foreach (var factory in _factories)
        {
            factory.Dispose();
        }
    }

    private AssistantFactory Start()
    {
        var factory = new AssistantFactory();
        factory.Settings["Demo:SeedOnStart"] = "true";
        factory.Settings["Demo:Scale"] = "0.1";
        _factories.Add(factory);
        return factory;
    }

    private static async Task<TrainingJobView> WaitAsync(HttpClient client, string id)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var job = (await client.GetFromJsonAsync<TrainingJobView>($"/v1/admin/train/{id}"))!;
            if (job.State != "running")
            {
                return job;
            }

            Assert.True(clock.Elapsed < TrainingTimeout, $"training job {id} still running after {TrainingTimeout}: {string.Join("; ", job.Progress)}");
            await Task.Delay(200);
        }
    }
}

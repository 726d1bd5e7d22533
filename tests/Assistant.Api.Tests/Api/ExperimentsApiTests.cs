using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;

namespace Assistant.Api.Tests.Api;

/// <summary>The experiments API on the demo marketplace (which carries a running experiment with exposures).</summary>
public sealed class ExperimentsApiTests : IClassFixture<DemoFactory>
{
    private readonly HttpClient _client;
    private readonly DemoFactory _demo;

    public ExperimentsApiTests(DemoFactory demo)
    {
        _demo = demo;
        _client = demo.Factory.CreateClient();
    }

    [Fact]
    public async Task AssignAll_TwoRunningLayers_MergesParametersAndLogsAnExposureEach()
    {
        var first = Unique("exp");
        var second = Unique("exp");
        await _client.PostAsJsonAsync("/v1/experiments", Request(first, layer: Unique("layer"), layerShare: 1));
        await _client.PostAsJsonAsync("/v1/experiments", Request(second, layer: Unique("layer"), layerShare: 1));
        await _client.PostAsync($"/v1/experiments/{first}/start", null);
        await _client.PostAsync($"/v1/experiments/{second}/start", null);
        var service = _demo.Factory.Services.GetRequiredService<Ranking.Experiments.ExperimentService>();
        var user = Unique("user");

        var assignments = await service.AssignAllAsync(user, logExposure: true);
        var firstReport = await _client.GetFromJsonAsync<JsonElement>($"/v1/experiments/{first}/report?metrics=orders");
        var secondReport = await _client.GetFromJsonAsync<JsonElement>($"/v1/experiments/{second}/report?metrics=orders");

        Assert.Contains(assignments, a => a.Experiment == first && a.InExperiment && a.Parameters.ContainsKey("marginWeight"));
        Assert.Contains(assignments, a => a.Experiment == second && a.InExperiment);
        Assert.Equal(1, firstReport.GetProperty("exposedUsers").GetInt64());
        Assert.Equal(1, secondReport.GetProperty("exposedUsers").GetInt64());
    }

    private static string Unique(string prefix) => prefix + "-" + Guid.NewGuid().ToString("N")[..8];

    private static object Request(string name, double a = 0.5, double b = 0.5, string layer = "default", double layerShare = 0.1) => new
    {
        name,
        layer,
        layerShare,
        variants = new object[]
        {
            new { name = "control", share = a, parameters = new Dictionary<string, string> { ["marginWeight"] = "0" } },
            new { name = "treatment", share = b, parameters = new Dictionary<string, string> { ["marginWeight"] = "0.4" } },
        },
    };

    [Fact]
    public async Task Lifecycle_CreateStartAssignExposeStop()
    {
        var name = Unique("exp");

        var created = await _client.PostAsJsonAsync("/v1/experiments", Request(name, layer: Unique("layer"), layerShare: 1));
        var draftAssignment = await _client.GetFromJsonAsync<JsonElement>($"/v1/experiments/{name}/assignment/user-00001");
        var started = await _client.PostAsync($"/v1/experiments/{name}/start", null);
        var assignment = await _client.GetFromJsonAsync<JsonElement>($"/v1/experiments/{name}/assignment/user-00001?expose=true");
        var again = await _client.GetFromJsonAsync<JsonElement>($"/v1/experiments/{name}/assignment/user-00001?expose=true");
        var report = await _client.GetFromJsonAsync<JsonElement>($"/v1/experiments/{name}/report");
        var stopped = await _client.PostAsync($"/v1/experiments/{name}/stop", null);
        var restart = await _client.PostAsync($"/v1/experiments/{name}/start", null);

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal("notRunning", draftAssignment.GetProperty("reason").GetString());
        Assert.Equal(HttpStatusCode.OK, started.StatusCode);
        Assert.Equal("running", (await started.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());
        var variant = assignment.GetProperty("variant").GetString();
        Assert.Contains(variant, new[] { "control", "treatment" });
        Assert.Equal(variant == "control" ? "0" : "0.4", assignment.GetProperty("parameters").GetProperty("marginWeight").GetString());
        Assert.Equal(variant, again.GetProperty("variant").GetString());
        Assert.Equal(1, report.GetProperty("exposedUsers").GetInt64());
        Assert.Equal(HttpStatusCode.OK, stopped.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, restart.StatusCode);
    }

    [Fact]
    public async Task Create_SharesNotSummingToOne_400NamesVariants()
    {
        var response = await _client.PostAsJsonAsync("/v1/experiments", Request(Unique("bad"), 0.5, 0.6));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(problem.GetProperty("errors").TryGetProperty("variants", out _));
    }

    [Fact]
    public async Task Create_SameNameTwice_409AndFullLayer_400()
    {
        var layer = Unique("layer");
        var name = Unique("exp");

        var first = await _client.PostAsJsonAsync("/v1/experiments", Request(name, layer: layer, layerShare: 0.7));
        var duplicate = await _client.PostAsJsonAsync("/v1/experiments", Request(name, layer: layer, layerShare: 0.1));
        var tooBig = await _client.PostAsJsonAsync("/v1/experiments", Request(Unique("exp"), layer: layer, layerShare: 0.5));
        var fits = await _client.PostAsJsonAsync("/v1/experiments", Request(Unique("exp"), layer: layer, layerShare: 0.3));

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, duplicate.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, tooBig.StatusCode);
        Assert.Equal(HttpStatusCode.Created, fits.StatusCode);
        Assert.Equal(0.7, (await fits.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("layerOffset").GetDouble(), 9);
    }

    [Fact]
    public async Task Report_DemoExperiment_HasEveryMetricAndStatistic()
    {
        var response = await _client.GetAsync("/v1/experiments/home-ranker-v2/report?metrics=conversion,revenue,aov");
        var text = await response.Content.ReadAsStringAsync();
        var report = JsonDocument.Parse(text).RootElement;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.DoesNotContain("NaN", text, StringComparison.Ordinal);
        Assert.True(report.GetProperty("exposedUsers").GetInt64() > 100);
        Assert.Equal(2, report.GetProperty("variants").GetArrayLength());
        Assert.True(report.GetProperty("sampleRatio").GetProperty("pValue").GetDouble() >= 0);
        var metrics = report.GetProperty("metrics").EnumerateArray().ToList();
        Assert.Equal(["conversion", "revenue", "aov"], metrics.Select(m => m.GetProperty("metric").GetString()));
        var revenue = metrics[1];
        Assert.True(revenue.GetProperty("welch").GetProperty("isDefined").GetBoolean());
        Assert.True(revenue.GetProperty("cuped").GetProperty("varianceReduction").GetDouble() >= 0);
        Assert.True(revenue.GetProperty("sequential").GetProperty("alwaysValidPValue").GetDouble() >= revenue.GetProperty("welch").GetProperty("pValue").GetDouble() - 1e-9);
        Assert.True(revenue.GetProperty("adjustedPValue").GetDouble() >= revenue.GetProperty("welch").GetProperty("pValue").GetDouble() - 1e-12);
        Assert.False(metrics[2].TryGetProperty("cuped", out _));
    }

    [Fact]
    public async Task Report_UnknownMetricNoExposuresAndUnknownExperiment()
    {
        var name = Unique("empty");
        await _client.PostAsJsonAsync("/v1/experiments", Request(name, layer: Unique("layer")));

        var unknownMetric = await _client.GetAsync($"/v1/experiments/{name}/report?metrics=happiness");
        var empty = await _client.GetFromJsonAsync<JsonElement>($"/v1/experiments/{name}/report");
        var missing = await _client.GetAsync("/v1/experiments/no-such-experiment/report");

        Assert.Equal(HttpStatusCode.BadRequest, unknownMetric.StatusCode);
        Assert.Contains("happiness", await unknownMetric.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(0, empty.GetProperty("exposedUsers").GetInt64());
        Assert.Contains("No exposures", empty.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, empty.GetProperty("metrics").GetArrayLength());
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }
}

using System.Net.Http.Json;
using System.Text.Json;
using Assistant.Api.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Ranking.Data;
using Ranking.Domain;

namespace Assistant.Api.Tests.Api;

/// <summary>A quarter-size demo host with <c>Serving:Transformer=true</c>: the transformer trained with its scenario
/// inputs, served through ONNX Runtime, asked with the anchor or the query by analogs, complements and search.</summary>
public sealed class TransformerServingApiTests : IClassFixture<TransformerServingApiTests.Host>
{
    private readonly Host _host;
    private readonly HttpClient _client;

    public TransformerServingApiTests(Host host)
    {
        _host = host;
        _client = host.Factory.CreateClient();
    }

    [Fact]
    public async Task Surfaces_AskTheTransformerInTheirScenario_ThroughOnnxRuntime()
    {
        var models = _host.Factory.Services.GetRequiredService<ModelService>();
        var store = _host.Factory.Services.GetRequiredService<IMarketplaceStore>();
        var events = await store.GetUserEventsAsync("user-00002", 200);
        var item = events.First(e => e.ItemId is not null).ItemId!;

        var analogs = await _client.GetFromJsonAsync<JsonElement>($"/v1/items/{item}/analogs?userId=user-00002&count=5");
        var anonymous = await _client.GetFromJsonAsync<JsonElement>($"/v1/items/{item}/analogs?count=5");
        var complements = await _client.GetFromJsonAsync<JsonElement>($"/v1/items/{item}/complements?userId=user-00002&count=5");
        using var response = await _client.PostAsJsonAsync("/v1/search/rerank", new { userId = "user-00002", query = "gloves", count = 5 });
        var search = await response.Content.ReadFromJsonAsync<JsonElement>();
        var home = await _client.GetFromJsonAsync<JsonElement>("/v1/users/user-00002/recommendations?count=5");

        foreach (var answer in new[] { analogs, anonymous, complements, search, home })
        {
            Assert.Contains("transformer", Sources(answer));
            Assert.DoesNotContain(answer.GetProperty("degraded").EnumerateArray(), d => d.GetString()!.StartsWith("transformer", StringComparison.Ordinal));
        }

        using var lease = models.Host.Acquire();
        var transformer = lease.Bundle.Models.Transformer!;
        Assert.True(transformer.Options.UseContext && transformer.Options.UseSearchQueries && transformer.Options.UseSurfaces);
        Assert.NotNull(transformer.QueryEncoder);
        Assert.Equal("onnx-cpu", lease.Bundle.Recommender.TransformerStates!.Engine);
    }

    private static IEnumerable<string> Sources(JsonElement answer) =>
        answer.GetProperty("sources").EnumerateArray().Select(s => s.GetString()!);

    /// <summary>The host, trained once for the class.</summary>
    public sealed class Host : IDisposable
    {
        public AssistantFactory Factory { get; } = new();

        public Host()
        {
            Factory.Settings["Demo:SeedOnStart"] = "true";
            Factory.Settings["Demo:Scale"] = "0.25";
            Factory.Settings["Serving:Transformer"] = "true";
            Factory.Settings["Serving:TransformerEpochs"] = "2";
        }

        public void Dispose() => Factory.Dispose();
    }
}

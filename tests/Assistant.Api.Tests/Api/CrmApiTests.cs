using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Ranking.Data;

namespace Assistant.Api.Tests.Api;

/// <summary>Campaign planning, outcomes and reports on the demo marketplace (which carries a past campaign with a holdout).</summary>
public sealed class CrmApiTests : IClassFixture<DemoFactory>
{
    private readonly HttpClient _client;
    private readonly DemoFactory _demo;

    public CrmApiTests(DemoFactory demo)
    {
        _demo = demo;
        _client = demo.Factory.CreateClient();
    }

    private static object Campaign(object goal, int budget = 20, string channel = "email") => new
    {
        name = "Winter gear",
        goal,
        budget,
        channel,
        holdoutShare = 0.1,
        notBefore = "2026-11-02T23:30:00Z",
    };

    [Fact]
    public async Task Plan_messages_only_consenting_users_about_items_in_scope_with_a_holdout()
    {
        var response = await _client.PostAsJsonAsync("/v1/crm/campaigns", Campaign(new { category = "Sports/Winter" }));

        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        var plan = await response.Content.ReadFromJsonAsync<JsonElement>();
        var sends = plan.GetProperty("sends").EnumerateArray().ToList();
        Assert.Equal(20, sends.Count(s => s.GetProperty("isTreatment").GetBoolean()));
        Assert.Equal(3, sends.Count(s => !s.GetProperty("isTreatment").GetBoolean())); // ceil(20 / 0.9) - 20
        Assert.Contains("uplift", plan.GetProperty("ranking").GetString(), StringComparison.Ordinal);
        // The demo host trained its serving models at start, so the serving pipeline chose the items.
        Assert.StartsWith("serving pipeline, model version ", plan.GetProperty("itemSource").GetString(), StringComparison.Ordinal);

        var store = _demo.Factory.Services.GetRequiredService<IMarketplaceStore>();
        foreach (var send in sends)
        {
            var user = await store.GetUserAsync(send.GetProperty("userId").GetString()!);
            Assert.True(user!.HasConsent("email"));

            // The contact policy picks each user's best slot after 23:30, never in the quiet hours (21-9 UTC), within a week.
            var sendAt = send.GetProperty("sendAt").GetDateTimeOffset().ToUniversalTime();
            Assert.InRange(sendAt, new DateTimeOffset(2026, 11, 2, 23, 30, 0, TimeSpan.Zero), new DateTimeOffset(2026, 11, 10, 0, 0, 0, TimeSpan.Zero));
            Assert.InRange(sendAt.Hour, 9, 20);
            foreach (var item in send.GetProperty("items").EnumerateArray())
            {
                var stored = await store.GetItemAsync(item.GetProperty("itemId").GetString()!);
                Assert.StartsWith("Sports/Winter/", stored!.Category, StringComparison.Ordinal);
                Assert.Equal(Math.Round(stored.Price!.Value, 2), item.GetProperty("price").GetDouble(), 2);
            }
        }

        var treated = sends.First(s => s.GetProperty("isTreatment").GetBoolean());
        Assert.Equal(3, treated.GetProperty("items").GetArrayLength());
        Assert.Contains(treated.GetProperty("items")[0].GetProperty("title").GetString()!, treated.GetProperty("body").GetString(), StringComparison.Ordinal);
        var control = sends.First(s => !s.GetProperty("isTreatment").GetBoolean());
        Assert.False(control.TryGetProperty("body", out var body) && body.ValueKind != JsonValueKind.Null);
        Assert.Equal(0, control.GetProperty("items").GetArrayLength());

        // The plan is stored, and its sends are the campaign's send rows.
        var id = plan.GetProperty("campaignId").GetString()!;
        var stored2 = await _client.GetFromJsonAsync<JsonElement>($"/v1/crm/campaigns/{id}");
        Assert.Equal(23, stored2.GetProperty("sends").GetArrayLength());
        var rows = new List<Ranking.Domain.CrmSend>();
        await foreach (var s in store.ReadSendsAsync(id))
        {
            rows.Add(s);
        }

        Assert.Equal(sends.Select(s => s.GetProperty("sendId").GetString()).Order(), rows.Select(r => r.SendId).Order());
    }

    [Fact]
    public async Task Outcomes_are_attributed_and_reported_against_the_holdout()
    {
        var plan = await (await _client.PostAsJsonAsync("/v1/crm/campaigns", Campaign(new { category = "Sports" }, budget: 30))).Content.ReadFromJsonAsync<JsonElement>();
        var id = plan.GetProperty("campaignId").GetString()!;
        var sends = plan.GetProperty("sends").EnumerateArray().ToList();

        var empty = await _client.GetFromJsonAsync<JsonElement>($"/v1/crm/campaigns/{id}/report");
        Assert.Contains("No outcomes", empty.GetProperty("message").GetString(), StringComparison.Ordinal);

        // Every treated user opens; one control user orders for 50.
        var outcomes = sends.Where(s => s.GetProperty("isTreatment").GetBoolean())
            .Select(s => new { sendId = s.GetProperty("sendId").GetString(), type = "open", timestamp = "2026-11-03T10:00:00Z" })
            .Cast<object>().ToList();
        outcomes.Add(new { sendId = sends.First(s => !s.GetProperty("isTreatment").GetBoolean()).GetProperty("sendId").GetString(), type = "order", timestamp = "2026-11-04T10:00:00Z", value = 50.0 });
        var posted = await _client.PostAsJsonAsync("/v1/crm/outcomes", new { outcomes });
        Assert.Equal(HttpStatusCode.OK, posted.StatusCode);

        var report = await _client.GetFromJsonAsync<JsonElement>($"/v1/crm/campaigns/{id}/report");
        var controlCount = report.GetProperty("control").GetInt32();
        var open = report.GetProperty("outcomes").EnumerateArray().Single(o => o.GetProperty("outcome").GetString() == "open");
        Assert.Equal(1.0, open.GetProperty("treatmentMean").GetDouble());
        Assert.Equal(0.0, open.GetProperty("controlMean").GetDouble());
        var order = report.GetProperty("outcomes").EnumerateArray().Single(o => o.GetProperty("outcome").GetString() == "order_value");
        Assert.Equal(50.0 / controlCount, order.GetProperty("controlMean").GetDouble(), 9);
        Assert.Equal(-50.0 / controlCount, order.GetProperty("uplift").GetDouble(), 9);
    }

    [Fact]
    public async Task Bad_campaigns_get_400_with_the_field_named()
    {
        async Task<JsonElement> ProblemAsync(object body)
        {
            var response = await _client.PostAsJsonAsync("/v1/crm/campaigns", body);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        }

        Assert.True((await ProblemAsync(Campaign(new { category = "Gardening/Gnomes" }))).TryGetProperty("goal.category", out _));
        Assert.True((await ProblemAsync(Campaign(new { brand = "NoSuchBrand" }))).TryGetProperty("goal.brand", out _));
        Assert.True((await ProblemAsync(Campaign(new { itemIds = new[] { "nope" } }))).TryGetProperty("goal.itemIds", out _));
        Assert.True((await ProblemAsync(Campaign(new { category = "Sports" }, budget: 1_000_000))).TryGetProperty("budget", out _));
        Assert.True((await ProblemAsync(Campaign(new { category = "Sports" }, budget: 0))).TryGetProperty("budget", out _));
        Assert.True((await ProblemAsync(Campaign(new { category = "Sports" }, channel: "pigeon"))).TryGetProperty("channel", out _));
        Assert.True((await ProblemAsync(new { name = "x", budget = 5 })).TryGetProperty("goal", out _));
        Assert.True((await ProblemAsync(Campaign(new { category = "Sports", brand = "X" }))).TryGetProperty("goal", out _));

        var outcomes = await _client.PostAsJsonAsync("/v1/crm/outcomes", new { outcomes = new[] { new { sendId = "s", type = "teleport", timestamp = "2026-11-03T10:00:00Z" } } });
        Assert.Equal(HttpStatusCode.BadRequest, outcomes.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync("/v1/crm/campaigns/none")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync("/v1/crm/campaigns/none/report")).StatusCode);
    }
}

/// <summary>A store where nobody consents: the audience is empty and nobody is planned.</summary>
public sealed class CrmConsentTests : IDisposable
{
    private readonly AssistantFactory _factory = new();

    [Fact]
    public async Task Users_without_consent_are_never_planned()
    {
        var client = _factory.CreateClient();
        await client.PostAsJsonAsync("/v1/catalog/items", new
        {
            items = new[]
            {
                new { id = "b1", title = "Snowboard", category = "Sports/Winter/Snowboards", price = 300.0 },
                new { id = "b2", title = "Boots", category = "Sports/Winter/Boots", price = 120.0 },
            },
        });
        await client.PostAsJsonAsync("/v1/users", new
        {
            users = new object[]
            {
                new { id = "u1", consent = new Dictionary<string, bool> { ["email"] = false, ["push"] = true } },
                new { id = "u2" },
            },
        });
        await client.PostAsJsonAsync("/v1/events", new
        {
            events = new[]
            {
                new { eventId = "e1", userId = "u1", itemId = "b1", type = "order", timestamp = "2026-10-01T10:00:00Z" },
                new { eventId = "e2", userId = "u2", itemId = "b2", type = "view", timestamp = "2026-10-02T10:00:00Z" },
            },
        });

        var response = await client.PostAsJsonAsync("/v1/crm/campaigns", new { name = "Winter", goal = new { category = "Sports/Winter" }, budget = 1, holdoutShare = 0.0 });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(body.Contains("audience", StringComparison.Ordinal), body);
        var errors = JsonDocument.Parse(body).RootElement.GetProperty("errors");
        Assert.Contains("2 without consent", errors.GetProperty("audience")[0].GetString(), StringComparison.Ordinal);

        // With push, u1 (who consents to push) is the only one planned.
        var push = await client.PostAsJsonAsync("/v1/crm/campaigns", new { name = "Winter", goal = new { category = "Sports/Winter" }, budget = 1, holdoutShare = 0.0, channel = "push" });
        Assert.Equal(HttpStatusCode.Created, push.StatusCode);
        var sends = (await push.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("sends");
        Assert.Equal("u1", Assert.Single(sends.EnumerateArray()).GetProperty("userId").GetString());
    }

    public void Dispose() => _factory.Dispose();
}

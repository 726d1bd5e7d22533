using System.ComponentModel;
using System.Globalization;
using Assistant.Api.Hosting;
using Assistant.Api.Storage;
using Ranking.Data;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Ranking.Candidates;
using Ranking.Domain;
using Ranking.Experiments;
using Ranking.Fusion;

namespace Assistant.Api.Endpoints;

[Description("Why an item is there: the signal that carried it, as a kind and a sentence.")]
public sealed record ExplanationView(
    string Kind, string? Source, string Text, string? AnchorItemId, DateTimeOffset? AnchorTime, string? Category, string? Brand, bool? Generated = null);

[Description("A recommended item with its score, sources and explanation.")]
public sealed record RecommendedItemView(
    string ItemId, string Title, string? Category, string? Brand, double? Price, bool InStock, double Score, double? OrderProbability, double Value,
    IReadOnlyList<string> Sources, ExplanationView Explanation);

[Description("An experiment the user is in, whose parameters shaped the answer.")]
public sealed record ExperimentArm(string Experiment, string Variant);

[Description("A ranked answer of a surface.")]
public sealed record RecommendationsView(
    string Surface, string? UserId, string? AnchorItemId, string? ModelVersion, bool ColdStart, string Scorer, IReadOnlyList<string> Sources,
    IReadOnlyList<string> Degraded, IReadOnlyList<ExperimentArm> Experiments, IReadOnlyList<RecommendedItemView> Items, StageTimings? Timings,
    IReadOnlyList<string>? UnknownItems = null);

[Description("A query to re-rank: either candidate item ids (from the caller's search) or the service's own catalogue search.")]
public sealed record SearchRerankRequest
{
    [Description("The search query (required unless itemIds are given).")]
    public string? Query { get; init; }

    [Description("Candidate item ids in the caller's order; when absent the service searches its catalogue.")]
    public IReadOnlyList<string>? ItemIds { get; init; }

    [Description("The user to personalise for (optional).")]
    public string? UserId { get; init; }

    [Description("Items in the answer, 1 to 100 (default 20).")]
    public int? Count { get; init; }

    [Description("Only items under this category path (catalogue search only).")]
    public string? Category { get; init; }
}

[Description("A brand new to the user with a few of its items and the reason.")]
public sealed record BrandView(string Brand, double Score, string? BecauseBrand, string Reason, IReadOnlyList<RecommendedItemView> Items);

[Description("The discovery brand carousel.")]
public sealed record BrandsView(string UserId, string? ModelVersion, bool ColdStart, IReadOnlyList<string> Degraded, IReadOnlyList<BrandView> Brands);

[Description("A category interest of the user, with its evidence.")]
public sealed record InterestView(
    string Category, double Strength, bool Lifelong, double Due, DateTimeOffset Since, DateTimeOffset LastSeen, DateTimeOffset? LastOrder, int Orders,
    int Events, IReadOnlyList<string> EvidenceItemIds);

[Description("The user's interests: long-horizon (lifelong) and current.")]
public sealed record InterestsView(string UserId, string? ModelVersion, IReadOnlyList<string> Degraded, IReadOnlyList<InterestView> Interests);

/// <summary>The recommendation surfaces: home, analogs, complements, search re-ranking, brand carousel, interests.</summary>
public static class RecommendationsApi
{
    private const int MaxCount = 100;

    public static IEndpointRouteBuilder MapRecommendationsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1").WithTags("Recommendations");
        api.MapGet("/users/{id}/recommendations", HomeAsync).WithName("GetRecommendations")
            .WithSummary("The home feed: candidates from every source, the fusion model's P(order) times value (GMV and margin blended), filters, diversity caps and discovery slots; each item with its sources and explanation. An unknown user gets popular items (of ?category= when given).");
        api.MapGet("/items/{id}/analogs", AnalogsAsync).WithName("GetAnalogs")
            .WithSummary("Items like this one (co-viewed, similar text, ALS neighbours), personalised when userId is given.");
        api.MapGet("/items/{id}/complements", ComplementsAsync).WithName("GetComplements")
            .WithSummary("Items bought after this one in other categories, and the top sellers of those categories.");
        api.MapPost("/search/rerank", RerankAsync).WithName("RerankSearch")
            .WithSummary("Re-ranks a query's results for a user: the caller's candidate ids, or the service's own catalogue search (BM25, plus vectors when text embeddings are trained).");
        api.MapGet("/users/{id}/brands", BrandsAsync).WithName("GetBrandCarousel")
            .WithSummary("Brands new to the user next to her interests, each with a few items and a reason.");
        api.MapGet("/users/{id}/interests", InterestsAsync).WithName("GetInterests")
            .WithSummary("The user's category interests: strength, lifelong or current, how due they are, since when, and the ordered items as evidence.");
        return app;
    }

    public sealed record Services(ModelService Models, IMarketplaceStore Store, ExperimentService Experiments, TimeProvider Time, LlmSurfaces Llm);

    public static async Task<Results<Ok<RecommendationsView>, ValidationProblem>> HomeAsync(
        string id, [AsParameters] Services services, CancellationToken cancellationToken, int? count = null, double? marginWeight = null,
        double? discoveryShare = null, string? exclude = null, string? category = null)
    {
        var errors = Validate(count, marginWeight, discoveryShare);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var assignments = await services.Experiments.AssignAllAsync(id, logExposure: true, cancellationToken).ConfigureAwait(false);
        var arms = assignments.Where(a => a.InExperiment).Select(a => new ExperimentArm(a.Experiment, a.Variant!)).ToList();
        marginWeight ??= Parameter(assignments, "marginWeight", 0, 1);
        discoveryShare ??= Parameter(assignments, "discoveryShare", 0, 0.5);
        var now = services.Time.GetUtcNow().ToUnixTimeMilliseconds();
        using var lease = services.Models.Host.TryAcquire(out var l) ? l : null;
        if (lease is null)
        {
            return TypedResults.Ok(await CatalogFallbackAsync("home", id, null, services, count ?? 20, category, arms, cancellationToken).ConfigureAwait(false));
        }

        var bundle = lease.Bundle;
        var catalog = bundle.Models.Catalog;
        var events = await services.Store.GetUserEventsAsync(id, services.Models.Options.HistoryEvents, cancellationToken).ConfigureAwait(false);
        var history = catalog.HistoryOf(id, events);
        int? categoryIndex = category is null ? null : IndexOf(catalog.Items.Categories, category);
        var degraded = new List<string>();
        if (category is not null && categoryIndex is null)
        {
            degraded.Add($"category '{category}' is unknown to the models; ignored");
        }

        IReadOnlyDictionary<string, float>? interestProfile = null;
        if (services.Llm.Enabled && !history.IsEmpty)
        {
            interestProfile = await services.Llm.InterestProfileAsync(id, lease.Manifest.Version, cancellationToken).ConfigureAwait(false);
            degraded.Add(interestProfile is null
                ? "llm: no interest profile within the time budget; the ranker used its interest statistics"
                : "llm: the ranker used the LLM's interest profile");
        }

        var request = new RecommendationRequest
        {
            Count = count ?? 20,
            NowMs = now,
            MarginWeight = marginWeight,
            DiscoveryShare = discoveryShare,
            Exclude = ParseIds(exclude, catalog),
            Category = categoryIndex,
            InterestProfile = interestProfile,
        };
        var result = bundle.Recommender.Home(history, request);
        var view = View("home", id, null, lease.Manifest.Version, result, catalog, arms, degraded);
        return TypedResults.Ok(await ExplainAsync(view, id, services, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>With an LLM, the first items' explanations in words (within the time budget); else the templates.</summary>
    private static async Task<RecommendationsView> ExplainAsync(RecommendationsView view, string userId, Services services, CancellationToken cancellationToken)
    {
        if (!services.Llm.Enabled || view.Items.Count == 0)
        {
            return view;
        }

        var rewritten = await services.Llm.ExplainAsync(userId, [.. view.Items.Select(i => (i.ItemId, i.Explanation.Text))], cancellationToken).ConfigureAwait(false);
        var items = view.Items.ToArray();
        foreach (var (index, text) in rewritten)
        {
            items[index] = items[index] with { Explanation = items[index].Explanation with { Text = text, Generated = true } };
        }

        var note = rewritten.Count == Math.Min(LlmSurfaces.ExplainedItems, items.Length)
            ? null
            : "llm: some explanations are templates (the model did not answer within the time budget)";
        return view with { Items = items, Degraded = note is null ? view.Degraded : [.. view.Degraded, note] };
    }

    public static Task<Results<Ok<RecommendationsView>, ProblemHttpResult, ValidationProblem>> AnalogsAsync(
        string id, [AsParameters] Services services, CancellationToken cancellationToken, string? userId = null, int? count = null, double? marginWeight = null) =>
        ItemToItemAsync(id, complements: false, services, userId, count, marginWeight, cancellationToken);

    public static Task<Results<Ok<RecommendationsView>, ProblemHttpResult, ValidationProblem>> ComplementsAsync(
        string id, [AsParameters] Services services, CancellationToken cancellationToken, string? userId = null, int? count = null, double? marginWeight = null) =>
        ItemToItemAsync(id, complements: true, services, userId, count, marginWeight, cancellationToken);

    public static async Task<Results<Ok<RecommendationsView>, ValidationProblem>> RerankAsync(
        SearchRerankRequest request, [AsParameters] Services services, CancellationToken cancellationToken)
    {
        var errors = Validate(request.Count, null, null);
        if (string.IsNullOrWhiteSpace(request.Query) && (request.ItemIds is null || request.ItemIds.Count == 0))
        {
            errors["query"] = ["A query (or candidate itemIds) is required."];
        }

        if (request.Query is { Length: > 500 })
        {
            errors["query"] = ["The query is longer than 500 characters."];
        }

        if (request.ItemIds is { Count: > 1000 })
        {
            errors["itemIds"] = ["At most 1000 candidate items."];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var query = request.Query?.Trim() ?? "";
        var count = request.Count ?? 20;
        using var lease = services.Models.Host.TryAcquire(out var l) ? l : null;
        if (lease is null)
        {
            return TypedResults.Ok(await CatalogFallbackAsync("search", request.UserId, null, services, count, request.Category, [], cancellationToken).ConfigureAwait(false));
        }

        var bundle = lease.Bundle;
        var catalog = bundle.Models.Catalog;
        var degraded = new List<string>();
        var unknown = new List<string>();
        List<ScoredItem> retrieved;
        if (request.ItemIds is { Count: > 0 } ids)
        {
            retrieved = [];
            var seen = new HashSet<int>();
            for (var r = 0; r < ids.Count; r++)
            {
                if (ids[r] is { } itemId && catalog.TryGetItem(itemId, out var item))
                {
                    if (seen.Add(item))
                    {
                        retrieved.Add(new ScoredItem(item, ids.Count - r));
                    }
                }
                else
                {
                    unknown.Add(ids[r] ?? "");
                }
            }
        }
        else if (bundle.Search is { } search)
        {
            var filter = request.Category is null ? null : new Ranking.Search.SearchFilter { CategoryPrefix = request.Category };
            var found = search.Search(query, 100, Ranking.Search.SearchMode.Hybrid, filter, cancellationToken);
            if (!found.UsedVectors)
            {
                degraded.Add("search: keyword only (no text embeddings)");
            }

            retrieved = [.. found.Hits.Select(h => new ScoredItem(h.Item, h.Score))];
        }
        else
        {
            degraded.Add("search: no keyword index in this model version");
            retrieved = [];
        }

        IReadOnlyList<UserEvent> events = request.UserId is null
            ? []
            : await services.Store.GetUserEventsAsync(request.UserId, services.Models.Options.HistoryEvents, cancellationToken).ConfigureAwait(false);
        var history = catalog.HistoryOf(request.UserId ?? "", events);
        var result = bundle.Recommender.Rerank(
            history, retrieved, query, new RecommendationRequest { Count = count, NowMs = services.Time.GetUtcNow().ToUnixTimeMilliseconds() });
        return TypedResults.Ok(View("search", request.UserId, null, lease.Manifest.Version, result, catalog, [], degraded) with { UnknownItems = unknown });
    }

    public static async Task<Results<Ok<BrandsView>, ValidationProblem>> BrandsAsync(
        string id, [AsParameters] Services services, CancellationToken cancellationToken, int? count = null, int? items = null)
    {
        var errors = new Dictionary<string, string[]>();
        if (count is < 1 or > 20)
        {
            errors["count"] = ["count must be between 1 and 20."];
        }

        if (items is < 1 or > 20)
        {
            errors["items"] = ["items must be between 1 and 20."];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        using var lease = services.Models.Host.TryAcquire(out var l) ? l : null;
        if (lease is null)
        {
            return TypedResults.Ok(new BrandsView(id, null, true, ["models: no version loaded"], []));
        }

        var bundle = lease.Bundle;
        var catalog = bundle.Models.Catalog;
        var events = await services.Store.GetUserEventsAsync(id, services.Models.Options.HistoryEvents, cancellationToken).ConfigureAwait(false);
        var history = catalog.HistoryOf(id, events);
        var now = services.Time.GetUtcNow().ToUnixTimeMilliseconds();
        var brands = bundle.Recommender.Brands(history, count ?? 5, items ?? 4, now);
        var names = catalog.Items.Brands;
        var degraded = bundle.Models.Discovery is null ? new List<string> { "discovery: not trained; popular brands shown" } : [];
        // With an LLM, its picks (among the discovery model's candidate brands, with reasons from her history) come first.
        var picked = services.Llm.Enabled && !history.IsEmpty
            ? await services.Llm.BrandsAsync(id, count ?? 5, cancellationToken).ConfigureAwait(false)
            : [];
        if (services.Llm.Enabled && !history.IsEmpty && picked.Count == 0)
        {
            degraded.Add("llm: no brand picks within the time budget; the discovery model's brands and template reasons stand");
        }

        var brandIndex = names.Select((n, i) => (n, i)).ToDictionary(p => p.n, p => p.i, StringComparer.OrdinalIgnoreCase);
        var fromLlm = new List<BrandSuggestion>();
        foreach (var b in picked)
        {
            if (brandIndex.TryGetValue(b.Brand, out var index))
            {
                var itemIndexes = b.Items.Select(c => catalog.TryGetItem(c.ItemId, out var i) ? i : -1).Where(i => i >= 0).Take(items ?? 4).ToList();
                fromLlm.Add(new BrandSuggestion(index, 1, -1, itemIndexes, b.Reason));
            }
        }

        brands = [.. fromLlm.Concat(brands.Where(b => fromLlm.All(l => l.Brand != b.Brand))).Take(count ?? 5)];
        var views = brands.Select(b => new BrandView(
            names[b.Brand], b.Score, b.BecauseBrand >= 0 ? names[b.BecauseBrand] : null, b.Reason,
            [.. b.Items.Select(i => ItemView(catalog, i, 0, double.NaN, bundle.Recommender.Value(i, bundle.Recommender.Options.MarginWeight), ["discovery"],
                new Explanation("discovery-brand", CandidateSource.Discovery, b.Reason, Brand: b.Brand)))])).ToList();
        return TypedResults.Ok(new BrandsView(id, lease.Manifest.Version, history.IsEmpty, degraded, views));
    }

    public static async Task<Ok<InterestsView>> InterestsAsync(string id, [AsParameters] Services services, CancellationToken cancellationToken)
    {
        using var lease = services.Models.Host.TryAcquire(out var l) ? l : null;
        if (lease is null)
        {
            return TypedResults.Ok(new InterestsView(id, null, ["models: no version loaded"], []));
        }

        var bundle = lease.Bundle;
        var catalog = bundle.Models.Catalog;
        var events = await services.Store.GetUserEventsAsync(id, services.Models.Options.HistoryEvents, cancellationToken).ConfigureAwait(false);
        var history = catalog.HistoryOf(id, events);
        var now = services.Time.GetUtcNow().ToUnixTimeMilliseconds();
        var interests = bundle.Recommender.Interests(history, now);
        var degraded = bundle.Models.Lifelong is null ? new[] { "lifelong: not trained" } : [];
        var views = interests.Select(i => new InterestView(
            i.Name, Math.Round(i.Strength, 4), i.IsLifelong, Math.Round(i.Due, 4), Time(i.FirstMs), Time(i.LastMs), i.LastOrderMs is { } o ? Time(o) : null,
            i.Orders, i.Events, [.. i.EvidenceItems.Select(catalog.ItemId)])).ToList();
        return TypedResults.Ok(new InterestsView(id, lease.Manifest.Version, degraded, views));
    }

    private static async Task<Results<Ok<RecommendationsView>, ProblemHttpResult, ValidationProblem>> ItemToItemAsync(
        string id, bool complements, Services services, string? userId, int? count, double? marginWeight, CancellationToken cancellationToken)
    {
        var errors = Validate(count, marginWeight, null);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var surface = complements ? "complements" : "analogs";
        var stored = await services.Store.GetItemAsync(id, cancellationToken).ConfigureAwait(false);
        using var lease = services.Models.Host.TryAcquire(out var l) ? l : null;
        var known = lease is not null && lease.Bundle.Models.Catalog.TryGetItem(id, out _);
        if (stored is null && !known)
        {
            return TypedResults.Problem(statusCode: 404, title: "Item not found", detail: $"The catalog has no item '{id}'.");
        }

        if (lease is null)
        {
            return TypedResults.Ok(await CatalogFallbackAsync(surface, userId, id, services, count ?? 20, stored?.Category, [], cancellationToken).ConfigureAwait(false));
        }

        var bundle = lease.Bundle;
        var catalog = bundle.Models.Catalog;
        var events = userId is null
            ? []
            : await services.Store.GetUserEventsAsync(userId, services.Models.Options.HistoryEvents, cancellationToken).ConfigureAwait(false);
        var history = catalog.HistoryOf(userId ?? "", events);
        var request = new RecommendationRequest { Count = count ?? 20, NowMs = services.Time.GetUtcNow().ToUnixTimeMilliseconds(), MarginWeight = marginWeight };
        if (!catalog.TryGetItem(id, out var anchor))
        {
            // An item newer than the models: the popular items of its category stand in.
            var category = stored!.Category is { } c ? IndexOf(catalog.Items.Categories, c) : null;
            var result = bundle.Recommender.Home(history, request with { Category = category ?? -1 });
            return TypedResults.Ok(View(surface, userId, id, lease.Manifest.Version, result, catalog, [], ["item: newer than the models; popular items of its category instead"]));
        }

        var answer = complements ? bundle.Recommender.Complements(anchor, history, request) : bundle.Recommender.Analogs(anchor, history, request);
        return TypedResults.Ok(View(surface, userId, id, lease.Manifest.Version, answer, catalog, [], []));
    }

    private static async Task<RecommendationsView> CatalogFallbackAsync(
        string surface, string? userId, string? anchor, Services services, int count, string? category, IReadOnlyList<ExperimentArm> arms, CancellationToken cancellationToken)
    {
        var items = await services.Store.ListItemsAsync(category, 0, count, cancellationToken).ConfigureAwait(false);
        var views = items.Where(i => i.InStock && i.Id != anchor).Select(i => new RecommendedItemView(
            i.Id, i.Title, i.Category, i.Brand, i.Price, i.InStock, 0, null, i.Price ?? 0, ["catalog"],
            new ExplanationView("catalog", null, "From the catalog (no model is loaded yet)", null, null, i.Category, i.Brand))).ToList();
        return new RecommendationsView(surface, userId, anchor, null, true, "catalog", ["catalog"], ["models: no version loaded; answering from the catalog"], arms, views, null);
    }

    private static RecommendationsView View(
        string surface, string? userId, string? anchor, string version, RecommendationResult result, ServingCatalog catalog, IReadOnlyList<ExperimentArm> arms,
        IReadOnlyList<string> degraded) =>
        new(
            surface, userId, anchor, version, result.ColdStart, result.Scorer,
            [.. result.Sources.Select(s => s.ToString().ToLowerInvariant())],
            [.. degraded, .. result.Degraded], arms,
            [.. result.Items.Select(i => ItemView(catalog, i.Item, i.Score, i.OrderProbability, i.Value, [.. i.Sources.Select(s => s.ToString().ToLowerInvariant())], i.Explanation))],
            result.Timings);

    private static RecommendedItemView ItemView(
        ServingCatalog catalog, int item, double score, double probability, double value, IReadOnlyList<string> sources, Explanation explanation)
    {
        var table = catalog.Items;
        var c = table.CategoryIndex[item];
        var b = table.BrandIndex[item];
        var price = table.Price[item];
        return new RecommendedItemView(
            catalog.ItemId(item), table.Title[item], c >= 0 ? table.Categories[c] : null, b >= 0 ? table.Brands[b] : null,
            float.IsNaN(price) ? null : Math.Round(price, 2), table.InStock[item], Math.Round(score, 8),
            double.IsNaN(probability) ? null : Math.Round(probability, 6), Math.Round(value, 2), sources,
            new ExplanationView(
                explanation.Kind, explanation.Source?.ToString().ToLowerInvariant(), explanation.Text,
                explanation.AnchorItem >= 0 ? catalog.ItemId(explanation.AnchorItem) : null,
                explanation.AnchorMs > 0 ? DateTimeOffset.FromUnixTimeMilliseconds(explanation.AnchorMs) : null,
                explanation.Category >= 0 ? table.Categories[explanation.Category] : null,
                explanation.Brand >= 0 ? table.Brands[explanation.Brand] : null));
    }

    private static Dictionary<string, string[]> Validate(int? count, double? marginWeight, double? discoveryShare)
    {
        var errors = new Dictionary<string, string[]>();
        if (count is < 1 or > MaxCount)
        {
            errors["count"] = [$"count must be between 1 and {MaxCount}."];
        }

        if (marginWeight is { } w && !(w >= 0 && w <= 1))
        {
            errors["marginWeight"] = ["marginWeight must be between 0 and 1."];
        }

        if (discoveryShare is { } d && !(d >= 0 && d <= 0.5))
        {
            errors["discoveryShare"] = ["discoveryShare must be between 0 and 0.5."];
        }

        return errors;
    }

    private static double? Parameter(IReadOnlyList<Assignment> assignments, string name, double min, double max)
    {
        foreach (var a in assignments)
        {
            if (a.InExperiment && a.Parameters.TryGetValue(name, out var text)
                && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max)
            {
                return value;
            }
        }

        return null;
    }

    private static HashSet<int>? ParseIds(string? ids, ServingCatalog catalog)
    {
        if (string.IsNullOrWhiteSpace(ids))
        {
            return null;
        }

        var set = new HashSet<int>();
        foreach (var id in ids.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (catalog.TryGetItem(id, out var item))
            {
                set.Add(item);
            }
        }

        return set;
    }

    private static int? IndexOf(IReadOnlyList<string> categories, string category)
    {
        var normalized = CategoryPath.Normalize(category);
        for (var c = 0; c < categories.Count; c++)
        {
            if (string.Equals(categories[c], normalized, StringComparison.OrdinalIgnoreCase))
            {
                return c;
            }
        }

        return null;
    }

    private static DateTimeOffset Time(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms);
}

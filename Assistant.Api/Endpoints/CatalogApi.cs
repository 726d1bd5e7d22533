using Assistant.Api.Hosting;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Ranking.Data;
using Ranking.Domain;
using Ranking.Import;

namespace Assistant.Api.Endpoints;

public static class CatalogApi
{
    public static IEndpointRouteBuilder MapCatalogApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/catalog").WithTags("Catalog");
        api.MapPost("/items", UpsertItemsAsync).WithName("UpsertItems")
            .WithSummary("Insert or replace catalog items (a batch, all or nothing).");
        api.MapGet("/items/{id}", GetItemAsync).WithName("GetItem").WithSummary("One item by its external id.");
        api.MapGet("/items", ListItemsAsync).WithName("ListItems").WithSummary("A page of items, optionally under a category path.");
        return app;
    }

    public sealed record Services(ICatalogStore Catalog, RecordValidator Validator, IOptions<ApiOptions> Options);

    public static async Task<Results<Ok<UpsertResponse>, ValidationProblem>> UpsertItemsAsync(
        ItemBatchRequest request, [AsParameters] Services services, CancellationToken cancellationToken)
    {
        var errors = BatchValidation.Validate(request.Items, "items", services.Options.Value.MaxBatchSize, r => r.ToDomain(), services.Validator.Validate, out var items);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, title: "Some items are invalid; nothing was stored.");
        }

        var written = await services.Catalog.UpsertItemsAsync(items, cancellationToken).ConfigureAwait(false);
        return TypedResults.Ok(new UpsertResponse(items.Count, written));
    }

    public static async Task<Results<Ok<ItemRecord>, ProblemHttpResult>> GetItemAsync(
        string id, [AsParameters] Services services, CancellationToken cancellationToken)
    {
        var item = await services.Catalog.GetItemAsync(id, cancellationToken).ConfigureAwait(false);
        return item is null
            ? TypedResults.Problem(statusCode: 404, title: "Item not found", detail: $"The catalog has no item '{id}'.")
            : TypedResults.Ok(ItemRecord.FromDomain(item));
    }

    public static async Task<Results<Ok<ItemPage>, ValidationProblem>> ListItemsAsync(
        [AsParameters] Services services, CancellationToken cancellationToken, string? category = null, int offset = 0, int limit = 50)
    {
        if (offset < 0 || limit is < 1 or > 1000)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                [offset < 0 ? "offset" : "limit"] = ["offset must be >= 0 and limit between 1 and 1000."],
            });
        }

        var prefix = category is null ? null : CategoryPath.Normalize(category);
        var items = await services.Catalog.ListItemsAsync(prefix, offset, limit, cancellationToken).ConfigureAwait(false);
        var total = await services.Catalog.CountItemsAsync(cancellationToken).ConfigureAwait(false);
        return TypedResults.Ok(new ItemPage([.. items.Select(ItemRecord.FromDomain)], offset, limit, total));
    }
}

using Assistant.Api.Hosting;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Ranking.Data;
using Ranking.Domain;
using Ranking.Import;

namespace Assistant.Api.Endpoints;

public static class EventsApi
{
    public static IEndpointRouteBuilder MapEventsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/events").WithTags("Events");
        api.MapPost("/", IngestEventsAsync).WithName("IngestEvents")
            .WithSummary("Append a batch of events, idempotent by event id; all or nothing when a record is invalid.");
        return app;
    }

    public sealed record Services(IEventStore Events, RecordValidator Validator, IOptions<ApiOptions> Options);

    public static async Task<Results<Ok<EventIngestResponse>, ValidationProblem>> IngestEventsAsync(
        EventBatchRequest request, [AsParameters] Services services, CancellationToken cancellationToken)
    {
        var errors = BatchValidation.Validate(request.Events, "events", services.Options.Value.MaxBatchSize, r => r.ToDomain(), services.Validator.Validate, out var events);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, title: "Some events are invalid; nothing was stored.");
        }

        var result = await services.Events.AppendEventsAsync(events, cancellationToken).ConfigureAwait(false);
        return TypedResults.Ok(new EventIngestResponse(result.Received, result.Stored, result.Duplicates, result.UnknownItems));
    }
}

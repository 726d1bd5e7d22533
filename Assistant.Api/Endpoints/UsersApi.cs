using Assistant.Api.Hosting;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Ranking.Data;
using Ranking.Domain;
using Ranking.Import;

namespace Assistant.Api.Endpoints;

public static class UsersApi
{
    public static IEndpointRouteBuilder MapUsersApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/users").WithTags("Users");
        api.MapPost("/", UpsertUsersAsync).WithName("UpsertUsers").WithSummary("Insert or replace users (a batch, all or nothing).");
        api.MapGet("/{id}", GetUserAsync).WithName("GetUser").WithSummary("One user by external id.");
        api.MapGet("/{id}/events", GetUserEventsAsync).WithName("GetUserEvents")
            .WithSummary("A user's latest events, oldest first; an unknown user gets an empty list.");
        return app;
    }

    public sealed record Services(IUserStore Users, IEventStore Events, RecordValidator Validator, IOptions<ApiOptions> Options);

    public static async Task<Results<Ok<UpsertResponse>, ValidationProblem>> UpsertUsersAsync(
        UserBatchRequest request, [AsParameters] Services services, CancellationToken cancellationToken)
    {
        var errors = BatchValidation.Validate(request.Users, "users", services.Options.Value.MaxBatchSize, r => r.ToDomain(), services.Validator.Validate, out var users);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, title: "Some users are invalid; nothing was stored.");
        }

        var written = await services.Users.UpsertUsersAsync(users, cancellationToken).ConfigureAwait(false);
        return TypedResults.Ok(new UpsertResponse(users.Count, written));
    }

    public static async Task<Results<Ok<UserRecord>, ProblemHttpResult>> GetUserAsync(
        string id, [AsParameters] Services services, CancellationToken cancellationToken)
    {
        var user = await services.Users.GetUserAsync(id, cancellationToken).ConfigureAwait(false);
        return user is null
            ? TypedResults.Problem(statusCode: 404, title: "User not found", detail: $"There is no user '{id}'.")
            : TypedResults.Ok(UserRecord.FromDomain(user));
    }

    public static async Task<Results<Ok<UserEventsResponse>, ValidationProblem>> GetUserEventsAsync(
        string id, [AsParameters] Services services, CancellationToken cancellationToken, int limit = 100)
    {
        if (limit is < 1 or > 10_000)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["limit"] = ["limit must be between 1 and 10000."] });
        }

        var user = await services.Users.GetUserAsync(id, cancellationToken).ConfigureAwait(false);
        var events = await services.Events.GetUserEventsAsync(id, limit, cancellationToken).ConfigureAwait(false);
        return TypedResults.Ok(new UserEventsResponse(id, user is not null, [.. events.Select(EventRecord.FromDomain)]));
    }
}

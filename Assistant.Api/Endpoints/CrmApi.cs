using System.ComponentModel;
using Assistant.Api.Hosting;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Ranking.Crm;
using Ranking.Data;
using Ranking.Domain;

namespace Assistant.Api.Endpoints;

[Description("A campaign to plan: whom to message about what, when, with a random holdout.")]
public sealed record PlanCampaignRequest
{
    [Description("Campaign name (shown in the message subject).")]
    public string? Name { get; init; }

    [Description("What the campaign promotes: exactly one of a category path, a brand or item ids.")]
    public CampaignGoal? Goal { get; init; }

    [Description("Number of messages to send; the holdout comes on top.")]
    public int Budget { get; init; }

    [Description("email (default), push or sms; users need consent for it.")]
    public string? Channel { get; init; }

    [Description("Share of the chosen audience held back as control, 0 to 0.5 (default 0.1).")]
    public double? HoldoutShare { get; init; }

    [Description("Earliest send time (default: now).")]
    public DateTimeOffset? NotBefore { get; init; }

    [Description("Items per message, 1 to 20 (default 3).")]
    public int? ItemsPerMessage { get; init; }

    [Description("Order value blends price (0) and margin (1), default 0.5.")]
    public double? MarginWeight { get; init; }

    [Description("Seed of the holdout draw (default 42).")]
    public int? Seed { get; init; }
}

[Description("Outcomes of sends (open, click, visit, order, conversion), attributed to the send's campaign.")]
public sealed record OutcomeBatchRequest(IReadOnlyList<OutcomeRecord>? Outcomes);

public sealed record OutcomeRecord(string? SendId, string? Type, DateTimeOffset? Timestamp, double? Value);

public sealed record OutcomeIngestResponse(int Received, int Stored, int Duplicates);

public static class CrmApi
{
    private static readonly HashSet<string> OutcomeTypes = new(StringComparer.Ordinal)
    {
        CrmOutcomeTypes.Open, CrmOutcomeTypes.Click, CrmOutcomeTypes.Visit, CrmOutcomeTypes.Order, CrmOutcomeTypes.Conversion,
    };

    public static IEndpointRouteBuilder MapCrmApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/crm").WithTags("CRM");
        api.MapPost("/campaigns", PlanAsync).WithName("PlanCampaign")
            .WithSummary("Plan a campaign: eligible users (consent, weekly cap) ranked by uplift x value, a random holdout, items, send time and message per user. The plan is stored.");
        api.MapGet("/campaigns/{id}", GetPlanAsync).WithName("GetCampaignPlan").WithSummary("A stored campaign plan.");
        api.MapGet("/campaigns/{id}/report", ReportAsync).WithName("GetCampaignReport")
            .WithSummary("Each outcome's rate in treatment and holdout, with the difference and its 95 % interval (Welch).");
        api.MapPost("/outcomes", RecordOutcomesAsync).WithName("RecordOutcomes")
            .WithSummary("Record outcomes of sends; idempotent per (send, type); all or nothing when a record is invalid.");
        return app;
    }

    public static async Task<Results<Created<CampaignPlanView>, ValidationProblem>> PlanAsync(
        PlanCampaignRequest request, CampaignService service, TimeProvider time, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        if (request.Goal is null)
        {
            errors["goal"] = ["A goal is required: a category, a brand or item ids."];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var campaign = new CampaignRequest
        {
            Name = request.Name ?? "",
            Goal = request.Goal! with { ItemIds = request.Goal!.ItemIds ?? [] },
            Budget = request.Budget,
            Channel = (request.Channel ?? CrmChannels.Email).Trim().ToLowerInvariant(),
            HoldoutShare = request.HoldoutShare ?? 0.1,
            NotBefore = request.NotBefore ?? time.GetUtcNow(),
            ItemsPerMessage = request.ItemsPerMessage ?? 3,
            MarginWeight = request.MarginWeight ?? 0.5,
            Seed = request.Seed ?? 42,
        };

        try
        {
            var plan = await service.PlanAsync(campaign, cancellationToken: cancellationToken).ConfigureAwait(false);
            return TypedResults.Created($"/v1/crm/campaigns/{Uri.EscapeDataString(plan.CampaignId)}", plan);
        }
        catch (CampaignPlanningException e)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { [e.Field] = [e.Message] }, title: "The campaign cannot be planned.");
        }
    }

    public static async Task<Results<Ok<CampaignPlanView>, NotFound<Microsoft.AspNetCore.Mvc.ProblemDetails>>> GetPlanAsync(
        string id, CampaignService service, CancellationToken cancellationToken) =>
        await service.GetPlanAsync(id, cancellationToken).ConfigureAwait(false) is { } plan
            ? TypedResults.Ok(plan)
            : TypedResults.NotFound(new Microsoft.AspNetCore.Mvc.ProblemDetails { Title = "Not found", Detail = $"No campaign plan '{id}'.", Status = 404 });

    public static async Task<Results<Ok<CampaignReport>, NotFound<Microsoft.AspNetCore.Mvc.ProblemDetails>>> ReportAsync(
        string id, CampaignService service, CancellationToken cancellationToken) =>
        await service.ReportAsync(id, cancellationToken).ConfigureAwait(false) is { } report
            ? TypedResults.Ok(report)
            : TypedResults.NotFound(new Microsoft.AspNetCore.Mvc.ProblemDetails { Title = "Not found", Detail = $"No campaign '{id}'.", Status = 404 });

    public static async Task<Results<Ok<OutcomeIngestResponse>, ValidationProblem>> RecordOutcomesAsync(
        OutcomeBatchRequest request, ICrmStore store, IOptions<ApiOptions> options, CancellationToken cancellationToken)
    {
        var errors = BatchValidation.Validate(
            request.Outcomes, "outcomes", options.Value.MaxBatchSize,
            r => r,
            (r, list) =>
            {
                if (string.IsNullOrWhiteSpace(r.SendId))
                {
                    list.Add(new FieldError("sendId", "Required."));
                }

                if (r.Type is null || !OutcomeTypes.Contains(r.Type))
                {
                    list.Add(new FieldError("type", $"One of {string.Join(", ", OutcomeTypes)}."));
                }

                if (r.Timestamp is null)
                {
                    list.Add(new FieldError("timestamp", "Required."));
                }

                if (r.Value is { } v && (!double.IsFinite(v) || v < 0))
                {
                    list.Add(new FieldError("value", "Must be a finite number >= 0."));
                }
            },
            out var valid);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, title: "Some outcomes are invalid; nothing was stored.");
        }

        var outcomes = valid.Select(r => new CrmOutcome { SendId = r.SendId!.Trim(), Type = r.Type!, Timestamp = r.Timestamp!.Value, Value = r.Value }).ToList();
        var result = await store.AppendOutcomesAsync(outcomes, cancellationToken).ConfigureAwait(false);
        return TypedResults.Ok(new OutcomeIngestResponse(result.Received, result.Stored, result.Duplicates));
    }
}

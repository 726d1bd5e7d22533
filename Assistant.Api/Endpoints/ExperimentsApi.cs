using System.ComponentModel;
using Microsoft.AspNetCore.Http.HttpResults;
using Ranking.Domain;
using Ranking.Experiments;

namespace Assistant.Api.Endpoints;

[Description("A new experiment. The first variant is the control.")]
public sealed record CreateExperimentRequest
{
    [Description("Unique name (at most 128 characters).")]
    public string? Name { get; init; }

    [Description("Hash salt; default: the name. A new salt reshuffles every user.")]
    public string? Salt { get; init; }

    [Description("Layer: experiments in one layer never share a user (default 'default').")]
    public string? Layer { get; init; }

    [Description("Share (0, 1] of the layer this experiment owns (default 1). The first free slice is taken.")]
    public double? LayerShare { get; init; }

    [Description("Share (0, 1] of the eligible users in the slice who take part (default 1).")]
    public double? Coverage { get; init; }

    [Description("At least two variants with shares adding up to 1, each with the configuration it gives the surfaces.")]
    public IReadOnlyList<VariantRequest>? Variants { get; init; }

    [Description("Rules on user attributes that must all hold: operators eq, neq, in, notIn, exists.")]
    public IReadOnlyList<TargetingRule>? Targeting { get; init; }
}

public sealed record VariantRequest(string? Name, double Share, IReadOnlyDictionary<string, string>? Parameters);

public static class ExperimentsApi
{
    public static IEndpointRouteBuilder MapExperimentsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/experiments").WithTags("Experiments");
        api.MapPost("/", CreateAsync).WithName("CreateExperiment").WithSummary("Create an experiment (a draft: start it to assign users).");
        api.MapGet("/", ListAsync).WithName("ListExperiments").WithSummary("All experiments.");
        api.MapGet("/{name}", GetAsync).WithName("GetExperiment").WithSummary("One experiment.");
        api.MapPost("/{name}/start", StartAsync).WithName("StartExperiment").WithSummary("Start assigning users.");
        api.MapPost("/{name}/stop", StopAsync).WithName("StopExperiment").WithSummary("Stop assigning users; the report reads up to the stop.");
        api.MapGet("/{name}/assignment/{userId}", AssignAsync).WithName("GetAssignment")
            .WithSummary("The user's variant and its parameters; expose=true logs the first exposure (what a surface does when it serves the variant).");
        api.MapGet("/{name}/report", ReportAsync).WithName("GetExperimentReport")
            .WithSummary("Metrics after first exposure per variant against the control: Welch, CUPED, bootstrap, always-valid intervals, SRM check, Holm and BH corrections.");
        return app;
    }

    public static async Task<Results<Created<Experiment>, ValidationProblem, ProblemHttpResult>> CreateAsync(
        CreateExperimentRequest request, ExperimentService service, CancellationToken cancellationToken)
    {
        var name = request.Name?.Trim() ?? "";
        var draft = new Experiment
        {
            Name = name,
            Salt = string.IsNullOrWhiteSpace(request.Salt) ? name : request.Salt.Trim(),
            Layer = string.IsNullOrWhiteSpace(request.Layer) ? "default" : request.Layer.Trim(),
            LayerShare = request.LayerShare ?? 1.0,
            Coverage = request.Coverage ?? 1.0,
            Variants = [.. (request.Variants ?? []).Select(v => new ExperimentVariant(v?.Name?.Trim() ?? "", v?.Share ?? 0, v?.Parameters))],
            Targeting = request.Targeting ?? [],
        };
        var change = await service.CreateAsync(draft, cancellationToken).ConfigureAwait(false);
        if (change.Conflict is not null)
        {
            return TypedResults.Problem(statusCode: 409, title: "Experiment exists", detail: change.Conflict);
        }

        if (change.Errors.Count > 0)
        {
            return TypedResults.ValidationProblem(change.Errors.GroupBy(e => e.Field).ToDictionary(g => g.Key, g => g.Select(e => e.Message).ToArray()));
        }

        return TypedResults.Created($"/v1/experiments/{Uri.EscapeDataString(name)}", change.Experiment!);
    }

    public static async Task<Ok<IReadOnlyList<Experiment>>> ListAsync(Ranking.Data.IExperimentStore store, CancellationToken cancellationToken) =>
        TypedResults.Ok(await store.ListExperimentsAsync(cancellationToken).ConfigureAwait(false));

    public static async Task<Results<Ok<Experiment>, ProblemHttpResult>> GetAsync(string name, Ranking.Data.IExperimentStore store, CancellationToken cancellationToken) =>
        await store.GetExperimentAsync(name, cancellationToken).ConfigureAwait(false) is { } e ? TypedResults.Ok(e) : NotFound(name);

    public static async Task<Results<Ok<Experiment>, ProblemHttpResult>> StartAsync(string name, ExperimentService service, CancellationToken cancellationToken) =>
        ToResult(name, await service.StartAsync(name, cancellationToken).ConfigureAwait(false));

    public static async Task<Results<Ok<Experiment>, ProblemHttpResult>> StopAsync(string name, ExperimentService service, CancellationToken cancellationToken) =>
        ToResult(name, await service.StopAsync(name, cancellationToken).ConfigureAwait(false));

    public static async Task<Results<Ok<Assignment>, ProblemHttpResult>> AssignAsync(
        string name, string userId, ExperimentService service, CancellationToken cancellationToken, bool expose = false) =>
        await service.AssignAsync(name, userId, expose, cancellationToken).ConfigureAwait(false) is { } a ? TypedResults.Ok(a) : NotFound(name);

    public static async Task<Results<Ok<ExperimentReport>, ValidationProblem, ProblemHttpResult>> ReportAsync(
        string name, ExperimentService service, CancellationToken cancellationToken,
        [Description("Comma-separated: conversion, orders, revenue, margin, aov (default all).")] string? metrics = null,
        [Description("Significance level in (0, 0.5] (default 0.05).")] double alpha = 0.05,
        [Description("Read up to this time (default: the stop, else now).")] DateTimeOffset? asOf = null)
    {
        var list = string.IsNullOrWhiteSpace(metrics)
            ? ExperimentMetric.All
            : metrics.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct().ToList();
        var unknown = list.Where(m => !ExperimentMetric.IsKnown(m)).ToList();
        var errors = new Dictionary<string, string[]>();
        if (unknown.Count > 0)
        {
            errors["metrics"] = [$"Unknown metric(s) {string.Join(", ", unknown)}; known: {string.Join(", ", ExperimentMetric.All)}."];
        }

        if (!double.IsFinite(alpha) || alpha <= 0 || alpha > 0.5)
        {
            errors["alpha"] = ["alpha must be in (0, 0.5]."];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var report = await service.ReportAsync(name, list, asOf, alpha, cancellationToken).ConfigureAwait(false);
        return report is null ? NotFound(name) : TypedResults.Ok(report);
    }

    private static Results<Ok<Experiment>, ProblemHttpResult> ToResult(string name, ExperimentChange change) => change switch
    {
        { NotFound: true } => NotFound(name),
        { Conflict: { } conflict } => TypedResults.Problem(statusCode: 409, title: "Not possible in this state", detail: conflict),
        _ => TypedResults.Ok(change.Experiment!),
    };

    private static ProblemHttpResult NotFound(string name) =>
        TypedResults.Problem(statusCode: 404, title: "Experiment not found", detail: $"There is no experiment '{name}'.");
}

using System.ComponentModel;
using Assistant.Api.Hosting;
using Microsoft.AspNetCore.Http.HttpResults;
using Ranking.Serving;

namespace Assistant.Api.Endpoints;

[Description("Options of a training run.")]
public sealed record TrainRequest([property: Description("Use the full configuration instead of the quick one (default false).")] bool? Full);

[Description("A training job and its progress.")]
public sealed record TrainingJobView(string Id, string State, DateTimeOffset StartedAt, DateTimeOffset? FinishedAt, string? Version, string? Error, IReadOnlyList<string> Progress)
{
    public static TrainingJobView Of(TrainingJob job) =>
        new(job.Id, job.State.ToString().ToLowerInvariant(), job.StartedAt, job.FinishedAt, job.Version, job.Error, job.Progress);
}

[Description("A model version in the artifact folder.")]
public sealed record ModelVersionView(string Version, bool Valid, string? Error, DateTimeOffset? CreatedAt, IReadOnlyDictionary<string, double>? Metrics);

[Description("The serving version and every version on disk.")]
public sealed record ModelsView(string Folder, string? Serving, IReadOnlyList<string> Present, ModelManifest? Manifest, IReadOnlyList<ModelVersionView> Versions, TrainingJobView? Running);

[Description("What a reload did.")]
public sealed record ReloadView(string Status, string? Version, string? Error, IReadOnlyList<RefusedVersion> Refused);

/// <summary>Model lifecycle over HTTP: background training with progress, the versions on disk, hot reload.</summary>
public static class AdminApi
{
    public static IEndpointRouteBuilder MapAdminApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/admin").WithTags("Admin");
        api.MapPost("/train", Train).WithName("StartTraining")
            .WithSummary("Starts training in the background (one run at a time: 409 with the running job otherwise); poll the job's status.");
        api.MapGet("/train/{id}", GetJob).WithName("GetTrainingJob").WithSummary("A training job's state and progress.");
        api.MapGet("/models", Models).WithName("ListModels").WithSummary("The serving version with its manifest, and every version on disk with its validity.");
        api.MapPost("/models/reload", Reload).WithName("ReloadModels")
            .WithSummary("Loads the newest valid version without dropping requests; a missing or corrupt version is refused and the serving one kept.");
        return app;
    }

    public static Results<Accepted<TrainingJobView>, Conflict<TrainingJobView>> Train(TrainRequest? request, ModelService models)
    {
        var job = models.StartBackground(quick: request?.Full != true, out var running);
        return running
            ? TypedResults.Conflict(TrainingJobView.Of(job))
            : TypedResults.Accepted($"/v1/admin/train/{job.Id}", TrainingJobView.Of(job));
    }

    public static Results<Ok<TrainingJobView>, ProblemHttpResult> GetJob(string id, ModelService models) =>
        models.GetJob(id) is { } job
            ? TypedResults.Ok(TrainingJobView.Of(job))
            : TypedResults.Problem(statusCode: 404, title: "Training job not found", detail: $"There is no training job '{id}'.");

    public static Ok<ModelsView> Models(ModelService models)
    {
        using var lease = models.Host.TryAcquire(out var l) ? l : null;
        var versions = models.Repository.ValidateNewestFirst()
            .Select(c => new ModelVersionView(c.Version, c.IsValid, c.Error, c.Manifest?.CreatedAt, c.Manifest?.Metrics)).ToList();
        return TypedResults.Ok(new ModelsView(
            models.Repository.Root, lease?.Manifest.Version, lease?.Bundle.Models.Present ?? [], lease?.Manifest, versions,
            models.Running is { } r ? TrainingJobView.Of(r) : null));
    }

    public static Ok<ReloadView> Reload(ModelService models, CancellationToken cancellationToken)
    {
        var result = models.Reload(cancellationToken);
        return TypedResults.Ok(new ReloadView(result.Status.ToString().ToLowerInvariant(), result.Version, result.Error, result.Refused));
    }
}

using Ranking.Data;
using Ranking.Domain;

namespace Ranking.Experiments;

/// <summary>The outcome of a change to an experiment: the experiment, or what was wrong.</summary>
public sealed record ExperimentChange(Experiment? Experiment, IReadOnlyList<FieldError> Errors, bool NotFound = false, string? Conflict = null)
{
    public bool Succeeded => Experiment is not null && Errors.Count == 0 && !NotFound && Conflict is null;
}

/// <summary>
/// Experiments as the service runs them: create (with a free slice of the layer), start, stop, assign users
/// (logging the first exposure when a surface serves the variant) and read reports.
/// </summary>
public sealed class ExperimentService(
    IExperimentStore experiments, IUserStore users, IEventStore events, ICatalogStore catalog, ExperimentAssigner assigner, TimeProvider clock)
{
    /// <summary>The pre-exposure window whose metric values are CUPED's covariate.</summary>
    public static readonly TimeSpan PrePeriod = TimeSpan.FromDays(28);

    public ExperimentAssigner Assigner => assigner;

    /// <summary>
    /// Creates a draft. Its slice of the layer is the first free one of <see cref="Experiment.LayerShare"/> among the
    /// layer's experiments that are not stopped; the given offset is ignored.
    /// </summary>
    public async Task<ExperimentChange> CreateAsync(Experiment draft, CancellationToken cancellationToken = default)
    {
        var errors = ExperimentAssigner.Validate(draft with { LayerOffset = 0 });
        if (errors.Count > 0)
        {
            return new ExperimentChange(null, errors);
        }

        if (await experiments.GetExperimentAsync(draft.Name, cancellationToken).ConfigureAwait(false) is not null)
        {
            return new ExperimentChange(null, [], Conflict: $"An experiment named '{draft.Name}' exists.");
        }

        var all = await experiments.ListExperimentsAsync(cancellationToken).ConfigureAwait(false);
        if (ExperimentAssigner.FindLayerSlice(all, draft.Layer, draft.LayerShare) is not { } offset)
        {
            return new ExperimentChange(null, [new FieldError("layerShare",
                $"The layer '{draft.Layer}' has no free slice of {draft.LayerShare}; use another layer, a smaller share, or stop an experiment in it.")]);
        }

        var experiment = draft with { LayerOffset = offset, Status = ExperimentStatus.Draft, CreatedAt = clock.GetUtcNow(), StartedAt = null, StoppedAt = null };
        await experiments.UpsertExperimentAsync(experiment, cancellationToken).ConfigureAwait(false);
        return new ExperimentChange(experiment, []);
    }

    /// <summary>Draft -> running. Starting a running experiment is a no-op; a stopped one cannot restart (its users' exposures are final).</summary>
    public Task<ExperimentChange> StartAsync(string name, CancellationToken cancellationToken = default) =>
        ChangeAsync(name, e => e.Status switch
        {
            ExperimentStatus.Draft => (e with { Status = ExperimentStatus.Running, StartedAt = clock.GetUtcNow() }, null),
            ExperimentStatus.Running => (e, null),
            _ => (e, "A stopped experiment cannot be started again; create a new one."),
        }, cancellationToken);

    /// <summary>Running (or draft) -> stopped; the report then reads up to the stop.</summary>
    public Task<ExperimentChange> StopAsync(string name, CancellationToken cancellationToken = default) =>
        ChangeAsync(name, e => e.Status == ExperimentStatus.Stopped
            ? (e, null)
            : (e with { Status = ExperimentStatus.Stopped, StoppedAt = clock.GetUtcNow() }, null), cancellationToken);

    private async Task<ExperimentChange> ChangeAsync(string name, Func<Experiment, (Experiment Next, string? Conflict)> change, CancellationToken cancellationToken)
    {
        var experiment = await experiments.GetExperimentAsync(name, cancellationToken).ConfigureAwait(false);
        if (experiment is null)
        {
            return new ExperimentChange(null, [], NotFound: true);
        }

        var (next, conflict) = change(experiment);
        if (conflict is not null)
        {
            return new ExperimentChange(experiment, [], Conflict: conflict);
        }

        if (!ReferenceEquals(next, experiment))
        {
            await experiments.UpsertExperimentAsync(next, cancellationToken).ConfigureAwait(false);
        }

        return new ExperimentChange(next, []);
    }

    /// <summary>
    /// The user's assignment in one experiment, or null when there is no such experiment. With
    /// <paramref name="logExposure"/>, a user in the experiment gets an exposure (only the first one is kept).
    /// An unknown user is assigned like any other, with no attributes for targeting.
    /// </summary>
    public async Task<Assignment?> AssignAsync(string name, string userId, bool logExposure, CancellationToken cancellationToken = default)
    {
        var experiment = await experiments.GetExperimentAsync(name, cancellationToken).ConfigureAwait(false);
        if (experiment is null)
        {
            return null;
        }

        var user = experiment.Targeting.Count > 0 ? await users.GetUserAsync(userId, cancellationToken).ConfigureAwait(false) : null;
        var assignment = assigner.Assign(experiment, userId, user?.Attributes);
        if (logExposure && assignment.InExperiment)
        {
            await experiments.RecordExposuresAsync(
                [new Exposure { Experiment = name, UserId = userId, Variant = assignment.Variant!, Timestamp = clock.GetUtcNow() }],
                cancellationToken).ConfigureAwait(false);
        }

        return assignment;
    }

    /// <summary>
    /// The user's assignments in every running experiment, for a surface to merge the variants' parameters into its
    /// configuration; with <paramref name="logExposure"/> each one the user is in logs an exposure.
    /// </summary>
    public async Task<IReadOnlyList<Assignment>> AssignAllAsync(string userId, bool logExposure, CancellationToken cancellationToken = default)
    {
        var running = (await experiments.ListExperimentsAsync(cancellationToken).ConfigureAwait(false)).Where(e => e.Status == ExperimentStatus.Running).ToList();
        var user = running.Any(e => e.Targeting.Count > 0) ? await users.GetUserAsync(userId, cancellationToken).ConfigureAwait(false) : null;
        var assignments = running.Select(e => assigner.Assign(e, userId, user?.Attributes)).ToList();
        if (logExposure)
        {
            var now = clock.GetUtcNow();
            var exposures = assignments.Where(a => a.InExperiment)
                .Select(a => new Exposure { Experiment = a.Experiment, UserId = userId, Variant = a.Variant!, Timestamp = now }).ToList();
            if (exposures.Count > 0)
            {
                await experiments.RecordExposuresAsync(exposures, cancellationToken).ConfigureAwait(false);
            }
        }

        return assignments;
    }

    /// <summary>The report of an experiment, or null when there is no such experiment.</summary>
    /// <param name="asOf">Read up to this time; default: the stop time of a stopped experiment, else now.</param>
    public async Task<ExperimentReport?> ReportAsync(
        string name, IReadOnlyList<string> metrics, DateTimeOffset? asOf = null, double alpha = 0.05, CancellationToken cancellationToken = default)
    {
        var experiment = await experiments.GetExperimentAsync(name, cancellationToken).ConfigureAwait(false);
        if (experiment is null)
        {
            return null;
        }

        var until = asOf ?? experiment.StoppedAt ?? clock.GetUtcNow();
        var outcomes = await ExperimentOutcomes.ReadAsync(experiment, experiments, events, catalog, until, PrePeriod, cancellationToken).ConfigureAwait(false);
        return ExperimentReportBuilder.Build(experiment, outcomes, metrics, until, alpha);
    }
}

using Ranking.Data;
using Ranking.Domain;

namespace Ranking.Import;

/// <summary>A record with the line of the source it came from (1-based; the header is line 1 in CSV).</summary>
public readonly record struct Row<T>(long Line, T Value);

/// <summary>A problem with one row of a source.</summary>
public readonly record struct RowError(long Line, string Field, string Message)
{
    public override string ToString() => $"line {Line}: {Field}: {Message}";
}

/// <summary>A slice of a source: the records it parsed, and the rows it could not parse at all.</summary>
public sealed class ImportChunk
{
    public List<CrmCampaign> Campaigns { get; } = [];

    public List<Row<Item>> Items { get; } = [];

    public List<Row<User>> Users { get; } = [];

    public List<Row<UserEvent>> Events { get; } = [];

    public List<Row<CrmSend>> Sends { get; } = [];

    public List<Row<CrmOutcome>> Outcomes { get; } = [];

    public List<Experiment> Experiments { get; } = [];

    public List<Row<Exposure>> Exposures { get; } = [];

    public List<RowError> Errors { get; } = [];

    public int RecordCount => Campaigns.Count + Items.Count + Users.Count + Events.Count + Sends.Count + Outcomes.Count
        + Experiments.Count + Exposures.Count;
}

/// <summary>
/// Where imported records come from: a CSV or JSON Lines file, a real data set, the demo marketplace, an HTTP body.
/// </summary>
/// <remarks>
/// <see cref="ReadAsync"/> may be called more than once and must yield the same rows each time: the importer reads
/// a source once to validate it and once to store it, so that a failed import stores nothing. A source yields the
/// catalog and users before the events that name them.
/// </remarks>
public interface IImportSource
{
    /// <summary>A short name for reports ("rees46", "events.csv").</summary>
    string Name { get; }

    IAsyncEnumerable<ImportChunk> ReadAsync(CancellationToken cancellationToken = default);
}

public sealed record ImportOptions
{
    /// <summary>Store the good rows and list the bad ones, instead of storing nothing when a row is bad.</summary>
    public bool SkipBad { get; init; }

    /// <summary>How many row errors a report lists in full (the count is always exact).</summary>
    public int MaxErrorsListed { get; init; } = 100;
}

/// <summary>What an import did.</summary>
public sealed record ImportReport
{
    public required string Source { get; init; }

    /// <summary>False when bad rows stopped the import before anything was stored.</summary>
    public required bool Committed { get; init; }

    public int Campaigns { get; init; }

    public int Experiments { get; init; }

    public IngestResult Items { get; init; }

    public IngestResult Users { get; init; }

    public IngestResult Events { get; init; }

    public IngestResult Sends { get; init; }

    public IngestResult Outcomes { get; init; }

    public IngestResult Exposures { get; init; }

    /// <summary>How many rows were bad (each is counted once however many of its fields were wrong).</summary>
    public long BadRows { get; init; }

    /// <summary>The first <see cref="ImportOptions.MaxErrorsListed"/> errors.</summary>
    public IReadOnlyList<RowError> Errors { get; init; } = [];

    public TimeSpan Elapsed { get; init; }
}

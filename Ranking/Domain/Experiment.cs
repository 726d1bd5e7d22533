namespace Ranking.Domain;

/// <summary>An A/B experiment: a salt for hashing users, a layer for mutual exclusion, and its variants.</summary>
public sealed record Experiment
{
    public required string Name { get; init; }

    public required string Salt { get; init; }

    /// <summary>Experiments in the same layer never share a user.</summary>
    public string Layer { get; init; } = "default";

    public required IReadOnlyList<ExperimentVariant> Variants { get; init; }

    public DateTimeOffset CreatedAt { get; init; }
}

/// <summary>A variant and its traffic share (shares of an experiment add up to at most 1).</summary>
public sealed record ExperimentVariant(string Name, double Share);

/// <summary>The first time a user saw a variant of an experiment.</summary>
public sealed record Exposure
{
    public required string Experiment { get; init; }

    public required string UserId { get; init; }

    public required string Variant { get; init; }

    public required DateTimeOffset Timestamp { get; init; }
}

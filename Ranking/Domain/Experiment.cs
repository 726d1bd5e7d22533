namespace Ranking.Domain;

/// <summary>
/// An A/B experiment. Users are hashed with <see cref="Salt"/>; the experiment owns the slice
/// [<see cref="LayerOffset"/>, <see cref="LayerOffset"/> + <see cref="LayerShare"/>) of its <see cref="Layer"/>, so
/// experiments of one layer never share a user; within its slice a <see cref="Coverage"/> share of the eligible users
/// take part, split between the variants by their shares (which add up to 1).
/// </summary>
public sealed record Experiment
{
    public required string Name { get; init; }

    public required string Salt { get; init; }

    /// <summary>Experiments in the same layer never share a user.</summary>
    public string Layer { get; init; } = "default";

    /// <summary>The variants; the first is the control that the others are compared with.</summary>
    public required IReadOnlyList<ExperimentVariant> Variants { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    public ExperimentStatus Status { get; init; } = ExperimentStatus.Draft;

    /// <summary>Share (0, 1] of the eligible users in the slice who take part. Raising it keeps everyone already in.</summary>
    public double Coverage { get; init; } = 1.0;

    /// <summary>Where this experiment's slice of the layer starts, in [0, 1).</summary>
    public double LayerOffset { get; init; }

    /// <summary>How much of the layer (0, 1] the experiment owns.</summary>
    public double LayerShare { get; init; } = 1.0;

    /// <summary>All rules must hold for a user to be eligible; none means everyone.</summary>
    public IReadOnlyList<TargetingRule> Targeting { get; init; } = [];

    public DateTimeOffset? StartedAt { get; init; }

    public DateTimeOffset? StoppedAt { get; init; }
}

public enum ExperimentStatus
{
    Draft,
    Running,
    Stopped,
}

/// <summary>A variant, its traffic share, and the configuration it gives the surfaces (model version, weights...).</summary>
public sealed record ExperimentVariant(string Name, double Share, IReadOnlyDictionary<string, string>? Parameters = null);

/// <summary>
/// A condition on a user attribute: <c>eq</c>, <c>neq</c>, <c>in</c>, <c>notIn</c> (against <see cref="Values"/>) or
/// <c>exists</c>. A user without the attribute fails every operator but <c>neq</c> and <c>notIn</c>.
/// </summary>
public sealed record TargetingRule(string Attribute, string Operator, IReadOnlyList<string> Values)
{
    public static readonly IReadOnlySet<string> Operators = new HashSet<string>(StringComparer.Ordinal) { "eq", "neq", "in", "notIn", "exists" };

    public bool Matches(IReadOnlyDictionary<string, string> attributes)
    {
        var has = attributes.TryGetValue(Attribute, out var value);
        return Operator switch
        {
            "eq" or "in" => has && Values.Contains(value!, StringComparer.Ordinal),
            "neq" or "notIn" => !has || !Values.Contains(value!, StringComparer.Ordinal),
            "exists" => has,
            _ => false,
        };
    }
}

/// <summary>The first time a user saw a variant of an experiment.</summary>
public sealed record Exposure
{
    public required string Experiment { get; init; }

    public required string UserId { get; init; }

    public required string Variant { get; init; }

    public required DateTimeOffset Timestamp { get; init; }
}

namespace Ranking.Domain;

/// <summary>A CRM campaign: one communication sent (or held back) to an audience.</summary>
public sealed record CrmCampaign
{
    public required string Id { get; init; }

    public required string Name { get; init; }

    public string Channel { get; init; } = CrmChannels.Email;

    public DateTimeOffset StartedAt { get; init; }

    public string Description { get; init; } = "";
}

/// <summary>
/// One user's place in a campaign. Control users get a send record too (with <see cref="IsTreatment"/> false
/// and nothing delivered), so that treatment and control can be compared.
/// </summary>
public sealed record CrmSend
{
    public required string SendId { get; init; }

    public required string CampaignId { get; init; }

    public required string UserId { get; init; }

    public string Channel { get; init; } = CrmChannels.Email;

    public required DateTimeOffset SentAt { get; init; }

    public required bool IsTreatment { get; init; }

    /// <summary>The message or arm (for example "Womens E-Mail"); for control, the hold-out arm's name ("No E-Mail") or empty.</summary>
    public string Variant { get; init; } = "";
}

/// <summary>What followed a send: open, click, visit, order... with an optional value (spend).</summary>
/// <remarks>A send has at most one outcome of each type; recording it again is a no-op.</remarks>
public sealed record CrmOutcome
{
    public required string SendId { get; init; }

    public required string Type { get; init; }

    public required DateTimeOffset Timestamp { get; init; }

    public double? Value { get; init; }
}

/// <summary>
/// A planned campaign as stored: the plan's JSON document (goal, budget, holdout, audience statistics, the message of
/// each send) beside the campaign and its send rows.
/// </summary>
public sealed record CrmPlanDocument
{
    public required string CampaignId { get; init; }

    /// <summary>The plan, serialised by the host.</summary>
    public required string Json { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }
}

public static class CrmChannels
{
    public const string Email = "email";
    public const string Push = "push";
    public const string Sms = "sms";
}

public static class CrmOutcomeTypes
{
    public const string Open = "open";
    public const string Click = "click";
    public const string Visit = "visit";
    public const string Order = "order";
    public const string Conversion = "conversion";
}

namespace Ranking.Domain;

/// <summary>A user (customer) of the marketplace.</summary>
public sealed record User
{
    public required string Id { get; init; }

    /// <summary>Optional attributes (segment, region, age band...); never null once stored.</summary>
    public IReadOnlyDictionary<string, string> Attributes { get; init; } = Item.EmptyAttributes;

    /// <summary>CRM consent per channel (email, push, sms). A channel not listed has no consent.</summary>
    public IReadOnlyDictionary<string, bool> Consent { get; init; } = EmptyConsent;

    public bool HasConsent(string channel) => Consent.TryGetValue(channel, out var ok) && ok;

    internal static readonly IReadOnlyDictionary<string, bool> EmptyConsent = new Dictionary<string, bool>();
}

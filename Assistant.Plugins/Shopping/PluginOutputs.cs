using System.ComponentModel;
using Ranking.Domain;

namespace Assistant.Plugins.Shopping;

/// <summary>One interest of the user.</summary>
/// <param name="Category">A category path of the catalog (a leaf, or the parent node the lifelong model uses).</param>
/// <param name="Strength">0–1.</param>
/// <param name="EvidenceEventIds">Ids of her own events that show the interest (orders first).</param>
/// <param name="Since">Her first event in the category; null when unknown.</param>
/// <param name="Lifelong">She keeps coming back to it across months or seasons.</param>
[Description("One category the shopper is interested in, with its strength (0-1) and the events that show it.")]
public sealed record InterestEntry(string Category, double Strength, IReadOnlyList<string> EvidenceEventIds, DateTimeOffset? Since, bool Lifelong);

/// <summary>The user's category interests, strongest first.</summary>
/// <param name="Generated">Whether a language model weighed them (else they are the lifelong model's statistics).</param>
/// <param name="Note">Why the model was not used or what was dropped from its answer; null when nothing to say.</param>
[Description("The shopper's category interests, strongest first.")]
public sealed record InterestProfileOutput(IReadOnlyList<InterestEntry> Interests, bool Generated, string? Note)
{
    /// <summary>
    /// The interests as a <see cref="Ranking.Fusion.RecommendationRequest.InterestProfile"/>: category path → strength,
    /// the strongest where a path repeats. The fusion ranker reads it as its <c>interest_strength</c> feature. Empty when
    /// there are no interests (the ranker then uses the lifelong statistics).
    /// </summary>
    public IReadOnlyDictionary<string, float> ToRankingProfile()
    {
        var profile = new Dictionary<string, float>(StringComparer.OrdinalIgnoreCase);
        foreach (var interest in Interests)
        {
            var path = CategoryPath.Normalize(interest.Category);
            var strength = (float)Math.Clamp(double.IsNaN(interest.Strength) ? 0 : interest.Strength, 0, 1);
            if (path.Length > 0 && (!profile.TryGetValue(path, out var known) || known < strength))
            {
                profile[path] = strength;
            }
        }

        return profile;
    }
}

/// <summary>A brand new to the user, with a few of its items.</summary>
/// <param name="Reason">Why it may suit her: the model's sentence, or the ranker's template.</param>
/// <param name="ReasonGenerated">Whether a language model wrote <paramref name="Reason"/>.</param>
[Description("A brand the shopper has not tried yet, why it may suit her, and a few of its items (prices from the catalog).")]
public sealed record DiscoveredBrand(string Brand, string Reason, IReadOnlyList<ItemCard> Items, bool ReasonGenerated);

/// <summary>The brand discovery carousel.</summary>
[Description("Brands new to the shopper.")]
public sealed record BrandDiscoveryOutput(IReadOnlyList<DiscoveredBrand> Brands, bool Generated, string? Note);

/// <summary>Why an item is recommended, in words.</summary>
/// <param name="Text">At most 200 characters; never a price other than the catalog's.</param>
[Description("Why an item is recommended to the shopper.")]
public sealed record ExplanationOutput(string ItemId, string Text, bool Generated, string? Note);

/// <summary>The copy of a CRM email.</summary>
/// <param name="Body">The text with every item named by its catalog title and price.</param>
/// <param name="Items">The items, as the catalog has them.</param>
[Description("The subject and body of a campaign email; item names and prices come from the catalog.")]
public sealed record CrmCopyOutput(string Subject, string Body, IReadOnlyList<ItemCard> Items, bool Generated, string? Note);

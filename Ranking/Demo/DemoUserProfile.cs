namespace Ranking.Demo;

/// <summary>A lifelong interest of a demo user: a top-level category or a group, and its share of her attention.</summary>
/// <param name="Node">A top-level category ("Garden") or a group ("Sports/Winter").</param>
/// <param name="Weight">Share of the user's hobby browsing; the weights of one user add up to 1.</param>
public sealed record DemoHobby(string Node, double Weight);

/// <summary>
/// The hidden truth about a demo user: what drives her events. The store never sees it; tests and offline
/// evaluations use it to check that a model recovers what the generator put in.
/// </summary>
public sealed record DemoUserProfile
{
    /// <summary>Dense index, the order users are generated and emitted in.</summary>
    public required int Index { get; init; }

    public required string UserId { get; init; }

    /// <summary>One to three lifelong interests. They recur every year, each following its categories' season.</summary>
    public required IReadOnlyList<DemoHobby> Hobbies { get; init; }

    /// <summary>Share (0.05-0.2) of sessions that browse any category, outside the hobbies.</summary>
    public required double Exploration { get; init; }

    /// <summary>Expected sessions per day when the hobbies are at their average season (log-normal, median 0.08).</summary>
    public required double ActivityLevel { get; init; }

    /// <summary>0 (indifferent) to 1 (hunts bargains): prefers the cheaper of two items and carts expensive ones less.</summary>
    public required double PriceSensitivity { get; init; }

    /// <summary>Probability (0.15-0.5) that a session or a change of topic starts with a text search.</summary>
    public required double SearchPropensity { get; init; }

    /// <summary>The hour (UTC) around which she browses and opens e-mail.</summary>
    public required int PreferredHour { get; init; }

    public required DateTimeOffset SignupAt { get; init; }

    /// <summary>When she stopped browsing on her own (about one user in five churns); null when she never does.</summary>
    public DateTimeOffset? ChurnAt { get; init; }

    /// <summary>
    /// True when one of her hobbies covers <paramref name="node"/>: the hobby is the node, an ancestor of it or a
    /// descendant of it. A "Sports" hobby covers "Sports/Winter"; so does "Sports/Winter".
    /// </summary>
    public bool HasInterestIn(string node)
    {
        foreach (var hobby in Hobbies)
        {
            if (CategoryTree.IsUnder(node, hobby.Node) || CategoryTree.IsUnder(hobby.Node, node))
            {
                return true;
            }
        }

        return false;
    }
}

/// <summary>
/// The true effect of the demo CRM campaign, a "winter gear" e-mail sent to every user with e-mail consent who had
/// signed up by then, half of them at random held back as control.
/// </summary>
/// <remarks>
/// <para>
/// A treated user visits because of the e-mail (a session on surface <c>crm</c> that starts with winter-sports
/// items and carts and orders at a high rate) with probability <see cref="InducedVisitProbability"/>:
/// 0.70 when she has a winter-sports interest (<see cref="DemoUserProfile.HasInterestIn"/> "Sports/Winter") and was
/// active in the <see cref="RecentDays"/> days before the send day; 0.30 with the interest but not recently active;
/// 0.03 otherwise; each multiplied by <c>1 - 0.6 x PriceSensitivity</c> (bargain hunters respond weakly).
/// </para>
/// <para>
/// Frequent shoppers without the interest (<see cref="IsFatigued"/>) respond negatively: no induced visit, and each
/// of their own sessions in the <see cref="OutcomeWindowDays"/> days after the send is dropped with probability
/// <see cref="FatigueDropProbability"/>.
/// </para>
/// <para>
/// Outcomes, for both arms: <c>visit</c> (the first event in the window), <c>order</c> (the first order in the
/// window, with Value = the window's total spend). Treated users also get <c>open</c> (always for an induced
/// visit, else with probability 0.18, or 0.38 when recently active) and <c>click</c> (exactly the induced visits).
/// The uplift is therefore learnable from the event history before the send: winter-category share, recency,
/// price level of past purchases and activity.
/// </para>
/// </remarks>
public static class DemoCampaignRule
{
    /// <summary>The category the campaign promotes.</summary>
    public const string PromotedNode = "Sports/Winter";

    /// <summary>"Recently active" means a session in this many days before the send day.</summary>
    public const int RecentDays = 30;

    /// <summary>Outcomes count what happens in this many days after the send.</summary>
    public const int OutcomeWindowDays = 14;

    /// <summary>Activity level (sessions per day) from which a user without the interest is fatigued by the e-mail.</summary>
    public const double FatigueActivityLevel = 0.12;

    /// <summary>Chance that a fatigued treated user's own session in the outcome window does not happen.</summary>
    public const double FatigueDropProbability = 0.35;

    /// <summary>True when the e-mail lowers this user's visits (see the remarks of <see cref="DemoCampaignRule"/>).</summary>
    public static bool IsFatigued(DemoUserProfile profile)
    {
        ArgumentNullException.ThrowIfNull(profile);
        return !profile.HasInterestIn(PromotedNode) && profile.ActivityLevel >= FatigueActivityLevel;
    }

    /// <summary>The probability that the e-mail alone brings a treated user to the site (0 for a fatigued user).</summary>
    public static double InducedVisitProbability(DemoUserProfile profile, bool recentlyActive)
    {
        ArgumentNullException.ThrowIfNull(profile);
        double p;
        if (profile.HasInterestIn(PromotedNode))
        {
            p = recentlyActive ? 0.70 : 0.30;
        }
        else
        {
            p = IsFatigued(profile) ? 0 : 0.03;
        }

        return p * (1 - (0.6 * profile.PriceSensitivity));
    }
}

namespace Ranking.Candidates;

/// <summary>Which relation between items a <see cref="CoOccurrenceModel"/> learns.</summary>
public enum CoOccurrenceKind
{
    /// <summary>
    /// Substitutes: two distinct items seen in the same session (unordered, symmetric). A session is a run of one
    /// user's events with no gap longer than <see cref="CoOccurrenceOptions.SessionGapMinutes"/>.
    /// </summary>
    Analogs,

    /// <summary>
    /// Things bought together over time: the user ordered A and later (strictly later, within
    /// <see cref="CoOccurrenceOptions.ComplementWindowDays"/>) ordered B of another category. Directed: A → B only.
    /// </summary>
    Complements,
}

/// <summary>How a pair's co-occurrence is turned into a score.</summary>
public enum CoOccurrenceMeasure
{
    /// <summary>
    /// Pointwise mutual information over users, log(n_ab · N / (n_a · n_b)), optionally shrunk towards 0 for
    /// pairs seen by few users (<see cref="CoOccurrenceOptions.PmiShrinkage"/>). Only positive values are kept.
    /// </summary>
    Pmi,

    /// <summary>
    /// Swing (Yang et al., 2020): over each unordered pair of users {u, v} who both hold the pair,
    /// 1 / (α + |I_u ∩ I_v|), so pairs confirmed by users with little else in common weigh most.
    /// </summary>
    Swing,

    /// <summary>The number of users holding the pair, n_ab: a popularity-biased baseline.</summary>
    Count,
}

/// <summary>What a <see cref="CoOccurrenceModel"/> counts and keeps; <see cref="Validate"/> says what is allowed.</summary>
/// <remarks>
/// <para><b>Baskets and counts.</b> Every count is a number of distinct users: a user who viewed a pair in ten
/// sessions counts it once. For analogs a basket is one session's distinct items (the first
/// <see cref="MaxItemsPerSession"/> of them; sessions with fewer than two distinct items are dropped); for
/// complements it is the user's whole sequence of counted events. n_ab is the number of users holding the pair
/// (in one session, or in order within the window). I_u, the user's items in the relation, is the union of the
/// items of her counted pairs (both sides); n_a is the number of users whose I_u holds a, and N the number of users
/// with a non-empty I_u. These same sets feed PMI and Swing.</para>
/// <para><b>Event types.</b> <see cref="EventTypes"/> null means: analogs count every event with an item (views,
/// carts, orders...); complements count <c>order</c> events and, when the log holds no order event with an item
/// (ratings-only data such as MovieLens), fall back to every event with an item so that the relation still exists
/// (then it reads "interacted with A, then with B").</para>
/// </remarks>
public sealed record CoOccurrenceOptions
{
    public CoOccurrenceKind Kind { get; init; } = CoOccurrenceKind.Analogs;

    public CoOccurrenceMeasure Measure { get; init; } = CoOccurrenceMeasure.Pmi;

    /// <summary>
    /// Analogs: a gap strictly longer than this between two consecutive events of a user (any event, searches
    /// included) starts a new session.
    /// </summary>
    public double SessionGapMinutes { get; init; } = 30;

    /// <summary>Complements: B counts after A when A's time &lt; B's time ≤ A's time + this many days.</summary>
    public double ComplementWindowDays { get; init; } = 60;

    /// <summary>
    /// Bounds the quadratic cost of pair enumeration. Analogs: only the first this many distinct items of a session
    /// form its basket. Complements: an order pairs with at most this many following counted events.
    /// </summary>
    public int MaxItemsPerSession { get; init; } = 50;

    /// <summary>Neighbours kept per item, best first.</summary>
    public int MaxNeighbours { get; init; } = 100;

    /// <summary>Pairs held by fewer users than this are dropped (for Swing: fewer of the sampled users).</summary>
    public int MinCount { get; init; } = 2;

    /// <summary>Swing's α: larger values damp the penalty on users who share many items.</summary>
    public double SwingAlpha { get; init; } = 1.0;

    /// <summary>
    /// Swing's cost is quadratic in the users of an item: an item with more users than this is scored from a
    /// sample of this many, drawn by a seeded hash of (<see cref="Seed"/>, item, user), so the sample is the
    /// same on every run and on any number of threads. Between 2 and 2048.
    /// </summary>
    public int MaxUsersPerItem { get; init; } = 200;

    /// <summary>Seed of Swing's user sampling.</summary>
    public int Seed { get; init; } = 42;

    /// <summary>
    /// PMI over few users is noisy and favours rare items; the score is PMI · n_ab / (n_ab + this). 0 gives plain
    /// PMI.
    /// </summary>
    public double PmiShrinkage { get; init; } = 5;

    /// <summary>Complements: only pairs of items in different categories (an unknown category matches none).</summary>
    public bool RequireDifferentCategory { get; init; } = true;

    /// <summary>The event types that count (names of the log's registry); null for the kind's default (see remarks).</summary>
    public IReadOnlyList<string>? EventTypes { get; init; }

    /// <summary>Scoring: how many of the user's most recent distinct items serve as anchors.</summary>
    public int HistoryLength { get; init; } = 20;

    /// <summary>Scoring: the anchor at recency rank r (0 = most recent) weighs this to the power r, in (0, 1].</summary>
    public double RecencyDecay { get; init; } = 0.85;

    /// <summary>Throws when an option is out of range.</summary>
    /// <exception cref="ArgumentException">
    /// An unknown kind or measure; a non-positive or non-finite gap or window; caps, neighbours or history length
    /// below 1; <see cref="MinCount"/> below 1; a negative or non-finite α or shrinkage; users per item outside
    /// 2..2048; a recency decay outside (0, 1]; an empty event type list.
    /// </exception>
    public void Validate()
    {
        if (!Enum.IsDefined(Kind))
        {
            throw new ArgumentException($"Unknown co-occurrence kind {Kind}.", nameof(Kind));
        }

        if (!Enum.IsDefined(Measure))
        {
            throw new ArgumentException($"Unknown co-occurrence measure {Measure}.", nameof(Measure));
        }

        if (!double.IsFinite(SessionGapMinutes) || SessionGapMinutes <= 0)
        {
            throw new ArgumentException($"SessionGapMinutes must be positive and finite; it was {SessionGapMinutes}.", nameof(SessionGapMinutes));
        }

        if (!double.IsFinite(ComplementWindowDays) || ComplementWindowDays <= 0)
        {
            throw new ArgumentException($"ComplementWindowDays must be positive and finite; it was {ComplementWindowDays}.", nameof(ComplementWindowDays));
        }

        if (MaxItemsPerSession < 2)
        {
            throw new ArgumentException($"MaxItemsPerSession must be at least 2; it was {MaxItemsPerSession}.", nameof(MaxItemsPerSession));
        }

        if (MaxNeighbours < 1)
        {
            throw new ArgumentException($"MaxNeighbours must be at least 1; it was {MaxNeighbours}.", nameof(MaxNeighbours));
        }

        if (MinCount < 1)
        {
            throw new ArgumentException($"MinCount must be at least 1; it was {MinCount}.", nameof(MinCount));
        }

        if (!double.IsFinite(SwingAlpha) || SwingAlpha < 0)
        {
            throw new ArgumentException($"SwingAlpha must be finite and not negative; it was {SwingAlpha}.", nameof(SwingAlpha));
        }

        if (MaxUsersPerItem is < 2 or > 2048)
        {
            throw new ArgumentException($"MaxUsersPerItem must be between 2 and 2048; it was {MaxUsersPerItem}.", nameof(MaxUsersPerItem));
        }

        if (!double.IsFinite(PmiShrinkage) || PmiShrinkage < 0)
        {
            throw new ArgumentException($"PmiShrinkage must be finite and not negative; it was {PmiShrinkage}.", nameof(PmiShrinkage));
        }

        if (EventTypes is { Count: 0 })
        {
            throw new ArgumentException("EventTypes must be null (the kind's default) or name at least one type.", nameof(EventTypes));
        }

        if (HistoryLength < 1)
        {
            throw new ArgumentException($"HistoryLength must be at least 1; it was {HistoryLength}.", nameof(HistoryLength));
        }

        if (!double.IsFinite(RecencyDecay) || RecencyDecay <= 0 || RecencyDecay > 1)
        {
            throw new ArgumentException($"RecencyDecay must lie in (0, 1]; it was {RecencyDecay}.", nameof(RecencyDecay));
        }
    }
}

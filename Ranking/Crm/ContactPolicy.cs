using Ranking.Domain;

namespace Ranking.Crm;

/// <summary>
/// The one configuration of the contact policy: quiet hours, the weekly cap (fixed or learned from fatigue), the
/// Beta prior of the send-time rates, the channels, and how responses and fatigue are read from the history.
/// </summary>
/// <remarks>
/// Hours are local to the user: the zone named by the user's <see cref="TimeZoneAttribute"/> attribute (an IANA or
/// Windows id), else <see cref="DefaultTimeZone"/> (UTC unless set). An unknown zone id falls back to the default.
/// </remarks>
public sealed record ContactPolicyOptions
{
    /// <summary>First quiet local hour, inclusive (0-23). Default 21.</summary>
    public int QuietHoursStart { get; init; } = 21;

    /// <summary>
    /// First local hour after the quiet hours (0-23). Default 9, so 21:00-08:59 is quiet. When it is below
    /// <see cref="QuietHoursStart"/> the quiet hours wrap midnight; when the two are equal nothing is quiet.
    /// </summary>
    public int QuietHoursEnd { get; init; } = 9;

    /// <summary>A fixed cap on contacts in any 7 days; null to use the cap learned from fatigue.</summary>
    public int? MaxContactsPerWeek { get; init; }

    /// <summary>The cap when none is fixed and the history is too thin to learn one. Default 2.</summary>
    public int FallbackMaxContactsPerWeek { get; init; } = 2;

    /// <summary>
    /// Beta prior pseudo-sends S: a per-user rate with prior mean p (the population's rate for that hour or day) is
    /// Beta(a = p·S, b = (1 − p)·S), and the posterior mean after r responses in n sends is (r + a) / (n + a + b).
    /// Default 20: a user needs about 20 sends in a slot before her own rate counts as much as the population's.
    /// </summary>
    public double PriorStrength { get; init; } = 20;

    /// <summary>
    /// Neighbouring hours pooled into an hour's counts: hour h + d counts with weight 1 − |d| / (bandwidth + 1) for
    /// |d| ≤ bandwidth (0: each hour alone). Default 2, since tastes for a send hour are smooth and a user's sends per
    /// hour are few.
    /// </summary>
    public int HourBandwidth { get; init; } = 2;

    /// <summary>Pick the day of week as well as the hour (the next slot can then be up to a week away). Default true.</summary>
    public bool UseDayOfWeek { get; init; } = true;

    /// <summary>Channels the policy may use; <see cref="ContactPolicy.CanContact"/> refuses others. Default e-mail only.</summary>
    public IReadOnlyList<string> Channels { get; init; } = [CrmChannels.Email];

    /// <summary>Outcome types that make a send "responded" (any one of them). Default open, click, order.</summary>
    public IReadOnlyList<string> ResponseTypes { get; init; } = [CrmOutcomeTypes.Open, CrmOutcomeTypes.Click, CrmOutcomeTypes.Order];

    /// <summary>The outcome type of an unsubscribe. When the history has none, "no response to any later send" stands in.</summary>
    public string UnsubscribeType { get; init; } = "unsubscribe";

    /// <summary>
    /// The cap is the largest weekly contact count k whose marginal value (expected responses per user-week at k
    /// minus at k − 1, less <see cref="UnsubscribeCost"/> × the rise in unsubscribes) is still at least this share of
    /// the responses to a single weekly contact. Default 0.25.
    /// </summary>
    public double MarginalResponseThreshold { get; init; } = 0.25;

    /// <summary>Responses one unsubscribe is worth (a lost subscriber's future responses). Default 5; 0 ignores unsubscribes.</summary>
    public double UnsubscribeCost { get; init; } = 5;

    /// <summary>Weekly contact counts above this are left out of the fatigue curve. Default 10.</summary>
    public int MaxWeeklyContacts { get; init; } = 10;

    /// <summary>The fewest user-weeks a point of the fatigue curve needs before the cap may move past it. Default 100.</summary>
    public int MinUserWeeks { get; init; } = 100;

    /// <summary>
    /// For the "no further responses" stand-in: a user-week counts only when at least this many sends followed it.
    /// Default 3.
    /// </summary>
    public int ChurnProxyMinLaterSends { get; init; } = 3;

    /// <summary>The user attribute naming her time zone. Default "timeZone".</summary>
    public string TimeZoneAttribute { get; init; } = "timeZone";

    /// <summary>The zone of users without a (known) zone attribute. Default UTC.</summary>
    public TimeZoneInfo DefaultTimeZone { get; init; } = TimeZoneInfo.Utc;

    /// <summary>Throws when an option is out of range.</summary>
    /// <exception cref="ArgumentException">An hour outside 0-23, a negative or non-finite prior, cap, bandwidth or cost,
    /// a threshold outside [0, 1], no channels or no response types.</exception>
    public void Validate()
    {
        if (QuietHoursStart is < 0 or > 23 || QuietHoursEnd is < 0 or > 23)
        {
            throw new ArgumentException($"Quiet hours must be 0-23; they were {QuietHoursStart}-{QuietHoursEnd}.", nameof(QuietHoursStart));
        }

        if (MaxContactsPerWeek is < 0 || FallbackMaxContactsPerWeek < 0)
        {
            throw new ArgumentException("Weekly caps must be at least 0.", nameof(MaxContactsPerWeek));
        }

        if (!double.IsFinite(PriorStrength) || PriorStrength <= 0)
        {
            throw new ArgumentException($"PriorStrength must be positive and finite; it was {PriorStrength}.", nameof(PriorStrength));
        }

        if (HourBandwidth is < 0 or > 11)
        {
            throw new ArgumentException($"HourBandwidth must be 0-11; it was {HourBandwidth}.", nameof(HourBandwidth));
        }

        if (!(MarginalResponseThreshold >= 0 && MarginalResponseThreshold <= 1))
        {
            throw new ArgumentException($"MarginalResponseThreshold must be in [0, 1]; it was {MarginalResponseThreshold}.", nameof(MarginalResponseThreshold));
        }

        if (!double.IsFinite(UnsubscribeCost) || UnsubscribeCost < 0)
        {
            throw new ArgumentException($"UnsubscribeCost must be finite and at least 0; it was {UnsubscribeCost}.", nameof(UnsubscribeCost));
        }

        if (MaxWeeklyContacts < 1 || MinUserWeeks < 1 || ChurnProxyMinLaterSends < 1)
        {
            throw new ArgumentException("MaxWeeklyContacts, MinUserWeeks and ChurnProxyMinLaterSends must be at least 1.", nameof(MaxWeeklyContacts));
        }

        if (Channels is null || Channels.Count == 0 || ResponseTypes is null || ResponseTypes.Count == 0)
        {
            throw new ArgumentException("At least one channel and one response type are needed.", nameof(Channels));
        }

        ArgumentNullException.ThrowIfNull(DefaultTimeZone, nameof(DefaultTimeZone));
    }

    /// <summary>Whether a local hour (0-23) is inside the quiet hours.</summary>
    public bool IsQuietHour(int hour) =>
        QuietHoursStart <= QuietHoursEnd
            ? hour >= QuietHoursStart && hour < QuietHoursEnd
            : hour >= QuietHoursStart || hour < QuietHoursEnd;

    /// <summary>The user's zone: her <see cref="TimeZoneAttribute"/> when the system knows it, else <see cref="DefaultTimeZone"/>.</summary>
    public TimeZoneInfo ZoneOf(User? user)
    {
        if (user is not null && user.Attributes.TryGetValue(TimeZoneAttribute, out var id) && !string.IsNullOrWhiteSpace(id)
            && TimeZoneInfo.TryFindSystemTimeZoneById(id, out var zone))
        {
            return zone;
        }

        return DefaultTimeZone;
    }
}

/// <summary>Why <see cref="ContactPolicy.CanContact"/> said no.</summary>
public enum ContactRefusal
{
    None,
    ChannelNotAllowed,
    NoConsent,
    QuietHours,
    FrequencyCap,
}

/// <summary>The answer of <see cref="ContactPolicy.CanContact"/>: allowed, or refused with a reason.</summary>
public readonly record struct ContactDecision(bool Allowed, ContactRefusal Reason, string Message)
{
    public static ContactDecision Allow { get; } = new(true, ContactRefusal.None, "");
}

/// <summary>
/// Who may be contacted, when, and how often: consent and channel, quiet hours, a weekly cap (fixed, or learned from
/// fatigue by <see cref="ContactPolicyModel"/>), and each user's best send slot from her past responses.
/// </summary>
public sealed class ContactPolicy
{
    /// <param name="model">What was learned from past sends.</param>
    /// <param name="options">The rules to apply; null for the options the model was learned with.</param>
    public ContactPolicy(ContactPolicyModel model, ContactPolicyOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        options ??= model.Options;
        options.Validate();
        Model = model;
        Options = options;
    }

    public ContactPolicyModel Model { get; }

    public ContactPolicyOptions Options { get; }

    /// <summary>The cap in force: the fixed <see cref="ContactPolicyOptions.MaxContactsPerWeek"/>, else the learned one, else the fallback.</summary>
    public int WeeklyCap => Options.MaxContactsPerWeek ?? Model.FrequencyCap ?? Options.FallbackMaxContactsPerWeek;

    /// <summary>Learns a model from past sends and outcomes and wraps it in a policy with the same options.</summary>
    /// <inheritdoc cref="ContactPolicyModel.Learn"/>
    public static ContactPolicy Learn(
        IEnumerable<CrmSend> sends, IEnumerable<CrmOutcome> outcomes, ContactPolicyOptions? options = null,
        IReadOnlyDictionary<string, User>? users = null, CancellationToken cancellationToken = default) =>
        new(ContactPolicyModel.Learn(sends, outcomes, options, users, cancellationToken));

    /// <summary>
    /// The user's best local slot: the non-quiet hour (and, with <see cref="ContactPolicyOptions.UseDayOfWeek"/>, the
    /// day) of the highest expected response rate. A user without history gets the population's best slot. Day is
    /// null when days are not used. Ties go to the earlier day and hour.
    /// </summary>
    public (DayOfWeek? Day, int Hour) BestSlot(string userId)
    {
        ArgumentNullException.ThrowIfNull(userId);
        var bestHour = -1;
        DayOfWeek? bestDay = null;
        var best = double.NegativeInfinity;
        var days = Options.UseDayOfWeek ? 7 : 1;
        for (var d = 0; d < days; d++)
        {
            for (var h = 0; h < 24; h++)
            {
                if (Options.IsQuietHour(h))
                {
                    continue;
                }

                var rate = Options.UseDayOfWeek ? Model.ExpectedRate(userId, (DayOfWeek)d, h) : Model.HourRate(userId, h);
                if (rate > best)
                {
                    (best, bestHour, bestDay) = (rate, h, Options.UseDayOfWeek ? (DayOfWeek)d : null);
                }
            }
        }

        return (bestDay, bestHour);
    }

    /// <summary>
    /// The next time strictly after <paramref name="after"/> that starts the user's best slot (<see cref="BestSlot"/>),
    /// on the hour in her zone, with her zone's offset. Never inside the quiet hours; local times that do not exist
    /// (a daylight-saving gap) are skipped. An unknown user gets the population's best slot.
    /// </summary>
    public DateTimeOffset BestSendTime(User user, DateTimeOffset after)
    {
        ArgumentNullException.ThrowIfNull(user);
        return NextSlot(BestSlot(user.Id), Options.ZoneOf(user), after);
    }

    /// <summary>As <see cref="BestSendTime(User, DateTimeOffset)"/> for a user known only by id, in the default zone.</summary>
    public DateTimeOffset BestSendTime(string userId, DateTimeOffset after) =>
        NextSlot(BestSlot(userId), Options.DefaultTimeZone, after);

    /// <summary>
    /// Whether the user may be contacted on <paramref name="channel"/> at <paramref name="at"/>, given how many contacts
    /// she had in the 7 days before. Checked in order: the channel is one the policy uses, she consented to it, the
    /// time is outside her quiet hours, and she is under <see cref="WeeklyCap"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="contactsInLastWeek"/> is negative.</exception>
    public ContactDecision CanContact(User user, DateTimeOffset at, int contactsInLastWeek, string channel = CrmChannels.Email)
    {
        ArgumentNullException.ThrowIfNull(user);
        ArgumentNullException.ThrowIfNull(channel);
        ArgumentOutOfRangeException.ThrowIfNegative(contactsInLastWeek);
        if (!Options.Channels.Contains(channel, StringComparer.OrdinalIgnoreCase))
        {
            return new(false, ContactRefusal.ChannelNotAllowed, $"channel '{channel}' is not used by the policy");
        }

        if (!user.HasConsent(channel))
        {
            return new(false, ContactRefusal.NoConsent, $"no consent for {channel}");
        }

        var local = TimeZoneInfo.ConvertTime(at, Options.ZoneOf(user));
        if (Options.IsQuietHour(local.Hour))
        {
            return new(false, ContactRefusal.QuietHours, $"{local:HH:mm} local is in the quiet hours {Options.QuietHoursStart:00}:00-{Options.QuietHoursEnd:00}:00");
        }

        var cap = WeeklyCap;
        if (contactsInLastWeek >= cap)
        {
            return new(false, ContactRefusal.FrequencyCap, $"{contactsInLastWeek} contacts in the last 7 days (cap {cap})");
        }

        return ContactDecision.Allow;
    }

    private static DateTimeOffset NextSlot((DayOfWeek? Day, int Hour) slot, TimeZoneInfo zone, DateTimeOffset after)
    {
        var local = TimeZoneInfo.ConvertTime(after, zone).DateTime;
        var candidate = new DateTime(local.Year, local.Month, local.Day, local.Hour, 0, 0, DateTimeKind.Unspecified);

        // Eight days of hours always meet the slot once, with room for a skipped daylight-saving hour.
        for (var step = 0; step <= 8 * 24; step++, candidate = candidate.AddHours(1))
        {
            if (candidate.Hour != slot.Hour || (slot.Day is { } day && candidate.DayOfWeek != day) || zone.IsInvalidTime(candidate))
            {
                continue;
            }

            var at = new DateTimeOffset(candidate, zone.GetUtcOffset(candidate));
            if (at > after)
            {
                return at;
            }
        }

        throw new InvalidOperationException($"No local {slot.Day} {slot.Hour:00}:00 in the eight days after {after:O}.");
    }
}

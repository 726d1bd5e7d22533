using Ranking.Domain;

namespace Ranking.Crm;

/// <summary>Settings of <see cref="BasicContactRules"/>.</summary>
public sealed record ContactRuleOptions
{
    /// <summary>Most messages a user gets in any 7 days (sends of every campaign counted, holdout rows not).</summary>
    public int MaxPerWeek { get; init; } = 2;

    /// <summary>First quiet hour (UTC), inclusive.</summary>
    public int QuietFromHour { get; init; } = 21;

    /// <summary>First hour after the quiet hours (UTC).</summary>
    public int QuietUntilHour { get; init; } = 9;
}

/// <summary>
/// Consent is checked by the planner; these rules add a weekly cap over past sends and keep send times out of the
/// quiet hours.
/// </summary>
public sealed class BasicContactRules : IContactRules
{
    private readonly Dictionary<string, List<DateTimeOffset>> _sentTo = new(StringComparer.Ordinal);
    private readonly ContactRuleOptions _options;

    public BasicContactRules(IEnumerable<CrmSend> pastSends, ContactRuleOptions options)
    {
        ArgumentNullException.ThrowIfNull(pastSends);
        ArgumentNullException.ThrowIfNull(options);
        if (options.QuietFromHour is < 0 or > 23 || options.QuietUntilHour is < 0 or > 23 || options.MaxPerWeek < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), "Quiet hours must be 0–23 and the weekly cap at least 0.");
        }

        _options = options;
        foreach (var send in pastSends)
        {
            if (!send.IsTreatment)
            {
                continue;
            }

            if (!_sentTo.TryGetValue(send.UserId, out var times))
            {
                _sentTo[send.UserId] = times = [];
            }

            times.Add(send.SentAt);
        }
    }

    public bool CanContact(User user, string channel, DateTimeOffset at, out string reason)
    {
        ArgumentNullException.ThrowIfNull(user);
        if (!user.HasConsent(channel))
        {
            reason = $"no consent for {channel}";
            return false;
        }

        var recent = _sentTo.TryGetValue(user.Id, out var times) ? times.Count(t => t > at.AddDays(-7) && t <= at) : 0;
        if (recent >= _options.MaxPerWeek)
        {
            reason = $"{recent} messages in the last 7 days (cap {_options.MaxPerWeek})";
            return false;
        }

        reason = "";
        return true;
    }

    /// <summary>The first time at or after <paramref name="notBefore"/> outside the quiet hours.</summary>
    public DateTimeOffset SendTime(string userId, DateTimeOffset notBefore)
    {
        var t = notBefore.ToUniversalTime();
        for (var step = 0; step < 24 && IsQuiet(t.Hour); step++)
        {
            t = new DateTimeOffset(t.Year, t.Month, t.Day, t.Hour, 0, 0, TimeSpan.Zero).AddHours(1);
        }

        return t;
    }

    private bool IsQuiet(int hour) =>
        _options.QuietFromHour <= _options.QuietUntilHour
            ? hour >= _options.QuietFromHour && hour < _options.QuietUntilHour
            : hour >= _options.QuietFromHour || hour < _options.QuietUntilHour;
}

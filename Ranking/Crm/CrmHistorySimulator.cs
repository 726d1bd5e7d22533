using System.Globalization;
using Ranking.Domain;

namespace Ranking.Crm;

/// <summary>Size, seed and planted truth of a <see cref="CrmHistorySimulator"/> history.</summary>
public sealed record CrmHistorySimulatorOptions
{
    public int Seed { get; init; } = 42;

    public int Users { get; init; } = 2000;

    /// <summary>The first day of the history; sends start at its midnight (UTC). Default Monday 2025-01-06.</summary>
    public DateTimeOffset Start { get; init; } = new(2025, 1, 6, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Weeks of sends. Default 52.</summary>
    public int Weeks { get; init; } = 52;

    /// <summary>Each user-week gets a uniform number of sends in [Min, Max], independent of the user. Default 0-6.</summary>
    public int MinSendsPerWeek { get; init; }

    public int MaxSendsPerWeek { get; init; } = 6;

    /// <summary>Planted fatigue: a send in a week of k sends opens with the user's rate × exp(−FatigueDecay · (k − 1)). Default 0.2.</summary>
    public double FatigueDecay { get; init; } = 0.2;

    /// <summary>Planted unsubscribes: each send of a k-send week unsubscribes with UnsubscribeBase × exp(UnsubscribeGrowth · (k − 1)). Default 0.002.</summary>
    public double UnsubscribeBase { get; init; } = 0.002;

    public double UnsubscribeGrowth { get; init; } = 0.3;

    /// <summary>Users' base open rates are uniform in [BaseRateMin, BaseRateMax]. Default 0.05-0.25.</summary>
    public double BaseRateMin { get; init; } = 0.05;

    public double BaseRateMax { get; init; } = 0.25;

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(Users, 1, nameof(Users));
        ArgumentOutOfRangeException.ThrowIfLessThan(Weeks, 1, nameof(Weeks));
        ArgumentOutOfRangeException.ThrowIfNegative(MinSendsPerWeek, nameof(MinSendsPerWeek));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxSendsPerWeek, MinSendsPerWeek, nameof(MaxSendsPerWeek));
        if (!(FatigueDecay >= 0) || !(UnsubscribeBase >= 0 && UnsubscribeBase <= 0.1) || !(UnsubscribeGrowth >= 0 && UnsubscribeGrowth <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(FatigueDecay), "Fatigue decay must be >= 0, unsubscribe base in [0, 0.1], growth in [0, 1].");
        }

        if (!(BaseRateMin >= 0 && BaseRateMax >= BaseRateMin && BaseRateMax <= 0.5))
        {
            throw new ArgumentOutOfRangeException(nameof(BaseRateMin), "Base rates must satisfy 0 <= min <= max <= 0.5.");
        }
    }
}

/// <summary>The planted truth of one simulated CRM user.</summary>
/// <param name="PreferredHour">The UTC hour (9-20) at which she opens most.</param>
/// <param name="HourSpread">Standard deviation (hours) of her hour preference.</param>
/// <param name="BaseRate">Her open probability at a neutral hour and day in a one-send week.</param>
/// <param name="PreferredDay">The day on which she opens most (×1.6; its neighbours ×1.1; other days ×0.8).</param>
public sealed record SimulatedCrmUser(int Index, string UserId, int PreferredHour, double HourSpread, double BaseRate, DayOfWeek PreferredDay);

/// <summary>A simulated CRM history with its planted truth: users, sends, outcomes (open, unsubscribe).</summary>
public sealed class CrmHistory
{
    internal CrmHistory(
        CrmHistorySimulatorOptions options, SimulatedCrmUser[] truth, User[] users, CrmCampaign campaign, List<CrmSend> sends,
        List<CrmOutcome> outcomes, int[] weeklyCount)
    {
        Options = options;
        Truth = truth;
        Users = users;
        Campaign = campaign;
        Sends = sends;
        Outcomes = outcomes;
        _weeklyCount = weeklyCount;
        _index = new Dictionary<string, int>(users.Length, StringComparer.Ordinal);
        for (var i = 0; i < users.Length; i++)
        {
            _index.Add(users[i].Id, i);
        }
    }

    private readonly int[] _weeklyCount;
    private readonly Dictionary<string, int> _index;
    private Dictionary<string, User>? _usersById;

    public CrmHistorySimulatorOptions Options { get; }

    public IReadOnlyList<SimulatedCrmUser> Truth { get; }

    /// <summary>Users with e-mail consent and no time zone attribute (so UTC).</summary>
    public IReadOnlyList<User> Users { get; }

    /// <summary>The single campaign every send belongs to (a stand-in for a year of newsletters).</summary>
    public CrmCampaign Campaign { get; }

    /// <summary>Treatment e-mail sends in time order.</summary>
    public IReadOnlyList<CrmSend> Sends { get; }

    /// <summary><c>open</c> outcomes, and <c>unsubscribe</c> on the last send of a week that ended in one.</summary>
    public IReadOnlyList<CrmOutcome> Outcomes { get; }

    /// <summary>The users by id (built on first use).</summary>
    public IReadOnlyDictionary<string, User> UsersById => _usersById ??= Users.ToDictionary(u => u.Id, StringComparer.Ordinal);

    public int IndexOf(string userId) => _index.TryGetValue(userId, out var i) ? i : -1;

    /// <summary>The number of sends the user got in the week of a send (the <c>k</c> of the planted fatigue).</summary>
    public int WeeklyCountOf(CrmSend send)
    {
        ArgumentNullException.ThrowIfNull(send);
        return _weeklyCount[int.Parse(send.SendId.AsSpan(5), CultureInfo.InvariantCulture)];
    }

    /// <summary>The planted hour factor: 0.25 + 1.5 · exp(−d² / 2σ²), d the circular distance (hours) to the preferred hour.</summary>
    public static double HourFactor(SimulatedCrmUser user, int hour)
    {
        ArgumentNullException.ThrowIfNull(user);
        var d = Math.Abs(hour - user.PreferredHour);
        d = Math.Min(d, 24 - d);
        return 0.25 + (1.5 * Math.Exp(-(d * d) / (2 * user.HourSpread * user.HourSpread)));
    }

    /// <summary>The planted day factor: 1.6 on her day, 1.1 on the days either side, 0.8 otherwise.</summary>
    public static double DayFactor(SimulatedCrmUser user, DayOfWeek day)
    {
        ArgumentNullException.ThrowIfNull(user);
        var d = Math.Abs((int)day - (int)user.PreferredDay);
        d = Math.Min(d, 7 - d);
        return d switch
        {
            0 => 1.6,
            1 => 1.1,
            _ => 0.8,
        };
    }

    /// <summary>The planted fatigue multiplier of a send in a week of <paramref name="weeklyCount"/> sends (1 for k ≤ 1).</summary>
    public double Fatigue(int weeklyCount) => Math.Exp(-Options.FatigueDecay * Math.Max(0, weeklyCount - 1));

    /// <summary>The planted unsubscribe probability of one send in a week of <paramref name="weeklyCount"/> sends.</summary>
    public double UnsubscribeProbability(int weeklyCount) =>
        Options.UnsubscribeBase * Math.Exp(Options.UnsubscribeGrowth * Math.Max(0, weeklyCount - 1));

    /// <summary>
    /// The true open probability of a send to a user at a UTC time in a week of <paramref name="weeklyCount"/> sends:
    /// base rate × hour factor × day factor × fatigue, at most 1.
    /// </summary>
    public double OpenProbability(int user, DateTimeOffset at, int weeklyCount)
    {
        var t = Truth[user];
        var utc = at.ToUniversalTime();
        return Math.Min(1, t.BaseRate * HourFactor(t, utc.Hour) * DayFactor(t, utc.DayOfWeek) * Fatigue(weeklyCount));
    }
}

/// <summary>
/// A seeded generator of a CRM history rich enough to learn send times and fatigue from: many users, a year of e-mail
/// sends at random days and hours, opens drawn from each user's planted hour and day preferences and a planted
/// fatigue curve, and unsubscribes that rise with the weekly count.
/// </summary>
/// <remarks>
/// <para>Users: preferred hour morning (9-10, 25 %), lunch (12-13, 25 %) or evening (18-20, 50 %), spread 1-2.5 hours,
/// a preferred day, a base open rate uniform in [BaseRateMin, BaseRateMax] (default 0.05-0.25). All have e-mail consent and live in UTC.</para>
/// <para>Sends: every user-week draws its number of sends uniformly from
/// [<see cref="CrmHistorySimulatorOptions.MinSendsPerWeek"/>, <see cref="CrmHistorySimulatorOptions.MaxSendsPerWeek"/>],
/// independently of the user, each at a uniform day, hour and minute of the week, so the hour, day and fatigue curves
/// are identifiable without confounding. An open follows 5-180 minutes after its send. An unsubscribe is drawn once
/// per user-week, with probability 1 − (1 − u_k)^k, recorded on the week's last send, and stops later sends.</para>
/// <para>Deterministic: one <see cref="Random"/> seeded with <see cref="CrmHistorySimulatorOptions.Seed"/>.</para>
/// </remarks>
public static class CrmHistorySimulator
{
    public const string CampaignId = "sim-newsletter";

    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public static CrmHistory Generate(CrmHistorySimulatorOptions? options = null)
    {
        options ??= new CrmHistorySimulatorOptions();
        options.Validate();
        var random = new Random(options.Seed);
        var start = options.Start.ToUniversalTime();
        var truth = new SimulatedCrmUser[options.Users];
        var users = new User[options.Users];
        var consent = new Dictionary<string, bool> { [CrmChannels.Email] = true };
        for (var u = 0; u < options.Users; u++)
        {
            var id = string.Create(CultureInfo.InvariantCulture, $"sim-user-{u:00000}");
            var mode = random.NextDouble();
            var hour = mode < 0.25 ? 9 + random.Next(2) : mode < 0.5 ? 12 + random.Next(2) : 18 + random.Next(3);
            truth[u] = new SimulatedCrmUser(
                u, id, hour, 1 + (1.5 * random.NextDouble()), options.BaseRateMin + ((options.BaseRateMax - options.BaseRateMin) * random.NextDouble()), (DayOfWeek)random.Next(7));
            users[u] = new User { Id = id, Consent = consent };
        }

        var campaign = new CrmCampaign { Id = CampaignId, Name = "Simulated newsletter", StartedAt = start };
        var history = new CrmHistory(options, truth, users, campaign, [], [], []);
        var sends = new List<CrmSend>();
        var outcomes = new List<CrmOutcome>();
        var weekly = new List<int>();
        var offsets = new List<long>();
        for (var u = 0; u < options.Users; u++)
        {
            for (var w = 0; w < options.Weeks; w++)
            {
                var k = options.MinSendsPerWeek + random.Next(options.MaxSendsPerWeek - options.MinSendsPerWeek + 1);
                if (k == 0)
                {
                    continue;
                }

                offsets.Clear();
                for (var j = 0; j < k; j++)
                {
                    offsets.Add(random.NextInt64(7L * 24 * 60));
                }

                offsets.Sort();
                var weekStart = start.AddDays(7 * w);
                foreach (var minute in offsets)
                {
                    var at = weekStart.AddMinutes(minute);
                    var sendId = string.Create(CultureInfo.InvariantCulture, $"send-{weekly.Count}");
                    weekly.Add(k);
                    sends.Add(new CrmSend { SendId = sendId, CampaignId = CampaignId, UserId = users[u].Id, SentAt = at, IsTreatment = true });
                    var p = Math.Min(1, truth[u].BaseRate * CrmHistory.HourFactor(truth[u], at.Hour) * CrmHistory.DayFactor(truth[u], at.DayOfWeek)
                        * history.Fatigue(k));
                    if (random.NextDouble() < p)
                    {
                        outcomes.Add(new CrmOutcome { SendId = sendId, Type = CrmOutcomeTypes.Open, Timestamp = at.AddMinutes(5 + random.Next(176)) });
                    }
                }

                var unsubscribe = 1 - Math.Pow(1 - history.UnsubscribeProbability(k), k);
                if (random.NextDouble() < unsubscribe)
                {
                    var last = sends[^1];
                    outcomes.Add(new CrmOutcome { SendId = last.SendId, Type = "unsubscribe", Timestamp = last.SentAt.AddMinutes(10) });
                    break;
                }
            }
        }

        sends.Sort((a, b) => a.SentAt.CompareTo(b.SentAt));
        return new CrmHistory(options, truth, users, campaign, sends, outcomes, [.. weekly]);
    }
}

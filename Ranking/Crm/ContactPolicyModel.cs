using System.Globalization;
using Ranking.Domain;

namespace Ranking.Crm;

/// <summary>
/// One point of the fatigue curve: the user-weeks in which a user got exactly <see cref="ContactsPerWeek"/> contacts.
/// </summary>
/// <param name="UserWeeks">User-weeks with that many contacts.</param>
/// <param name="Sends">Sends in them (UserWeeks × ContactsPerWeek).</param>
/// <param name="Responses">Responded sends in them.</param>
/// <param name="ResponseRate">Responses per send.</param>
/// <param name="ResponsesPerWeek">Responses per user-week, R(k).</param>
/// <param name="UnsubscribeRate">Share of the user-weeks that ended in an unsubscribe, U(k) (or, with
/// <see cref="ContactPolicyModel.UnsubscribesObserved"/> false, the share after which she never responded again,
/// among user-weeks followed by enough sends); NaN when no user-week qualifies.</param>
/// <param name="MarginalValue">V(k) − V(k − 1) with V(k) = R(k) − cost × U(k) and V(0) = 0.</param>
public sealed record FatiguePoint(
    int ContactsPerWeek, int UserWeeks, long Sends, long Responses, double ResponseRate, double ResponsesPerWeek,
    double UnsubscribeRate, double MarginalValue);

/// <summary>
/// What the contact policy learns from past sends and their outcomes: per-user response rates by local send hour and
/// day of week, shrunk toward the population with a Beta-binomial prior, and the fatigue curve with the weekly cap it
/// implies.
/// </summary>
/// <remarks>
/// <para><b>Send-time rates.</b> A send is "responded" when it has an outcome of one of
/// <see cref="ContactPolicyOptions.ResponseTypes"/>. The population rate of hour h is its responses over its sends,
/// itself shrunk toward the overall rate with the same prior strength S (so an hour nobody was sent at gets the overall
/// rate). A user's rate at hour h is the posterior mean of a Beta(p_h·S, (1 − p_h)·S) prior after her (kernel-pooled,
/// see <see cref="ContactPolicyOptions.HourBandwidth"/>) responses r and sends n at that hour:
/// <c>(r + p_h·S) / (n + S)</c>. Days of week work the same way without pooling. The expected rate of a (day, hour)
/// slot treats hour and day as independent factors of her overall rate:
/// <c>rate(h) × rate(d) / rate(all)</c>, each a posterior mean.</para>
/// <para><b>Fatigue.</b> Sends are grouped into user-weeks (Monday-to-Sunday weeks in her zone) and bucketed by how
/// many contacts the week held, k. R(k) is responses per user-week and U(k) the unsubscribe share; the cap is the
/// largest k such that every step 1..k added at least <see cref="ContactPolicyOptions.MarginalResponseThreshold"/> ×
/// R(1) of value (<see cref="FatiguePoint.MarginalValue"/>) and held at least
/// <see cref="ContactPolicyOptions.MinUserWeeks"/> user-weeks; null when even k = 1 has too few. The curve compares
/// different user-weeks, so it reads as causal only when the weekly count did not follow the user's own engagement (as
/// in randomised sending); with targeted sending, keen users get more mail and the curve falls too slowly.</para>
/// <para>Only treatment sends count (control rows deliver nothing); sends on channels outside
/// <see cref="ContactPolicyOptions.Channels"/> are ignored; outcomes of unknown sends are ignored.</para>
/// </remarks>
public sealed class ContactPolicyModel
{
    private readonly Dictionary<string, Counts> _users;
    private readonly double[] _populationHour;
    private readonly double[] _populationDay;
    private readonly double _populationRate;
    private readonly double[] _kernel;

    private ContactPolicyModel(
        ContactPolicyOptions options, Dictionary<string, Counts> users, double[] populationHour, double[] populationDay,
        double populationRate, long sends, long responses, IReadOnlyList<FatiguePoint> fatigue, int? cap, bool unsubscribes)
    {
        Options = options;
        _users = users;
        _populationHour = populationHour;
        _populationDay = populationDay;
        _populationRate = populationRate;
        SendCount = sends;
        ResponseCount = responses;
        Fatigue = fatigue;
        FrequencyCap = cap;
        UnsubscribesObserved = unsubscribes;
        _kernel = Kernel(options.HourBandwidth);
    }

    /// <summary>The options the model was learned with.</summary>
    public ContactPolicyOptions Options { get; }

    /// <summary>Treatment sends on the policy's channels that the model learned from.</summary>
    public long SendCount { get; }

    public long ResponseCount { get; }

    /// <summary>Responses per send over all learned sends; 0 without sends.</summary>
    public double PopulationRate => _populationRate;

    /// <summary>The fatigue curve, k = 1 .. the largest weekly count seen (at most <see cref="ContactPolicyOptions.MaxWeeklyContacts"/>).</summary>
    public IReadOnlyList<FatiguePoint> Fatigue { get; }

    /// <summary>
    /// The learned weekly cap; null when the history is too thin (see the remarks); 0 when even one contact a week is
    /// worth less than the threshold (unsubscribes outweigh responses).
    /// </summary>
    public int? FrequencyCap { get; }

    /// <summary>Whether the history held unsubscribe outcomes; when not, the fatigue curve uses the "no further responses" stand-in.</summary>
    public bool UnsubscribesObserved { get; }

    /// <summary>
    /// Learns from past sends and outcomes.
    /// </summary>
    /// <param name="users">Users by id, for their time zones; users missing from it (or null) are in the default zone.</param>
    /// <remarks>Empty input gives a model with population rate 0, every rate 0, an empty fatigue curve and no cap.</remarks>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public static ContactPolicyModel Learn(
        IEnumerable<CrmSend> sends, IEnumerable<CrmOutcome> outcomes, ContactPolicyOptions? options = null,
        IReadOnlyDictionary<string, User>? users = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sends);
        ArgumentNullException.ThrowIfNull(outcomes);
        options ??= new ContactPolicyOptions();
        options.Validate();

        var responseTypes = new HashSet<string>(options.ResponseTypes, StringComparer.OrdinalIgnoreCase);
        var responded = new HashSet<string>(StringComparer.Ordinal);
        var unsubscribed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var outcome in outcomes)
        {
            if (responseTypes.Contains(outcome.Type))
            {
                responded.Add(outcome.SendId);
            }
            else if (string.Equals(outcome.Type, options.UnsubscribeType, StringComparison.OrdinalIgnoreCase))
            {
                unsubscribed.Add(outcome.SendId);
            }
        }

        var channels = new HashSet<string>(options.Channels, StringComparer.OrdinalIgnoreCase);
        var byUser = new Dictionary<string, List<LocalSend>>(StringComparer.Ordinal);
        var zones = new Dictionary<string, TimeZoneInfo>(StringComparer.Ordinal);
        foreach (var send in sends)
        {
            if (!send.IsTreatment || !channels.Contains(send.Channel))
            {
                continue;
            }

            if (!zones.TryGetValue(send.UserId, out var zone))
            {
                zone = options.ZoneOf(users is not null && users.TryGetValue(send.UserId, out var user) ? user : null);
                zones.Add(send.UserId, zone);
            }

            if (!byUser.TryGetValue(send.UserId, out var list))
            {
                byUser.Add(send.UserId, list = []);
            }

            var local = TimeZoneInfo.ConvertTime(send.SentAt, zone);
            list.Add(new LocalSend(local, responded.Contains(send.SendId), unsubscribed.Contains(send.SendId)));
        }

        var hourSends = new long[24];
        var hourResponses = new long[24];
        var daySends = new long[7];
        var dayResponses = new long[7];
        var counts = new Dictionary<string, Counts>(byUser.Count, StringComparer.Ordinal);
        long total = 0, totalResponses = 0;
        foreach (var (userId, list) in byUser)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var c = new Counts();
            foreach (var s in list)
            {
                var h = s.Local.Hour;
                var d = (int)s.Local.DayOfWeek;
                var r = s.Responded ? 1 : 0;
                c.HourSends[h]++;
                c.HourResponses[h] += r;
                c.DaySends[d]++;
                c.DayResponses[d] += r;
                c.Sends++;
                c.Responses += r;
                hourSends[h]++;
                hourResponses[h] += r;
                daySends[d]++;
                dayResponses[d] += r;
            }

            total += c.Sends;
            totalResponses += c.Responses;
            counts.Add(userId, c);
        }

        var overall = total == 0 ? 0 : (double)totalResponses / total;
        var populationHour = new double[24];
        for (var h = 0; h < 24; h++)
        {
            populationHour[h] = PosteriorMean(hourResponses[h], hourSends[h], overall, options.PriorStrength);
        }

        var populationDay = new double[7];
        for (var d = 0; d < 7; d++)
        {
            populationDay[d] = PosteriorMean(dayResponses[d], daySends[d], overall, options.PriorStrength);
        }

        var observed = unsubscribed.Count > 0;
        var fatigue = FatigueCurve(byUser, options, observed, cancellationToken);
        var cap = Cap(fatigue, options);
        return new ContactPolicyModel(options, counts, populationHour, populationDay, overall, total, totalResponses, fatigue, cap, observed);
    }

    /// <summary>
    /// The posterior mean of a rate with a Beta(p·S, (1 − p)·S) prior after <paramref name="successes"/> in
    /// <paramref name="trials"/>: <c>(successes + p·S) / (trials + S)</c>. With no trials it is the prior rate p.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Negative counts, successes above trials, p outside [0, 1], or S not positive.</exception>
    public static double PosteriorMean(double successes, double trials, double priorRate, double priorStrength)
    {
        if (!(successes >= 0) || !(trials >= successes))
        {
            throw new ArgumentOutOfRangeException(nameof(successes), $"Need 0 <= successes <= trials; got {successes} of {trials}.");
        }

        if (!(priorRate >= 0 && priorRate <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(priorRate), priorRate, "The prior rate must be in [0, 1].");
        }

        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(priorStrength, 0);
        var a = priorRate * priorStrength;
        var b = (1 - priorRate) * priorStrength;
        return (successes + a) / (trials + a + b);
    }

    /// <summary>The population's response rate at a local hour (0-23), shrunk toward the overall rate.</summary>
    public double PopulationHourRate(int hour)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)hour, 23u, nameof(hour));
        return _populationHour[hour];
    }

    /// <summary>The population's response rate on a local day of week, shrunk toward the overall rate.</summary>
    public double PopulationDayRate(DayOfWeek day) => _populationDay[(int)day];

    /// <summary>The user's learned sends; 0 for an unknown user.</summary>
    public int SendsOf(string userId) => _users.TryGetValue(userId, out var c) ? c.Sends : 0;

    /// <summary>
    /// The user's posterior response rate at a local hour: her kernel-pooled responses and sends around the hour with
    /// the population's rate at that hour as prior mean. An unknown user gets the population's rate.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The hour is outside 0-23.</exception>
    public double HourRate(string userId, int hour)
    {
        ArgumentNullException.ThrowIfNull(userId);
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)hour, 23u, nameof(hour));
        if (!_users.TryGetValue(userId, out var c))
        {
            return _populationHour[hour];
        }

        double r = 0, n = 0;
        var bandwidth = Options.HourBandwidth;
        for (var d = -bandwidth; d <= bandwidth; d++)
        {
            var h = (hour + d + 24) % 24;
            var w = _kernel[Math.Abs(d)];
            r += w * c.HourResponses[h];
            n += w * c.HourSends[h];
        }

        return PosteriorMean(r, n, _populationHour[hour], Options.PriorStrength);
    }

    /// <summary>The user's posterior response rate on a local day of week; the population's for an unknown user.</summary>
    public double DayRate(string userId, DayOfWeek day)
    {
        ArgumentNullException.ThrowIfNull(userId);
        return _users.TryGetValue(userId, out var c)
            ? PosteriorMean(c.DayResponses[(int)day], c.DaySends[(int)day], _populationDay[(int)day], Options.PriorStrength)
            : _populationDay[(int)day];
    }

    /// <summary>The user's posterior overall response rate; the population's for an unknown user.</summary>
    public double UserRate(string userId)
    {
        ArgumentNullException.ThrowIfNull(userId);
        return _users.TryGetValue(userId, out var c)
            ? PosteriorMean(c.Responses, c.Sends, _populationRate, Options.PriorStrength)
            : _populationRate;
    }

    /// <summary>
    /// The expected response rate of a (day, hour) slot: <c>HourRate × DayRate / UserRate</c>, clamped to [0, 1];
    /// 0 when the user's overall rate is 0 (no response was ever seen).
    /// </summary>
    public double ExpectedRate(string userId, DayOfWeek day, int hour)
    {
        var overall = UserRate(userId);
        return overall <= 0 ? 0 : Math.Clamp(HourRate(userId, hour) * DayRate(userId, day) / overall, 0, 1);
    }

    private static List<FatiguePoint> FatigueCurve(
        Dictionary<string, List<LocalSend>> byUser, ContactPolicyOptions options, bool unsubscribesObserved, CancellationToken cancellationToken)
    {
        var max = options.MaxWeeklyContacts;
        var weeks = new long[max + 1];
        var responses = new long[max + 1];
        var churned = new long[max + 1];
        var eligible = new long[max + 1];
        var seen = 0;
        foreach (var list in byUser.Values)
        {
            cancellationToken.ThrowIfCancellationRequested();
            list.Sort((x, y) => x.Local.CompareTo(y.Local));

            // laterResponses[i]: responses among sends i.. (for the "never responded again" stand-in).
            var laterResponses = new int[list.Count + 1];
            for (var i = list.Count - 1; i >= 0; i--)
            {
                laterResponses[i] = laterResponses[i + 1] + (list[i].Responded ? 1 : 0);
            }

            var start = 0;
            while (start < list.Count)
            {
                var week = WeekOf(list[start].Local);
                var end = start + 1;
                while (end < list.Count && WeekOf(list[end].Local) == week)
                {
                    end++;
                }

                var k = end - start;
                if (k <= max)
                {
                    seen = Math.Max(seen, k);
                    weeks[k]++;
                    var unsubscribed = false;
                    for (var i = start; i < end; i++)
                    {
                        responses[k] += list[i].Responded ? 1 : 0;
                        unsubscribed |= list[i].Unsubscribed;
                    }

                    if (unsubscribesObserved)
                    {
                        eligible[k]++;
                        churned[k] += unsubscribed ? 1 : 0;
                    }
                    else if (list.Count - end >= options.ChurnProxyMinLaterSends)
                    {
                        eligible[k]++;
                        churned[k] += laterResponses[end] == 0 ? 1 : 0;
                    }
                }

                start = end;
            }
        }

        var curve = new List<FatiguePoint>(seen);
        double previous = 0;
        for (var k = 1; k <= seen; k++)
        {
            var perWeek = weeks[k] == 0 ? double.NaN : (double)responses[k] / weeks[k];
            var unsubscribe = eligible[k] == 0 ? double.NaN : (double)churned[k] / eligible[k];
            var value = perWeek - (options.UnsubscribeCost * (double.IsNaN(unsubscribe) ? 0 : unsubscribe));
            var sendsK = weeks[k] * k;
            curve.Add(new FatiguePoint(
                k, (int)weeks[k], sendsK, responses[k], sendsK == 0 ? double.NaN : (double)responses[k] / sendsK, perWeek,
                unsubscribe, value - previous));
            previous = value;
        }

        return curve;
    }

    private static int? Cap(List<FatiguePoint> curve, ContactPolicyOptions options)
    {
        if (curve.Count == 0 || curve[0].UserWeeks < options.MinUserWeeks)
        {
            return null;
        }

        var threshold = options.MarginalResponseThreshold * curve[0].ResponsesPerWeek;
        var cap = 0;
        foreach (var point in curve)
        {
            if (point.UserWeeks < options.MinUserWeeks || !(point.MarginalValue >= threshold))
            {
                break;
            }

            cap = point.ContactsPerWeek;
        }

        return cap;
    }

    // The Monday that starts the local week of a time, as a day number.
    private static int WeekOf(DateTimeOffset local)
    {
        var date = DateOnly.FromDateTime(local.DateTime);
        var sinceMonday = ((int)date.DayOfWeek + 6) % 7;
        return date.DayNumber - sinceMonday;
    }

    private static double[] Kernel(int bandwidth)
    {
        var kernel = new double[bandwidth + 1];
        for (var d = 0; d <= bandwidth; d++)
        {
            kernel[d] = 1 - ((double)d / (bandwidth + 1));
        }

        return kernel;
    }

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{SendCount} sends of {_users.Count} users, rate {PopulationRate:0.0000}, cap {FrequencyCap?.ToString(CultureInfo.InvariantCulture) ?? "none"}");

    private readonly record struct LocalSend(DateTimeOffset Local, bool Responded, bool Unsubscribed);

    private sealed class Counts
    {
        public int[] HourSends { get; } = new int[24];

        public int[] HourResponses { get; } = new int[24];

        public int[] DaySends { get; } = new int[7];

        public int[] DayResponses { get; } = new int[7];

        public int Sends { get; set; }

        public int Responses { get; set; }
    }
}

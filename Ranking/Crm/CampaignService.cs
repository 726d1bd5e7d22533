using System.Text.Json;
using System.Text.Json.Serialization;
using Ranking.Data;
using Ranking.Domain;
using Ranking.Experiments.Statistics;

namespace Ranking.Crm;

/// <summary>The stored plan of a campaign, as the API returns it.</summary>
public sealed record CampaignPlanView
{
    public required string CampaignId { get; init; }

    public required string Name { get; init; }

    public required string Channel { get; init; }

    public required CampaignGoal Goal { get; init; }

    public int Budget { get; init; }

    public double HoldoutShare { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>What ranked the audience (uplift model or propensity).</summary>
    public required string Ranking { get; init; }

    /// <summary>What chose each message's items: the serving pipeline (with its model version) or item-kNN and popularity.</summary>
    public string? ItemSource { get; init; }

    public int Users { get; init; }

    public int WithoutConsent { get; init; }

    public int Capped { get; init; }

    public int Eligible { get; init; }

    public int Treatment { get; init; }

    public int Control { get; init; }

    public double OrderValue { get; init; }

    /// <summary>Where the message text came from: "template" (no LLM) or the LLM plugin.</summary>
    public string MessageSource { get; init; } = "template";

    public required IReadOnlyList<PlannedMessage> Sends { get; init; }
}

/// <summary>One send of a plan: its id (outcomes are posted against it), the user, the arm, the time and the message.</summary>
public sealed record PlannedMessage
{
    public required string SendId { get; init; }

    public required string UserId { get; init; }

    public bool IsTreatment { get; init; }

    public DateTimeOffset SendAt { get; init; }

    public double Score { get; init; }

    public double Propensity { get; init; }

    /// <summary>Estimated uplift; null when no uplift model ranked the plan.</summary>
    public double? Uplift { get; init; }

    public string? Subject { get; init; }

    public string? Body { get; init; }

    /// <summary>The items of the message with catalog prices (never generated text).</summary>
    public IReadOnlyList<MessageItem> Items { get; init; } = [];
}

public sealed record MessageItem(string ItemId, string Title, double? Price);

/// <summary>A campaign's measured effect: each outcome's rate in treatment and control, and the difference with a 95 % interval.</summary>
public sealed record CampaignReport
{
    public required string CampaignId { get; init; }

    public int Treatment { get; init; }

    public int Control { get; init; }

    public required IReadOnlyList<OutcomeEffect> Outcomes { get; init; }

    public string? Message { get; init; }
}

/// <param name="Outcome">An outcome type, or "order_value" (the summed value of order outcomes per user).</param>
public sealed record OutcomeEffect(string Outcome, double TreatmentMean, double ControlMean, double Uplift, double CiLow, double CiHigh, double PValue, bool IsDefined);

/// <summary>Plans campaigns against the store, keeps the plans, records outcomes and reports the effect against the holdout.</summary>
public sealed class CampaignService(IMarketplaceStore store, EventTypeRegistry eventTypes, TimeProvider time, IRecommenderSource? recommenders = null)
{
    private static readonly ContactPolicyOptions AllChannels = new() { Channels = [CrmChannels.Email, CrmChannels.Push, CrmChannels.Sms] };

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>Plans and stores a campaign: the campaign row, one send row per planned user (control included) and the plan document.</summary>
    /// <exception cref="CampaignPlanningException">Bad request: unknown goal, empty audience, budget over the audience.</exception>
    public async Task<CampaignPlanView> PlanAsync(CampaignRequest request, ContactPolicyOptions? policy = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!string.Equals(request.Channel, CrmChannels.Email, StringComparison.Ordinal)
            && !string.Equals(request.Channel, CrmChannels.Push, StringComparison.Ordinal)
            && !string.Equals(request.Channel, CrmChannels.Sms, StringComparison.Ordinal))
        {
            throw new CampaignPlanningException("channel", $"Unknown channel '{request.Channel}': use email, push or sms.");
        }

        var log = await InteractionLog.BuildAsync(store, store, eventTypes, cancellationToken).ConfigureAwait(false);
        var users = new List<User>();
        await foreach (var user in store.ReadUsersAsync(cancellationToken).ConfigureAwait(false))
        {
            users.Add(user);
        }

        var sends = new List<CrmSend>();
        await foreach (var send in store.ReadSendsAsync(null, cancellationToken).ConfigureAwait(false))
        {
            sends.Add(send);
        }

        var converted = new HashSet<string>(StringComparer.Ordinal);
        var withOutcomes = new HashSet<string>(StringComparer.Ordinal);
        var outcomes = new List<CrmOutcome>();
        await foreach (var outcome in store.ReadOutcomesAsync(null, cancellationToken).ConfigureAwait(false))
        {
            outcomes.Add(outcome);
            withOutcomes.Add(outcome.SendId);
            if (outcome.Type is CrmOutcomeTypes.Order or CrmOutcomeTypes.Conversion)
            {
                converted.Add(outcome.SendId);
            }
        }

        // Only campaigns that have outcomes teach the uplift model: a plan whose results are not in yet would read as
        // "nobody converted".
        var measured = sends.Where(s => withOutcomes.Contains(s.SendId)).Select(s => s.CampaignId).ToHashSet(StringComparer.Ordinal);
        var past = sends.Where(s => measured.Contains(s.CampaignId))
            .Select(s => new PastSend(s.UserId, s.IsTreatment, s.SentAt, converted.Contains(s.SendId))).ToList();
        // The contact policy learns each user's best hour and day from past opens and orders, and the weekly cap from
        // fatigue; with no CRM history it is the population default (quiet hours, default cap).
        var byId = users.ToDictionary(u => u.Id, StringComparer.Ordinal);
        var contactRules = new ContactPolicyRules(ContactPolicy.Learn(sends, outcomes, policy ?? AllChannels, byId, cancellationToken), sends);
        var lease = recommenders?.Acquire();
        CampaignPlan plan;
        try
        {
            plan = CampaignPlanner.Plan(request, log, users, past, contactRules, lease?.Recommender, cancellationToken);
        }
        finally
        {
            lease?.Dispose();
        }

        var itemSource = lease is { } l ? $"serving pipeline, model version {l.Version}" : "item-kNN and popularity (no serving model loaded)";

        var now = time.GetUtcNow();
        var campaignId = $"plan-{now:yyyyMMddHHmmss}-{Guid.NewGuid().ToString("N")[..8]}";
        var messages = new List<PlannedMessage>(plan.Sends.Count);
        for (var k = 0; k < plan.Sends.Count; k++)
        {
            var s = plan.Sends[k];
            var items = s.Items.Select(i => new MessageItem(log.ItemIds[i], log.Items.Title[i], float.IsNaN(log.Items.Price[i]) ? null : Math.Round(log.Items.Price[i], 2))).ToList();
            var (subject, body) = s.IsTreatment ? MessageTemplate.Write(request, items) : (null, null);
            messages.Add(new PlannedMessage
            {
                SendId = $"{campaignId}-{k + 1}",
                UserId = s.UserId,
                IsTreatment = s.IsTreatment,
                SendAt = s.SendAt,
                Score = s.Score,
                Propensity = s.Propensity,
                Uplift = double.IsNaN(s.Uplift) ? null : s.Uplift,
                Subject = subject,
                Body = body,
                Items = items,
            });
        }

        var view = new CampaignPlanView
        {
            CampaignId = campaignId,
            Name = request.Name.Trim(),
            Channel = request.Channel,
            Goal = request.Goal,
            Budget = request.Budget,
            HoldoutShare = request.HoldoutShare,
            CreatedAt = now,
            Ranking = plan.Ranking,
            ItemSource = itemSource,
            Users = plan.Users,
            WithoutConsent = plan.WithoutConsent,
            Capped = plan.Capped,
            Eligible = plan.Eligible,
            Treatment = messages.Count(m => m.IsTreatment),
            Control = messages.Count(m => !m.IsTreatment),
            OrderValue = plan.OrderValue,
            Sends = messages,
        };

        await store.UpsertCampaignAsync(
            new CrmCampaign { Id = campaignId, Name = view.Name, Channel = request.Channel, StartedAt = request.NotBefore, Description = plan.Ranking },
            cancellationToken).ConfigureAwait(false);
        await store.AppendSendsAsync(
            [.. messages.Select(m => new CrmSend
            {
                SendId = m.SendId, CampaignId = campaignId, UserId = m.UserId, Channel = request.Channel, SentAt = m.SendAt,
                IsTreatment = m.IsTreatment, Variant = m.IsTreatment ? "message" : "holdout",
            })],
            cancellationToken).ConfigureAwait(false);
        await store.SavePlanAsync(new CrmPlanDocument { CampaignId = campaignId, Json = JsonSerializer.Serialize(view, Json), CreatedAt = now }, cancellationToken).ConfigureAwait(false);
        return view;
    }

    /// <summary>The stored plan; null for a campaign without one.</summary>
    public async Task<CampaignPlanView?> GetPlanAsync(string campaignId, CancellationToken cancellationToken = default)
    {
        var doc = await store.GetPlanAsync(campaignId, cancellationToken).ConfigureAwait(false);
        return doc is null ? null : JsonSerializer.Deserialize<CampaignPlanView>(doc.Json, Json);
    }

    /// <summary>
    /// Each outcome's mean per user in treatment and control (0/1 for opens, visits, orders; the summed order value
    /// for "order_value") and the Welch difference with its 95 % interval. Null for an unknown campaign.
    /// </summary>
    public async Task<CampaignReport?> ReportAsync(string campaignId, CancellationToken cancellationToken = default)
    {
        if (await store.GetCampaignAsync(campaignId, cancellationToken).ConfigureAwait(false) is null)
        {
            return null;
        }

        var arm = new Dictionary<string, bool>(StringComparer.Ordinal);
        await foreach (var send in store.ReadSendsAsync(campaignId, cancellationToken).ConfigureAwait(false))
        {
            arm[send.SendId] = send.IsTreatment;
        }

        var bySend = new Dictionary<string, Dictionary<string, double>>(StringComparer.Ordinal);
        await foreach (var o in store.ReadOutcomesAsync(campaignId, cancellationToken).ConfigureAwait(false))
        {
            if (!bySend.TryGetValue(o.SendId, out var outcomes))
            {
                bySend[o.SendId] = outcomes = new Dictionary<string, double>(StringComparer.Ordinal);
            }

            outcomes[o.Type] = 1;
            if (o.Type is CrmOutcomeTypes.Order or CrmOutcomeTypes.Conversion && o.Value is { } value)
            {
                outcomes["order_value"] = outcomes.GetValueOrDefault("order_value") + value;
            }
        }

        var treated = arm.Where(p => p.Value).Select(p => p.Key).ToArray();
        var control = arm.Where(p => !p.Value).Select(p => p.Key).ToArray();
        var types = bySend.Values.SelectMany(v => v.Keys).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var effects = new List<OutcomeEffect>();
        foreach (var type in types)
        {
            var t = treated.Select(id => bySend.TryGetValue(id, out var v) ? v.GetValueOrDefault(type) : 0).ToArray();
            var c = control.Select(id => bySend.TryGetValue(id, out var v) ? v.GetValueOrDefault(type) : 0).ToArray();
            var comparison = WelchTest.Compare(c, t);
            effects.Add(new OutcomeEffect(
                type, t.Length == 0 ? 0 : t.Average(), c.Length == 0 ? 0 : c.Average(), comparison.Difference,
                comparison.CiLow, comparison.CiHigh, comparison.PValue, comparison.IsDefined));
        }

        return new CampaignReport
        {
            CampaignId = campaignId,
            Treatment = treated.Length,
            Control = control.Length,
            Outcomes = effects,
            Message = effects.Count == 0 ? "No outcomes recorded yet: post them to /v1/crm/outcomes." : null,
        };
    }
}

/// <summary>Template copy for a campaign message (used when no LLM writes it); prices come from the catalog.</summary>
public static class MessageTemplate
{
    public static (string Subject, string Body) Write(CampaignRequest request, IReadOnlyList<MessageItem> items)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(items);
        var subject = $"{request.Name.Trim()}: picked for you";
        var lines = items.Select(i => i.Price is { } p
            ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"- {i.Title}: {p:0.00}")
            : $"- {i.Title}");
        var body = "We picked these for you:\n" + string.Join('\n', lines);
        return (subject, body);
    }
}

/// <summary>Gives the serving pipeline of the loaded model version, if any, for as long as the lease is held.</summary>
public interface IRecommenderSource
{
    /// <summary>The current pipeline, or null when no model version is loaded.</summary>
    RecommenderLease? Acquire();
}

/// <summary>A pipeline held for the duration of a plan; disposing releases the model version.</summary>
public sealed class RecommenderLease(Fusion.Recommender recommender, string version, IDisposable release) : IDisposable
{
    public Fusion.Recommender Recommender { get; } = recommender;

    public string Version { get; } = version;

    public void Dispose() => release.Dispose();
}

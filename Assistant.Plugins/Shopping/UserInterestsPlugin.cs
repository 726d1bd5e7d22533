using System.ComponentModel;
using Assistant.Plugins.Llm;
using Assistant.Plugins.Prompts;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.SemanticKernel;
using Ranking.Data;
using Ranking.Domain;
using IChatClient = Microsoft.Extensions.AI.IChatClient;

namespace Assistant.Plugins.Shopping;

/// <summary>What the model writes for <see cref="UserInterestsPlugin"/>: categories and evidence only from her history.</summary>
internal sealed record InterestDraft(IReadOnlyList<InterestDraftEntry> Interests);

internal sealed record InterestDraftEntry(string Category, double Strength, bool Lifelong, IReadOnlyList<string> Evidence);

/// <summary>
/// The user's category interests, for the chat ("what do I like?") and as the interest profile of the fusion ranker
/// (<see cref="InterestProfileOutput.ToRankingProfile"/>). The user is fixed at construction: nothing the model passes
/// can reach another user's events.
/// </summary>
/// <remarks>
/// With a language model: the candidate categories are the leaf categories of her events, the evidence the ids of the
/// events shown to it; the answer is checked (category and evidence in those sets, the evidence in that category,
/// strengths clamped to 0–1, repeats dropped) and "since" comes from her events, never from the model. Offline, past the
/// time budget, or when nothing valid is left: the lifelong-interest model's statistics, with their evidence being her
/// order events in each interest.
/// </remarks>
public sealed class UserInterestsPlugin
{
    public const string PromptName = "user-interests";
    /// <summary>Her latest events read from the store (<see cref="ShopperScope.HistoryLimit"/>).</summary>
    internal const int HistoryLimit = ShopperScope.HistoryLimit;
    internal const int MaxCategories = 8;
    private const int EvidencePerCategory = 2;
    private const int MaxInterests = 8;

    private readonly ShopperScope _scope;
    private readonly GroundedJsonCall _llm;

    /// <param name="userId">The user whose interests this instance reads; never taken from the model.</param>
    /// <param name="llm">The time budget and the grammar bounds; the configuration's defaults when null.</param>
    public UserInterestsPlugin(
        IChatClient chat, IServingContext serving, IEventStore events, PromptLibrary prompts, TimeProvider time, string userId,
        LlmOptions? llm = null, ILogger<UserInterestsPlugin>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(chat);
        _scope = new ShopperScope(serving, events, prompts, time, userId);
        _llm = new GroundedJsonCall(chat, time, llm, (ILogger?)logger ?? NullLogger.Instance, nameof(UserInterestsPlugin));
    }

    /// <summary>Her interests, strongest first; empty for a user without events of catalog items or before a model is loaded.</summary>
    [KernelFunction("profile_interests")]
    [Description("Reads the shopper's category interests from her history: each category with a strength 0-1, whether it is lifelong, and the events that show it.")]
    public async Task<InterestProfileOutput> ProfileAsync(CancellationToken cancellationToken = default)
    {
        using var lease = _scope.Serving.Acquire();
        if (lease is null)
        {
            return new InterestProfileOutput([], false, "No model version is loaded yet, so her history cannot be read against the catalog.");
        }

        var events = await _scope.ReadEventsAsync(cancellationToken).ConfigureAwait(false);
        var digest = HistoryDigest.Of(lease.Catalog, _scope.UserId, events);
        var statistics = Statistics(lease, events, digest, out var statisticsNote);
        if (digest.Categories.Count == 0)
        {
            return new InterestProfileOutput(statistics, false, "She has no events with catalog items.");
        }

        if (_llm.IsOffline)
        {
            return new InterestProfileOutput(statistics, false, $"{statisticsNote} (no language model is configured: offline mode).");
        }

        var shown = new HashSet<string>(StringComparer.Ordinal);
        var prompt = await RenderAsync(lease, digest, shown, cancellationToken).ConfigureAwait(false);
        var candidates = digest.Categories.Take(MaxCategories).Select(g => g.Path).ToArray();
        var allowed = new Dictionary<string, IReadOnlyCollection<string>>(StringComparer.Ordinal)
        {
            ["interests[].category"] = candidates,
            ["interests[].evidence[]"] = shown,
        };
        var answer = await _llm.AskAsync<InterestDraft>(prompt, Schema.Value, allowed, cancellationToken).ConfigureAwait(false);
        if (answer.Value is not { } draft)
        {
            return new InterestProfileOutput(statistics, false, $"{statisticsNote} ({answer.Failure}).");
        }

        var (interests, dropped) = Validate(draft, digest, candidates);
        if (interests.Count == 0)
        {
            return new InterestProfileOutput(statistics, false, $"{statisticsNote} (the language model named no valid interest).");
        }

        return new InterestProfileOutput(interests, true, dropped > 0 ? $"Dropped {dropped} interests or evidence ids of the model's answer that were repeated or outside her history." : null);
    }

    /// <summary>The prompt the model gets for this user (the test of the data markers reads it).</summary>
    internal async Task<string> RenderPromptForTestAsync(CancellationToken cancellationToken = default)
    {
        using var lease = _scope.Serving.Acquire() ?? throw new InvalidOperationException("No model version is loaded.");
        var events = await _scope.ReadEventsAsync(cancellationToken).ConfigureAwait(false);
        return await RenderAsync(lease, HistoryDigest.Of(lease.Catalog, _scope.UserId, events), new HashSet<string>(), cancellationToken).ConfigureAwait(false);
    }

    private static readonly Lazy<System.Text.Json.JsonElement> Schema = new(() => ResponseSchema.Of<InterestDraft>(
        ("/properties/interests", "minItems", 1),
        ("/properties/interests", "maxItems", MaxInterests),
        ("/properties/interests/items/properties/evidence", "maxItems", EvidencePerCategory)));

    private async Task<string> RenderAsync(ServingLease lease, HistoryDigest digest, ISet<string> shown, CancellationToken cancellationToken)
    {
        var template = await _scope.Prompts.GetAsync(PromptName, cancellationToken).ConfigureAwait(false);
        var history = digest.Render(lease.Catalog, MaxCategories, EvidencePerCategory, shown);
        return PromptText.Render(template, new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["history"] = history,
            ["today"] = PromptText.Day(_scope.NowMs),
        });
    }

    private static (List<InterestEntry> Interests, int Dropped) Validate(InterestDraft draft, HistoryDigest digest, IReadOnlyCollection<string> candidates)
    {
        var allowed = new HashSet<string>(candidates, StringComparer.Ordinal);
        var groups = digest.Categories.ToDictionary(g => g.Path, StringComparer.Ordinal);
        var result = new List<InterestEntry>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var dropped = 0;
        foreach (var entry in draft.Interests ?? [])
        {
            if (entry?.Category is not { } category || !allowed.Contains(category) || !seen.Add(category) || double.IsNaN(entry.Strength)
                || result.Count >= MaxInterests)
            {
                dropped++;
                continue;
            }

            var group = groups[category];
            var evidence = new List<string>();
            foreach (var id in entry.Evidence ?? [])
            {
                // Only her events, and only those in this category: an id from another category is not evidence of this one.
                if (id is not null && group.Contains(id) && !evidence.Contains(id))
                {
                    evidence.Add(id);
                }
                else
                {
                    dropped++;
                }
            }

            if (evidence.Count == 0)
            {
                evidence.AddRange(group.Latest(EvidencePerCategory).Select(e => e.EventId));
            }

            result.Add(new InterestEntry(category, Math.Clamp(entry.Strength, 0, 1), evidence, DateTimeOffset.FromUnixTimeMilliseconds(group.FirstMs), entry.Lifelong));
        }

        result.Sort((a, b) => b.Strength.CompareTo(a.Strength));
        return (result, dropped);
    }

    /// <summary>
    /// Her interests from the lifelong model, each with her order events in it as evidence (her latest events there when
    /// she never ordered); without that model, her category shares.
    /// </summary>
    private List<InterestEntry> Statistics(ServingLease lease, IReadOnlyList<UserEvent> events, HistoryDigest digest, out string note)
    {
        var catalog = lease.Catalog;
        var history = catalog.HistoryOf(_scope.UserId, events);
        var now = _scope.NowMs;
        var interests = lease.Recommender.Interests(history, now);
        var lifelong = lease.Recommender.Models.Lifelong;
        if (lifelong is null || interests.Count == 0)
        {
            note = "Category shares of her history";
            var total = Math.Max(1, digest.Categories.Sum(g => g.Events.Count));
            return [.. digest.Categories.Take(MaxInterests).Select(g => new InterestEntry(
                g.Path, Math.Round((double)g.Events.Count / total, 4), [.. g.Latest(EvidencePerCategory).Select(e => e.EventId)],
                DateTimeOffset.FromUnixTimeMilliseconds(g.FirstMs), false))];
        }

        note = "Statistics of the lifelong-interest model";
        var result = new List<InterestEntry>();
        foreach (var interest in interests.Take(MaxInterests))
        {
            var inNode = digest.ById.Values.Where(p => lifelong.NodeOf(p.Item) == interest.Category).Select(p => p.Event).OrderByDescending(e => e.Timestamp).ToList();
            var orders = inNode.Where(HistoryDigest.IsOrder).ToList();
            var evidence = (orders.Count > 0 ? orders : inNode).Take(5).Select(e => e.EventId).ToList();
            result.Add(new InterestEntry(
                interest.Name, Math.Round(interest.Strength, 4), evidence, DateTimeOffset.FromUnixTimeMilliseconds(interest.FirstMs), interest.IsLifelong));
        }

        return result;
    }
}

using System.Collections.Concurrent;
using Assistant.Plugins.Llm;
using Assistant.Plugins.Prompts;
using Assistant.Plugins.Shopping;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;
using Ranking.Data;

namespace Assistant.Api.Hosting;

/// <summary>
/// The LLM inside the recommendation surfaces, when a model is configured: the user's category-interest profile read by
/// the LLM feeds the fusion ranker (cached per user and model version), the first items' template explanations are
/// rewritten in words, and the brand carousel's reasons come from the brand-discovery plugin. Each call has the
/// configured time budget (<c>Llm:TimeBudgetMs</c>); when it runs out or the model fails, the statistics and templates
/// stand, and the answer says so. With the offline provider nothing here runs.
/// </summary>
public sealed class LlmSurfaces(
    IChatClient chat, IServingContext serving, IEventStore events, PromptLibrary prompts, TimeProvider time, IOptions<LlmOptions> options,
    ILoggerFactory loggers)
{
    /// <summary>Items of a home answer whose explanation the LLM rewrites.</summary>
    public const int ExplainedItems = 3;

    private const int MaxProfiles = 10_000;
    private static readonly TimeSpan ProfileLifetime = TimeSpan.FromMinutes(30);

    private readonly ExplanationCache _explanations = new();
    private readonly ConcurrentDictionary<(string Version, string User), (IReadOnlyDictionary<string, float>? Profile, DateTimeOffset At)> _profiles = new();

    /// <summary>True when a real model (local or OpenAI-compatible) is configured.</summary>
    public bool Enabled { get; } = !OfflineChatClient.IsOffline(chat);

    /// <summary>
    /// The LLM's category-interest profile of the user for the ranker, or null (the ranker then uses its lifelong
    /// statistics): when the LLM is off, the user has no history, or the model did not answer within the budget.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, float>?> InterestProfileAsync(string userId, string version, CancellationToken cancellationToken)
    {
        if (!Enabled)
        {
            return null;
        }

        var key = (version, userId);
        var now = time.GetUtcNow();
        if (_profiles.TryGetValue(key, out var cached) && now - cached.At < ProfileLifetime)
        {
            return cached.Profile;
        }

        var plugin = new UserInterestsPlugin(chat, serving, events, prompts, time, userId, options.Value, loggers.CreateLogger<UserInterestsPlugin>());
        var output = await plugin.ProfileAsync(cancellationToken).ConfigureAwait(false);
        IReadOnlyDictionary<string, float>? profile = output.Generated && output.Interests.Count > 0 ? output.ToRankingProfile() : null;
        if (_profiles.Count >= MaxProfiles)
        {
            _profiles.Clear();
        }

        _profiles[key] = (profile, now);
        return profile;
    }

    /// <summary>Rewrites the explanations of the first <see cref="ExplainedItems"/> items; the template stays where the
    /// model fails or the budget runs out.</summary>
    public async Task<IReadOnlyList<(int Index, string Text)>> ExplainAsync(
        string userId, IReadOnlyList<(string ItemId, string Template)> items, CancellationToken cancellationToken)
    {
        if (!Enabled || items.Count == 0)
        {
            return [];
        }

        var plugin = new ExplanationsPlugin(chat, serving, prompts, time, userId, _explanations, options.Value, loggers.CreateLogger<ExplanationsPlugin>());
        var rewritten = new List<(int, string)>();
        for (var i = 0; i < Math.Min(ExplainedItems, items.Count); i++)
        {
            var output = await plugin.ExplainAsync(items[i].ItemId, items[i].Template, cancellationToken).ConfigureAwait(false);
            if (output.Generated)
            {
                rewritten.Add((i, output.Text));
            }
        }

        return rewritten;
    }

    /// <summary>The brand-discovery plugin's picks with generated reasons (empty when the LLM is off or failed): a
    /// candidate source of the brand carousel, chosen among the discovery model's candidate brands.</summary>
    public async Task<IReadOnlyList<DiscoveredBrand>> BrandsAsync(string userId, int count, CancellationToken cancellationToken)
    {
        if (!Enabled)
        {
            return [];
        }

        var plugin = new BrandDiscoveryPlugin(chat, serving, events, prompts, time, userId, options.Value, loggers.CreateLogger<BrandDiscoveryPlugin>());
        var output = await plugin.SuggestAsync(count, cancellationToken).ConfigureAwait(false);
        return [.. output.Brands.Where(b => b.ReasonGenerated && b.Items.Count > 0)];
    }
}

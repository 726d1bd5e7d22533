using System.ComponentModel;
using System.Text;
using Assistant.Plugins.Llm;
using Assistant.Plugins.Prompts;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.SemanticKernel;
using Ranking.Data;
using Ranking.Fusion;
using IChatClient = Microsoft.Extensions.AI.IChatClient;

namespace Assistant.Plugins.Shopping;

/// <summary>What the model writes for <see cref="BrandDiscoveryPlugin"/>: brands only among the candidates.</summary>
internal sealed record BrandDraft(IReadOnlyList<BrandDraftPick> Brands);

internal sealed record BrandDraftPick(string Brand, string Reason);

/// <summary>
/// Brands new to the user: the candidates are the discovery model's (twice as many as asked, through
/// <see cref="Recommender.Brands"/>); the model picks among them and writes a reason from her history. Items, prices
/// and stock always come from the catalog. The user is fixed at construction.
/// </summary>
/// <remarks>
/// The model's picks are checked: a brand outside the candidates or named twice is dropped; a reason that states a
/// price, a link or an instruction loses that sentence (and falls back to the template reason when nothing is left).
/// When the model picks fewer brands than asked, the best remaining candidates fill the list with their template
/// reasons. Offline, past the time budget, or with no valid pick: the first candidates with their template reasons.
/// </remarks>
public sealed class BrandDiscoveryPlugin
{
    public const string PromptName = "brand-discovery";
    public const int MaxCount = 10;
    /// <summary>Her latest events read from the store (<see cref="ShopperScope.HistoryLimit"/>).</summary>
    internal const int HistoryLimit = ShopperScope.HistoryLimit;
    private const int ItemsPerBrand = 3;
    private const int MaxReasonLength = 200;

    private readonly ShopperScope _scope;
    private readonly GroundedJsonCall _llm;

    /// <param name="userId">The user the brands are for; never taken from the model.</param>
    /// <param name="llm">The time budget and the grammar bounds; the configuration's defaults when null.</param>
    public BrandDiscoveryPlugin(
        IChatClient chat, IServingContext serving, IEventStore events, PromptLibrary prompts, TimeProvider time, string userId,
        LlmOptions? llm = null, ILogger<BrandDiscoveryPlugin>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(chat);
        _scope = new ShopperScope(serving, events, prompts, time, userId);
        _llm = new GroundedJsonCall(chat, time, llm, (ILogger?)logger ?? NullLogger.Instance, nameof(BrandDiscoveryPlugin));
    }

    /// <summary>
    /// Up to <paramref name="count"/> brands new to her (clamped to 1–<see cref="MaxCount"/>), each with a reason and a few
    /// in-stock items. A user without history gets popular brands; empty before a model is loaded.
    /// </summary>
    [KernelFunction("suggest_new_brands")]
    [Description("Suggests brands the shopper has not tried yet, each with a reason based on her history and a few of its items.")]
    public async Task<BrandDiscoveryOutput> SuggestAsync(
        [Description("How many brands (1-10).")] int count = 5, CancellationToken cancellationToken = default)
    {
        count = Math.Clamp(count, 1, MaxCount);
        using var lease = _scope.Serving.Acquire();
        if (lease is null)
        {
            return new BrandDiscoveryOutput([], false, "No model version is loaded yet.");
        }

        var (candidates, digest) = await CandidatesAsync(lease, count, cancellationToken).ConfigureAwait(false);
        if (candidates.Count == 0)
        {
            return new BrandDiscoveryOutput([], false, "There is no brand new to her with items in stock.");
        }

        if (_llm.IsOffline)
        {
            return Fallback(lease, candidates, count, "Template reasons (no language model is configured: offline mode).");
        }

        var prompt = await RenderAsync(lease, digest, candidates, count, cancellationToken).ConfigureAwait(false);
        var names = candidates.Select(c => lease.Catalog.Items.Brands[c.Brand]).ToArray();
        var allowed = new Dictionary<string, IReadOnlyCollection<string>>(StringComparer.Ordinal) { ["brands[].brand"] = names };
        var schema = ResponseSchema.Of<BrandDraft>(("/properties/brands", "minItems", 1), ("/properties/brands", "maxItems", count));
        var answer = await _llm.AskAsync<BrandDraft>(prompt, schema, allowed, cancellationToken).ConfigureAwait(false);
        if (answer.Value is not { } draft)
        {
            return Fallback(lease, candidates, count, $"Template reasons ({answer.Failure}).");
        }

        return Validate(lease, draft, candidates, count);
    }

    /// <summary>The prompt the model gets for this user (the test of the data markers reads it).</summary>
    internal async Task<string> RenderPromptForTestAsync(int count = 5, CancellationToken cancellationToken = default)
    {
        using var lease = _scope.Serving.Acquire() ?? throw new InvalidOperationException("No model version is loaded.");
        var (candidates, digest) = await CandidatesAsync(lease, count, cancellationToken).ConfigureAwait(false);
        return await RenderAsync(lease, digest, candidates, count, cancellationToken).ConfigureAwait(false);
    }

    private async Task<(IReadOnlyList<BrandSuggestion> Candidates, HistoryDigest Digest)> CandidatesAsync(
        ServingLease lease, int count, CancellationToken cancellationToken)
    {
        var events = await _scope.ReadEventsAsync(cancellationToken).ConfigureAwait(false);
        var history = lease.Catalog.HistoryOf(_scope.UserId, events);
        var candidates = lease.Recommender.Brands(history, 2 * count, ItemsPerBrand, _scope.NowMs);
        return (candidates, HistoryDigest.Of(lease.Catalog, _scope.UserId, events));
    }

    private async Task<string> RenderAsync(
        ServingLease lease, HistoryDigest digest, IReadOnlyList<BrandSuggestion> candidates, int count, CancellationToken cancellationToken)
    {
        var template = await _scope.Prompts.GetAsync(PromptName, cancellationToken).ConfigureAwait(false);
        var table = lease.Catalog.Items;
        var text = new StringBuilder();
        foreach (var c in candidates)
        {
            text.Append("brand ").Append(PromptText.Data(table.Brands[c.Brand], 40));
            if (c.BecauseBrand >= 0 && c.BecauseBrand < table.Brands.Count)
            {
                text.Append(" | liked by shoppers of ").Append(PromptText.Data(table.Brands[c.BecauseBrand], 40));
            }

            text.Append(" | items: ").AppendJoin("; ", c.Items.Take(2).Select(i =>
                PromptText.Data(table.Title[i], 40) + (table.CategoryIndex[i] >= 0 ? " in " + table.Categories[table.CategoryIndex[i]] : ""))).Append('\n');
        }

        return PromptText.Render(template, new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["history"] = digest.Render(lease.Catalog, 5, 1, new HashSet<string>(StringComparer.Ordinal)),
            ["candidates"] = text.ToString().TrimEnd(),
            ["count"] = count.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
    }

    private static BrandDiscoveryOutput Validate(ServingLease lease, BrandDraft draft, IReadOnlyList<BrandSuggestion> candidates, int count)
    {
        var table = lease.Catalog.Items;
        var byName = new Dictionary<string, BrandSuggestion>(StringComparer.OrdinalIgnoreCase);
        foreach (var c in candidates)
        {
            byName.TryAdd(table.Brands[c.Brand], c);
        }

        var chosen = new List<DiscoveredBrand>();
        var used = new HashSet<int>();
        var dropped = 0;
        var reasonsReplaced = 0;
        foreach (var pick in draft.Brands ?? [])
        {
            if (chosen.Count >= count || pick?.Brand is not { } name || !byName.TryGetValue(name, out var candidate) || !used.Add(candidate.Brand))
            {
                dropped++;
                continue;
            }

            var reason = CopyGuard.Clean(pick.Reason, MaxReasonLength, [], out var droppedSentences);
            var generated = reason.Length > 0;
            reasonsReplaced += generated ? 0 : 1;
            dropped += droppedSentences;
            chosen.Add(Card(lease, candidate, generated ? reason : candidate.Reason, generated));
        }

        if (chosen.Count == 0)
        {
            return Fallback(lease, candidates, count, "Template reasons (the language model picked no valid brand).");
        }

        var filled = 0;
        foreach (var candidate in candidates)
        {
            if (chosen.Count >= count)
            {
                break;
            }

            if (used.Add(candidate.Brand))
            {
                chosen.Add(Card(lease, candidate, candidate.Reason, false));
                filled++;
            }
        }

        var notes = new List<string>();
        if (dropped > 0)
        {
            notes.Add($"dropped {dropped} picks or sentences of the model's answer that were outside the candidates or unsafe");
        }

        if (reasonsReplaced > 0)
        {
            notes.Add($"{reasonsReplaced} reasons replaced by the template");
        }

        if (filled > 0)
        {
            notes.Add($"{filled} brands added from the ranking with template reasons");
        }

        return new BrandDiscoveryOutput(chosen, true, notes.Count > 0 ? string.Join("; ", notes) + "." : null);
    }

    private static BrandDiscoveryOutput Fallback(ServingLease lease, IReadOnlyList<BrandSuggestion> candidates, int count, string note) =>
        new([.. candidates.Take(count).Select(c => Card(lease, c, c.Reason, false))], false, note);

    private static DiscoveredBrand Card(ServingLease lease, BrandSuggestion candidate, string reason, bool generated) =>
        new(lease.Catalog.Items.Brands[candidate.Brand], reason, [.. candidate.Items.Select(i => ItemCard.Of(lease.Catalog, i))], generated);
}

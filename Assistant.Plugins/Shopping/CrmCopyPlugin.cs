using System.ComponentModel;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Assistant.Plugins.Llm;
using Assistant.Plugins.Prompts;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.SemanticKernel;
using IChatClient = Microsoft.Extensions.AI.IChatClient;

namespace Assistant.Plugins.Shopping;

/// <summary>What the model writes for <see cref="CrmCopyPlugin"/>: items only as <c>{item:n}</c> placeholders.</summary>
internal sealed record CrmDraft(string Subject, string Body);

/// <summary>
/// The subject and body of a campaign email about given catalog items. The model refers to the items only by
/// placeholders (<c>{item:1}</c>); the plugin puts in each item's catalog title and price, so that no name or price in
/// the email is generated.
/// </summary>
/// <remarks>
/// Sentences of the model that state a price, a link or an instruction are dropped, placeholders of items that are not in
/// the list are removed, and items the body does not mention are listed after it. Offline, past the time budget, or
/// when no body is left: a template email.
/// </remarks>
public sealed partial class CrmCopyPlugin
{
    public const string PromptName = "crm-copy";
    public const int MaxItems = 10;
    public const int MaxSubjectLength = 120;
    public const int MaxBodyLength = 1500;

    private readonly IServingContext _serving;
    private readonly PromptLibrary _prompts;
    private readonly GroundedJsonCall _llm;

    /// <param name="llm">The time budget and the grammar bounds; the configuration's defaults when null.</param>
    public CrmCopyPlugin(
        IChatClient chat, IServingContext serving, PromptLibrary prompts, TimeProvider time, LlmOptions? llm = null, ILogger<CrmCopyPlugin>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(chat);
        ArgumentNullException.ThrowIfNull(serving);
        ArgumentNullException.ThrowIfNull(prompts);
        ArgumentNullException.ThrowIfNull(time);
        _serving = serving;
        _prompts = prompts;
        _llm = new GroundedJsonCall(chat, time, llm, (ILogger?)logger ?? NullLogger.Instance, nameof(CrmCopyPlugin));
    }

    /// <summary>The email copy for the items (repeats count once), in the order given.</summary>
    /// <exception cref="ArgumentException">No items, more than <see cref="MaxItems"/>, an id the catalog does not have, or an empty campaign name.</exception>
    /// <exception cref="InvalidOperationException">No model version is loaded, so the items cannot be checked.</exception>
    [KernelFunction("write_crm_copy")]
    [Description("Writes the subject and body of a campaign email about catalog items; names and prices are filled in from the catalog.")]
    public async Task<CrmCopyOutput> WriteAsync(
        [Description("The ids of the items the email presents (1-10).")] IReadOnlyList<string> itemIds,
        [Description("The campaign's name or theme.")] string campaignName,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(itemIds);
        ArgumentException.ThrowIfNullOrWhiteSpace(campaignName);
        using var lease = _serving.Acquire() ?? throw new InvalidOperationException("No model version is loaded, so the items cannot be checked against the catalog.");
        var cards = Cards(lease, itemIds);
        if (_llm.IsOffline)
        {
            return Fallback(cards, campaignName, "Template copy (no language model is configured: offline mode).");
        }

        var prompt = await RenderAsync(lease, cards, campaignName, cancellationToken).ConfigureAwait(false);
        var answer = await _llm.AskAsync<CrmDraft>(prompt, Schema.Value, new Dictionary<string, IReadOnlyCollection<string>>(), cancellationToken)
            .ConfigureAwait(false);
        if (answer.Value is not { } draft)
        {
            return Fallback(cards, campaignName, $"Template copy ({answer.Failure}).");
        }

        var subject = CopyGuard.Clean(draft.Subject, MaxSubjectLength, [], out var droppedSubject);
        var body = CopyGuard.Clean(draft.Body, MaxBodyLength, [], out var droppedBody);
        var mentioned = new HashSet<int>();
        var badPlaceholders = 0;
        subject = Fill(subject, cards, withPrice: false, mentioned, ref badPlaceholders);
        var bodyMentions = new HashSet<int>();
        body = Fill(body, cards, withPrice: true, bodyMentions, ref badPlaceholders);
        if (body.Length == 0)
        {
            return Fallback(cards, campaignName, "Template copy (nothing of the language model's body was usable).");
        }

        var notes = new List<string>();
        if (subject.Length == 0)
        {
            subject = FallbackSubject(campaignName);
            notes.Add("subject from the template");
        }

        var missing = Enumerable.Range(0, cards.Count).Where(i => !bodyMentions.Contains(i)).ToList();
        if (missing.Count > 0)
        {
            body = body.TrimEnd() + "\n\n" + string.Join('\n', missing.Select(i => "- " + Line(cards[i], withPrice: true)));
            notes.Add($"{missing.Count} items the body did not mention listed after it");
        }

        if (droppedSubject + droppedBody > 0)
        {
            notes.Add($"dropped {droppedSubject + droppedBody} sentences that stated a price, a link or an instruction");
        }

        if (badPlaceholders > 0)
        {
            notes.Add($"removed {badPlaceholders} placeholders of items not in the list");
        }

        return new CrmCopyOutput(subject, body, cards, true, notes.Count > 0 ? string.Join("; ", notes) + "." : null);
    }

    /// <summary>The prompt the model gets (the test of the data markers reads it).</summary>
    internal async Task<string> RenderPromptForTestAsync(IReadOnlyList<string> itemIds, string campaignName, CancellationToken cancellationToken = default)
    {
        using var lease = _serving.Acquire() ?? throw new InvalidOperationException("No model version is loaded.");
        return await RenderAsync(lease, Cards(lease, itemIds), campaignName, cancellationToken).ConfigureAwait(false);
    }

    // No length keywords: OpenAI's strict structured outputs refuse them; the guard cuts the texts after parsing.
    private static readonly Lazy<System.Text.Json.JsonElement> Schema = new(() => ResponseSchema.Of<CrmDraft>());

    private static List<ItemCard> Cards(ServingLease lease, IReadOnlyList<string> itemIds)
    {
        var distinct = itemIds.Where(id => !string.IsNullOrWhiteSpace(id)).Distinct(StringComparer.Ordinal).ToList();
        if (distinct.Count == 0)
        {
            throw new ArgumentException("The email needs at least one item.", nameof(itemIds));
        }

        if (distinct.Count > MaxItems)
        {
            throw new ArgumentException($"An email presents at most {MaxItems} items ({distinct.Count} given).", nameof(itemIds));
        }

        var cards = new List<ItemCard>(distinct.Count);
        var unknown = new List<string>();
        foreach (var id in distinct)
        {
            if (lease.Catalog.TryGetItem(id, out var item))
            {
                cards.Add(ItemCard.Of(lease.Catalog, item));
            }
            else
            {
                unknown.Add(id);
            }
        }

        if (unknown.Count > 0)
        {
            throw new ArgumentException($"Not in the catalog: {string.Join(", ", unknown.Take(5))}{(unknown.Count > 5 ? ", ..." : "")}.", nameof(itemIds));
        }

        return cards;
    }

    private async Task<string> RenderAsync(ServingLease lease, IReadOnlyList<ItemCard> cards, string campaignName, CancellationToken cancellationToken)
    {
        var template = await _prompts.GetAsync(PromptName, cancellationToken).ConfigureAwait(false);
        var items = new StringBuilder();
        for (var i = 0; i < cards.Count; i++)
        {
            var card = cards[i];
            var description = lease.Catalog.TryGetItem(card.ItemId, out var item) ? lease.Catalog.Items.Description[item] : "";
            items.Append(CultureInfo.InvariantCulture, $"{{item:{i + 1}}} {PromptText.Data(card.Title, 80)} | {card.Category ?? "unknown"} | ")
                .Append(PromptText.Data(card.Brand ?? "unknown", 40)).Append(" | ")
                .Append(PromptText.Data(description, 120)).Append('\n');
        }

        return PromptText.Render(template, new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["campaign"] = PromptText.Data(campaignName, 120),
            ["items"] = items.ToString().TrimEnd(),
        });
    }

    /// <summary>Replaces <c>{item:n}</c> with the n-th item's catalog title (and price); placeholders past the list go.</summary>
    private static string Fill(string text, IReadOnlyList<ItemCard> cards, bool withPrice, HashSet<int> mentioned, ref int bad)
    {
        var invalid = 0;
        var filled = Placeholder().Replace(text, m =>
        {
            if (int.TryParse(m.Groups["n"].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= 1 && n <= cards.Count)
            {
                mentioned.Add(n - 1);
                return Line(cards[n - 1], withPrice);
            }

            invalid++;
            return "";
        });
        bad += invalid;
        return SpaceRuns().Replace(filled, " ").Trim();
    }

    private static string Line(ItemCard card, bool withPrice) =>
        withPrice && card.Price is { } price ? $"{card.Title} ({CopyGuard.FormatPrice(price)})" : card.Title;

    /// <summary>The template subject: the campaign's name (without any sentence the guard drops) and a fixed phrase.</summary>
    private static string FallbackSubject(string campaignName) =>
        CopyGuard.Clean(campaignName, 80, [], out _).TrimEnd('.', '!', '?', ' ', '…') is { Length: > 0 } name ? $"{name}: picked for you" : "Picked for you";

    private static CrmCopyOutput Fallback(IReadOnlyList<ItemCard> cards, string campaignName, string note)
    {
        var body = new StringBuilder("Hello,\n\nHere is what we picked for you:\n");
        foreach (var card in cards)
        {
            body.Append("- ").Append(Line(card, withPrice: true)).Append('\n');
        }

        body.Append("\nSee you soon!");
        return new CrmCopyOutput(FallbackSubject(campaignName), body.ToString(), cards, false, note);
    }

    [GeneratedRegex(@"\{\s*item\s*:\s*(?<n>\d{1,4})\s*\}", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex Placeholder();

    [GeneratedRegex(@"[ \t]{2,}")]
    private static partial Regex SpaceRuns();
}

using System.Collections.Concurrent;
using System.ComponentModel;
using System.Diagnostics.CodeAnalysis;
using Assistant.Plugins.Llm;
using Assistant.Plugins.Prompts;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.SemanticKernel;
using IChatClient = Microsoft.Extensions.AI.IChatClient;

namespace Assistant.Plugins.Shopping;

/// <summary>What the model writes for <see cref="ExplanationsPlugin"/>.</summary>
internal sealed record ExplanationDraft(string Text);

/// <summary>
/// Rewrites the ranker's template explanation of a recommended item ("Because you bought X in March 2026") as a
/// natural sentence for the user. The user is fixed at construction.
/// </summary>
/// <remarks>
/// The rewrite may state no price but the item's catalog price, no link and no instruction: such sentences are dropped,
/// and when nothing is left the template text is the answer. Answers the model wrote are kept in an
/// <see cref="ExplanationCache"/> by model version, user, item and template, so that a feed shown again costs nothing.
/// </remarks>
public sealed class ExplanationsPlugin
{
    public const string PromptName = "explanation";
    public const int MaxLength = 200;

    private readonly IServingContext _serving;
    private readonly PromptLibrary _prompts;
    private readonly string _userId;
    private readonly ExplanationCache _cache;
    private readonly GroundedJsonCall _llm;

    /// <param name="userId">The user the explanation is shown to (part of the cache key); never taken from the model.</param>
    /// <param name="cache">Shared between instances (a singleton in the host); a private one when null.</param>
    /// <param name="llm">The time budget and the grammar bounds; the configuration's defaults when null.</param>
    public ExplanationsPlugin(
        IChatClient chat, IServingContext serving, PromptLibrary prompts, TimeProvider time, string userId,
        ExplanationCache? cache = null, LlmOptions? llm = null, ILogger<ExplanationsPlugin>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(chat);
        ArgumentNullException.ThrowIfNull(serving);
        ArgumentNullException.ThrowIfNull(prompts);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentException.ThrowIfNullOrWhiteSpace(userId);
        _serving = serving;
        _prompts = prompts;
        _userId = userId;
        _cache = cache ?? new ExplanationCache();
        _llm = new GroundedJsonCall(chat, time, llm, (ILogger?)logger ?? NullLogger.Instance, nameof(ExplanationsPlugin));
    }

    /// <summary>The explanation of <paramref name="itemId"/> in words; the template text when no model can write it.</summary>
    /// <exception cref="ArgumentException">The template text is empty, or the item is not in the loaded catalog.</exception>
    [KernelFunction("explain_recommendation")]
    [Description("Rewrites the ranker's reason for recommending an item as one friendly sentence for the shopper.")]
    public async Task<ExplanationOutput> ExplainAsync(
        [Description("The recommended item's id.")] string itemId,
        [Description("The ranker's explanation of the item, as it gave it.")] string templateText,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(itemId);
        ArgumentException.ThrowIfNullOrWhiteSpace(templateText);
        using var lease = _serving.Acquire();
        if (lease is null)
        {
            return new ExplanationOutput(itemId, Template(templateText), false, "No model version is loaded yet.");
        }

        var item = Item(lease, itemId);
        var key = new ExplanationCache.Key(lease.Version, _userId, itemId, templateText);
        if (_cache.TryGet(key, out var cached))
        {
            return cached;
        }

        if (_llm.IsOffline)
        {
            return new ExplanationOutput(itemId, Template(templateText), false, "The ranker's text (no language model is configured: offline mode).");
        }

        var prompt = await RenderAsync(lease, item, templateText, cancellationToken).ConfigureAwait(false);
        // Nothing here is chosen from a list, so there is no grounding path; the checks after parsing do the work.
        var answer = await _llm.AskAsync<ExplanationDraft>(prompt, Schema.Value, new Dictionary<string, IReadOnlyCollection<string>>(), cancellationToken)
            .ConfigureAwait(false);
        if (answer.Value is not { } draft)
        {
            return new ExplanationOutput(itemId, Template(templateText), false, $"The ranker's text ({answer.Failure}).");
        }

        var price = ItemCard.Of(lease.Catalog, item).Price;
        var text = CopyGuard.Clean(draft.Text, MaxLength, price is { } p ? [p] : [], out var dropped);
        if (text.Length == 0)
        {
            return new ExplanationOutput(itemId, Template(templateText), false,
                "The ranker's text (the language model's sentence stated a price, a link or an instruction, or was empty).");
        }

        var output = new ExplanationOutput(itemId, text, true, dropped > 0 ? $"Dropped {dropped} unsafe sentences of the model's answer." : null);
        _cache.Set(key, output);
        return output;
    }

    /// <summary>The prompt the model gets (the test of the data markers reads it).</summary>
    internal async Task<string> RenderPromptForTestAsync(string itemId, string templateText, CancellationToken cancellationToken = default)
    {
        using var lease = _serving.Acquire() ?? throw new InvalidOperationException("No model version is loaded.");
        return await RenderAsync(lease, Item(lease, itemId), templateText, cancellationToken).ConfigureAwait(false);
    }

    // No length keywords: OpenAI's strict structured outputs refuse them; the guard cuts the text after parsing.
    private static readonly Lazy<System.Text.Json.JsonElement> Schema = new(() => ResponseSchema.Of<ExplanationDraft>());

    private static int Item(ServingLease lease, string itemId) =>
        lease.Catalog.TryGetItem(itemId, out var item) ? item : throw new ArgumentException($"The item '{itemId}' is not in the catalog.", nameof(itemId));

    /// <summary>The template as it is shown: cut to the same length as a rewrite.</summary>
    private static string Template(string templateText) => CopyGuard.Clean(templateText, MaxLength, [], out _) is { Length: > 0 } clean ? clean : templateText.Trim();

    private async Task<string> RenderAsync(ServingLease lease, int item, string templateText, CancellationToken cancellationToken)
    {
        var template = await _prompts.GetAsync(PromptName, cancellationToken).ConfigureAwait(false);
        var card = ItemCard.Of(lease.Catalog, item);
        var facts = $"title {PromptText.Data(card.Title, 80)}\ncategory {card.Category ?? "unknown"}\nbrand {PromptText.Data(card.Brand ?? "unknown", 40)}\n"
            + $"description {PromptText.Data(lease.Catalog.Items.Description[item], 160)}";
        return PromptText.Render(template, new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["item"] = facts,
            ["reason"] = PromptText.Data(templateText, 300),
        });
    }
}

/// <summary>
/// The explanations the model wrote, by model version, user, item and template text. Thread-safe; bounded: past the
/// capacity the least recently used quarter is evicted at once, so that eviction is rare and cheap to amortise.
/// </summary>
public sealed class ExplanationCache
{
    private readonly ConcurrentDictionary<Key, Entry> _entries = new();
    private readonly Lock _evicting = new();
    private long _clock;

    /// <param name="capacity">The most explanations kept; at least 4.</param>
    public ExplanationCache(int capacity = 4096)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 4);
        Capacity = capacity;
    }

    public int Capacity { get; }

    public int Count => _entries.Count;

    public bool TryGet(Key key, [MaybeNullWhen(false)] out ExplanationOutput value)
    {
        if (_entries.TryGetValue(key, out var entry))
        {
            Volatile.Write(ref entry.LastUse, Interlocked.Increment(ref _clock));
            value = entry.Value;
            return true;
        }

        value = null;
        return false;
    }

    public void Set(Key key, ExplanationOutput value)
    {
        ArgumentNullException.ThrowIfNull(value);
        _entries[key] = new Entry(value) { LastUse = Interlocked.Increment(ref _clock) };
        if (_entries.Count > Capacity)
        {
            lock (_evicting)
            {
                var excess = _entries.Count - (Capacity * 3 / 4);
                if (excess > 0)
                {
                    foreach (var old in _entries.OrderBy(p => Volatile.Read(ref p.Value.LastUse)).Take(excess).ToList())
                    {
                        _entries.TryRemove(old);
                    }
                }
            }
        }
    }

    /// <summary>What an explanation depends on.</summary>
    public readonly record struct Key(string Version, string UserId, string ItemId, string Template);

    private sealed class Entry(ExplanationOutput value)
    {
        public long LastUse;

        public ExplanationOutput Value { get; } = value;
    }
}
